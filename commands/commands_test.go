package commands

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
)

func TestStringMatch(t *testing.T) {
	f := func(pat, s string, nocase, want bool) {
		t.Helper()
		if got := StringMatch([]byte(pat), []byte(s), nocase); got != want {
			t.Errorf("StringMatch(%q, %q, %v) = %v, want %v", pat, s, nocase, got, want)
		}
	}
	f("*", "", false, false) // as stringmatchlen: the loop never runs
	f("*", "abc", false, true)
	f("a*c", "abbbc", false, true)
	f("a*c", "abbbd", false, false)
	f("h?llo", "hello", false, true)
	f("h?llo", "hllo", false, false)
	f("h[ae]llo", "hallo", false, true)
	f("h[^e]llo", "hello", false, false)
	f("h[^e]llo", "hallo", false, true)
	f("h[a-b]llo", "hbllo", false, true)
	f("h[b-a]llo", "hbllo", false, true) // reversed range
	f("h\\*llo", "h*llo", false, true)
	f("h\\*llo", "hello", false, false)
	f("HELLO", "hello", true, true)
	f("HELLO", "hello", false, false)
	f("[a-z", "b", false, true) // unterminated set ends the pattern
	f("ab[", "abc", false, false)
	f("**a", "a", false, true)
	f("a*", "", false, false)
	f(strings.Repeat("*a", 40)+"b", strings.Repeat("a", 60), false, false) // no blow-up
}

func TestParseInt(t *testing.T) {
	f := func(in string, want int64, ok bool) {
		t.Helper()
		got, gotOK := parseInt([]byte(in))
		if gotOK != ok || (ok && got != want) {
			t.Errorf("parseInt(%q) = %d,%v want %d,%v", in, got, gotOK, want, ok)
		}
	}
	f("0", 0, true)
	f("-1", -1, true)
	f("9223372036854775807", math.MaxInt64, true)
	f("-9223372036854775808", math.MinInt64, true)
	f("9223372036854775808", 0, false)
	f("-9223372036854775809", 0, false)
	f("01", 0, false)
	f("+1", 0, false)
	f(" 1", 0, false)
	f("", 0, false)
	f("-", 0, false)
	f("-0", 0, false)
	f("1.5", 0, false)
}

func TestStrtod(t *testing.T) {
	f := func(in string, want float64, ok bool) {
		t.Helper()
		got, gotOK := strtod([]byte(in))
		if gotOK != ok || (ok && got != want && !(math.IsNaN(got) && math.IsNaN(want))) {
			t.Errorf("strtod(%q) = %v,%v want %v,%v", in, got, gotOK, want, ok)
		}
	}
	f("1.5", 1.5, true)
	f("", 0, true) // Redis accepts "(" as exclusive 0
	f(" 2", 2, true)
	f("  ", 0, false)
	f("2 ", 0, false)
	f("inf", math.Inf(1), true)
	f("-inf", math.Inf(-1), true)
	f("+inf", math.Inf(1), true)
	f("nan", 0, false)
	f("1e400", math.Inf(1), true)
	f("0x10", 16, true)
	f("abc", 0, false)
}

func TestWriterRESP2RESP3(t *testing.T) {
	for _, tc := range []struct {
		resp int
		fn   func(w *Writer)
		want string
	}{
		{2, func(w *Writer) { w.Null() }, "$-1\r\n"},
		{3, func(w *Writer) { w.Null() }, "_\r\n"},
		{2, func(w *Writer) { w.NullArray() }, "*-1\r\n"},
		{2, func(w *Writer) { w.Map(2) }, "*4\r\n"},
		{3, func(w *Writer) { w.Map(2) }, "%2\r\n"},
		{3, func(w *Writer) { w.Set(1) }, "~1\r\n"},
		{2, func(w *Writer) { w.Double(1.1) }, "$18\r\n1.1000000000000001\r\n"},
		{3, func(w *Writer) { w.Double(1.1) }, ",1.1000000000000001\r\n"},
		{3, func(w *Writer) { w.Double(math.Inf(-1)) }, ",-inf\r\n"},
		{2, func(w *Writer) { w.Double(3) }, "$1\r\n3\r\n"},
		{2, func(w *Writer) { w.Double(1e20) }, "$5\r\n1e+20\r\n"},
		{2, func(w *Writer) { w.Double(1e16) }, "$17\r\n10000000000000000\r\n"},
		{2, func(w *Writer) { w.Double(1e17) }, "$5\r\n1e+17\r\n"},
		{2, func(w *Writer) { w.Double(math.Copysign(0, -1)) }, "$2\r\n-0\r\n"},
		{3, func(w *Writer) { w.Double(-42) }, ",-42\r\n"},
		{3, func(w *Writer) { w.Verbatim("hi", "txt") }, "=6\r\ntxt:hi\r\n"},
		{2, func(w *Writer) { w.Verbatim("hi", "txt") }, "$2\r\nhi\r\n"},
		{3, func(w *Writer) { w.Push(3) }, ">3\r\n"},
		{3, func(w *Writer) { w.Bool(true) }, "#t\r\n"},
		{2, func(w *Writer) { w.Error("ERR a\r\nb") }, "-ERR a  b\r\n"},
		{2, func(w *Writer) {
			at := w.Defer()
			w.Int(1)
			w.Int(2)
			w.SetArray(at, 2)
		}, "*2\r\n:1\r\n:2\r\n"},
		{3, func(w *Writer) {
			w.Int(7)
			at := w.Defer()
			w.BulkString("a")
			w.SetMap(at, 1)
		}, ":7\r\n%1\r\n$1\r\na\r\n"},
	} {
		w := &Writer{Resp: tc.resp}
		tc.fn(w)
		if got := string(w.Bytes()); got != tc.want {
			t.Errorf("RESP%d: got %q want %q", tc.resp, got, tc.want)
		}
	}
}

func TestD2String(t *testing.T) {
	f := func(d float64, want string) {
		t.Helper()
		if got := string(d2string(nil, d, false)); got != want {
			t.Errorf("d2string(%v) = %q want %q", d, got, want)
		}
	}
	f72 := func(d float64, want string) {
		t.Helper()
		if got := string(d2string(nil, d, true)); got != want {
			t.Errorf("7.2 d2string(%v) = %q want %q", d, got, want)
		}
	}
	// Redis 7.0.15 and 7.2.6 ZSCAN of a listpack zset.
	f(4597295093514039296, "4597295093514039296")
	f(1e-7, "9.9999999999999995e-08")
	f72(1e-7, "1e-7")
	f72(1.1, "1.1")
	f72(4597295093514039296, "4597295093514039296")
	f(0, "0")
	f(math.Copysign(0, -1), "-0")
	f(3, "3")
	f(-42, "-42")
	f(1.1, "1.1000000000000001")
	f(math.Inf(1), "inf")
	f(1e20, "1e+20")
}

// TestTableInvariants checks the command table: every bound handler is
// for a non-write command, arities follow Redis's rule, and every Redis
// read command either has a handler or answers an explicit error.
func TestTableInvariants(t *testing.T) {
	if n := len(Commands()); n < 240 {
		t.Fatalf("only %d commands", n)
	}
	for _, cmd := range Commands() {
		all := append([]*Command{cmd}, cmd.Subcommands...)
		for _, c := range all {
			if c.Arity == 0 {
				t.Errorf("%s: arity 0", c.Name)
			}
			if c.Handler != nil && c.IsWrite() {
				t.Errorf("%s: write command with a handler", c.Name)
			}
			if c.Flags&CmdWrite != 0 && c.Flags&CmdReadonly != 0 {
				t.Errorf("%s: both write and readonly", c.Name)
			}
		}
	}
	for _, name := range []string{"get", "zrange", "hgetall", "client|list", "command|docs", "object|encoding", "lcs", "sintercard"} {
		if c := Find(name); c == nil || c.Handler == nil {
			t.Errorf("%s: no handler", name)
		}
	}
	if c := Find("set"); c == nil || !c.IsWrite() {
		t.Error("set is not a write command")
	}
}

func TestDispatchDoesNotAllocate(t *testing.T) {
	args := [][]byte{[]byte("GeT"), []byte("key")}
	sub := [][]byte{[]byte("CLIENT"), []byte("id")}
	env := &Env{Version: new(compat.Holder)}
	c := &Ctx{Env: env}
	for _, v := range compat.Supported {
		env.Version.Store(v)
		n := testing.AllocsPerRun(1000, func() {
			if c, _ := c.lookupCommand(args); c == nil {
				t.Fatal("GET not found")
			}
			if c, _ := c.lookupCommand(sub); c == nil || c.Name != "client|id" {
				t.Fatal("CLIENT ID not found")
			}
		})
		if n != 0 {
			t.Errorf("%s: lookup allocates %v times per call", v, n)
		}
	}
}

func newTestEnv(t testing.TB) *Env {
	p, err := projection.New(projection.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Proj: p, PubSub: NewPubSub(), Config: Config{Databases: 16, ServeStaleData: true}, StartTime: time.Now(), RunID: strings.Repeat("a", 40)}
}

// TestExecReplies runs commands through Exec without a server.
func TestExecReplies(t *testing.T) {
	env := newTestEnv(t)
	env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte("k"), []byte("v")})
	env.Proj.Apply(0, [][]byte{[]byte("ZADD"), []byte("z"), []byte("1"), []byte("a"), []byte("2"), []byte("b")})
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	f := func(want string, args ...string) {
		t.Helper()
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		c.W.Reset()
		Exec(c, argv)
		if got := string(c.W.Bytes()); got != want {
			t.Errorf("%q: got %q want %q", args, got, want)
		}
	}
	f("$1\r\nv\r\n", "get", "k")
	f("-ERR wrong number of arguments for 'get' command\r\n", "GET")
	f("-ERR unknown command 'nope', with args beginning with: 'x' \r\n", "nope", "x")
	f("-ERR unknown command 'nope', with args beginning with: \r\n", "nope")
	f("-READONLY You can't write against a read only replica.\r\n", "del", "k")
	f("*2\r\n$1\r\nb\r\n$1\r\na\r\n", "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV")
	f("-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n", "ZRANGE", "z", "0", "1", "LIMIT", "0", "1")
	f("+OK\r\n", "MULTI")
	f("+QUEUED\r\n", "GET", "k")
	f("*1\r\n$1\r\nv\r\n", "EXEC")
	f("*1\r\n$1\r\nk\r\n", "COMMAND", "GETKEYS", "GET", "k")
}

// TestRandomCommandsNeverPanic throws random argument vectors at every
// command of the table: each must answer something and never panic.
func TestRandomCommandsNeverPanic(t *testing.T) {
	sd := time.Now().UnixNano()
	if s := os.Getenv("SEED"); s != "" {
		sd, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("SEED=%d", sd)
	env := newTestEnv(t)
	for _, cmd := range [][]string{{"SET", "s", "12345"}, {"RPUSH", "l", "a", "b"}, {"SADD", "set", "1", "2"}, {"ZADD", "z", "1", "a"}, {"HSET", "h", "f", "v"}} {
		argv := make([][]byte, len(cmd))
		for i, a := range cmd {
			argv[i] = []byte(a)
		}
		env.Proj.Apply(0, argv)
	}
	pool := []string{"s", "l", "set", "z", "h", "missing", "0", "1", "-1", "2", "-100", "100000", "inf", "(1", "[a", "-", "+",
		"WITHSCORES", "LIMIT", "COUNT", "MATCH", "*", "TYPE", "BYSCORE", "BYLEX", "REV", "RANK", "IDX", "LEN", "GET", "u8", "#2", "",
		"9223372036854775807", "-9223372036854775808", "x\xff"}
	r := newRand(sd)
	env.Version = new(compat.Holder)
	for _, v := range compat.Supported {
		env.Version.Store(v)
		randomCommands(t, env, v, r, pool)
	}
}

func randomCommands(t *testing.T, env *Env, v compat.Version, r *xrand, pool []string) {
	for _, top := range CommandsOf(v) {
		cmds := append([]*Command{top}, top.Subcommands...)
		for _, cmd := range cmds {
			switch cmd.Name {
			case "quit", "client|kill", "client|list", "info":
				continue // need a Host (the server); covered by server tests
			}
			for i := 0; i < 30; i++ {
				c := NewCtx(env, NewClient(env.NewClientID(), "a", "b"))
				parts := strings.Split(cmd.Name, "|")
				n := r.next(6)
				argv := make([][]byte, 0, len(parts)+n)
				for _, p := range parts {
					argv = append(argv, []byte(p))
				}
				for j := 0; j < n; j++ {
					argv = append(argv, []byte(pool[r.next(len(pool))]))
				}
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("%s: %q panicked: %v", v, argv, p)
						}
					}()
					Exec(c, argv)
				}()
				if c.W.Len() == 0 && !strings.Contains(cmd.Name, "subscribe") {
					t.Fatalf("%q: no reply", argv)
				}
			}
		}
	}
}

// newRand is a tiny deterministic generator (xorshift) for the test above.
type xrand struct{ s uint64 }

func newRand(seed int64) *xrand { return &xrand{uint64(seed) | 1} }

func (r *xrand) next(n int) int {
	r.s ^= r.s << 13
	r.s ^= r.s >> 7
	r.s ^= r.s << 17
	return int(r.s % uint64(n))
}
