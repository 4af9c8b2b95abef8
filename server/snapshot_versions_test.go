package server

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/redistest"
)

// TestSnapshotVersions checks, for every personality, that a snapshot of
// data replicated from that version's primary declares that version's RDB
// version, loads into that version's real server (with the same values,
// field TTLs of 7.4 included), and that a node restarting from it answers
// as that version and builds its values with that version's encodings
// before any handshake.
func TestSnapshotVersions(t *testing.T) {
	for _, v := range compat.Supported {
		t.Run(v.Name(), func(t *testing.T) { testSnapshotVersion(t, v) })
	}
}

func testSnapshotVersion(t *testing.T, v compat.Version) {
	primary := redistest.StartVersion(t, v)
	writes := [][]string{
		{"SET", "s", "v"}, {"RPUSH", "l", "a", "b"}, {"SADD", "set", "x", "y"}, {"SADD", "iset", "1", "2"},
		{"ZADD", "z", "1", "m"}, {"HSET", "h", "f", "v", "g", "w"},
	}
	if v.HashFieldTTL() {
		writes = append(writes, []string{"HSET", "ht", "a", "1", "b", "2"}, []string{"HPEXPIRE", "ht", "3600000", "FIELDS", "1", "a"})
	}
	for _, w := range writes {
		if r := primary.Do(t, w...); strings.HasPrefix(r, "-") {
			t.Fatalf("%v: %q", w, r)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.rdb")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	startWith := func(primaryAddr string) *Node {
		t.Helper()
		ro := replicaOptions{Primary: primaryAddr}
		node, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, Replica: &ro, SnapshotPath: path, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		if err := node.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		return node
	}
	node := startWith(primary.Addr())
	off := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 15*time.Second, "vdr caught up", func() bool {
		return redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == off
	})
	if err := node.saveSnapshot(); err != nil {
		t.Fatal(err)
	}
	node.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "REDIS00" + strconv.Itoa(v.RDBVersion()); string(b[:9]) != want {
		t.Errorf("snapshot header %q, want %q", b[:9], want)
	}

	// The server of that version loads it.
	rs := redistest.StartVersion(t, v, "--dir", dir, "--dbfilename", "snap.rdb")
	if got, want := rs.Do(t, "DBSIZE"), ":"+strconv.Itoa(len(writes)-countTTLWrites(writes))+"\r\n"; got != want {
		t.Errorf("%s loaded DBSIZE %q, want %q (log: %s)", v, got, want, rs.Log())
	}
	if v.HashFieldTTL() {
		if got := rs.Do(t, "HTTL", "ht", "FIELDS", "2", "a", "b"); !strings.HasPrefix(got, "*2\r\n:3") || !strings.HasSuffix(got, ":-1\r\n") {
			t.Errorf("HTTL after loading: %q", got)
		}
	}

	// A node restarting from it answers as v before any handshake (its
	// primary is unreachable), with v's encodings.
	node = startWith("127.0.0.1:1")
	if got := node.srv.env.Version.Load(); got != v {
		t.Errorf("restarted node answers as %s, want %s", got, v)
	}
	for _, key := range []string{"set", "iset", "l", "h", "z"} {
		want, _ := redistest.Do(rs.Addr(), "OBJECT", "ENCODING", key)
		got, _ := redistest.Do(node.Addr(), "OBJECT", "ENCODING", key)
		if got != want {
			t.Errorf("%s OBJECT ENCODING %s: vdr %q, %s %q", v, key, got, v, want)
		}
	}
	want, _ := redistest.Do(rs.Addr(), "HELLO", "3")
	want = strings.Replace(want, "$4\r\nrole\r\n$6\r\nmaster\r\n", "$4\r\nrole\r\n$7\r\nreplica\r\n", 1) // rs loaded the file as a primary
	got, _ := redistest.Do(node.Addr(), "HELLO", "3")
	if helloID.ReplaceAllString(got, "ID") != helloID.ReplaceAllString(want, "ID") {
		t.Errorf("HELLO: vdr %q, %s %q", got, v, want)
	}
}

// countTTLWrites counts the writes that add no key (HPEXPIRE).
func countTTLWrites(writes [][]string) int {
	n := 0
	for _, w := range writes {
		if w[0] == "HPEXPIRE" {
			n++
		}
	}
	return n
}
