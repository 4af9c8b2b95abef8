package server

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestChainThreeDeep: primary → vdr → vdr → redis-server, compared with a
// direct replica of the primary after writes of every type, after the
// middle link is cut (the second vdr continues from the first one's
// backlog, and its own replica is not dropped), and after the last link
// is cut (the redis-server continues from the second vdr's backlog).
func TestChainThreeDeep(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	direct := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	writeAllTypes(t, primary, 1)
	hub := startHub(t, primary.Addr(), 0, replicaOptions{})
	mid := startHub(t, hub.Addr(), 0, replicaOptions{})
	_, mport, _ := net.SplitHostPort(mid.Addr())
	leaf := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", mport)
	for r := 2; r < 4; r++ {
		writeAllTypes(t, primary, r)
	}
	waitSame(t, primary, direct, leaf)
	wantID := redistest.InfoField(primary.Addr(), "replication", "master_replid")
	if got := redistest.InfoField(leaf.Addr(), "replication", "master_replid"); got != wantID {
		t.Fatalf("third hop's replid %s, primary's %s", got, wantID)
	}
	if got := redistest.InfoField(mid.Addr(), "replication", "master_replid"); got != wantID {
		t.Fatalf("second vdr's INFO replid %s, primary's %s", got, wantID)
	}

	// The middle link: the second vdr comes back with a partial resync;
	// then the last link: the redis-server does.
	cutAndResume(t, hub, primary, 4, direct, leaf)
	cutAndResume(t, mid, primary, 5, direct, leaf)

	if st := mid.Client().Stats(); st.FullSyncs != 1 {
		t.Fatalf("second vdr: %d full syncs, want 1", st.FullSyncs)
	}
	if a, b := hub.srv.ReplicaLines().SyncFull, mid.srv.ReplicaLines().SyncFull; a != 1 || b != 1 {
		t.Fatalf("full syncs served: hub %d, second vdr %d; want 1 and 1", a, b)
	}
}

// cutAndResume kills the one replica node serves, writes round r on the
// primary, and waits until the replica is back with a partial resync and
// the replicas are equal.
func cutAndResume(t *testing.T, node *Node, primary *redistest.Server, r int, replicas ...*redistest.Server) {
	t.Helper()
	before := node.srv.ReplicaLines().SyncPartialOK
	if n, _ := redistest.Do(node.Addr(), "CLIENT", "KILL", "TYPE", "replica"); n != ":1\r\n" {
		t.Fatalf("CLIENT KILL TYPE replica on %s = %q", node.Addr(), n)
	}
	writeAllTypes(t, primary, r)
	redistest.WaitFor(t, 20*time.Second, "a partial resync from "+node.Addr(), func() bool { return node.srv.ReplicaLines().SyncPartialOK == before+1 })
	waitSame(t, primary, replicas...)
}

// TestChainedPrimaryRestart: the primary restarts without persistence
// (DEBUG RESTART with save "" and appendonly no: the same port, no data,
// a new replid). vdr full-syncs from it and drops its replica, which
// full-syncs from vdr; both end equal to a direct replica of the
// restarted primary, with none of the data from before the restart.
func TestChainedPrimaryRestart(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes")
	direct := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	writeAllTypes(t, primary, 1)
	node := startHub(t, primary.Addr(), 0, replicaOptions{})
	_, vport, _ := net.SplitHostPort(node.Addr())
	chained := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", vport)
	writeAllTypes(t, primary, 2)
	waitSame(t, primary, direct, chained)
	oldID := redistest.InfoField(primary.Addr(), "replication", "master_replid")

	// DEBUG RESTART execs redis-server again in the same process; the
	// connection is closed without a reply.
	redistest.Do(primary.Addr(), "DEBUG", "RESTART")
	redistest.WaitFor(t, 20*time.Second, "the primary back with a new replid", func() bool {
		id := redistest.InfoField(primary.Addr(), "replication", "master_replid")
		return id != "" && id != oldID
	})
	if n := primary.Do(t, "DBSIZE"); n != ":0\r\n" {
		t.Fatalf("DBSIZE after the restart = %q, want an empty primary", n)
	}
	writeAllTypes(t, primary, 7)
	waitSame(t, primary, direct, chained)
	newID := redistest.InfoField(primary.Addr(), "replication", "master_replid")
	if got := redistest.InfoField(chained.Addr(), "replication", "master_replid"); got != newID {
		t.Fatalf("chained replica's replid %s, the restarted primary's %s", got, newID)
	}
	if got := node.Client().ReplID(); got != newID {
		t.Fatalf("vdr's replid %s, the restarted primary's %s", got, newID)
	}
	if n := chained.Do(t, "EXISTS", "hash:1", "list:2"); n != ":0\r\n" {
		t.Fatalf("keys from before the restart on the chained replica: EXISTS = %q", n)
	}
	if st := node.Client().Stats(); st.FullSyncs != 2 {
		t.Fatalf("vdr: %d full syncs, want 2", st.FullSyncs)
	}
	if rl := node.srv.ReplicaLines(); rl.SyncFull != 2 {
		t.Fatalf("full syncs served: %d, want 2 (before and after the restart)", rl.SyncFull)
	}
}

// TestHubRequirePass: a hub with requirepass (examples/kubernetes/hub.yaml)
// serves a vdr and a redis-server that AUTH with masterauth, and refuses
// a replica without it.
func TestHubRequirePass(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	direct := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	writeAllTypes(t, primary, 1)
	ro := replicaOptions{Primary: primary.Addr()}
	hub := startNodeWith(t, NodeOptions{Server: Options{Port: RandomPort, RequirePass: "s3cret"}, Replica: &ro})
	redistest.WaitFor(t, 20*time.Second, "hub ready", hub.Ready)
	_, hport, _ := net.SplitHostPort(hub.Addr())

	if got := dialRaw(t, hub.Addr()).dos("PSYNC", "?", "-1"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("PSYNC without AUTH: %q", got)
	}
	sidecar := startNode(t, hub.Addr(), replicaOptions{Password: "s3cret"})
	leaf := redistest.Start(t, "--enable-debug-command", "yes", "--masterauth", "s3cret", "--replicaof", "127.0.0.1", hport)
	writeAllTypes(t, primary, 2)
	waitSame(t, primary, direct, leaf)
	want := replOffset(primary.Addr())
	redistest.WaitFor(t, 20*time.Second, "sidecar at offset "+want, func() bool {
		return sidecar.Ready() && strconv.FormatInt(sidecar.Client().Offset(), 10) == want
	})
	if a, b := redistest.Do(sidecar.Addr(), "HGET", "hash:2", "f2"); a != "$2\r\nv2\r\n" {
		t.Fatalf("sidecar's HGET hash:2 f2 = %q, %v", a, b)
	}
}

// TestChainedPrimaryForcesFullResync: vdr falls out of the primary's
// backlog (16 KiB here: its link is cut and a script writes 80 KiB
// before it can reconnect), so the primary answers its PSYNC with
// +FULLRESYNC under the same replid. vdr's replica is dropped (a new
// history for vdr) and full-syncs again from vdr; both end equal to a
// direct replica.
func TestChainedPrimaryForcesFullResync(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--repl-backlog-size", "16384")
	writeAllTypes(t, primary, 1)
	direct := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	node := startHub(t, primary.Addr(), 0, replicaOptions{})
	_, vport, _ := net.SplitHostPort(node.Addr())
	chained := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", vport)
	writeAllTypes(t, primary, 2)
	waitSame(t, primary, direct, chained)
	id := redistest.InfoField(primary.Addr(), "replication", "master_replid")

	// One read of the primary: the kill, then the script, before any
	// replica is back.
	c := dialRaw(t, primary.Addr())
	c.send(append(encodeCmd(bs("CLIENT", "KILL", "TYPE", "replica")...),
		encodeCmd(bs("EVAL", "for i = 1, 20 do redis.call('set', 'big' .. i, string.rep('x', 4096)) end return 1", "0")...)...))
	c.read()
	c.read()
	writeAllTypes(t, primary, 3)
	waitSame(t, primary, direct, chained)
	if st := node.Client().Stats(); st.FullSyncs != 2 {
		t.Fatalf("vdr: %d full syncs, want 2 (it fell out of the primary's backlog)", st.FullSyncs)
	}
	if got := redistest.InfoField(primary.Addr(), "replication", "master_replid"); got != id {
		t.Fatalf("the primary's replid changed: %s, was %s", got, id)
	}
	if rl := node.srv.ReplicaLines(); rl.SyncFull != 2 || len(rl.Replicas) != 1 {
		t.Fatalf("vdr served %d full syncs to %d replicas; want 2 to 1 (dropped and full-synced again)", rl.SyncFull, len(rl.Replicas))
	}
	if got := redistest.InfoField(chained.Addr(), "replication", "master_replid"); got != id {
		t.Fatalf("chained replica's replid %s, the primary's %s", got, id)
	}
}

// TestHubIdlePrimary: a replica attaches to a hub whose primary sends
// nothing but PINGs since the hub's sync; it is served once a PING
// came (the applied offset follows the PINGs), with no write needed.
func TestHubIdlePrimary(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1")
	direct := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	writeAllTypes(t, primary, 1)
	node := startHub(t, primary.Addr(), 0, replicaOptions{})
	want := replOffset(primary.Addr())
	redistest.WaitFor(t, 20*time.Second, "vdr applied the writes", func() bool {
		return strconv.FormatInt(node.Client().Offset(), 10) == want
	})
	time.Sleep(1500 * time.Millisecond) // a PING or two, nothing else
	// No more PINGs: the offsets waitSame compares stay still.
	primary.Do(t, "CONFIG", "SET", "repl-ping-replica-period", "3600")
	redistest.WaitFor(t, 20*time.Second, "vdr past the last PING", func() bool {
		return strconv.FormatInt(node.Client().Offset(), 10) == replOffset(primary.Addr())
	})
	_, vport, _ := net.SplitHostPort(node.Addr())
	chained := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", vport)
	waitSame(t, primary, direct, chained)
}
