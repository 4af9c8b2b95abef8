package script

import (
	"strings"
	"testing"
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
