package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vdr-project/vdr/internal/redistest"
)

// writeAllTypes writes keys of every type on the primary, round r.
func writeAllTypes(t *testing.T, p *redistest.Server, r int) {
	t.Helper()
	k := func(s string) string { return fmt.Sprintf("%s:%d", s, r) }
	p.Do(t, "SET", k("str"), strings.Repeat("v", r+1))
	p.Do(t, "SET", k("ttl"), "x", "PX", "100000000")
	p.Do(t, "INCRBY", "counter", "7")
	p.Do(t, "RPUSH", k("list"), "a", "b", "c", strconv.Itoa(r))
	p.Do(t, "SADD", k("set"), "1", "2", "3", "x")
	p.Do(t, "ZADD", k("zset"), "1.5", "a", "2", "b", "-3", "c")
	p.Do(t, "HSET", k("hash"), "f1", "v1", "f2", "v2")
	p.Do(t, "XADD", k("stream"), "*", "f", "v")
	p.Do(t, "SELECT", "3")
	p.Do(t, "MULTI")
	p.Do(t, "SET", k("db3"), "x")
	p.Do(t, "LPUSH", k("db3list"), "y")
	p.Do(t, "EXEC")
	p.Do(t, "SELECT", "0")
	p.Do(t, "DEL", fmt.Sprintf("str:%d", r-1))
	p.Do(t, "EVAL", "redis.call('set', KEYS[1], ARGV[1]) return 1", "1", k("lua"), "1")
}

// replOffset is INFO replication's master_repl_offset of addr.
func replOffset(addr string) string {
	return redistest.InfoField(addr, "replication", "master_repl_offset")
}

// waitSame waits until every replica reached the primary's offset, then
// compares their DEBUG DIGEST (the whole data set, TTLs included) with
// the first one's. The wait is long: on a loaded 2-core machine a
// replica once took over 20 s to reach the offset.
func waitSame(t *testing.T, p *redistest.Server, replicas ...*redistest.Server) {
	t.Helper()
	want := replOffset(p.Addr())
	for _, r := range replicas {
		redistest.WaitFor(t, 60*time.Second, "replica "+r.Addr()+" at offset "+want, func() bool {
			up := redistest.InfoField(r.Addr(), "replication", "master_link_status") == "up" ||
				redistest.InfoField(r.Addr(), "replication", "role") == "master" // the reference may be the primary
			return up && replOffset(r.Addr()) == want
		})
	}
	d0 := replicas[0].Do(t, "DEBUG", "DIGEST")
	for _, r := range replicas[1:] {
		if d := r.Do(t, "DEBUG", "DIGEST"); d != d0 {
			t.Fatalf("digest of %s = %s, direct replica's = %s", r.Addr(), d, d0)
		}
	}
	if d0 == "0000000000000000000000000000000000000000" {
		t.Fatal("empty data set")
	}
}

// TestChainedRedisReplica: primary → vdr → redis-server replica, compared
// with a direct replica of the primary: after a full sync from vdr, the
// stream, a cut of the vdr → replica link (partial resync from vdr's
// backlog) and a vdr under vdr.
func TestChainedRedisReplica(t *testing.T) {
	c := startChain(t, 0)
	primary, direct, chained, node := c.primary, c.direct, c.chained, c.node
	for r := 2; r < 5; r++ {
		writeAllTypes(t, primary, r)
	}
	waitSame(t, primary, direct, chained)
	if got := redistest.InfoField(chained.Addr(), "replication", "master_replid"); got != redistest.InfoField(primary.Addr(), "replication", "master_replid") {
		t.Fatalf("chained replica's replid %s is not the primary's", got)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(replicaCollector{node.srv})
	mfs, err := reg.Gather()
	nm := 0
	for _, mf := range mfs {
		switch mf.GetName() {
		case "vdr_replica_lag_bytes", "vdr_replica_output_bytes", "vdr_replica_syncs_total":
			nm += len(mf.GetMetric())
		}
	}
	if err != nil || nm != 5 {
		t.Fatalf("%d replica metrics (%v), want 5 (lag and output of one replica, three sync counters)", nm, err)
	}
	rl := node.srv.ReplicaLines()
	if rl.SyncFull != 1 || len(rl.Replicas) != 1 {
		t.Fatalf("full syncs %d, replicas %d; want 1, 1", rl.SyncFull, len(rl.Replicas))
	}
	info := redistest.InfoField(node.Addr(), "replication", "slave0")
	if !strings.Contains(info, "state=online") || !strings.Contains(info, "port="+strconv.Itoa(chained.Port)) {
		t.Fatalf("vdr's slave0: %q", info)
	}
	list, _ := redistest.Do(node.Addr(), "CLIENT", "LIST", "TYPE", "replica")
	if !strings.Contains(list, "flags=S") {
		t.Fatalf("CLIENT LIST TYPE replica: %q", list)
	}

	// Cut the link: the replica comes back with a partial resync.
	if n, _ := redistest.Do(node.Addr(), "CLIENT", "KILL", "TYPE", "replica"); n != ":1\r\n" {
		t.Fatalf("CLIENT KILL TYPE replica = %q", n)
	}
	writeAllTypes(t, primary, 5)
	redistest.WaitFor(t, 20*time.Second, "partial resync", func() bool { return node.srv.ReplicaLines().SyncPartialOK == 1 })
	waitSame(t, primary, direct, chained)
	if rl := node.srv.ReplicaLines(); rl.SyncFull != 1 {
		t.Fatalf("full syncs after the cut: %d, want 1", rl.SyncFull)
	}

	// A vdr under vdr, and a redis-server under that one.
	node2 := startNode(t, node.Addr(), replicaOptions{})
	redistest.WaitFor(t, 20*time.Second, "vdr under vdr ready", node2.Ready)
	_, vport2, _ := net.SplitHostPort(node2.Addr())
	third := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", vport2)
	writeAllTypes(t, primary, 6)
	waitSame(t, primary, direct, chained, third)
	if a, b := node2.Client().ReplID(), redistest.InfoField(primary.Addr(), "replication", "master_replid"); a != b {
		t.Fatalf("second vdr's replid %s, primary's %s", a, b)
	}

	// Cut every hop: primary → vdr (vdr continues, its replicas are not
	// dropped), then vdr → its replicas (both continue from its backlog).
	primary.Do(t, "CLIENT", "KILL", "TYPE", "replica")
	writeAllTypes(t, primary, 7)
	waitSame(t, primary, direct, chained, third)
	if n, _ := redistest.Do(node.Addr(), "CLIENT", "KILL", "TYPE", "replica"); n != ":2\r\n" {
		t.Fatalf("CLIENT KILL TYPE replica with two replicas = %q", n)
	}
	writeAllTypes(t, primary, 8)
	redistest.WaitFor(t, 20*time.Second, "partial resyncs", func() bool { return node.srv.ReplicaLines().SyncPartialOK == 3 })
	waitSame(t, primary, direct, chained, third)
	if rl := node.srv.ReplicaLines(); rl.SyncFull != 2 {
		t.Fatalf("full syncs served: %d, want 2 (the first of each replica)", rl.SyncFull)
	}
	if st := node2.Client().Stats(); st.FullSyncs != 1 {
		t.Fatalf("second vdr: %d full syncs, want 1", st.FullSyncs)
	}
}

// TestChainedFollowsFailover: the primary's replica is promoted and vdr
// follows it (psync2: +CONTINUE with the new ID); vdr's replica is
// dropped to learn the new ID and continues through vdr's replid2,
// without a full sync anywhere.
func TestChainedFollowsFailover(t *testing.T) {
	c := startChain(t, 0)
	promoted, chained, node := c.direct, c.chained, c.node

	promoted.Do(t, "REPLICAOF", "NO", "ONE")
	redistest.Do(node.Addr(), "REPLICAOF", "127.0.0.1", strconv.Itoa(promoted.Port))
	writeAllTypes(t, promoted, 2)
	waitSame(t, promoted, promoted, chained)
	if got, want := redistest.InfoField(chained.Addr(), "replication", "master_replid"), redistest.InfoField(promoted.Addr(), "replication", "master_replid"); got != want {
		t.Fatalf("chained replica's replid %s, the new primary's %s", got, want)
	}
	if st := node.Client().Stats(); st.FullSyncs != 1 {
		t.Fatalf("vdr: %d full syncs, want 1", st.FullSyncs)
	}
	if rl := node.srv.ReplicaLines(); rl.SyncFull != 1 || rl.SyncPartialOK < 1 {
		t.Fatalf("served %d full syncs and %d partial; want 1 and at least 1", rl.SyncFull, rl.SyncPartialOK)
	}
}

// chain is a primary with a direct replica, a vdr replicating it, and a
// redis-server replicating the vdr.
type chain struct {
	primary, direct, chained *redistest.Server
	node                     *Node
	vport                    string // the vdr's port
}

// startChain starts a chain (the vdr with a backlog of backlogSize
// bytes, 0: the default) after writing round 1 on the primary, and waits
// until both replicas have it.
func startChain(t *testing.T, backlogSize int) chain {
	t.Helper()
	var c chain
	c.primary = redistest.Start(t, "--repl-diskless-sync-delay", "0")
	c.direct = redistest.Start(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", strconv.Itoa(c.primary.Port))
	writeAllTypes(t, c.primary, 1)
	c.node = startHub(t, c.primary.Addr(), backlogSize, replicaOptions{})
	_, c.vport, _ = net.SplitHostPort(c.node.Addr())
	c.chained = redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", c.vport)
	waitSame(t, c.primary, c.direct, c.chained)
	return c
}

// startHub starts a node replicating primary with a backlog of
// backlogSize bytes (0: the default).
func startHub(t *testing.T, primary string, backlogSize int, ro replicaOptions) *Node {
	t.Helper()
	ro.Primary = primary
	node := startNodeWith(t, NodeOptions{Server: Options{Port: RandomPort}, Replica: &ro, ReplBacklogSize: backlogSize})
	redistest.WaitFor(t, 20*time.Second, "vdr ready", node.Ready)
	return node
}

// TestChainedBacklogOverflowAndNewPrimary: a replica that was away for
// longer than vdr's backlog holds comes back with a full sync from vdr;
// when vdr itself full-syncs (REPLICAOF another primary: a new history),
// its replica is dropped and full-syncs the new data.
func TestChainedBacklogOverflowAndNewPrimary(t *testing.T) {
	c := startChain(t, 4096)
	primary, direct, chained, node, vport := c.primary, c.direct, c.chained, c.node, c.vport

	// Away while more than the backlog's 4 KiB are written.
	chained.Do(t, "REPLICAOF", "NO", "ONE")
	for i := 0; i < 20; i++ {
		primary.Do(t, "SET", fmt.Sprintf("big:%d", i), strings.Repeat("z", 512))
	}
	redistest.WaitFor(t, 20*time.Second, "vdr applied", func() bool {
		return strconv.FormatInt(node.Client().Offset(), 10) == replOffset(primary.Addr())
	})
	chained.Do(t, "REPLICAOF", "127.0.0.1", vport)
	waitSame(t, primary, direct, chained)
	if rl := node.srv.ReplicaLines(); rl.SyncFull != 2 || rl.SyncPartialErr != 1 {
		t.Fatalf("full syncs %d, refused partial %d; want 2, 1", rl.SyncFull, rl.SyncPartialErr)
	}

	// vdr switches to another primary: a new history for everyone.
	other := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	otherDirect := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", strconv.Itoa(other.Port))
	writeAllTypes(t, other, 7)
	redistest.Do(node.Addr(), "REPLICAOF", "127.0.0.1", strconv.Itoa(other.Port))
	writeAllTypes(t, other, 8)
	waitSame(t, other, otherDirect, chained)
	if got, want := redistest.InfoField(chained.Addr(), "replication", "master_replid"), redistest.InfoField(other.Addr(), "replication", "master_replid"); got != want {
		t.Fatalf("chained replica's replid %s, new primary's %s", got, want)
	}
}

// TestDownstreamBadInput: a downstream that sends garbage after PSYNC,
// and one that never reads while its backlog overflows, are dropped;
// other clients and replicas go on.
func TestDownstreamBadInput(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	node := startHub(t, primary.Addr(), 8192, replicaOptions{})
	primary.Do(t, "SET", "k", "v")
	redistest.WaitFor(t, 20*time.Second, "vdr applied", func() bool {
		return strconv.FormatInt(node.Client().Offset(), 10) == replOffset(primary.Addr())
	})

	garbage := dialRaw(t, node.Addr())
	garbage.send(encodeCmd(bs("PSYNC", "?", "-1")...))
	stalled := dialRaw(t, node.Addr())
	stalled.send(encodeCmd(bs("PSYNC", "?", "-1")...))
	redistest.WaitFor(t, 20*time.Second, "two replicas online", func() bool {
		n := 0
		for _, r := range node.srv.ReplicaLines().Replicas {
			if r.State == "online" {
				n++
			}
		}
		return n == 2
	})
	garbage.send([]byte("*1\r\n$3\r\nGET\r\n"))
	garbage.send([]byte("\x00\x01garbage\r\n"))
	// stalled never reads: past the socket buffers it falls out of the
	// backlog.
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < 200 && len(node.srv.ReplicaLines().Replicas) > 0; i++ {
		primary.Do(t, "SET", "big", big)
	}
	redistest.WaitFor(t, 30*time.Second, "both dropped", func() bool { return len(node.srv.ReplicaLines().Replicas) == 0 })
	if got, _ := redistest.Do(node.Addr(), "GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET k after the drops: %q", got)
	}
}

// TestDownstreamRefused: with a key-prefix filter, or before the first
// sync, PSYNC gets an error in Redis's form and the connection stays a
// client.
func TestDownstreamRefused(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	node := startHub(t, primary.Addr(), 0, replicaOptions{KeyPrefixes: []string{"a:"}})
	c := dialRaw(t, node.Addr())
	if got := c.dos("PSYNC", "?", "-1"); !strings.HasPrefix(got, "-ERR vdr: can't serve a replica") {
		t.Fatalf("PSYNC with a filter: %q", got)
	}
	if got := c.dos("SYNC"); !strings.HasPrefix(got, "-ERR vdr: can't serve a replica") {
		t.Fatalf("SYNC with a filter: %q", got)
	}
	if got := c.dos("REPLCONF", "listening-port"); got != "-ERR syntax error\r\n" {
		t.Fatalf("REPLCONF with an odd count: %q", got)
	}
	if got := c.dos("REPLCONF", "listening-port", "1", "capa", "eof", "capa", "psync2"); got != "+OK\r\n" {
		t.Fatalf("REPLCONF: %q", got)
	}
	if got := c.dos("REPLCONF", "foo", "1"); got != "-ERR Unrecognized REPLCONF option: foo\r\n" {
		t.Fatalf("REPLCONF foo: %q", got)
	}
	if got := c.dos("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
}

// TestDownstreamManyAtOnce: twenty vdrs attach to one vdr hub at once;
// each ends with the primary's data and replication ID, and the hub saw
// twenty full syncs and twenty replicas online.
func TestDownstreamManyAtOnce(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	writeAllTypes(t, primary, 1)
	hub := startHub(t, primary.Addr(), 0, replicaOptions{})
	const n = 20
	nodes := make([]*Node, n)
	for i := range nodes {
		nodes[i] = startNode(t, hub.Addr(), replicaOptions{})
	}
	writeAllTypes(t, primary, 2)
	want := replOffset(primary.Addr())
	wantID := redistest.InfoField(primary.Addr(), "replication", "master_replid")
	for i, nd := range nodes {
		redistest.WaitFor(t, 30*time.Second, fmt.Sprintf("vdr %d at offset %s", i, want), func() bool {
			return nd.Ready() && strconv.FormatInt(nd.Client().Offset(), 10) == want
		})
		if id := nd.Client().ReplID(); id != wantID {
			t.Fatalf("vdr %d: replid %s, want %s", i, id, wantID)
		}
		for _, cmd := range [][]string{{"GET", "str:2"}, {"GET", "counter"}, {"LRANGE", "list:2", "0", "-1"},
			{"HGET", "hash:1", "f2"}, {"ZRANGE", "zset:2", "0", "-1", "WITHSCORES"}, {"XLEN", "stream:2"}, {"SISMEMBER", "set:1", "x"}} {
			a, _ := redistest.Do(nd.Addr(), cmd...)
			b, _ := redistest.Do(primary.Addr(), cmd...)
			if a != b {
				t.Fatalf("vdr %d: %v = %q, primary's %q", i, cmd, a, b)
			}
		}
	}
	t.Logf("%d full syncs served from %d RDB passes", hub.srv.ReplicaLines().SyncFull, hub.srv.down.rdbPasses.Load())
	rl := hub.srv.ReplicaLines()
	if len(rl.Replicas) != n || rl.SyncFull < n {
		t.Fatalf("hub: %d replicas, %d full syncs; want %d, ≥ %d", len(rl.Replicas), rl.SyncFull, n, n)
	}
}

// TestDownstreamGoroutineConns: with a goroutine per connection (TLS,
// write forwarding, --event-loops -1) a connection becomes a replica in
// place; an old-style SYNC gets the RDB without +FULLRESYNC, then the
// stream; a chained redis-server matches a direct replica.
func TestDownstreamGoroutineConns(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	direct := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	writeAllTypes(t, primary, 1)
	ro := replicaOptions{Primary: primary.Addr()}
	node := startNodeWith(t, NodeOptions{Server: Options{Port: RandomPort, EventLoops: EventLoopsDisabled}, Replica: &ro})
	redistest.WaitFor(t, 20*time.Second, "vdr ready", node.Ready)

	c := dialRaw(t, node.Addr())
	c.send(encodeCmd(bs("SYNC")...))
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := c.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "$") {
		t.Fatalf("SYNC: %q, %v", line, err)
	}
	size, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	rdb := make([]byte, size)
	if _, err := io.ReadFull(c.br, rdb); err != nil || !strings.HasPrefix(string(rdb), "REDIS00") {
		t.Fatalf("RDB of %d bytes: %.9q, %v", size, rdb, err)
	}
	primary.Do(t, "SET", "after-sync", "1")
	for i := 0; ; i++ {
		if i == 10 {
			t.Fatal("the SET did not come down the stream")
		}
		if cmd := string(c.read()); strings.Contains(cmd, "after-sync") {
			break
		}
	}

	_, vport, _ := net.SplitHostPort(node.Addr())
	chained := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", vport)
	writeAllTypes(t, primary, 2)
	waitSame(t, primary, direct, chained)
	if n, _ := redistest.Do(node.Addr(), "CLIENT", "KILL", "TYPE", "replica"); n != ":2\r\n" {
		t.Fatalf("CLIENT KILL TYPE replica = %q", n)
	}
	writeAllTypes(t, primary, 3)
	redistest.WaitFor(t, 20*time.Second, "partial resync", func() bool { return node.srv.ReplicaLines().SyncPartialOK == 1 })
	waitSame(t, primary, direct, chained)
}

// readPass reads a pass to its end and returns the RDB.
func readPass(t *testing.T, p *rdbPass, r *passReader) []byte {
	t.Helper()
	var out []byte
	for {
		b, end, err := p.next(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if end {
			return out
		}
		out = append(out, b...)
	}
}

// TestDownstreamSharedCut: replicas that attach while a pass is at its
// start share it, and get the same RDB; once the last one is done with
// it the next replica gets a new one; a pass of another history is not
// shared.
func TestDownstreamSharedCut(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	writeAllTypes(t, primary, 1)
	hub := startHub(t, primary.Addr(), 0, replicaOptions{})
	d := hub.srv.down
	d.bl.activate()
	a, ra := d.acquirePass()
	<-a.ready
	if a.err != nil {
		t.Fatal(a.err)
	}
	rdbA := readPass(t, a, ra)
	b, rb := d.acquirePass()
	if b != a {
		t.Fatal("a replica attaching during another's transfer did not share its pass")
	}
	if rdbB := readPass(t, b, rb); !bytes.Equal(rdbA, rdbB) || !bytes.HasPrefix(rdbA, []byte("REDIS00")) {
		t.Fatalf("two readers of one pass got %d and %d bytes", len(rdbA), len(rdbB))
	}
	d.releasePass(a, ra)
	d.releasePass(b, rb)
	c, rc := d.acquirePass()
	<-c.ready
	readPass(t, c, rc)
	d.releasePass(c, rc)
	if c == a || d.rdbPasses.Load() != 2 {
		t.Fatalf("after the transfers: same pass %v, %d RDB passes; want a new one, 2", c == a, d.rdbPasses.Load())
	}
	// A pass whose offset fell out of the backlog (here: the history
	// changed) is not shared.
	e, re := d.acquirePass()
	<-e.ready
	d.bl.TapStart(strings.Repeat("f", 40), 1000, true)
	g, rg := d.acquirePass()
	<-g.ready
	d.releasePass(e, re)
	d.releasePass(g, rg)
	if g == e {
		t.Fatal("a pass of another history was shared")
	}
}

// TestDownstreamNoAck: a replica that never ACKs is dropped after
// repl-timeout (shortened here): online after a $<len> RDB, or waiting
// to be put online after an $EOF RDB.
func TestDownstreamNoAck(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	hub := startHub(t, primary.Addr(), 0, replicaOptions{})
	hub.srv.down.timeoutNs.Store(int64(200 * time.Millisecond))
	silent := dialRaw(t, hub.Addr())
	silent.send(encodeCmd(bs("PSYNC", "?", "-1")...))
	eof := dialRaw(t, hub.Addr())
	if got := eof.dos("REPLCONF", "capa", "eof", "capa", "psync2"); got != "+OK\r\n" {
		t.Fatalf("REPLCONF capa: %q", got)
	}
	eof.send(encodeCmd(bs("PSYNC", "?", "-1")...))
	redistest.WaitFor(t, 20*time.Second, "two full syncs", func() bool { return hub.srv.ReplicaLines().SyncFull == 2 })
	redistest.WaitFor(t, 20*time.Second, "both dropped", func() bool { return len(hub.srv.ReplicaLines().Replicas) == 0 })
	eof.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ := eof.br.ReadString('\n')
	if !strings.HasPrefix(line, "+FULLRESYNC ") {
		t.Fatalf("PSYNC: %q", line)
	}
	if line, _ = eof.br.ReadString('\n'); !strings.HasPrefix(line, "$EOF:") || len(line) != len("$EOF:")+40+2 {
		t.Fatalf("RDB header with capa eof: %q", line)
	}
}

// TestReplNetBytes: INFO's replication byte counters, as a Redis replica
// keeps them. vdr counts what it reads from the primary as a replica of
// the same primary does (within the handshake's replies and PING timing:
// both took the same RDB and stream), and what it writes to the replica
// it serves is what that replica counts as read, within the replies to
// its handshake (vdr sends them as an ordinary client's) and the framing
// lines Redis leaves out of its count. Both are
// part of total_net_*_bytes, as in Redis.
func TestReplNetBytes(t *testing.T) {
	c := startChain(t, 0)
	big := strings.Repeat("x", 1<<20)
	if r := c.primary.Do(t, "SET", "big", big); r != "+OK\r\n" {
		t.Fatalf("SET big: %q", r)
	}
	writeAllTypes(t, c.primary, 2)
	waitSame(t, c.primary, c.direct, c.chained)
	stat := func(s *redistest.Server, addr, field string) int64 {
		t.Helper()
		if s != nil {
			addr = s.Addr()
		}
		v, err := strconv.ParseInt(redistest.InfoField(addr, "stats", field), 10, 64)
		if err != nil {
			t.Fatalf("%s %s: %v", addr, field, err)
		}
		return v
	}
	vIn := stat(nil, c.node.Addr(), "total_net_repl_input_bytes")
	dIn := stat(c.direct, "", "total_net_repl_input_bytes")
	if vIn < 1<<20 || dIn < 1<<20 {
		t.Fatalf("repl input bytes: vdr %d, redis %d; want both past the 1 MiB value", vIn, dIn)
	}
	if d := vIn - dIn; d < -dIn/10 || d > dIn/10 {
		t.Errorf("repl input bytes: vdr %d, a replica of the same primary %d", vIn, dIn)
	}
	if all := stat(nil, c.node.Addr(), "total_net_input_bytes"); all < vIn {
		t.Errorf("total_net_input_bytes %d < total_net_repl_input_bytes %d", all, vIn)
	}
	vOut := stat(nil, c.node.Addr(), "total_net_repl_output_bytes")
	cIn := stat(c.chained, "", "total_net_repl_input_bytes")
	if d := cIn - vOut; vOut < 1<<20 || d < -1024 || d > 1024 {
		t.Errorf("vdr wrote %d bytes to its replica, which read %d", vOut, cIn)
	}
	if all := stat(nil, c.node.Addr(), "total_net_output_bytes"); all < vOut {
		t.Errorf("total_net_output_bytes %d < total_net_repl_output_bytes %d", all, vOut)
	}
}
