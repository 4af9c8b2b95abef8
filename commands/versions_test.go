package commands

import (
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
)

// TestVersionReads checks replies that differ between personalities, with
// the bytes each real server answers (redis-server 7.0.15, 7.2.6, 7.4.1,
// valkey-server 8.0.1). Handlers are called directly where 7.0's command
// table would refuse the arity (ZRANK … WITHSCORE): the per-version tables
// make those reachable. server's TestDifferentialVersions compares the
// rest with the real servers.
func TestVersionReads(t *testing.T) {
	p, err := projection.New(projection.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{
		"ZADD z 1.1 a 0.1 b 1e-7 c", "SET s ab", "RPUSH l a b a",
		"HSET h f v", "XADD st 5-1 f v", "XADD st 6-0 g w",
	} {
		if err := p.Apply(0, argv(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	var holder compat.Holder
	env := &Env{Proj: p, PubSub: NewPubSub(), Config: Config{Databases: 16, ServeStaleData: true},
		StartTime: time.Now(), RunID: strings.Repeat("a", 40), Version: &holder}
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	run := func(v compat.Version, resp int, want string, handler func(*Ctx, [][]byte), cmd string) {
		t.Helper()
		holder.Store(v)
		c.W.Reset()
		c.W.Resp = resp
		if handler != nil {
			c.W.Doubles72 = v.Doubles72()
			handler(c, argv(cmd))
		} else {
			Exec(c, argv(cmd))
		}
		if got := string(c.W.Bytes()); got != want {
			t.Errorf("%s RESP%d %q: got %q want %q", v, resp, cmd, got, want)
		}
	}
	r70, r72, r74, v80 := compat.Redis70, compat.Redis72, compat.Redis74, compat.Valkey80

	// Doubles: 7.0's %.17g, 7.2's Grisu2 digits, RESP2 and RESP3.
	run(r70, 2, "$18\r\n1.1000000000000001\r\n", nil, "ZSCORE z a")
	run(r72, 2, "$3\r\n1.1\r\n", nil, "ZSCORE z a")
	run(v80, 3, ",1e-7\r\n", nil, "ZSCORE z c")
	run(r70, 3, ",9.9999999999999995e-08\r\n", nil, "ZSCORE z c")

	// ZRANK … WITHSCORE (7.2).
	run(r72, 2, "*2\r\n:2\r\n$3\r\n1.1\r\n", zrankCommand, "ZRANK z a WITHSCORE")
	run(r72, 3, "*2\r\n:0\r\n,1.1\r\n", zrevrankCommand, "ZREVRANK z a withscore")
	run(r72, 2, "*-1\r\n", zrankCommand, "ZRANK z nosuch WITHSCORE")
	run(r72, 3, "_\r\n", zrankCommand, "ZRANK nokey a WITHSCORE")
	run(r72, 2, "-ERR syntax error\r\n", zrankCommand, "ZRANK z a WITHSCORES")
	run(r72, 2, "-ERR wrong number of arguments for 'zrank' command\r\n", zrankCommand, "ZRANK z a WITHSCORE x")
	run(r70, 2, "-ERR wrong number of arguments for 'zrank' command\r\n", zrankCommand, "ZRANK z a WITHSCORE")

	// BITCOUNT/BITPOS check arguments before the key from 7.4 / Valkey 8.
	run(r72, 2, ":0\r\n", nil, "BITCOUNT nokey 1")
	run(r74, 2, "-ERR syntax error\r\n", nil, "BITCOUNT nokey 1")
	run(v80, 2, ":3\r\n", nil, "BITCOUNT s 1") // "b" = 0x62
	run(r72, 2, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", nil, "BITCOUNT l 0 x")
	run(r74, 2, "-ERR value is not an integer or out of range\r\n", nil, "BITCOUNT l 0 x")
	run(r70, 2, ":0\r\n", nil, "BITCOUNT s -1 -5 bad")
	run(r74, 2, "-ERR syntax error\r\n", nil, "BITCOUNT s -1 -5 bad")
	run(r72, 2, ":-1\r\n", nil, "BITPOS nokey 1 x")
	run(r74, 2, "-ERR value is not an integer or out of range\r\n", nil, "BITPOS nokey 1 x")

	// LPOS RANK LONG_MIN (7.2).
	run(r70, 2, "$-1\r\n", nil, "LPOS l zz RANK -9223372036854775808")
	run(r72, 2, "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n", nil, "LPOS l a RANK -9223372036854775808")

	// HSCAN NOVALUES (7.4), ZSCAN NOSCORES and SCAN TYPE checks (Valkey 8).
	run(r72, 2, "-ERR syntax error\r\n", nil, "HSCAN h 0 NOVALUES")
	run(r74, 2, "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nf\r\n", nil, "HSCAN h 0 NOVALUES")
	run(r74, 2, "-ERR NOVALUES option can only be used in HSCAN\r\n", nil, "ZSCAN z 0 NOVALUES")
	run(r74, 2, "-ERR syntax error\r\n", nil, "ZSCAN z 0 NOSCORES")
	run(v80, 2, "*2\r\n$1\r\n0\r\n*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n", nil, "ZSCAN z 0 NOSCORES")
	run(v80, 2, "-ERR unknown type name 'none'\r\n", nil, "SCAN 0 TYPE none")

	// XREAD + (7.4, Valkey 8) and its error text.
	run(r72, 2, "-ERR Invalid stream ID specified as stream command argument\r\n", nil, "XREAD STREAMS st +")
	run(r74, 2, "*1\r\n*2\r\n$2\r\nst\r\n*1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n", nil, "XREAD STREAMS st +")
	run(v80, 2, "*-1\r\n", nil, "XREAD STREAMS nokey +")
	run(r70, 2, "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n", nil, "XREAD COUNT 1 STREAMS st")
	run(r72, 2, "-ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.\r\n", nil, "XREAD COUNT 1 STREAMS st")

	// WAITAOF (7.2) on a replica, as redis-server 7.2.6 answers.
	for _, tc := range [][2]string{
		{"-ERR value is not an integer or out of range\r\n", "WAITAOF x 0 0"},
		{"-ERR value is out of range, value must between 0 and 1\r\n", "WAITAOF 2 0 0"},
		{"-ERR value is out of range, must be positive\r\n", "WAITAOF 0 -1 0"},
		{"-ERR value is out of range, must be positive\r\n", "WAITAOF 0 x 0"},
		{"-ERR timeout is negative\r\n", "WAITAOF 0 0 -1"},
		{"-ERR timeout is not an integer or out of range\r\n", "WAITAOF 0 0 x"},
		{"-ERR timeout is out of range\r\n", "WAITAOF 0 0 9223372036854775807"},
		{"-ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.\r\n", "WAITAOF 1 1 0"},
	} {
		run(r72, 2, tc[0], waitaofCommand, tc[1])
	}

	// CLIENT KILL MAXAGE (7.4, Valkey 8), TYPE primary (Valkey 8).
	env.Host = nil
	run(r70, 2, "-ERR syntax error\r\n", nil, "CLIENT KILL MAXAGE 10")
	run(r74, 2, "-ERR maxage should be greater than 0\r\n", nil, "CLIENT KILL MAXAGE 0")
	run(r74, 2, "-ERR maxage is not an integer or out of range\r\n", nil, "CLIENT KILL MAXAGE x")
	run(r74, 2, "-ERR Unknown client type 'primary'\r\n", nil, "CLIENT KILL TYPE primary")
}

// fakeRepl is a replication link that is up, to a primary at 127.0.0.1:6379.
type fakeRepl struct{}

func (fakeRepl) ReplState() ReplState {
	return ReplState{MasterHost: "127.0.0.1", MasterPort: 6379, LinkUp: true, FirstSyncDone: true}
}

// TestCapaRedirect checks CLIENT CAPA REDIRECT as a Valkey 8.0.1 replica
// answers it: reads and writes are redirected to the primary until
// READONLY; RESET and READWRITE end READONLY; commands that neither read
// nor write are served; a redirected command inside MULTI aborts EXEC.
func TestCapaRedirect(t *testing.T) {
	p, err := projection.New(projection.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var holder compat.Holder
	holder.Store(compat.Valkey80)
	env := &Env{Proj: p, PubSub: NewPubSub(), Repl: fakeRepl{}, Config: Config{Databases: 16, ServeStaleData: true},
		StartTime: time.Now(), RunID: strings.Repeat("a", 40), Version: &holder}
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	f := func(want string, cmd string) {
		t.Helper()
		c.W.Reset()
		if cmd == "CLIENT CAPA REDIRECT" { // the Valkey 8.0 table binds it
			clientCapaCommand(c, argv(cmd))
		} else {
			Exec(c, argv(cmd))
		}
		if got := string(c.W.Bytes()); got != want {
			t.Errorf("%q: got %q want %q", cmd, got, want)
		}
	}
	redirect := "-REDIRECT 127.0.0.1:6379\r\n"
	f("$-1\r\n", "GET k")
	f("+OK\r\n", "CLIENT CAPA REDIRECT")
	f(redirect, "GET k")
	f(redirect, "SET k v")
	f("+PONG\r\n", "PING")
	f("+OK\r\n", "MULTI")
	f(redirect, "GET k")
	f("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
	f("+OK\r\n", "MULTI")
	f("+QUEUED\r\n", "PING")
	f("*1\r\n+PONG\r\n", "EXEC")
	f("+OK\r\n", "READONLY")
	f("$-1\r\n", "GET k")
	f(redirect, "SET k v")
	f("+RESET\r\n", "RESET")
	f(redirect, "GET k")
	f("+OK\r\n", "READONLY")
	f("+OK\r\n", "READWRITE")
	f(redirect, "OBJECT ENCODING k")

	holder.Store(compat.Redis74)
	f("-ERR This instance has cluster support disabled\r\n", "READONLY")
	f("$-1\r\n", "GET k")
}
