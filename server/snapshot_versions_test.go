package server

import (
	"bytes"
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

// TestRDBFilePersonality checks the personality of `vdr serve --rdb`:
// --compat (Options.Compat) when set, else the version of the server that
// wrote the file (its redis-ver / valkey-ver AUX field), with that
// version's encodings.
func TestRDBFilePersonality(t *testing.T) {
	proj := newProjection(t)
	if err := proj.Apply(0, bs("SADD", "set", "x", "y")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, aux map[string]string) string {
		var buf bytes.Buffer
		if _, err := writeProjection(&buf, proj, 10, aux); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	r72 := write("r72.rdb", map[string]string{"redis-ver": "7.2.6"})
	v80 := write("v80.rdb", map[string]string{"redis-ver": "7.2.4", "valkey-ver": "8.0.1"})
	r70 := write("r70.rdb", map[string]string{"redis-ver": "7.0.15"})
	for _, c := range []struct {
		file     string
		compat   compat.Version
		want     compat.Version
		encoding string
	}{
		{r72, compat.Version{}, compat.Redis72, "listpack"},
		{v80, compat.Version{}, compat.Valkey80, "listpack"},
		{r70, compat.Version{}, compat.Redis70, "hashtable"},
		{r70, compat.Redis74, compat.Redis74, "listpack"},
		{r72, compat.Redis70, compat.Redis70, "hashtable"},
	} {
		node, err := NewNode(NodeOptions{Server: Options{Port: RandomPort, Compat: c.compat}, RDBFile: c.file,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := node.Start(); err != nil {
			t.Fatal(err)
		}
		if got := node.srv.env.Version.Load(); got != c.want {
			t.Errorf("%s --compat %v: answers as %s, want %s", filepath.Base(c.file), c.compat, got, c.want)
		}
		if got, _ := redistest.Do(node.Addr(), "OBJECT", "ENCODING", "set"); got != "$"+strconv.Itoa(len(c.encoding))+"\r\n"+c.encoding+"\r\n" {
			t.Errorf("%s --compat %v: OBJECT ENCODING set = %q, want %s", filepath.Base(c.file), c.compat, got, c.encoding)
		}
		node.Close()
	}
}
