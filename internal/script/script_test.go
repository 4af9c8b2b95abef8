package script

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHost answers GET with a bulk, and refuses everything else.
type fakeHost struct{}

func (fakeHost) Call(argv [][]byte, resp int) ([]byte, string) {
	switch strings.ToLower(string(argv[0])) {
	case "get":
		return []byte("$3\r\nbar\r\n"), ""
	case "hgetall":
		if resp == 3 {
			return []byte("%1\r\n$1\r\nf\r\n$1\r\nv\r\n"), ""
		}
		return []byte("*2\r\n$1\r\nf\r\n$1\r\nv\r\n"), ""
	case "incr":
		return []byte("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"), ""
	}
	return nil, "Unknown Redis command called from script"
}

func (fakeHost) CommandExists(argv [][]byte) bool { return true }

func evalString(t *testing.T, e *Engine, body string, clientResp int, keys, args []string) string {
	t.Helper()
	sc, err := e.Load([]byte(body))
	if err != nil {
		return "-" + err.Error() + "\r\n"
	}
	bs := func(ss []string) [][]byte {
		var out [][]byte
		for _, s := range ss {
			out = append(out, []byte(s))
		}
		return out
	}
	return string(e.Eval(nil, sc, &Run{Host: fakeHost{}, ClientResp: clientResp}, bs(keys), bs(args)))
}

func TestEvalBasics(t *testing.T) {
	e := NewEngine()
	f := func(body string, resp int, want string) {
		t.Helper()
		got := evalString(t, e, body, resp, []string{"k1"}, []string{"a1", "a2"})
		if got != want {
			t.Errorf("%q (RESP%d):\n got %q\nwant %q", body, resp, got, want)
		}
	}
	f("return 1", 2, ":1\r\n")
	f("return 1.9", 2, ":1\r\n")
	f("return 'x'", 2, "$1\r\nx\r\n")
	f("return {1,2,nil,3}", 2, "*2\r\n:1\r\n:2\r\n")
	f("return true", 2, ":1\r\n")
	f("return false", 2, "$-1\r\n")
	f("return false", 3, "_\r\n")
	f("return nil", 2, "$-1\r\n")
	f("return KEYS[1]..ARGV[2]", 2, "$4\r\nk1a2\r\n")
	f("return redis.call('get','x')", 2, "$3\r\nbar\r\n")
	f("return {err='My Error'}", 2, "-My Error\r\n")
	f("return redis.error_reply('My Error')", 2, "-My Error\r\n")
	f("return redis.status_reply('FINE')", 2, "+FINE\r\n")
	f("return redis.call('incr','x')", 2, "-WRONGTYPE Operation against a key holding the wrong kind of value script: "+Sha1Hex([]byte("return redis.call('incr','x')"))+", on @user_script:1.\r\n")
	f("return redis.pcall('incr','x')", 2, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
	f("a = 1", 2, "-ERR user_script:1: Attempt to modify a readonly table script: "+Sha1Hex([]byte("a = 1"))+", on @user_script:1.\r\n")
	f("return b", 2, "-ERR user_script:1: Script attempted to access nonexistent global variable 'b' script: "+Sha1Hex([]byte("return b"))+", on @user_script:1.\r\n")
	f("redis.call = 1", 2, "-ERR user_script:1: Attempt to modify a readonly table script: "+Sha1Hex([]byte("redis.call = 1"))+", on @user_script:1.\r\n")
	f("setmetatable(_G, {})", 2, "-ERR Attempt to modify a readonly table script: "+Sha1Hex([]byte("setmetatable(_G, {})"))+", on @user_script:1.\r\n")
	f("local g = getmetatable(_G)\ng.__index = {}", 2, "-ERR user_script:2: Attempt to modify a readonly table script: "+Sha1Hex([]byte("local g = getmetatable(_G)\ng.__index = {}"))+", on @user_script:2.\r\n")
	f("print('x')", 2, "-ERR user_script:1: Script attempted to access nonexistent global variable 'print' script: "+Sha1Hex([]byte("print('x')"))+", on @user_script:1.\r\n")
	f("redis.setresp(3); return redis.call('hgetall','h')", 3, "%1\r\n$1\r\nf\r\n$1\r\nv\r\n")
	f("redis.setresp(3); return redis.call('hgetall','h')", 2, "*2\r\n$1\r\nf\r\n$1\r\nv\r\n")
	f("return {double=3.5}", 3, ",3.5\r\n")
	f("return {double=3.5}", 2, "$3\r\n3.5\r\n")
	f("return redis.sha1hex('')", 2, "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n")
	f("return string.rep('x', 2^40)", 2, "-ERR user_script:1: not enough memory script: "+Sha1Hex([]byte("return string.rep('x', 2^40)"))+", on @user_script:1.\r\n")
	f("return unpack({}, 1, 1e8)", 2, "-ERR user_script:1: too many results to unpack script: "+Sha1Hex([]byte("return unpack({}, 1, 1e8)"))+", on @user_script:1.\r\n")
	f("local function r(n) return r(n+1)+1 end return r(1)", 2, "-ERR stack overflow\r\n")
}

// TestLibraries: a library's code runs to register its functions (flags
// and descriptions as given), a library that loops at load time is
// refused after the load timeout, and FCALL passes KEYS and ARGV as the
// callback's arguments.
func TestLibraries(t *testing.T) {
	e := NewEngine()
	e.SetLibraries(1, []LibCode{
		{Name: "good", Code: "#!lua name=good\nlocal names = {'a', 'b'}\nfor i = 1, #names do\n  local name = names[i]\n" +
			"  redis.register_function{function_name=name, callback=function(keys, args) return {name, keys[1], args[1]} end, flags={'no-writes', 'ALLOW-STALE'}, description='d ' .. name}\nend\n"},
		{Name: "loop", Code: "#!lua name=loop\nwhile true do end\n"},
		{Name: "bad", Code: "#!lua name=bad\nredis.register_function('x', 1)\n"},
		{Name: "call", Code: "#!lua name=call\nredis.call('get', 'x')\n"},
		{Name: "ipairs", Code: "#!lua name=ipairs\nfor _, v in ipairs({}) do end\n"},
	})
	libs := e.Libraries()
	if len(libs) != 5 {
		t.Fatalf("%d libraries", len(libs))
	}
	byName := map[string]*Library{}
	for _, l := range libs {
		byName[l.Name] = l
	}
	g := byName["good"]
	if g.Err != nil || len(g.Functions) != 2 || g.Functions[1].Name != "b" || g.Functions[1].Description != "d b" ||
		g.Functions[1].Flags != FlagNoWrites|FlagAllowStale {
		t.Errorf("good: %+v", g)
	}
	for name, want := range map[string]string{
		"loop":   "FUNCTION LOAD timeout",
		"bad":    "Error registering functions: ERR second argument to redis.register_function must be a function",
		"ipairs": "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'ipairs'",
		"call":   "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'",
	} {
		if l := byName[name]; l.Err == nil || l.Err.Error() != want {
			t.Errorf("%s: err %v, want %q", name, l.Err, want)
		}
	}
	f := e.LookupFunction("b")
	out := e.Call(nil, f, &Run{Host: fakeHost{}}, [][]byte{[]byte("k")}, [][]byte{[]byte("v")})
	if string(out) != "*3\r\n$1\r\nb\r\n$1\r\nk\r\n$1\r\nv\r\n" {
		t.Errorf("FCALL b: %q", out)
	}
}

// argvHost echoes redis.call's argv back as an array of bulks, so a test
// sees exactly what the conversion handed to the command.
type argvHost struct{}

func (argvHost) Call(argv [][]byte, resp int) ([]byte, string) {
	b := appendHeader(nil, '*', int64(len(argv)))
	for _, a := range argv {
		b = appendBulk(b, string(a))
	}
	return b, ""
}

func (argvHost) CommandExists(argv [][]byte) bool { return true }

// TestEvalReusedTables: KEYS and ARGV tables are refilled from run to run
// (see refill); a run must never see what an earlier one left, whether
// it had more keys, changed the table's shape or gave it a metatable.
func TestEvalReusedTables(t *testing.T) {
	e := NewEngine()
	f := func(body string, keys, args []string, want string) {
		t.Helper()
		if got := evalString(t, e, body, 2, keys, args); got != want {
			t.Errorf("%q keys=%q args=%q:\n got %q\nwant %q", body, keys, args, got, want)
		}
	}
	const show = "return {#KEYS, #ARGV, KEYS[1] or 'nil', KEYS[2] or 'nil', KEYS[3] or 'nil', ARGV[1] or 'nil', ARGV[2] or 'nil', tostring(KEYS.x), tostring(getmetatable(KEYS))}"
	f(show, []string{"a", "bb", "ccc"}, []string{"1", "22"}, "*9\r\n:3\r\n:2\r\n$1\r\na\r\n$2\r\nbb\r\n$3\r\nccc\r\n$1\r\n1\r\n$2\r\n22\r\n$3\r\nnil\r\n$3\r\nnil\r\n")
	f(show, []string{"d"}, nil, "*9\r\n:1\r\n:0\r\n$1\r\nd\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n")
	f("KEYS.x = 'left'; KEYS[5] = 'e'; table.insert(ARGV, 'z'); return #ARGV", []string{"a", "b"}, []string{"y"}, ":2\r\n")
	f(show, []string{"a", "b", "c"}, nil, "*9\r\n:3\r\n:0\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n")
	f("setmetatable(KEYS, {__index = function() return 'meta' end}); KEYS[1] = nil; return KEYS[9]", []string{"a"}, nil, "$4\r\nmeta\r\n")
	f(show, []string{"k"}, []string{"v"}, "*9\r\n:1\r\n:1\r\n$1\r\nk\r\n$3\r\nnil\r\n$3\r\nnil\r\n$1\r\nv\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n")
	f("return {KEYS[1], ARGV[1], KEYS[2]}", []string{"", "x"}, []string{""}, "*3\r\n$0\r\n\r\n$0\r\n\r\n$1\r\nx\r\n")
	if n := e.StatesBuilt(); n != 1 {
		t.Errorf("StatesBuilt = %d after sequential runs, want 1 (a pooled state)", n)
	}
}

// TestEvalArgConversion: redis.call's argv, numbers formatted as "%.17g"
// into one reused buffer, strings passed as they are, call after call.
func TestEvalArgConversion(t *testing.T) {
	e := NewEngine()
	sc, err := e.Load([]byte("return {redis.call('echo', 1, 'two', 3.5, KEYS[1], -1e300, 0/0), redis.call('x', 12345678901234567890, 'y')}"))
	if err != nil {
		t.Fatal(err)
	}
	want := "*2\r\n*7\r\n$4\r\necho\r\n$1\r\n1\r\n$3\r\ntwo\r\n$3\r\n3.5\r\n$1\r\nk\r\n$24\r\n-1.0000000000000001e+300\r\n$4\r\n-nan\r\n" +
		"*3\r\n$1\r\nx\r\n$22\r\n1.2345678901234567e+19\r\n$1\r\ny\r\n"
	for i := 0; i < 3; i++ {
		got := string(e.Eval(nil, sc, &Run{Host: argvHost{}}, [][]byte{[]byte("k")}, nil))
		if got != want {
			t.Fatalf("run %d: %q", i, got)
		}
	}
}

// TestEvalNoArgGlobal: a main chunk has no implicit arg table (Lua 5.1,
// as Redis answers), while a vararg function that does not use "..."
// still gets one (LUA_COMPAT_VARARG).
func TestEvalNoArgGlobal(t *testing.T) {
	e := NewEngine()
	got := evalString(t, e, "return type(arg)", 2, nil, nil)
	if !strings.HasPrefix(got, "-ERR user_script:1: Script attempted to access nonexistent global variable 'arg'") {
		t.Errorf("main chunk: %q", got)
	}
	if got := evalString(t, e, "local function f(...) return arg.n end return f(1, 2)", 2, nil, nil); got != ":2\r\n" {
		t.Errorf("vararg function: %q", got)
	}
}

// TestLookupCases: the cache finds a script by its SHA in either case,
// and never by a string that is not 40 hex digits; SCRIPT FLUSH empties
// both the snapshot and what was loaded since.
func TestLookupCases(t *testing.T) {
	e := NewEngine()
	var shas []string
	for i := 0; i < 40; i++ {
		sc, err := e.Load([]byte("return " + strings.Repeat("1+", i) + "1"))
		if err != nil {
			t.Fatal(err)
		}
		shas = append(shas, sc.SHA)
		if i%3 == 0 && e.Lookup(sc.SHA) != sc { // moves it into the snapshot
			t.Fatalf("lookup of %s", sc.SHA)
		}
	}
	if n := e.Len(); n != 40 {
		t.Fatalf("Len = %d", n)
	}
	for _, sha := range shas {
		if e.Lookup(strings.ToUpper(sha)) == nil || e.LookupBytes([]byte(sha)) == nil {
			t.Fatalf("%s not found", sha)
		}
	}
	for _, bad := range []string{"", shas[0][:39], shas[0] + "0", "g" + shas[0][1:], " " + shas[0][1:]} {
		if e.Lookup(bad) != nil {
			t.Errorf("Lookup(%q) found a script", bad)
		}
	}
	e.Flush()
	if e.Len() != 0 || e.Lookup(shas[0]) != nil || e.Lookup(shas[39]) != nil {
		t.Errorf("after Flush: Len %d", e.Len())
	}
}

// barrierHost's "wait" returns once n runs are inside it at once.
type barrierHost struct {
	mu      sync.Mutex
	arrived int
	all     chan struct{}
	n       int
}

func (h *barrierHost) Call(argv [][]byte, resp int) ([]byte, string) {
	h.mu.Lock()
	if h.arrived++; h.arrived == h.n {
		close(h.all)
	}
	h.mu.Unlock()
	select {
	case <-h.all:
		return []byte("+OK\r\n"), ""
	case <-time.After(10 * time.Second):
		return nil, "-ERR the other runs never came"
	}
}

func (h *barrierHost) CommandExists(argv [][]byte) bool { return true }

// TestEvalRunsInParallel: runs on different goroutines (event loops) are
// inside their scripts at the same time, EVAL and FCALL alike: each
// waits inside redis.call until all are there, which never happens if
// anything serializes the runs. Each holds its own state.
func TestEvalRunsInParallel(t *testing.T) {
	e := NewEngine()
	e.SetLibraries(1, []LibCode{{Name: "w", Code: "#!lua name=w\nredis.register_function('w', function() return redis.call('wait') end)"}})
	sc, err := e.Load([]byte("return redis.call('wait')"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	h := &barrierHost{all: make(chan struct{}), n: n}
	out := make(chan string, n)
	for g := 0; g < n; g++ {
		go func(g int) {
			if g%2 == 0 {
				out <- string(e.Eval(nil, sc, &Run{Host: h}, nil, nil))
			} else {
				out <- string(e.Call(nil, e.LookupFunction("w"), &Run{Host: h}, nil, nil))
			}
		}(g)
	}
	for g := 0; g < n; g++ {
		if r := <-out; r != "+OK\r\n" {
			t.Errorf("run: %q", r)
		}
	}
	if b := e.StatesBuilt(); b != n {
		t.Errorf("StatesBuilt = %d, want %d (one per concurrent run)", b, n)
	}
	if r := e.Running(); r != 0 {
		t.Errorf("Running = %d after the runs", r)
	}
}

// TestDirectEnv: code that never assigns a global reads the real globals
// (setsGlobals); an assignment anywhere, nested functions included, keeps
// the read-only proxy and its error, for EVAL and for a function.
func TestDirectEnv(t *testing.T) {
	e := NewEngine()
	f := func(body, want string) {
		t.Helper()
		if got := evalString(t, e, body, 2, []string{"k"}, nil); got != want {
			t.Errorf("%q:\n got %q\nwant %q", body, got, want)
		}
	}
	sha := func(s string) string { return Sha1Hex([]byte(s)) }
	f("local function f() return KEYS[1] end return {f(), type(redis.call), tostring(rawequal(_G, _G))}", "*3\r\n$1\r\nk\r\n$8\r\nfunction\r\n$4\r\ntrue\r\n")
	body := "local function f() z = 2 end if KEYS[1] then f() end return 1"
	f(body, "-ERR user_script:1: Attempt to modify a readonly table script: "+sha(body)+", on @user_script:1.\r\n")
	body = "return (function() return nope end)()"
	f(body, "-ERR user_script:1: Script attempted to access nonexistent global variable 'nope' script: "+sha(body)+", on @user_script:1.\r\n")
	e.SetLibraries(1, []LibCode{
		{Name: "ro", Code: "#!lua name=ro\nredis.register_function('ro', function(keys) return {keys[1], type(redis.call)} end)"},
		{Name: "rw", Code: "#!lua name=rw\nredis.register_function('rw', function(keys) w = keys[1] return 1 end)"},
	})
	call := func(name string) string {
		return string(e.Call(nil, e.LookupFunction(name), &Run{Host: fakeHost{}}, [][]byte{[]byte("k")}, nil))
	}
	if got := call("ro"); got != "*2\r\n$1\r\nk\r\n$8\r\nfunction\r\n" {
		t.Errorf("ro: %q", got)
	}
	if got := call("rw"); !strings.HasPrefix(got, "-ERR user_function:2: Attempt to modify a readonly table script: rw") {
		t.Errorf("rw: %q", got)
	}
}
