package script

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/vdr-project/vdr/internal/redistest"
)

// A rlLibCase is one differential check: setup (Lua statements, may be
// empty) runs first, then expr (a Lua expression list) is evaluated under
// pcall; the script returns the results serialised by rlPrelude's ser(),
// or "ERR:" and the error message. The same script runs on a real
// redis-server (EVAL script 0) and on gopher-lua with openRedisLibs, and
// the two strings must be equal.
//
// Error messages are compared whole, "user_script:N: " prefix included:
// the gopher-lua side loads the script under Redis's chunk name, and the
// prelude has the same number of lines on both sides.
type rlLibCase struct {
	setup string
	expr  string
}

// rlPrelude defines the helpers every case script uses. Everything is
// local: Redis forbids creating globals in scripts. Numbers are printed
// with %.17g (exact, and formatted the same by Lua 5.1 and gopher-lua),
// inf and nan by name (printf and Go disagree there), strings with
// non-printable bytes escaped, tables with sorted keys (Lua 5.1 and
// gopher-lua iterate hash parts in different orders). INF is computed:
// gopher-lua's math.huge is the largest finite double, not infinity.
const rlPrelude = `
local INF = 1/0
local function ser(v)
  if v == cjson.null then return "null" end
  local t = type(v)
  if t == "nil" or t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v then return "nan" end
    if v == INF then return "inf" end
    if v == -INF then return "-inf" end
    return string.format("%.17g", v)
  end
  if t == "string" then
    local out = {}
    for i = 1, #v do
      local b = string.byte(v, i)
      if b < 32 or b > 126 or b == 92 then
        out[#out + 1] = string.format("\\x%02x", b)
      else
        out[#out + 1] = string.char(b)
      end
    end
    return '"' .. table.concat(out) .. '"'
  end
  if t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == "number" or ta == "string" then return a < b end
      return ser(a) < ser(b)
    end)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = "[" .. ser(k) .. "]=" .. ser(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  return t
end
local function P(...) return {n = select('#', ...), ...} end
local function R(ok, r)
  if not ok then return "ERR:" .. tostring(r) end
  local out = {}
  for i = 1, r.n do out[i] = ser(r[i]) end
  return table.concat(out, ",")
end
local function head(s) return #s .. ":" .. ser(string.sub(s, 1, 8)) .. ser(string.sub(s, -4)) end
local function deep(n)
  local t = {}
  local c = t
  for i = 2, n do c[1] = {} c = c[1] end
  return t
end
local function depth(t)
  local n = 0
  while type(t) == "table" do n = n + 1 t = t[1] end
  return n
end
local function rt(v) return cjson.decode(cjson.encode(v)) end
local function mrt(...) return cmsgpack.unpack(cmsgpack.pack(...)) end
`

func (c rlLibCase) script() string {
	return rlPrelude + c.setup + "\nreturn R(pcall(function() return P(" + c.expr + ") end))\n"
}

// rlNewLibsState is the gopher-lua side: a plain state with the libraries.
// The registry may grow, so that the cases returning about 8000 values
// (the Lua 5.1 C stack limit the libraries reproduce) fit.
func rlNewLibsState() *lua.LState {
	L := lua.NewState(lua.Options{RegistrySize: 1024 * 20, RegistryMaxSize: 1024 * 256})
	openRedisLibs(L)
	return L
}

func rlRunGopher(script string) string {
	L := rlNewLibsState()
	defer L.Close()
	// Redis 7.0 compiles scripts as the chunk "@user_script".
	fn, err := L.Load(strings.NewReader(script), "@user_script")
	if err == nil {
		L.Push(fn)
		err = L.PCall(0, 1, nil)
	}
	if err != nil {
		return "SCRIPTERR:" + err.Error()
	}
	return lua.LVAsString(L.Get(-1))
}

func rlRunRedis(t *testing.T, addr, script string) string {
	t.Helper()
	reply, err := redistest.Do(addr, "EVAL", script, "0")
	if err != nil {
		t.Fatalf("EVAL: %v", err)
	}
	switch {
	case strings.HasPrefix(reply, "$"):
		nl := strings.Index(reply, "\r\n")
		n, err := strconv.Atoi(reply[1:nl])
		if err != nil || n < 0 {
			return "NIL"
		}
		return reply[nl+2 : nl+2+n]
	case strings.HasPrefix(reply, "-"):
		return "SCRIPTERR:" + strings.TrimSpace(reply[1:])
	}
	return "REPLY:" + reply
}

func rlAllLibCases() map[string][]rlLibCase {
	return map[string][]rlLibCase{
		"cjson":    rlCjsonCases,
		"cmsgpack": rlMsgpackCases,
		"bit":      rlBitCases,
		"struct":   rlStructCases,
		"tables":   rlTableCases,
	}
}

// rlTableCases check what the four globals hold.
var rlTableCases = []rlLibCase{
	{"", `cjson`},
	{"", `cmsgpack`},
	{"", `bit`},
	{"", `struct`},
	{"", `type(cjson.null), cjson.null == cjson.new().null`},
	{"", `tostring(cjson.null), tostring(cjson.decode("null")), cjson.decode("[null]")[1] == cjson.null`},
	// How errors name the function and where they point, by call form.
	{"", `(function() return cjson.encode() end)()`},
	{"", `pcall(cjson.encode)`},
	{"", `select(2, pcall(cjson.encode))`},
	{"local enc = cjson.encode", `enc()`},
	{"local enc = cjson.encode", `(function() return enc() end)()`},
	{"local t = {x = cjson.encode}", `t.x()`},
	{"local t = {x = cjson.encode}", `t["x"]()`},
	{"", `cjson:encode()`},
	{"", `cjson["enc" .. "ode"]()`},
	{"", `(cjson.encode)()`},
	{"", `select(2, pcall(bit.band))`},
	{"", `select(2, pcall(struct.pack, "z"))`},
	{"", `select(2, pcall(cmsgpack.pack))`},
	{"", `select(2, pcall(cmsgpack.unpack, "\193"))`},
	{"", `select(2, pcall(cjson.decode, "["))`},
	{"local function f() return bit.tobit({}) end", `f()`},
	{"local function f() local r = bit.tobit({}) return r end", `f()`},
}

// rlBatchScript applies expr (a Lua expression list over the local x) to
// every ARGV element and returns one serialised result per line.
func rlBatchScript(setup, expr string) string {
	return rlPrelude + setup + `
local out = {}
for i = 1, #ARGV do
  local x = ARGV[i]
  out[i] = R(pcall(function() return P(` + expr + `) end))
end
return table.concat(out, "\n")
`
}

// rlRunBatch compares expr over inputs between Redis and gopher-lua, input
// by input.
func rlRunBatch(t *testing.T, addr, setup, expr string, inputs []string) {
	t.Helper()
	script := rlBatchScript(setup, expr)
	reply, err := redistest.Do(addr, append([]string{"EVAL", script, "0"}, inputs...)...)
	if err != nil {
		t.Fatalf("EVAL: %v", err)
	}
	if !strings.HasPrefix(reply, "$") {
		t.Fatalf("EVAL replied %.500q", reply)
	}
	nl := strings.Index(reply, "\r\n")
	n, _ := strconv.Atoi(reply[1:nl])
	want := strings.Split(reply[nl+2:nl+2+n], "\n")

	L := rlNewLibsState()
	defer L.Close()
	argv := L.NewTable()
	for _, in := range inputs {
		argv.Append(lua.LString(in))
	}
	L.SetGlobal("ARGV", argv)
	fn, err := L.Load(strings.NewReader(script), "@user_script")
	if err == nil {
		L.Push(fn)
		err = L.PCall(0, 1, nil)
	}
	if err != nil {
		t.Fatalf("gopher-lua: %v", err)
	}
	got := strings.Split(lua.LVAsString(L.Get(-1)), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d results from Redis, %d from gopher-lua", len(want), len(got))
	}
	bad := 0
	for i := range want {
		if got[i] != want[i] {
			bad++
			if bad <= 10 {
				t.Errorf("input %q\nexpr:  %s\nredis: %.1000s\ngo:    %.1000s", inputs[i], expr, want[i], got[i])
			}
		}
	}
	if bad > 10 {
		t.Errorf("%d of %d inputs differ", bad, len(inputs))
	}
}

func TestRedisLibsDifferential(t *testing.T) {
	srv := redistest.Start(t)
	for lib, cases := range rlAllLibCases() {
		t.Run(lib, func(t *testing.T) {
			for i, c := range cases {
				t.Run(fmt.Sprintf("%03d", i), func(t *testing.T) {
					script := c.script()
					want := rlRunRedis(t, srv.Addr(), script)
					got := rlRunGopher(script)
					if got != want {
						t.Errorf("case %s %d\nsetup: %s\nexpr:  %s\nredis: %.2000s\ngo:    %.2000s", lib, i, c.setup, c.expr, want, got)
					}
				})
			}
		})
	}
}

// TestOpenRedisLibsGlobals needs no Redis: the globals exist and hold
// tables of functions.
func TestOpenRedisLibsGlobals(t *testing.T) {
	L := rlNewLibsState()
	defer L.Close()
	for lib, fns := range map[string][]string{
		"cjson":    {"encode", "decode", "encode_sparse_array", "encode_max_depth", "decode_max_depth", "encode_number_precision", "encode_keep_buffer", "encode_invalid_numbers", "decode_invalid_numbers", "new"},
		"cmsgpack": {"pack", "unpack", "unpack_one", "unpack_limit"},
		"bit":      {"tobit", "tohex", "bnot", "band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror", "bswap"},
		"struct":   {"pack", "unpack", "size"},
	} {
		tb, ok := L.GetGlobal(lib).(*lua.LTable)
		if !ok {
			t.Fatalf("global %s is %v", lib, L.GetGlobal(lib))
		}
		for _, fn := range fns {
			if _, ok := tb.RawGetString(fn).(*lua.LFunction); !ok {
				t.Errorf("%s.%s is not a function", lib, fn)
			}
		}
	}
}

func TestRlStrtod(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		n    int
	}{
		{"1", "1", 1}, {"-1.5e3x", "-1500", 6}, {"0x10", "16", 4}, {"0x", "0", 1},
		{"0x1p4", "16", 5}, {"0x.8", "0.5", 4}, {"inf", "inf", 3}, {"-Infinity", "-inf", 9},
		{"infinit", "inf", 3}, {"nan(abc)", "nan", 8}, {"nan(", "nan", 3}, {"1e", "1", 1},
		{"1e+", "1", 1}, {".5", "0.5", 2}, {"1.", "1", 2}, {".", "0", 0}, {"-", "0", 0},
		{"1e400", "inf", 5}, {"1e-400", "0", 6}, {"  7", "7", 3},
	} {
		v, n := rlStrtod(c.in, true)
		got := rlFmtG(v, 14)
		if got == "-nan" {
			got = "nan"
		}
		if got != c.want || n != c.n {
			t.Errorf("strtod(%q) = %s, %d; want %s, %d", c.in, got, n, c.want, c.n)
		}
	}
}
