package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/clustertest"
	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/replica"
)

// clusterWriter writes to a cluster through a cluster client until
// stopped: strings, hashes, counters, sets, deletes and TTLs over a few
// thousand keys, some sharing a hash tag (MSET).
type clusterWriter struct {
	stop   chan struct{}
	done   sync.WaitGroup
	writes atomic.Int64
}

func startWriter(t *testing.T, cl *redis.ClusterClient, seed uint64) *clusterWriter {
	w := &clusterWriter{stop: make(chan struct{})}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		rng := rand.New(rand.NewPCG(seed, 1))
		ctx := context.Background()
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			k := fmt.Sprintf("k:%d", rng.IntN(3000))
			var err error
			switch rng.IntN(8) {
			case 0, 1, 2:
				err = cl.Set(ctx, k, rng.Int64(), 0).Err()
			case 3:
				err = cl.HSet(ctx, "h:"+k, fmt.Sprint(rng.IntN(10)), rng.IntN(100)).Err()
			case 4:
				err = cl.Incr(ctx, "c:"+k).Err()
			case 5:
				err = cl.Del(ctx, k).Err()
			case 6:
				err = cl.SAdd(ctx, "s:"+k, rng.IntN(20)).Err()
			case 7:
				tag := fmt.Sprintf("{t%d}", rng.IntN(100))
				err = cl.MSet(ctx, tag+"a", rng.Int64(), tag+"b", rng.Int64()).Err()
				if err == nil {
					err = cl.Expire(ctx, tag+"a", time.Hour).Err()
				}
			}
			if err == nil {
				w.writes.Add(1)
			}
		}
	}()
	return w
}

func (w *clusterWriter) halt() { close(w.stop); w.done.Wait() }

// waitClusterSame waits until vdr holds exactly the union of the primaries, key
// by key, and fails with the differences otherwise.
func waitClusterSame(t *testing.T, c *clustertest.Cluster, what string, vdrs ...*Node) {
	t.Helper()
	var diff []string
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range vdrs {
		for {
			want := c.Keys()
			got := clustertest.Snapshot(t, n.Addr())
			diff = clustertest.Diff(want, got, 10)
			if len(diff) == 0 {
				t.Logf("%s: vdr (from %s) holds the %d keys of the primaries", what, n.cluster.opts.ReplicateFrom, len(want))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: vdr (from %s) differs from the union of the primaries (%d keys):\n%s", what, n.cluster.opts.ReplicateFrom, len(want), strings.Join(diff, "\n"))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// startClusterReplica starts a vdr replicating the cluster c.
func startClusterReplica(t *testing.T, c *clustertest.Cluster, from string) *Node {
	t.Helper()
	n := startNodeWith(t, NodeOptions{
		Server: Options{Port: RandomPort},
		Cluster: &ClusterOptions{
			Seeds: []string{c.Nodes[0].Addr()}, ReplicateFrom: from, RefreshInterval: 200 * time.Millisecond,
			Link: replica.Options{BackoffMax: 200 * time.Millisecond},
		},
		HTTPAddr: "127.0.0.1:0",
		Logger:   testLogger(t),
	})
	redistest.WaitFor(t, 30*time.Second, "every shard synced", n.Ready)
	return n
}

// shardOf returns the link of the shard whose primary (or node) is addr.
func shardOf(t *testing.T, n *Node, nodeID string) *shardLink {
	t.Helper()
	for _, l := range n.cluster.snapshotLinks() {
		n.cluster.mu.Lock()
		ok := l.nodeIDs[nodeID]
		n.cluster.mu.Unlock()
		if ok {
			return l
		}
	}
	t.Fatalf("no shard link knows node %s", nodeID)
	return nil
}

// writtenCluster starts a cluster of 3 primaries with replicas replicas
// each and writes to it for a moment.
func writtenCluster(t *testing.T, replicas int) (*clustertest.Cluster, *redis.ClusterClient) {
	c := clustertest.Start(t, 3, replicas)
	cl := c.Client()
	w := startWriter(t, cl, 1)
	time.Sleep(300 * time.Millisecond)
	w.halt()
	return c, cl
}

// TestClusterReplica replicates a real 3×1 Redis Cluster into two vdrs
// (one linked to each shard's primary, one to its replica) and compares
// them key by key with the union of the primaries after the initial sync,
// after writes, 600 slots resharded under writes, a CLUSTER FAILOVER
// under writes, one shard's forced full sync, 300 slots moved to a new
// shard, a shard's link killed, and a FLUSHALL on one primary.
func TestClusterReplica(t *testing.T) {
	c, cl := writtenCluster(t, 1)

	n := startClusterReplica(t, c, "primary")
	if got := len(n.cluster.snapshotLinks()); got != 3 {
		t.Fatalf("%d shard links, want 3", got)
	}
	n2 := startClusterReplica(t, c, "replica")
	waitClusterSame(t, c, "initial sync", n, n2)
	for _, l := range n2.cluster.snapshotLinks() {
		if role := redistest.InfoField(l.client.Primary(), "replication", "role"); role != "slave" {
			t.Errorf("--cluster-replicate-from replica: shard %d replicates %s, a %s", l.id, l.client.Primary(), role)
		}
	}
	info := redistest.InfoField(n.Addr(), "replication", "shard0")
	if !strings.Contains(info, "state=connected") || !strings.Contains(info, "synced=1") {
		t.Errorf("INFO replication shard0: %q", info)
	}

	t.Run("cluster client", func(t *testing.T) {
		// A cluster-mode client sees vdr as one node owning every slot
		// and reads every key of every shard from it, never redirected.
		ctx := context.Background()
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{n.Addr()}, ReadOnly: true, MaxRedirects: 0})
		defer cc.Close()
		slots, err := cc.ClusterSlots(ctx).Result()
		if err != nil || len(slots) != 1 || slots[0].Start != 0 || slots[0].End != 16383 || slots[0].Nodes[0].Addr != n.Addr() {
			t.Fatalf("CLUSTER SLOTS: %+v, %v", slots, err)
		}
		want := c.Keys()
		checked := 0
		for k := range want {
			typ, err := cc.Type(ctx, k).Result()
			if err != nil {
				t.Fatalf("TYPE %s: %v", k, err)
			}
			if typ != "string" {
				continue
			}
			got, err := cc.Get(ctx, k).Result()
			if err != nil || !strings.HasPrefix(want[k], "string "+got+" ttl=") {
				t.Fatalf("GET %s: %q, %v; want %q", k, got, err, want[k])
			}
			checked++
		}
		if checked == 0 {
			t.Fatalf("no string keys among %d", len(want))
		}
	})

	t.Run("writes", func(t *testing.T) {
		w := startWriter(t, cl, 5)
		time.Sleep(500 * time.Millisecond)
		w.halt()
		waitClusterSame(t, c, fmt.Sprintf("%d writes", w.writes.Load()), n, n2)
	})

	t.Run("reshard", func(t *testing.T) {
		ps := c.Primaries()
		w := startWriter(t, cl, 2)
		c.Reshard(ps[0].ID, ps[1].ID, 600)
		time.Sleep(300 * time.Millisecond)
		w.halt()
		waitClusterSame(t, c, fmt.Sprintf("600 slots resharded under %d writes", w.writes.Load()), n, n2)
		redistest.WaitFor(t, 10*time.Second, "vdr sees the new slot counts", func() bool {
			return shardOf(t, n, ps[1].ID).slots.Load() == int64(ps[1].Slots+600)
		})
		t.Logf("dropped as stale: %d", n.cluster.dropped[dropStale].Load())
	})

	t.Run("failover", func(t *testing.T) {
		p := c.Primaries()[2]
		r := c.ReplicaOf(p.ID)
		l := shardOf(t, n, p.ID)
		full := l.client.Stats().FullSyncs
		w := startWriter(t, cl, 3)
		c.Failover(r.Addr)
		time.Sleep(300 * time.Millisecond)
		w.halt()
		redistest.WaitFor(t, 10*time.Second, "the shard's link follows the promoted replica", func() bool {
			return l.client.Primary() == r.Addr && l.linkUp.Load()
		})
		waitClusterSame(t, c, fmt.Sprintf("failover under %d writes", w.writes.Load()), n, n2)
		if got := l.client.Stats().FullSyncs; got != full {
			t.Errorf("full syncs of the shard %d → %d: the promoted replica should continue by psync2", full, got)
		}
	})

	t.Run("full sync of one shard", func(t *testing.T) {
		p := c.Primaries()[1]
		l := shardOf(t, n, p.ID)
		full := l.client.Stats().FullSyncs
		// A backlog too small for what follows: the shard's next link must
		// full-sync, while the other shards keep streaming.
		if _, err := redistest.Do(p.Addr, "CONFIG", "SET", "repl-backlog-size", "16384"); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		pc := redis.NewClient(&redis.Options{Addr: p.Addr})
		defer pc.Close()
		keys := pc.Keys(ctx, "k:*").Val()
		if len(keys) < 50 {
			t.Fatalf("only %d keys on %s", len(keys), p.Addr)
		}
		keys = keys[:50]
		w := startWriter(t, cl, 6)
		redistest.Do(p.Addr, "CLIENT", "KILL", "TYPE", "replica")
		// At once, more than the backlog holds, in the shard's own slots
		// (a key's hash tag); then some of its keys deleted: the full sync
		// must add the first and drop the second.
		big := strings.Repeat("x", 64<<10)
		for i := range 3 {
			pc.Set(ctx, "{"+keys[i]+"}:big", big, 0)
		}
		deleted := 0
		for _, k := range keys {
			deleted += int(pc.Del(ctx, k).Val()) // one by one: DEL of several slots is CROSSSLOT
		}
		time.Sleep(300 * time.Millisecond)
		w.halt()
		waitClusterSame(t, c, fmt.Sprintf("one shard full-synced under %d writes (%d of its keys deleted)", w.writes.Load(), deleted), n, n2)
		if got := l.client.Stats().FullSyncs; got <= full {
			t.Errorf("the shard's full syncs stayed %d: the test did not force one", got)
		}
	})

	t.Run("new shard", func(t *testing.T) {
		id := c.AddPrimary()
		w := startWriter(t, cl, 9)
		c.Reshard(c.Primaries()[0].ID, id, 300)
		time.Sleep(300 * time.Millisecond)
		w.halt()
		waitClusterSame(t, c, fmt.Sprintf("300 slots moved to a new shard under %d writes", w.writes.Load()), n, n2)
		redistest.WaitFor(t, 10*time.Second, "a link to the new shard owning its 300 slots", func() bool {
			return len(n.cluster.snapshotLinks()) == 4 && shardOf(t, n, id).slots.Load() == 300
		})
	})

	t.Run("link killed", func(t *testing.T) {
		p := c.Primaries()[0]
		l := shardOf(t, n, p.ID)
		st := l.client.Stats()
		w := startWriter(t, cl, 4)
		if r, err := redistest.Do(p.Addr, "CLIENT", "KILL", "TYPE", "replica"); err != nil || r == ":0\r\n" {
			t.Fatalf("CLIENT KILL TYPE replica on %s: %q %v", p.Addr, r, err)
		}
		time.Sleep(300 * time.Millisecond)
		w.halt()
		waitClusterSame(t, c, fmt.Sprintf("link killed under %d writes", w.writes.Load()), n, n2)
		now := l.client.Stats()
		if now.Reconnects <= st.Reconnects || now.PartialSyncs <= st.PartialSyncs || now.FullSyncs != st.FullSyncs {
			t.Errorf("shard stats %+v → %+v: want a reconnect with a partial resync, no full sync", st, now)
		}
	})

	t.Run("flushall on one shard", func(t *testing.T) {
		p := c.Primaries()[1]
		if r, err := redistest.Do(p.Addr, "FLUSHALL"); err != nil || r != "+OK\r\n" {
			t.Fatalf("FLUSHALL on %s: %q %v", p.Addr, r, err)
		}
		waitClusterSame(t, c, "one shard flushed", n, n2)
		if n.cluster.dropped[dropFlushAll].Load() == 0 {
			t.Error("no key counted as removed by the shard's FLUSHALL")
		}
	})
}

// testLogger logs to the test's output when VDR_TEST_LOG is set, else
// nowhere.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("VDR_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// TestClusterSnapshot: a cluster replica closed with a snapshot comes back
// with every shard resuming by a partial sync, and the writes made while
// it was down.
func TestClusterSnapshot(t *testing.T) {
	c, cl := writtenCluster(t, 0)
	path := filepath.Join(t.TempDir(), "vdr.rdb")
	start := func() *Node {
		n, err := NewNode(NodeOptions{
			Server:       Options{Port: RandomPort},
			Cluster:      &ClusterOptions{Seeds: []string{c.Nodes[0].Addr()}, RefreshInterval: 200 * time.Millisecond},
			SnapshotPath: path,
			Logger:       testLogger(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		redistest.WaitFor(t, 30*time.Second, "every shard synced", n.Ready)
		return n
	}
	n := start()
	waitClusterSame(t, c, "first start", n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	w := startWriter(t, cl, 8)
	time.Sleep(300 * time.Millisecond)
	w.halt()
	n = start()
	waitClusterSame(t, c, fmt.Sprintf("restart from the snapshot after %d writes", w.writes.Load()), n)
	for _, l := range n.cluster.snapshotLinks() {
		if st := l.client.Stats(); st.FullSyncs != 0 || st.PartialSyncs != 1 {
			t.Errorf("shard %d after the restart: %+v, want one partial sync and no full sync", l.id, st)
		}
	}
}
