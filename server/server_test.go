package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/internal/redistest"
)

// fakeRepl is a ReplicationInfo the test drives.
type fakeRepl struct {
	mu sync.Mutex
	st ReplState
}

func (f *fakeRepl) ReplState() ReplState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeRepl) set(fn func(st *ReplState)) {
	f.mu.Lock()
	fn(&f.st)
	f.mu.Unlock()
}

func TestSyncStates(t *testing.T) {
	repl := &fakeRepl{st: ReplState{MasterHost: "127.0.0.1", MasterPort: 6379, State: "sync", SyncInProgress: true, LinkUp: true}}
	s := startVDR(t, Options{Replication: repl, DenyStaleData: true})
	c := dialRaw(t, s.Addr())
	f := func(want string, args ...string) {
		t.Helper()
		if got := c.dos(args...); got != want {
			t.Errorf("%q: got %q want %q", args, got, want)
		}
	}
	// Before the first full sync: LOADING for commands without the
	// loading flag (GET, and PING too, as in Redis 7.0); INFO still works.
	f("-LOADING Redis is loading the dataset in memory\r\n", "GET", "k")
	f("-LOADING Redis is loading the dataset in memory\r\n", "PING")
	if got := c.dos("INFO", "persistence"); !strings.Contains(got, "loading:1") {
		t.Errorf("INFO persistence during load: %q", got)
	}
	// Synced, link up.
	repl.set(func(st *ReplState) {
		st.FirstSyncDone, st.LinkUp, st.SyncInProgress, st.State = true, true, false, "connected"
	})
	f("$-1\r\n", "GET", "k")
	f("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:0\r\n", "ROLE")
	// Link down with serve-stale-data no: MASTERDOWN, but stale-flagged
	// commands (INFO, HELLO, …) still work.
	repl.set(func(st *ReplState) { st.LinkUp, st.LinkDownSince, st.State = false, time.Now(), "connect" })
	f("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n", "GET", "k")
	f("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n", "PING")
	f("$2\r\nhi\r\n", "ECHO", "hi")
	if got := c.dos("INFO", "replication"); !strings.Contains(got, "master_link_status:down") || !strings.Contains(got, "slave_priority:0") {
		t.Errorf("INFO replication: %q", got)
	}
	// MULTI/EXEC of a stale-denied command is refused at EXEC time.
	f("+OK\r\n", "MULTI")
	f("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n", "GET", "k")
	f("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
}

// EXISTS needs a return value for the chained helper above.
var _ = fmt.Sprint

func TestMaxStaleness(t *testing.T) {
	repl := &fakeRepl{st: ReplState{FirstSyncDone: true, LinkUp: false, LinkDownSince: time.Now()}}
	s := startVDR(t, Options{Replication: repl, MaxStaleness: 50 * time.Millisecond})
	c := dialRaw(t, s.Addr())
	if got := c.dos("GET", "k"); got != "$-1\r\n" {
		t.Fatalf("fresh stale read: %q", got)
	}
	time.Sleep(80 * time.Millisecond)
	if got := c.dos("GET", "k"); !strings.HasPrefix(got, "-MASTERDOWN") {
		t.Fatalf("after max staleness: %q", got)
	}
}

func TestAuth(t *testing.T) {
	s := startVDR(t, Options{RequirePass: "s3cret"})
	c := dialRaw(t, s.Addr())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", "k"}, "-NOAUTH Authentication required.\r\n"},
		{[]string{"PING"}, "-NOAUTH Authentication required.\r\n"},
		{[]string{"HELLO", "3"} /* Redis 7.0.15's wording (7.2 added "<proto>") */, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"},
		{[]string{"AUTH", "nope"}, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{[]string{"AUTH", "bob", "s3cret"}, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{[]string{"AUTH", "s3cret"}, "+OK\r\n"},
		{[]string{"GET", "k"}, "$-1\r\n"},
	} {
		if got := c.dos(tc.args...); got != tc.want {
			t.Errorf("%q: got %q want %q", tc.args, got, tc.want)
		}
	}
	// HELLO with AUTH and SETNAME in one go, RESP3 map reply.
	c2 := dialRaw(t, s.Addr())
	got := c2.dos("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "me")
	if !strings.HasPrefix(got, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n") ||
		!strings.Contains(got, "$4\r\nrole\r\n$7\r\nreplica\r\n") {
		t.Errorf("HELLO 3 AUTH: %q", got)
	}
	if got := c2.dos("CLIENT", "GETNAME"); got != "$2\r\nme\r\n" {
		t.Errorf("GETNAME: %q", got)
	}
	// Unauthenticated clients may not send big requests.
	c3 := dialRaw(t, s.Addr())
	c3.send([]byte("*20\r\n"))
	if got := string(c3.read()); got != "-ERR Protocol error: unauthenticated multibulk length\r\n" {
		t.Errorf("unauthenticated multibulk: %q", got)
	}
}

func TestProtocolErrors(t *testing.T) {
	s := startVDR(t, Options{MaxBulkBytes: 1024})
	for _, tc := range []struct {
		in, want string
	}{
		{"*1\r\n$2000\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n:5\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
		{"PING \"abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
	} {
		c := dialRaw(t, s.Addr())
		c.send([]byte(tc.in))
		if got := string(c.read()); got != tc.want {
			t.Errorf("%q: got %q want %q", tc.in, got, tc.want)
		}
		// The connection is closed after a protocol error.
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.br.ReadByte(); err == nil {
			t.Errorf("%q: connection still open", tc.in)
		}
	}
	// A command before the bad one in the same packet is answered first.
	c := dialRaw(t, s.Addr())
	c.send([]byte("PING\r\n*1\r\n$9999\r\n"))
	if got := string(c.read()); got != "+PONG\r\n" {
		t.Errorf("pipelined PING: %q", got)
	}
	if got := string(c.read()); got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Errorf("after PING: %q", got)
	}
	// Inline commands with quotes and hex escapes.
	c = dialRaw(t, s.Addr())
	c.send([]byte("ECHO \"a\\x41\\n\" \r\n"))
	if got := string(c.read()); got != "$3\r\naA\n\r\n" {
		t.Errorf("inline escape: %q", got)
	}
	c.send([]byte("\r\n\r\nECHO 'it\\'s'\n"))
	if got := string(c.read()); got != "$4\r\nit's\r\n" {
		t.Errorf("inline single quotes: %q", got)
	}
}

// TestRequestSplitEverywhere feeds a pipeline split at every byte.
func TestRequestSplitEverywhere(t *testing.T) {
	p := newProjection(t)
	if err := p.Apply(0, bs("SET", "key", "value")); err != nil {
		t.Fatal(err)
	}
	s := startVDR(t, Options{Projection: p})
	req := []byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n")
	want := "$5\r\nvalue\r\n+PONG\r\n$0\r\n\r\n"
	for i := 1; i < len(req); i++ {
		c := dialRaw(t, s.Addr())
		c.send(req[:i])
		time.Sleep(time.Millisecond)
		c.send(req[i:])
		got := string(c.read()) + string(c.read()) + string(c.read())
		if got != want {
			t.Fatalf("split at %d: %q", i, got)
		}
		c.nc.Close()
	}
}

func TestMaxClients(t *testing.T) {
	s := startVDR(t, Options{MaxClients: 2})
	a, b := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
	a.dos("PING")
	b.dos("PING")
	c := dialRaw(t, s.Addr())
	if got := string(c.read()); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("third client: %q", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	s := startVDR(t, Options{IdleTimeout: 100 * time.Millisecond})
	c := dialRaw(t, s.Addr())
	c.dos("PING")
	c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.br.ReadByte(); err == nil {
		t.Fatal("idle connection not closed")
	}
}

func TestPubSub(t *testing.T) {
	s := startVDR(t, Options{})
	sub2, sub3 := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
	if got := sub2.dos("SUBSCRIBE", "ch"); got != "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" {
		t.Fatalf("SUBSCRIBE: %q", got)
	}
	sub3.dos("HELLO", "3")
	if got := sub3.dos("PSUBSCRIBE", "c*"); got != ">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:1\r\n" {
		t.Fatalf("PSUBSCRIBE RESP3: %q", got)
	}
	// RESP2 subscribers can only run pub/sub commands (and PING).
	if got := sub2.dos("GET", "x"); got != "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" {
		t.Errorf("GET while subscribed: %q", got)
	}
	if got := sub2.dos("PING"); got != "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
		t.Errorf("PING while subscribed: %q", got)
	}
	if n := s.Publish([]byte("ch"), []byte("hi")); n != 2 {
		t.Errorf("Publish receivers = %d, want 2", n)
	}
	if got := string(sub2.read()); got != "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n" {
		t.Errorf("message RESP2: %q", got)
	}
	if got := string(sub3.read()); got != ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n" {
		t.Errorf("pmessage RESP3: %q", got)
	}
	pub := dialRaw(t, s.Addr())
	if got := pub.dos("PUBSUB", "NUMSUB", "ch", "other"); got != "*4\r\n$2\r\nch\r\n:1\r\n$5\r\nother\r\n:0\r\n" {
		t.Errorf("NUMSUB: %q", got)
	}
	if got := pub.dos("PUBSUB", "NUMPAT"); got != ":1\r\n" {
		t.Errorf("NUMPAT: %q", got)
	}
	if got := pub.dos("PUBLISH", "ch", "again"); got != ":2\r\n" {
		t.Errorf("PUBLISH: %q", got)
	}
	sub2.read()
	sub3.read()
	if got := sub2.dos("UNSUBSCRIBE"); got != "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n" {
		t.Errorf("UNSUBSCRIBE: %q", got)
	}
	if got := sub3.dos("SSUBSCRIBE", "sh"); got != ">3\r\n$10\r\nssubscribe\r\n$2\r\nsh\r\n:1\r\n" {
		t.Errorf("SSUBSCRIBE: %q", got)
	}
	if n := s.SPublish([]byte("sh"), []byte("x")); n != 1 {
		t.Errorf("SPublish = %d", n)
	}
	if got := string(sub3.read()); got != ">3\r\n$8\r\nsmessage\r\n$2\r\nsh\r\n$1\r\nx\r\n" {
		t.Errorf("smessage: %q", got)
	}
}

// TestPubSubMatchesRedis compares subscribe/publish replies with a real
// Redis byte for byte, RESP2 and RESP3.
func TestPubSubMatchesRedis(t *testing.T) {
	rs := redistest.Start(t)
	s := startVDR(t, Options{})
	for _, proto := range []string{"2", "3"} {
		var subs [2]*rawConn
		var pubs [2]*rawConn
		for i, addr := range []string{rs.Addr(), s.Addr()} {
			subs[i], pubs[i] = dialRaw(t, addr), dialRaw(t, addr)
			subs[i].dos("HELLO", proto)
		}
		script := [][]string{
			{"SUBSCRIBE", "a", "b"}, {"PSUBSCRIBE", "a*"}, {"PUBLISH", "a", "m1"}, {"PING", "x"},
			{"UNSUBSCRIBE", "b"}, {"PUNSUBSCRIBE"}, {"UNSUBSCRIBE"}, {"UNSUBSCRIBE"}, {"SSUBSCRIBE", "s"}, {"SUNSUBSCRIBE"},
		}
		for _, cmd := range script {
			var got [2]string
			for i := range subs {
				conn := subs[i]
				if cmd[0] == "PUBLISH" {
					got[i] = pubs[i].dos(cmd...)
					// Two deliveries: channel and pattern.
					got[i] += string(conn.read()) + string(conn.read())
					continue
				}
				conn.send(encodeCmd(bs(cmd...)...))
				n := 1
				if len(cmd) > 2 {
					n = len(cmd) - 1
				}
				for j := 0; j < n; j++ {
					got[i] += string(conn.read())
				}
			}
			if got[0] != got[1] {
				t.Errorf("RESP%s %q:\n redis %q\n   vdr %q", proto, cmd, got[0], got[1])
			}
		}
	}
}

func TestMultiExecAtomicView(t *testing.T) {
	p := newProjection(t)
	p.Apply(0, bs("SET", "a", "1"))
	p.Apply(1, bs("SET", "b", "2"))
	s := startVDR(t, Options{Projection: p})
	c := dialRaw(t, s.Addr())
	for _, cmd := range [][]string{{"MULTI"}, {"GET", "a"}, {"SELECT", "1"}, {"GET", "b"}, {"SCAN", "0"}} {
		c.dos(cmd...)
	}
	if got := c.dos("EXEC"); got != "*4\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n" {
		t.Errorf("EXEC: %q", got)
	}
	if got := c.dos("EXEC"); got != "-ERR EXEC without MULTI\r\n" {
		t.Errorf("EXEC twice: %q", got)
	}
	c.dos("MULTI")
	if got := c.dos("SET", "a", "2"); got != "-READONLY You can't write against a read only replica.\r\n" {
		t.Errorf("write in MULTI: %q", got)
	}
	if got := c.dos("EXEC"); got != "-EXECABORT Transaction discarded because of previous errors.\r\n" {
		t.Errorf("EXEC after error: %q", got)
	}
}

func TestClientCommands(t *testing.T) {
	s := startVDR(t, Options{})
	a, b := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
	a.dos("CLIENT", "SETNAME", "alpha")
	list := a.dos("CLIENT", "LIST")
	if !strings.Contains(list, "name=alpha") || strings.Count(list, "id=") != 2 || !strings.Contains(list, "cmd=client|list") {
		t.Errorf("CLIENT LIST: %q", list)
	}
	idB := strings.TrimSuffix(strings.TrimPrefix(b.dos("CLIENT", "ID"), ":"), "\r\n")
	if got := a.dos("CLIENT", "KILL", "ID", idB); got != ":1\r\n" {
		t.Errorf("CLIENT KILL ID: %q", got)
	}
	b.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := b.br.ReadByte(); err == nil {
		t.Error("killed client still connected")
	}
	if got := a.dos("CLIENT", "NOSUCH"); got != "-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.\r\n" {
		t.Errorf("unknown subcommand: %q", got)
	}
	if got := a.dos("CLIENT"); got != "-ERR wrong number of arguments for 'client' command\r\n" {
		t.Errorf("CLIENT alone: %q", got)
	}
	if got := a.dos("QUIT"); got != "+OK\r\n" {
		t.Errorf("QUIT: %q", got)
	}
}

// TestGracefulClose checks that Close lets a pipelined request finish.
func TestGracefulClose(t *testing.T) {
	s, err := New(Options{Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s.Addr())
	c.dos("PING")
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Error("still accepting after Close")
	}
	if err := s.Start(); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}

func TestUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vdr.sock")
	s := startVDR(t, Options{NoTCP: true, UnixSocket: path})
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("PING\r\n"))
	line, _ := bufio.NewReader(nc).ReadString('\n')
	if line != "+PONG\r\n" {
		t.Fatalf("PING over unix socket: %q", line)
	}
	_ = s
}

func TestForwardWrites(t *testing.T) {
	primary := redistest.Start(t)
	if got := primary.Do(t, "CONFIG", "SET", "requirepass", "pw"); !strings.Contains(got, "OK") {
		t.Fatalf("CONFIG SET requirepass: %q", got)
	}
	s := startVDR(t, Options{ForwardWrites: true, PrimaryAddr: primary.Addr(), PrimaryPassword: "pw"})
	c := dialRaw(t, s.Addr())
	if got := c.dos("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("forwarded SET: %q", got)
	}
	if got := c.dos("LPUSH", "k", "x"); got != "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" {
		t.Fatalf("forwarded error: %q", got)
	}
	if got := c.dos("INCR", "n"); got != ":1\r\n" {
		t.Fatalf("forwarded INCR: %q", got)
	}
}

// TestGoRedis uses go-redis v9 (RESP3 by default) against vdr.
func TestGoRedis(t *testing.T) {
	p := newProjection(t)
	p.Apply(0, bs("HSET", "h", "a", "1", "b", "2"))
	p.Apply(0, bs("ZADD", "z", "1.5", "x", "2", "y"))
	p.Apply(0, bs("SET", "s", "hello"))
	s := startVDR(t, Options{Projection: p})
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: proto})
		defer rdb.Close()
		if v, err := rdb.Get(ctx, "s").Result(); err != nil || v != "hello" {
			t.Errorf("RESP%d GET: %q %v", proto, v, err)
		}
		if m, err := rdb.HGetAll(ctx, "h").Result(); err != nil || m["a"] != "1" || m["b"] != "2" {
			t.Errorf("RESP%d HGETALL: %v %v", proto, m, err)
		}
		zs, err := rdb.ZRangeWithScores(ctx, "z", 0, -1).Result()
		if err != nil || len(zs) != 2 || zs[0].Score != 1.5 || zs[1].Member != "y" {
			t.Errorf("RESP%d ZRANGE WITHSCORES: %v %v", proto, zs, err)
		}
		if _, err := rdb.Set(ctx, "s", "x", 0).Result(); err == nil || !strings.HasPrefix(err.Error(), "READONLY") {
			t.Errorf("RESP%d SET: %v", proto, err)
		}
		if err := rdb.Get(ctx, "nope").Err(); err != redis.Nil {
			t.Errorf("RESP%d GET missing: %v", proto, err)
		}
		pipe := rdb.Pipeline()
		g1 := pipe.Get(ctx, "s")
		g2 := pipe.ZScore(ctx, "z", "x")
		if _, err := pipe.Exec(ctx); err != nil || g1.Val() != "hello" || g2.Val() != 1.5 {
			t.Errorf("RESP%d pipeline: %v %v %v", proto, err, g1.Val(), g2.Val())
		}
		info, err := rdb.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "role:slave") {
			t.Errorf("RESP%d INFO: %q %v", proto, info, err)
		}
	}
}

// TestRedisCli runs the real redis-cli against vdr, including COMMAND DOCS
// and a piped session.
func TestRedisCli(t *testing.T) {
	cli := redistest.Binary(t, "redis-cli")
	p := newProjection(t)
	p.Apply(0, bs("SET", "greeting", "hi"))
	s := startVDR(t, Options{Projection: p})
	host, port, _ := net.SplitHostPort(s.Addr())
	out, err := exec.Command(cli, "-h", host, "-p", port, "COMMAND", "DOCS", "GET").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Get the value of a key") {
		t.Errorf("COMMAND DOCS GET: %v %s", err, out)
	}
	cmd := exec.Command(cli, "-h", host, "-p", port)
	cmd.Stdin = strings.NewReader("PING\nGET greeting\nSET greeting x\nDBSIZE\n")
	out, err = cmd.CombinedOutput()
	// redis-cli prints a blank line after an error when not on a tty.
	want := "PONG\nhi\nREADONLY You can't write against a read only replica.\n\n1\n"
	if err != nil || string(out) != want {
		t.Errorf("piped session: %v\n got %q\nwant %q", err, out, want)
	}
}

// TestRedisBenchmark runs redis-benchmark's read tests against vdr and
// requires them to complete without errors.
func TestRedisBenchmark(t *testing.T) {
	bin := redistest.Binary(t, "redis-benchmark")
	p := newProjection(t)
	p.Apply(0, bs("SET", "key:__rand_int__", "xxx"))
	p.Apply(0, bs("RPUSH", "mylist", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"))
	s := startVDR(t, Options{Projection: p})
	host, port, _ := net.SplitHostPort(s.Addr())
	// -t tests that write first (lrange runs LPUSH) would stop at
	// READONLY, so the list read goes as a custom command.
	for _, args := range [][]string{
		{"-t", "ping,get,mget"},
		{"LRANGE", "mylist", "0", "9"},
	} {
		argv := append([]string{"-h", host, "-p", port, "-n", "2000", "-c", "10", "-q"}, args...)
		out, err := exec.Command(bin, argv...).CombinedOutput()
		if err != nil || strings.Contains(string(out), "ERR") || strings.Contains(string(out), "READONLY") || !strings.Contains(string(out), "requests per second") {
			t.Fatalf("redis-benchmark %q: %v\n%s", args, err, out)
		}
	}
}

// TestConcurrentClientsDuringApply runs hundreds of clients reading while
// the applier writes, under the race detector.
func TestConcurrentClientsDuringApply(t *testing.T) {
	p := newProjection(t)
	s := startVDR(t, Options{Projection: p})
	const clients = 200
	stop := make(chan struct{})
	var applied atomic.Int64
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := "k" + strconv.Itoa(i%50)
			p.Apply(0, bs("SET", k, strconv.Itoa(i)))
			p.Apply(0, bs("RPUSH", "l"+k, "x"))
			p.Apply(0, bs("ZADD", "z", strconv.Itoa(i), k))
			applied.Add(1)
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2 + i%2, PoolSize: 1})
			defer rdb.Close()
			ctx := context.Background()
			for j := 0; j < 30; j++ {
				k := "k" + strconv.Itoa((i+j)%50)
				if err := rdb.Get(ctx, k).Err(); err != nil && err != redis.Nil {
					errs <- err
					return
				}
				if err := rdb.ZRangeWithScores(ctx, "z", 0, 5).Err(); err != nil {
					errs <- err
					return
				}
				if err := rdb.LLen(ctx, "l"+k).Err(); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if applied.Load() == 0 {
		t.Error("applier made no progress")
	}
}

// TestIORedis runs the ioredis npm client against vdr (ioredis from make
// deps, or npm installs it: ioredisModules).
func TestIORedis(t *testing.T) {
	node, mods := ioredisModules(t)
	p := newProjection(t)
	p.Apply(0, bs("SET", "k", "v"))
	p.Apply(0, bs("HSET", "h", "f", "1"))
	s := startVDR(t, Options{Projection: p})
	_, port, _ := net.SplitHostPort(s.Addr())
	script, _ := filepath.Abs("testdata/node/client.js")
	run := exec.Command(node, script, port)
	run.Env = append(os.Environ(), "NODE_PATH="+mods)
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK ioredis") {
		t.Fatalf("ioredis: %v\n%s", err, out)
	}
}

// TestTLS serves over TLS with a throwaway self-signed certificate.
func TestTLS(t *testing.T) {
	cert := selfSigned(t)
	s := startVDR(t, Options{NoTCP: true, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, TLSPort: RandomPort})
	nc, err := tls.Dial("tcp", s.TLSAddr(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	line, _ := bufio.NewReader(nc).ReadString('\n')
	if line != "+PONG\r\n" {
		t.Fatalf("PING over TLS: %q", line)
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vdr-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestSlowSubscriberDisconnected checks the pub/sub output limit: a
// subscriber that never reads is dropped instead of buffering forever,
// and the publisher never blocks.
func TestSlowSubscriberDisconnected(t *testing.T) {
	s := startVDR(t, Options{OutputBufferLimit: 1 << 20})
	sub := dialRaw(t, s.Addr())
	sub.dos("SUBSCRIBE", "ch")
	msg := make([]byte, 64<<10)
	start := time.Now()
	dropped := false
	for i := 0; i < 2000 && !dropped; i++ {
		if s.Publish([]byte("ch"), msg) == 0 {
			dropped = true
		}
	}
	if !dropped {
		t.Fatal("subscriber never dropped")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("publishing blocked for %v", d)
	}
}

// fastRepl also implements commands.LinkStater, the per-command fast path.
type fastRepl struct{ fakeRepl }

func (f *fastRepl) LinkState() (bool, bool, int64) {
	st := f.ReplState()
	var down int64
	if !st.LinkDownSince.IsZero() {
		down = st.LinkDownSince.UnixNano()
	}
	return st.FirstSyncDone, st.LinkUp, down
}

func TestLinkStaterFastPath(t *testing.T) {
	repl := &fastRepl{fakeRepl{st: ReplState{LinkUp: true}}}
	s := startVDR(t, Options{Replication: repl, DenyStaleData: true})
	c := dialRaw(t, s.Addr())
	if got := c.dos("GET", "k"); got != "-LOADING Redis is loading the dataset in memory\r\n" {
		t.Errorf("before sync: %q", got)
	}
	repl.set(func(st *ReplState) { st.FirstSyncDone = true })
	if got := c.dos("GET", "k"); got != "$-1\r\n" {
		t.Errorf("synced: %q", got)
	}
	repl.set(func(st *ReplState) { st.LinkUp, st.LinkDownSince = false, time.Now() })
	if got := c.dos("GET", "k"); !strings.HasPrefix(got, "-MASTERDOWN") {
		t.Errorf("link down: %q", got)
	}
}

// TestCommandIntrospectionMatchesRedis compares COMMAND INFO and COMMAND
// DOCS of every command and subcommand with a real Redis 7.0, byte for
// byte, in RESP2 and RESP3. (Containers are compared per subcommand:
// Redis lists subcommands in hash-table order.)
func TestCommandIntrospectionMatchesRedis(t *testing.T) {
	rs := redistest.Start(t)
	s := startVDR(t, Options{})
	rc, vc := dialRaw(t, rs.Addr()), dialRaw(t, s.Addr())
	var names []string
	for _, cmd := range commands.Commands() {
		if len(cmd.Subcommands) == 0 {
			names = append(names, cmd.Name)
		}
		for _, sub := range cmd.Subcommands {
			names = append(names, sub.Name)
		}
	}
	if len(names) < 300 {
		t.Fatalf("only %d commands", len(names))
	}
	for _, proto := range []string{"2", "3"} {
		rc.dos("HELLO", proto)
		vc.dos("HELLO", proto)
		fails := 0
		for _, name := range names {
			for _, sub := range []string{"INFO", "DOCS"} {
				want, got := rc.dos("COMMAND", sub, name), vc.dos("COMMAND", sub, name)
				if want != got && fails < 10 {
					fails++
					t.Errorf("RESP%s COMMAND %s %s:\n redis %.300q\n   vdr %.300q", proto, sub, name, want, got)
				}
			}
		}
	}
	if got, want := vc.dos("COMMAND", "COUNT"), rc.dos("COMMAND", "COUNT"); got != want {
		t.Errorf("COMMAND COUNT: %q want %q", got, want)
	}
}

// TestMiscMatchesRedis compares deterministic connection/server command
// replies with a real Redis replica, RESP2 and RESP3.
func TestMiscMatchesRedis(t *testing.T) {
	primary := redistest.Start(t)
	rs := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	redistest.WaitFor(t, 15*time.Second, "replica link up", func() bool {
		return redistest.InfoField(rs.Addr(), "replication", "master_link_status") == "up"
	})
	s := startVDR(t, Options{})
	script := [][]string{
		{"CLIENT", "TRACKINGINFO"}, {"CLIENT", "GETREDIR"}, {"CLIENT", "NO-EVICT", "maybe"}, {"CLIENT", "NO-EVICT", "on"},
		{"CLIENT", "REPLY", "ON"}, {"CLIENT", "SETNAME", "a b"},
		{"CLIENT", "REPLY", "MAYBE"}, {"CLIENT", "SETNAME", "ok"}, {"CLIENT", "GETNAME"},
		{"CLIENT", "HELP"}, {"OBJECT", "HELP"}, {"MEMORY", "HELP"}, {"PUBSUB", "HELP"}, {"COMMAND", "HELP"}, {"CONFIG", "HELP"},
		{"OBJECT", "FREQ", "nokey"}, {"OBJECT", "ENCODING", "nokey"}, {"MEMORY", "USAGE", "nokey"},
		{"CONFIG", "GET", "nosuchparam"}, {"CONFIG", "GET", "databases"},
		{"SELECT", "15"}, {"SELECT", "16"}, {"DBSIZE"}, {"SWAPDB", "0", "1"}, {"FLUSHALL"}, {"PUBLISH", "ch", "m"},
		{"PUBSUB", "CHANNELS"}, {"PUBSUB", "NUMPAT"}, {"PUBSUB", "SHARDNUMSUB", "x"}, {"WAIT", "1", "0"},
		{"READONLY"}, {"READWRITE"}, {"MULTI"}, {"MULTI"}, {"WATCH", "k"}, {"DISCARD"}, {"DISCARD"}, {"WATCH", "k"}, {"UNWATCH"},
		{"AUTH", "x"}, {"AUTH", "default", "x"}, {"HELLO", "4"}, {"HELLO", "3", "SETNAME"}, {"ECHO"}, {"PING", "a", "b"},
		{"GET", "k", "k"}, {"CLIENT", "KILL", "1.2.3.4:5"}, {"CLIENT", "KILL", "ID", "0"}, {"CLIENT", "LIST", "TYPE", "bogus"},
		{"RESET"}, {"SCAN", "x"}, {"SCAN", "0", "COUNT", "0"}, {"SCAN", "0", "BOGUS"}, {"KEYS", "*"}, {"RANDOMKEY"},
		{"LASTSAVE", "x"}, {"TIME", "x"}, {"ROLE", "x"}, {"INFO", "x", "y"}, {"XADD", "s", "*", "a", "1"},
		{"PUBSUB", "NUMSUB", "x", "y"}, {"PUBSUB", "SHARDCHANNELS"}, {"PUBSUB", "NUMSUB"},
	}
	for _, proto := range []string{"2", "3"} {
		rc, vc := dialRaw(t, rs.Addr()), dialRaw(t, s.Addr())
		rc.dos("HELLO", proto)
		vc.dos("HELLO", proto)
		for _, cmd := range script {
			want, got := rc.dos(cmd...), vc.dos(cmd...)
			if want != got {
				t.Errorf("RESP%s %q:\n redis %.300q\n   vdr %.300q", proto, cmd, want, got)
			}
		}
		// CLIENT REPLY SKIP/OFF: only "+OK" (REPLY ON) and the last ECHO answer.
		var pipe []byte
		for _, cmd := range [][]string{{"CLIENT", "REPLY", "SKIP"}, {"ECHO", "skipped"}, {"CLIENT", "REPLY", "OFF"},
			{"ECHO", "off"}, {"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "REPLY", "ON"}, {"ECHO", "after"}} {
			pipe = append(pipe, encodeCmd(bs(cmd...)...)...)
		}
		for i, c := range []*rawConn{rc, vc} {
			c.send(pipe)
			if got := string(c.read()) + string(c.read()); got != "+OK\r\n$5\r\nafter\r\n" {
				t.Errorf("RESP%s CLIENT REPLY (%d): %q", proto, i, got)
			}
		}
	}
}

// TestWatch checks that EXEC aborts when a watched key was changed by the
// replication stream (here: Apply) between WATCH and EXEC.
func TestWatch(t *testing.T) {
	p := newProjection(t)
	p.Apply(0, bs("SET", "k", "1"))
	p.Apply(1, bs("SET", "other", "1"))
	s := startVDR(t, Options{Projection: p})
	c := dialRaw(t, s.Addr())
	for _, proto := range []string{"2", "3"} {
		c.dos("HELLO", proto)
		c.dos("WATCH", "k")
		c.dos("MULTI")
		c.dos("GET", "k")
		if got := c.dos("EXEC"); got != "*1\r\n$1\r\n1\r\n" {
			t.Errorf("RESP%s unchanged EXEC: %q", proto, got)
		}
		c.dos("WATCH", "k")
		c.dos("SELECT", "1")
		p.Apply(0, bs("SET", "k", "2"))
		c.dos("MULTI")
		c.dos("GET", "other")
		want := "*-1\r\n"
		if proto == "3" {
			want = "_\r\n"
		}
		if got := c.dos("EXEC"); got != want {
			t.Errorf("RESP%s EXEC after the watched key changed: %q", proto, got)
		}
		c.dos("SELECT", "0")
		p.Apply(0, bs("SET", "k", "1"))

		// Rewritten to the same value: still a write, EXEC aborts (Redis's
		// touchWatchedKey does not compare values).
		c.dos("WATCH", "k")
		p.Apply(0, bs("SET", "k", "1"))
		c.dos("MULTI")
		c.dos("GET", "k")
		if got := c.dos("EXEC"); got != want {
			t.Errorf("RESP%s EXEC after the watched key was rewritten unchanged: %q", proto, got)
		}
		// Expired between WATCH and EXEC (no DEL arrived yet): aborts.
		p.Apply(0, bs("SET", "e", "1", "PXAT", strconv.FormatInt(time.Now().Add(150*time.Millisecond).UnixMilli(), 10)))
		c.dos("WATCH", "e")
		time.Sleep(200 * time.Millisecond)
		c.dos("MULTI")
		c.dos("GET", "k")
		if got := c.dos("EXEC"); got != want {
			t.Errorf("RESP%s EXEC after the watched key expired: %q", proto, got)
		}
		// A missing key that stays missing does not abort.
		c.dos("WATCH", "nope")
		c.dos("MULTI")
		c.dos("GET", "k")
		if got := c.dos("EXEC"); got != "*1\r\n$1\r\n1\r\n" {
			t.Errorf("RESP%s EXEC with an untouched missing key watched: %q", proto, got)
		}
	}
	if n := p.WatchedKeys(); n != 0 {
		t.Errorf("%d keys still watched after every EXEC", n)
	}
	// A client that goes away releases its watches.
	c2 := dialRaw(t, s.Addr())
	c2.dos("WATCH", "k", "x", "y")
	if n := p.WatchedKeys(); n != 3 {
		t.Errorf("watched keys after WATCH k x y: %d", n)
	}
	c2.nc.Close()
	redistest.WaitFor(t, 5*time.Second, "watches released on disconnect", func() bool { return p.WatchedKeys() == 0 })
}

func TestInfoKeyspace(t *testing.T) {
	p := newProjection(t)
	p.Apply(0, bs("SET", "a", "1"))
	p.Apply(0, bs("SET", "b", "1"))
	p.Apply(0, bs("PEXPIREAT", "b", strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)))
	p.Apply(3, bs("SET", "c", "1"))
	s := startVDR(t, Options{Projection: p})
	got := dialRaw(t, s.Addr()).dos("INFO", "keyspace")
	if !strings.Contains(got, "db0:keys=2,expires=1,avg_ttl=0\r\n") || !strings.Contains(got, "db3:keys=1,expires=0,avg_ttl=0\r\n") {
		t.Errorf("INFO keyspace: %q", got)
	}
}
