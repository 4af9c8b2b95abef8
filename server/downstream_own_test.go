package server

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// writeBothPrefixes writes keys of every type under a: (projected) and
// b: (not), round r, some in db 2 and in units mixing both.
func writeBothPrefixes(t *testing.T, p *redistest.Server, r int) {
	t.Helper()
	c := dialRaw(t, p.Addr())
	for _, pre := range []string{"a:", "b:"} {
		k := func(s string) string { return fmt.Sprintf("%s%s:%d", pre, s, r) }
		for _, cmd := range [][]string{{"SET", k("str"), strings.Repeat("v", r+1)}, {"SET", k("ttl"), "x", "PX", "100000000"},
			{"INCRBY", pre + "counter", "7"}, {"RPUSH", k("list"), "a", "b", strconv.Itoa(r)}, {"SADD", k("set"), "1", "x"},
			{"ZADD", k("zset"), "1.5", "a", "-3", "c"}, {"HSET", k("hash"), "f1", "v1", "f2", "v2"}, {"XADD", k("stream"), "*", "f", "v"},
			{"SELECT", "2"}, {"SET", k("db2"), "y"}, {"SELECT", "0"}} {
			c.dos(cmd...)
		}
	}
	c.dos("MULTI")
	c.dos("SET", fmt.Sprintf("a:unit:%d", r), "1")
	c.dos("SET", fmt.Sprintf("b:unit:%d", r), "1")
	c.dos("LPUSH", fmt.Sprintf("a:ulist:%d", r), "1", "2")
	c.dos("EXEC")
	c.dos("DEL", fmt.Sprintf("a:str:%d", r-1), fmt.Sprintf("b:str:%d", r-1))
	c.dos("EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('set', KEYS[2], ARGV[1]) return 1", "2",
		fmt.Sprintf("a:lua:%d", r), fmt.Sprintf("b:lua:%d", r), "z")
}

// sameFiltered waits until vdr applied all of the primary's stream and
// the replica all of vdr's own, then checks the replica holds exactly
// the primary's a: keys, value for value (DEBUG DIGEST-VALUE), in dbs 0
// and 2.
func sameFiltered(t *testing.T, primary *redistest.Server, node *Node, rep *redistest.Server) {
	t.Helper()
	want := replOffset(primary.Addr())
	redistest.WaitFor(t, 20*time.Second, "vdr at the primary's offset", func() bool {
		return strconv.FormatInt(node.Client().Offset(), 10) == want
	})
	rl := node.srv.ReplicaLines()
	own := strconv.FormatInt(rl.BacklogFirstByte+rl.BacklogHistlen-1, 10)
	redistest.WaitFor(t, 20*time.Second, "replica at vdr's own offset "+own, func() bool {
		return redistest.InfoField(rep.Addr(), "replication", "master_link_status") == "up" && replOffset(rep.Addr()) == own
	})
	for _, db := range []string{"0", "2"} {
		pc, rc := dialRaw(t, primary.Addr()), dialRaw(t, rep.Addr())
		pc.dos("SELECT", db)
		rc.dos("SELECT", db)
		keys := parseArray(pc.dos("KEYS", "a:*"))
		if got := parseArray(rc.dos("KEYS", "*")); strings.Join(got, " ") != strings.Join(keys, " ") {
			t.Fatalf("db %s: the replica holds %v, the primary's a: keys are %v", db, got, keys)
		}
		if len(keys) == 0 {
			t.Fatalf("db %s: no a: key", db)
		}
		args := append([]string{"DEBUG", "DIGEST-VALUE"}, keys...)
		if a, b := pc.dos(args...), rc.dos(args...); a != b {
			t.Fatalf("db %s: values differ:\nprimary %q\nreplica %q", db, a, b)
		}
	}
}

// parseArray returns the sorted bulk strings of a RESP array.
func parseArray(r string) []string {
	var out []string
	lines := strings.Split(r, "\r\n")
	for i := 1; i+1 < len(lines); i += 2 {
		out = append(out, lines[i+1])
	}
	sort.Strings(out)
	return out
}

// TestDownstreamFiltered: a vdr projecting only a: keys, with
// DownstreamFiltered, serves a redis-server replica its own data under
// its own replication ID; the replica holds exactly the primary's a:
// keys after a full sync, the stream, and a cut link (+CONTINUE from
// vdr's own backlog); a full sync of vdr starts a new ID and its
// replica full-syncs again.
func TestDownstreamFiltered(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes")
	writeBothPrefixes(t, primary, 1)
	ro := replicaOptions{Primary: primary.Addr(), KeyPrefixes: []string{"a:"}}
	node := startNodeWith(t, NodeOptions{Server: Options{Port: RandomPort}, Replica: &ro, DownstreamFiltered: true})
	redistest.WaitFor(t, 20*time.Second, "vdr ready", node.Ready)
	_, vport, _ := net.SplitHostPort(node.Addr())
	rep := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", vport)
	writeBothPrefixes(t, primary, 2)
	sameFiltered(t, primary, node, rep)
	ownID := node.srv.ReplicaLines().ReplID
	if got := redistest.InfoField(rep.Addr(), "replication", "master_replid"); got != ownID || got == redistest.InfoField(primary.Addr(), "replication", "master_replid") {
		t.Fatalf("replica's replid %s; vdr's own %s (not the primary's)", got, ownID)
	}

	// A cut link: +CONTINUE from vdr's own backlog.
	if n, _ := redistest.Do(node.Addr(), "CLIENT", "KILL", "TYPE", "replica"); n != ":1\r\n" {
		t.Fatalf("CLIENT KILL TYPE replica = %q", n)
	}
	writeBothPrefixes(t, primary, 3)
	redistest.WaitFor(t, 20*time.Second, "partial resync", func() bool { return node.srv.ReplicaLines().SyncPartialOK == 1 })
	sameFiltered(t, primary, node, rep)
	if rl := node.srv.ReplicaLines(); rl.SyncFull != 1 || rl.ReplID != ownID {
		t.Fatalf("after the cut: %d full syncs, replid %s; want 1, %s", rl.SyncFull, rl.ReplID, ownID)
	}

	// vdr full-syncs (the primary forgets it: a new history upstream):
	// a new own ID, and the replica full-syncs from vdr.
	redistest.Do(primary.Addr(), "DEBUG", "RESTART") // no reply: the server execs itself again
	redistest.WaitFor(t, 20*time.Second, "the primary back", func() bool {
		return redistest.InfoField(primary.Addr(), "replication", "role") == "master"
	})
	writeBothPrefixes(t, primary, 4)
	redistest.WaitFor(t, 20*time.Second, "vdr's second full sync", func() bool { return node.Client().Stats().FullSyncs == 2 })
	sameFiltered(t, primary, node, rep)
	if rl := node.srv.ReplicaLines(); rl.SyncFull != 2 || rl.ReplID == ownID {
		t.Fatalf("after vdr's full sync: %d full syncs served, replid %s (was %s); want 2 and a new one", rl.SyncFull, rl.ReplID, ownID)
	}
}
