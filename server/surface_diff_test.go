package server

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/redistest"
)

// surfacePair is a real Redis replica and vdr replicating one primary.
type surfacePair struct {
	primary, replica *redistest.Server
	node             *Node
}

func startSurfacePair(t *testing.T, replicaArgs []string, so Options, snapshot string) *surfacePair {
	t.Helper()
	p := &surfacePair{primary: redistest.Start(t, "--repl-diskless-sync-delay", "0")}
	p.replica = redistest.Start(t, append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(p.primary.Port)}, replicaArgs...)...)
	ro := replicaOptions{Primary: p.primary.Addr()}
	so.Port = RandomPort
	if os.Getenv("VDR_EVENTLOOP") == "0" {
		so.EventLoops = EventLoopsDisabled // the goroutine-per-connection path
	}
	node, err := NewNode(NodeOptions{Server: so, Replica: &ro, SnapshotPath: snapshot,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	p.node = node
	redistest.WaitFor(t, 15*time.Second, "links up", func() bool {
		return redistest.InfoField(p.replica.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(p.primary.Addr(), "replication", "connected_slaves") == "2"
	})
	return p
}

// write runs argv on the primary and waits until both replicas have it.
func (p *surfacePair) write(t *testing.T, argv ...string) {
	t.Helper()
	if r, err := redistest.Do(p.primary.Addr(), argv...); err != nil || strings.HasPrefix(r, "-") {
		t.Fatalf("primary %q: %q %v", argv, r, err)
	}
	want := redistest.InfoField(p.primary.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 10*time.Second, "replicas caught up", func() bool {
		return redistest.InfoField(p.replica.Addr(), "replication", "slave_repl_offset") == want &&
			redistest.InfoField(p.node.Addr(), "replication", "slave_repl_offset") == want
	})
}

// TestSurfaceDifferential compares the replies of the operator commands
// byte for byte with a real replica's, where Redis's are deterministic.
func TestSurfaceDifferential(t *testing.T) {
	p := startSurfacePair(t, nil, Options{}, "")
	p.write(t, "SET", "k", "v")
	cases := [][]string{
		{"MODULE", "LIST"}, {"MODULE", "HELP"}, {"MODULE", "LOAD", "/no/such.so"}, {"MODULE", "LOADEX", "/no/such.so"},
		{"MODULE", "UNLOAD", "x"}, {"MODULE", "FOO"},
		{"DEBUG", "OBJECT", "k"}, {"DEBUG", "HELP"}, {"DEBUG"},
		{"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}, {"CLUSTER", "SLOTS"}, {"ASKING"}, {"READONLY"}, {"READWRITE"},
		{"MEMORY", "PURGE"}, {"MEMORY", "STATS", "x"}, {"MEMORY", "DOCTOR", "x"},
		{"LOLWUT"}, {"LOLWUT", "VERSION", "7"}, {"LOLWUT", "VERSION", "x"}, {"LOLWUT", "foo"},
		{"LOLWUT", "VERSION", "5", "1", "1", "1"}, {"LOLWUT", "VERSION", "5", "3", "1", "1"},
		{"LOLWUT", "VERSION", "5", "0", "-3", "1"}, {"LOLWUT", "VERSION", "5", "10", "1", "1"},
		{"LOLWUT", "VERSION", "5", "66", "8", "1"}, {"LOLWUT", "VERSION", "5", "20", "3", "1"},
		{"LOLWUT", "VERSION", "5", "x"}, {"LOLWUT", "VERSION", "6", "1", "1"}, {"LOLWUT", "VERSION", "6", "0", "y"},
		{"CLIENT", "PAUSE", "abc"}, {"CLIENT", "PAUSE", "-1"}, {"CLIENT", "PAUSE", "10", "FOO"},
		{"CLIENT", "PAUSE", "10", "WRITE", "x"}, {"CLIENT", "UNPAUSE"}, {"CLIENT", "UNPAUSE", "x"},
		{"CLIENT", "UNBLOCK", "x"}, {"CLIENT", "UNBLOCK", "99999"}, {"CLIENT", "UNBLOCK", "99999", "ERROR"},
		{"CLIENT", "UNBLOCK", "99999", "FOO"}, {"CLIENT", "UNBLOCK", "1", "ERROR", "x"},
		{"BGSAVE", "foo"}, {"BGSAVE", "SCHEDULE", "x"}, {"LASTSAVE", "x"},
		{"MULTI"}, {"DEBUG", "SLEEP", "0"}, {"MODULE", "LIST"}, {"EXEC"},
		{"MULTI"}, {"MONITOR"}, {"EXEC"},
	}
	rc, vc := dialRaw(t, p.replica.Addr()), dialRaw(t, p.node.Addr())
	for _, cmd := range cases {
		want, got := rc.dos(cmd...), vc.dos(cmd...)
		if want != got {
			t.Errorf("%q:%s", cmd, firstDiff(want, got))
		}
	}
	// Shapes where the values are the server's own.
	// LOLWUT 5's squares land on other pixels past the first one (Redis
	// places them in float arithmetic vdr does not reproduce), so a
	// drawing of several is compared by its size and layout.
	for _, cmd := range [][]string{{"MEMORY", "STATS"}, {"LOLWUT", "VERSION", "6", "30", "8"}, {"LOLWUT", "VERSION", "5", "20", "3", "4"},
		{"LOLWUT", "VERSION", "5", "40", "5", "1"}, {"LOLWUT"}, {"LOLWUT", "VERSION", "6"}, {"LOLWUT", "VERSION", "5"}, {"LOLWUT", "VERSION", "5", "5000", "300", "300"}, {"LOLWUT", "VERSION", "6", "5000", "2"}} {
		want, got := rc.dos(cmd...), vc.dos(cmd...)
		if w, g := replyShape(want), replyShape(got); w != g {
			t.Errorf("%q: shapes differ:%s", cmd, firstDiff(w, g))
		}
	}
}

var (
	reInt    = regexp.MustCompile(`(?m)^:-?\d+\r$`)
	reDouble = regexp.MustCompile(`(?m)^\$\d+\r\n-?[0-9.e+-]+\r$`)
	reCell   = regexp.MustCompile(`\x1b\[0;(30;40|90;100|37;47|97;107)m \x1b\[0m`)
	reBraile = regexp.MustCompile("[\u2800-\u28ff]")
	reBulk   = regexp.MustCompile(`^\$\d+\r\n`)
)

// replyShape masks a reply's numbers, LOLWUT's cells and Braille
// characters and bulk lengths, leaving its structure and words.
func replyShape(r string) string {
	r = reBulk.ReplaceAllString(r, "$N\r\n")
	r = reDouble.ReplaceAllString(r, "DOUBLE\r")
	r = reInt.ReplaceAllString(r, ":N\r")
	r = reCell.ReplaceAllString(r, "C")
	return reBraile.ReplaceAllString(r, "B")
}

// TestDebugObjectDifferential: with DEBUG allowed on both, DEBUG OBJECT
// says what a real replica says but for the address and the LRU clock.
func TestDebugObjectDifferential(t *testing.T) {
	p := startSurfacePair(t, []string{"--enable-debug-command", "yes"}, Options{EnableDebugCommand: "yes"}, "")
	p.write(t, "SET", "s", "hello")
	p.write(t, "SET", "n", "123")
	p.write(t, "SET", "big", strings.Repeat("a", 100))
	p.write(t, "SET", "bigint", "123456789")
	p.write(t, "HSET", "h", "a", "1")
	p.write(t, "SADD", "st", "1", "2")
	p.write(t, "ZADD", "z", "1", "a")
	p.write(t, "RPUSH", "l", "a", "b", "c")
	// The address, the LRU clock and the serialized length are the
	// server's own: vdr serializes values in its own RDB forms (plain
	// types, no LZF), so only their presence is compared.
	mask := regexp.MustCompile(`Value at:0x[0-9a-f]+ (.*) serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+(.*) ql_uncompressed_size:\d+|Value at:0x[0-9a-f]+ (.*) serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+`)
	rc, vc := dialRaw(t, p.replica.Addr()), dialRaw(t, p.node.Addr())
	for _, k := range []string{"s", "n", "big", "bigint", "h", "st", "z", "l", "nosuch"} {
		want, got := rc.dos("DEBUG", "OBJECT", k), vc.dos("DEBUG", "OBJECT", k)
		want, got = mask.ReplaceAllString(want, "$1$2$3"), mask.ReplaceAllString(got, "$1$2$3")
		if want != got {
			t.Errorf("DEBUG OBJECT %s:%s", k, firstDiff(want, got))
		}
	}
	for _, cmd := range [][]string{{"DEBUG", "FOO"}, {"DEBUG", "OBJECT"}, {"DEBUG", "SLEEP"}, {"DEBUG", "SLEEP", "x"}, {"DEBUG", "SLEEP", "0"}} {
		if want, got := rc.dos(cmd...), vc.dos(cmd...); want != got {
			t.Errorf("%q:%s", cmd, firstDiff(want, got))
		}
	}
	// DEBUG SLEEP holds back its client only: another connection is
	// answered meanwhile, and the sleeper gets +OK after the time.
	sl := dialRaw(t, p.node.Addr())
	t0 := time.Now()
	sl.send(encodeCmd(bs("DEBUG", "SLEEP", "0.3")...))
	sl.send(encodeCmd(bs("PING")...))
	time.Sleep(50 * time.Millisecond)
	if r := vc.dos("PING"); r != "+PONG\r\n" || time.Since(t0) > 250*time.Millisecond {
		t.Fatalf("another client during DEBUG SLEEP: %q after %v", r, time.Since(t0))
	}
	if r := string(sl.read()); r != "+OK\r\n" {
		t.Fatalf("DEBUG SLEEP: %q", r)
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Fatalf("DEBUG SLEEP 0.3 answered after %v", d)
	}
	if r := string(sl.read()); r != "+PONG\r\n" {
		t.Fatalf("PING after DEBUG SLEEP: %q", r)
	}
}

// TestClientPauseUnblockDifferential: CLIENT PAUSE WRITE holds PUBLISH
// but not reads, PAUSE ALL holds everything until UNPAUSE, and CLIENT
// UNBLOCK ends an XREAD BLOCK as on a real replica.
func TestClientPauseUnblockDifferential(t *testing.T) {
	p := startSurfacePair(t, nil, Options{}, "")
	p.write(t, "XADD", "s", "1-1", "f", "v")
	for _, addr := range []string{p.replica.Addr(), p.node.Addr()} {
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		// PAUSE WRITE: GET runs, PUBLISH waits for UNPAUSE.
		if r := a.dos("CLIENT", "PAUSE", "5000", "WRITE"); r != "+OK\r\n" {
			t.Fatalf("%s CLIENT PAUSE: %q", addr, r)
		}
		if r := b.dos("GET", "nosuch"); r != "$-1\r\n" {
			t.Fatalf("%s GET under PAUSE WRITE: %q", addr, r)
		}
		t0 := time.Now()
		b.send(encodeCmd(bs("PUBLISH", "ch", "m")...))
		time.Sleep(200 * time.Millisecond)
		if r := a.dos("CLIENT", "UNPAUSE"); r != "+OK\r\n" {
			t.Fatalf("%s CLIENT UNPAUSE: %q", addr, r)
		}
		if r := string(b.read()); r != ":0\r\n" || time.Since(t0) < 200*time.Millisecond {
			t.Fatalf("%s PUBLISH under PAUSE WRITE: %q after %v", addr, r, time.Since(t0))
		}
		// PAUSE ALL with a timeout: even PING waits for its end.
		a.dos("CLIENT", "PAUSE", "300", "ALL")
		t0 = time.Now()
		if r := b.dos("PING"); r != "+PONG\r\n" || time.Since(t0) < 250*time.Millisecond {
			t.Fatalf("%s PING under PAUSE ALL: %q after %v", addr, r, time.Since(t0))
		}
		// CLIENT UNBLOCK of an XREAD BLOCK: TIMEOUT then ERROR.
		id := strings.TrimSpace(strings.TrimPrefix(b.dos("CLIENT", "ID"), ":"))
		for _, how := range []string{"TIMEOUT", "ERROR"} {
			b.send(encodeCmd(bs("XREAD", "BLOCK", "0", "STREAMS", "s", "$")...))
			redistest.WaitFor(t, 5*time.Second, "blocked", func() bool {
				return strings.Contains(a.dos("CLIENT", "LIST", "ID", id), "cmd=xread")
			})
			if r := a.dos("CLIENT", "UNBLOCK", id, how); r != ":1\r\n" {
				t.Fatalf("%s CLIENT UNBLOCK %s: %q", addr, how, r)
			}
			want := "*-1\r\n"
			if how == "ERROR" {
				want = "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
			}
			if r := string(b.read()); r != want {
				t.Fatalf("%s XREAD after CLIENT UNBLOCK %s: %q", addr, how, r)
			}
		}
		if r := a.dos("CLIENT", "UNBLOCK", id); r != ":0\r\n" {
			t.Fatalf("%s CLIENT UNBLOCK of a client not blocked: %q", addr, r)
		}
	}
}

// TestSaveBgsave: SAVE and BGSAVE write the snapshot file, LASTSAVE and
// INFO persistence follow.
func TestSaveBgsave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vdr.rdb")
	p := startSurfacePair(t, nil, Options{}, path)
	p.write(t, "SET", "k", "v")
	c := dialRaw(t, p.node.Addr())
	if got := redistest.InfoField(p.node.Addr(), "persistence", "rdb_changes_since_last_save"); got == "0" || got == "" {
		t.Fatalf("rdb_changes_since_last_save before a save: %q", got)
	}
	before := time.Now().Unix()
	time.Sleep(1100 * time.Millisecond) // LASTSAVE has seconds
	if r := c.dos("SAVE"); r != "+OK\r\n" {
		t.Fatalf("SAVE: %q", r)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() == 0 {
		t.Fatalf("SAVE wrote no file: %v", err)
	}
	last, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(c.dos("LASTSAVE"), ":")), 10, 64)
	if last <= before {
		t.Fatalf("LASTSAVE %d, not after %d", last, before)
	}
	if got := redistest.InfoField(p.node.Addr(), "persistence", "rdb_changes_since_last_save"); got != "0" {
		t.Fatalf("rdb_changes_since_last_save after SAVE: %q", got)
	}
	if got := redistest.InfoField(p.node.Addr(), "persistence", "rdb_last_save_time"); got != strconv.FormatInt(last, 10) {
		t.Fatalf("rdb_last_save_time %q, LASTSAVE %d", got, last)
	}
	os.Remove(path)
	p.write(t, "SET", "k2", "v")
	if r := c.dos("BGSAVE"); r != "+Background saving started\r\n" {
		t.Fatalf("BGSAVE: %q", r)
	}
	redistest.WaitFor(t, 10*time.Second, "bgsave done", func() bool {
		return redistest.InfoField(p.node.Addr(), "persistence", "rdb_bgsave_in_progress") == "0"
	})
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("BGSAVE wrote no file: %v", err)
	}
	if got := redistest.InfoField(p.node.Addr(), "persistence", "rdb_last_bgsave_status"); got != "ok" {
		t.Fatalf("rdb_last_bgsave_status: %q", got)
	}
	// The file is an RDB file a real Redis loads, with both keys.
	rs := redistest.Start(t, "--dir", dir, "--dbfilename", "vdr.rdb")
	if r, _ := redistest.Do(rs.Addr(), "DBSIZE"); r != ":2\r\n" {
		t.Fatalf("DBSIZE of the saved file in redis-server: %q", r)
	}
}

// TestSurfaceVersions: the operator replies of each personality against
// that server (an empty one, as vdr here): MEMORY STATS's layout changed
// in 7.4 and Valkey 8, help texts' last line in 7.2.
func TestSurfaceVersions(t *testing.T) {
	for _, v := range compat.Supported {
		t.Run(v.String(), func(t *testing.T) {
			rs := redistest.StartVersion(t, v)
			s := startVDR(t, Options{Compat: v})
			rc, vc := dialRaw(t, rs.Addr()), dialRaw(t, s.Addr())
			for _, cmd := range [][]string{
				{"MODULE", "HELP"}, {"MODULE", "LIST"}, {"MODULE", "LOAD", "/x.so"}, {"DEBUG", "OBJECT", "x"},
				{"CLUSTER", "INFO"}, {"ASKING"}, {"LOLWUT"}, {"LOLWUT", "VERSION", "5", "3", "1", "1"},
				{"LOLWUT", "VERSION", "6", "1", "1"}, {"CLIENT", "PAUSE", "10", "x"}, {"CLIENT", "UNBLOCK", "1", "x"},
				{"BGSAVE", "x"},
			} {
				if want, got := rc.dos(cmd...), vc.dos(cmd...); want != got {
					t.Errorf("%q:%s", cmd, firstDiff(want, got))
				}
			}
			if w, g := replyShape(rc.dos("MEMORY", "STATS")), replyShape(vc.dos("MEMORY", "STATS")); w != g {
				t.Errorf("MEMORY STATS shapes differ:%s", firstDiff(w, g))
			}
		})
	}
}

// TestSurfaceConfigGet: CONFIG GET shows the settings SAVE and DEBUG
// follow.
func TestSurfaceConfigGet(t *testing.T) {
	dir := t.TempDir()
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort, EnableDebugCommand: "Local"}, Dir: dir, DBFilename: "x.rdb",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c := dialRaw(t, n.Addr())
	for name, want := range map[string]string{"dir": dir, "dbfilename": "x.rdb", "enable-debug-command": "local"} {
		if r := c.dos("CONFIG", "GET", name); !strings.HasSuffix(r, "\r\n"+want+"\r\n") {
			t.Errorf("CONFIG GET %s: %q, want %q", name, r, want)
		}
	}
	// local: a loopback client may run DEBUG.
	if r := c.dos("DEBUG", "HELP"); !strings.HasPrefix(r, "*8\r\n+DEBUG <subcommand>") {
		t.Errorf("DEBUG HELP from loopback with local: %q", r)
	}
}
