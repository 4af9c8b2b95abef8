package server

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestReplicaofSwitch is a failover done by hand, as Sentinel does it: vdr
// replicates A; B, a replica of A, is promoted; REPLICAOF B makes vdr
// continue from B with a partial resync (B's replid2 is A's id), and
// writes to B arrive. The refusals answer Redis's errors.
func TestReplicaofSwitch(t *testing.T) {
	a := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	b := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(a.Port))
	node := startNode(t, a.Addr(), replicaOptions{})
	for i := 0; i < 50; i++ {
		a.Do(t, "SET", "k"+strconv.Itoa(i), strconv.Itoa(i))
	}
	off := redistest.InfoField(a.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 15*time.Second, "both replicas caught up", func() bool {
		return redistest.InfoField(b.Addr(), "replication", "slave_repl_offset") == off &&
			redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == off
	})
	c := dialRaw(t, node.Addr())
	if r := c.dos("REPLICAOF", "127.0.0.1", strconv.Itoa(a.Port)); r != "+OK Already connected to specified master\r\n" {
		t.Errorf("REPLICAOF of the current primary: %q", r)
	}
	if r := c.dos("REPLICAOF", "127.0.0.1", "70000"); r != "-ERR Invalid master port\r\n" {
		t.Errorf("REPLICAOF with a bad port: %q", r)
	}
	if r := c.dos("REPLICAOF", "NO", "ONE"); !strings.HasPrefix(r, "-ERR ") {
		t.Errorf("REPLICAOF NO ONE: %q", r)
	}
	if r := c.dos("FAILOVER"); r != "-ERR FAILOVER is not valid when server is a replica.\r\n" {
		t.Errorf("FAILOVER: %q", r)
	}
	full := node.Client().Stats().FullSyncs

	b.Do(t, "REPLICAOF", "NO", "ONE")
	if r := c.dos("SLAVEOF", "127.0.0.1", strconv.Itoa(b.Port)); r != "+OK\r\n" {
		t.Fatalf("SLAVEOF the promoted replica: %q", r)
	}
	b.Do(t, "SET", "after", "failover")
	redistest.WaitFor(t, 10*time.Second, "the write on the new primary", func() bool {
		r, _ := redistest.Do(node.Addr(), "GET", "after")
		return r == "$8\r\nfailover\r\n"
	})
	if got := redistest.InfoField(node.Addr(), "replication", "master_port"); got != strconv.Itoa(b.Port) {
		t.Errorf("INFO master_port = %s, want %d", got, b.Port)
	}
	if st := node.Client().Stats(); st.FullSyncs != full || st.PartialSyncs == 0 {
		t.Errorf("switching to the promoted replica: %d full syncs (was %d), %d partial", st.FullSyncs, full, st.PartialSyncs)
	}
	if r, _ := redistest.Do(node.Addr(), "GET", "k49"); r != "$2\r\n49\r\n" {
		t.Errorf("data from before the switch: GET k49 = %q", r)
	}
}

// TestForwardFollowsReplicaof: with write forwarding on, writes go to the
// primary REPLICAOF named, not to the one vdr started with.
func TestForwardFollowsReplicaof(t *testing.T) {
	a := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	b := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(a.Port))
	node := startNodeServing(t, a.Addr(), replicaOptions{}, Options{ForwardWrites: true})
	redistest.WaitFor(t, 15*time.Second, "vdr synced", func() bool { return node.Ready() })
	c := dialRaw(t, node.Addr())
	if r := c.dos("SET", "w", "1"); r != "+OK\r\n" {
		t.Fatalf("forwarded SET: %q", r)
	}
	redistest.WaitFor(t, 10*time.Second, "B has the write", func() bool {
		r, _ := redistest.Do(b.Addr(), "GET", "w")
		return r == "$1\r\n1\r\n"
	})
	b.Do(t, "REPLICAOF", "NO", "ONE")
	a.Do(t, "REPLICAOF", "127.0.0.1", strconv.Itoa(b.Port))
	if r := c.dos("REPLICAOF", "127.0.0.1", strconv.Itoa(b.Port)); r != "+OK\r\n" {
		t.Fatalf("REPLICAOF: %q", r)
	}
	if r := c.dos("SET", "w", "2"); r != "+OK\r\n" {
		t.Fatalf("forwarded SET after the switch: %q (still going to the demoted A?)", r)
	}
	if r, _ := redistest.Do(b.Addr(), "GET", "w"); r != "$1\r\n2\r\n" {
		t.Errorf("B after the forwarded write: %q", r)
	}
}

// TestRewriteConfigPrimary checks CONFIG REWRITE's edit of the config
// file: replicaof and primary lines get the new address (a URL keeps its
// scheme and credentials), a file naming no primary is left alone.
func TestRewriteConfigPrimary(t *testing.T) {
	dir := t.TempDir()
	f := func(in, want string) {
		t.Helper()
		p := filepath.Join(dir, "vdr.conf")
		if err := os.WriteFile(p, []byte(in), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := rewriteConfigPrimary(p, "10.0.0.9:6390"); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		if string(got) != want {
			t.Errorf("rewrite of %q = %q, want %q", in, got, want)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
			t.Errorf("mode %v", st.Mode())
		}
	}
	f("port 6380\nreplicaof 127.0.0.1 6379\n", "port 6380\nreplicaof 10.0.0.9 6390\n")
	f("# replicaof a b\nprimary redis://u:p@h:1\n", "# replicaof a b\nprimary redis://u:p@10.0.0.9:6390\n")
	f("primary h:1\n", "primary 10.0.0.9:6390\n")
	f("sentinel 127.0.0.1:26379\nsentinel-master grp\n", "sentinel 127.0.0.1:26379\nsentinel-master grp\n")
	if err := rewriteConfigPrimary(filepath.Join(dir, "missing"), "h:1"); err == nil {
		t.Error("a missing file was not an error")
	}
}
