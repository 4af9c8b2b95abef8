package script

// The libraries Redis 7.0 preloads into its scripting Lua state besides the
// standard ones: cjson (lua-cjson 2.1.0), cmsgpack (lua-cmsgpack 0.4.0),
// bit (LuaBitOp 1.0.2) and struct (lua_struct). They are reimplemented here
// in Go on gopher-lua, following the behaviour of the C versions bundled in
// Redis 7.0.15 on a 64-bit little-endian Linux build (x86-64 conversions of
// out-of-range doubles included), error messages included.
//
// Error messages are those of the C code, including the "chunk:line: "
// prefix luaL_error adds and the function name luaL_argerror finds (see
// rlRaise and rlFuncName).
//
// Every package-level name in these files (tests included) starts with
// "rl" so that none can collide with the rest of the package.

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// openRedisLibs sets the globals cjson, cmsgpack, bit and struct in L, each a
// table of functions as Redis 7.0 exposes them.
func openRedisLibs(L *lua.LState) {
	L.SetGlobal("cjson", rlCjsonNew(L))
	L.SetGlobal("cmsgpack", rlMsgpackOpen(L))
	L.SetGlobal("bit", rlBitOpen(L))
	L.SetGlobal("struct", rlStructOpen(L))
}

// rlMaxCStack mirrors LUAI_MAXCSTACK in Redis's luaconf.h: the number of
// stack slots a C function may use. lua_checkstack fails beyond it, which
// bounds how many values cmsgpack.unpack and struct.unpack can return and
// how deep cjson may nest when its depth limits are raised.
const rlMaxCStack = 8000

// rlRaise raises msg as luaL_error does: prefixed with "chunk:line: " when
// the library function was called from a Lua function (luaL_where(L, 1)),
// bare when it was called from a Go function such as pcall. The chunk is
// the function's source name with a leading '@' or '=' removed, as Lua
// 5.1's short_src does; Redis 7.0 names scripts "@user_script".
func rlRaise(L *lua.LState, msg string) {
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.CurrentLine > 0 {
			src := dbg.Source
			if strings.HasPrefix(src, "@") || strings.HasPrefix(src, "=") {
				src = src[1:]
			}
			msg = src + ":" + strconv.Itoa(dbg.CurrentLine) + ": " + msg
		}
	}
	L.Error(lua.LString(msg), 0)
}

// rlRaiseBare raises msg without position information, as lua_error and
// luaG_runerror from inside a C function do.
func rlRaiseBare(L *lua.LState, msg string) {
	L.Error(lua.LString(msg), 0)
}

// rlArgError mirrors luaL_argerror.
func rlArgError(L *lua.LState, narg int, extra string) {
	rlRaise(L, "bad argument #"+strconv.Itoa(narg)+" to '"+rlFuncName(L)+"' ("+extra+")")
}

// rlFuncName names the running library function the way Lua 5.1's
// luaL_argerror does: by how the calling Lua code referred to it (the
// field, local or global name: "encode" for cjson.encode(x), "enc" after
// local enc = cjson.encode), '?' when that is not a constant name or the
// caller is not a Lua function (pcall(cjson.encode, x)). The call site
// name comes from gopher-lua's debug information, which records the same
// names as Lua 5.1 does except for method calls (Lua 5.1 then discounts
// self from the argument number; gopher-lua does not say it was a method
// call).
func rlFuncName(L *lua.LState) string {
	dbg, ok := L.GetStack(0)
	if !ok {
		return "?"
	}
	if _, err := L.GetInfo("n", dbg, lua.LNil); err != nil {
		return "?"
	}
	switch name := dbg.Name; {
	case name == "", name == "?", name == "(anonymous)", name == "main chunk", name == "corountine",
		strings.HasPrefix(name, "<"):
		return "?"
	default:
		return name
	}
}

// rlTypeName mirrors luaL_typename: the Lua 5.1 type name of argument n,
// "no value" when the argument is absent.
func rlTypeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return rlValueTypeName(L.Get(n))
}

func rlValueTypeName(v lua.LValue) string {
	switch v.Type() {
	case lua.LTNil:
		return "nil"
	case lua.LTBool:
		return "boolean"
	case lua.LTNumber:
		return "number"
	case lua.LTString:
		return "string"
	case lua.LTTable:
		return "table"
	case lua.LTFunction:
		return "function"
	case lua.LTUserData:
		return "userdata"
	case lua.LTThread:
		return "thread"
	}
	return v.Type().String()
}

// rlTypeError mirrors luaL_typerror.
func rlTypeError(L *lua.LState, narg int, expected string) {
	rlArgError(L, narg, expected+" expected, got "+rlTypeName(L, narg))
}

// rlToNumber mirrors lua_tonumber: numbers, and strings that Lua 5.1
// converts (luaO_str2d: strtod, hexadecimal, surrounding white space).
func rlToNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		return rlStr2d(string(x))
	}
	return 0, false
}

// rlStr2d mirrors luaO_str2d of Lua 5.1 on glibc.
func rlStr2d(s string) (float64, bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i] // C string
	}
	v, n := rlStrtod(s, true)
	if n == 0 {
		return 0, false
	}
	rest := s[n:]
	if rest != "" && (rest[0] == 'x' || rest[0] == 'X') {
		// strtod stopped at an 'x': Lua retries with strtoul(s, 16).
		u, m := rlStrtoul16(s)
		v, rest = u, s[m:]
	}
	for rest != "" && rlIsSpace(rest[0]) {
		rest = rest[1:]
	}
	return v, rest == ""
}

func rlIsSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// rlStrtoul16 mirrors strtoul(s, &end, 16) for the only case Lua uses it:
// s is a string on which strtod stopped at an 'x'.
func rlStrtoul16(s string) (float64, int) {
	i := 0
	for i < len(s) && rlIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i+2 < len(s) && s[i] == '0' && (s[i+1]|0x20) == 'x' && rlHexVal(s[i+2]) >= 0 {
		i += 2
	}
	start := i
	var u uint64
	overflow := false
	for i < len(s) && rlHexVal(s[i]) >= 0 {
		if u > math.MaxUint64>>4 {
			overflow = true
		}
		u = u<<4 | uint64(rlHexVal(s[i]))
		i++
	}
	if i == start {
		return 0, 0
	}
	if overflow {
		return float64(uint64(math.MaxUint64)), i
	}
	if neg {
		u = -u
	}
	return float64(u), i
}

func rlHexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// rlStrtod mirrors glibc strtod on the prefix of s: it returns the value
// and the number of bytes consumed, 0 when no conversion was possible.
// Leading white space is skipped when skipSpace is set (strtod always
// does; the JSON tokenizer never starts a number on a space).
func rlStrtod(s string, skipSpace bool) (float64, int) {
	i := 0
	if skipSpace {
		for i < len(s) && rlIsSpace(s[i]) {
			i++
		}
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(v float64) float64 {
		if neg {
			return -v
		}
		return v
	}
	rest := s[i:]
	lower := strings.ToLower(rest[:min(len(rest), 8)])
	switch {
	case strings.HasPrefix(lower, "infinity"):
		return sign(math.Inf(1)), i + 8
	case strings.HasPrefix(lower, "inf"):
		return sign(math.Inf(1)), i + 3
	case strings.HasPrefix(lower, "nan"):
		// glibc's quiet NaN, with the payload of "nan(n-char-sequence)"
		// when strtoull(sequence, 0) reads all of it.
		bits := uint64(0x7ff8000000000000)
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (s[k] == '_' || (s[k] >= '0' && s[k] <= '9') || (s[k]|0x20) >= 'a' && (s[k]|0x20) <= 'z') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				if payload, ok := rlStrtoull0(s[j+1 : k]); ok {
					bits |= payload & (1<<51 - 1)
				}
				j = k + 1
			}
		}
		if neg {
			bits |= 1 << 63
		}
		return math.Float64frombits(bits), j
	}
	if len(rest) >= 3 && rest[0] == '0' && (rest[1]|0x20) == 'x' &&
		(rlHexVal(rest[2]) >= 0 || (rest[2] == '.' && len(rest) >= 4 && rlHexVal(rest[3]) >= 0)) {
		return rlStrtodHex(s, i+2, neg)
	}
	j := i
	digits := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && (s[j]|0x20) == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			j = k
		}
	}
	v, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil && !rlIsRangeErr(err) {
		return 0, 0
	}
	return sign(v), j
}

// rlStrtoull0 reports the value of s read by strtoull(s, &end, 0) and
// whether that read all of s (s holds only letters, digits and '_').
func rlStrtoull0(s string) (uint64, bool) {
	base := uint64(10)
	digits := s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1]|0x20) == 'x' && rlHexVal(s[2]) >= 0:
		base, digits = 16, s[2:]
	case len(s) > 0 && s[0] == '0':
		base = 8
	}
	var v uint64
	overflow := false
	for i := 0; i < len(digits); i++ {
		d := uint64(rlHexVal(digits[i]))
		if rlHexVal(digits[i]) < 0 || d >= base {
			return 0, false
		}
		hi, lo := bits.Mul64(v, base)
		lo, carry := bits.Add64(lo, d, 0)
		if hi != 0 || carry != 0 {
			overflow = true
		}
		v = lo
	}
	if overflow {
		v = math.MaxUint64
	}
	return v, true
}

func rlIsRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// rlStrtodHex parses the hexadecimal float whose digits start at s[i].
func rlStrtodHex(s string, i int, neg bool) (float64, int) {
	j := i
	for j < len(s) && rlHexVal(s[j]) >= 0 {
		j++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && rlHexVal(s[j]) >= 0 {
			j++
		}
	}
	mant := s[i:j]
	exp := "0"
	if j < len(s) && (s[j]|0x20) == 'p' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			exp = s[j+1 : k]
			j = k
		}
	}
	if strings.HasSuffix(mant, ".") {
		mant += "0"
	}
	if strings.HasPrefix(mant, ".") {
		mant = "0" + mant
	}
	v, err := strconv.ParseFloat("0x"+mant+"p"+exp, 64)
	if err != nil && !rlIsRangeErr(err) {
		return 0, 0
	}
	if neg {
		v = -v
	}
	return v, j
}

// rlFmtG formats n as C's printf("%.<prec>g") does on glibc.
func rlFmtG(n float64, prec int) string {
	switch {
	case math.IsNaN(n):
		if math.Signbit(n) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(n, 1):
		return "inf"
	case math.IsInf(n, -1):
		return "-inf"
	}
	return strconv.FormatFloat(n, 'g', prec, 64)
}

// rlNumberToString mirrors lua_number2str ("%.14g"), used when a number
// is passed where a string is expected.
func rlNumberToString(n float64) string { return rlFmtG(n, 14) }

// rlToString mirrors lua_tolstring: strings, and numbers converted.
func rlToString(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return rlNumberToString(float64(x)), true
	}
	return "", false
}

// rlCheckString mirrors luaL_checklstring.
func rlCheckString(L *lua.LState, n int) string {
	s, ok := rlToString(L.Get(n))
	if !ok || n > L.GetTop() {
		rlTypeError(L, n, "string")
	}
	return s
}

// rlCheckNumber mirrors luaL_checknumber.
func rlCheckNumber(L *lua.LState, n int) float64 {
	v, ok := rlToNumber(L.Get(n))
	if !ok || n > L.GetTop() {
		rlTypeError(L, n, "number")
	}
	return v
}

// rlNumberToInteger mirrors lua_number2integer on x86-64: truncation toward
// zero, with out-of-range values and NaN giving math.MinInt64 (cvttsd2si).
func rlNumberToInteger(n float64) int64 {
	if n != n || n >= 9223372036854775808.0 || n < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(n)
}

// rlCheckInteger mirrors luaL_checkinteger.
func rlCheckInteger(L *lua.LState, n int) int64 {
	return rlNumberToInteger(rlCheckNumber(L, n))
}

// rlOptInteger mirrors luaL_optinteger.
func rlOptInteger(L *lua.LState, n int, def int64) int64 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return rlCheckInteger(L, n)
}

// rlTableNext iterates t in gopher-lua's lua_next order (array part, then
// the other keys in insertion order) until fn returns false.
func rlTableNext(t *lua.LTable, fn func(k, v lua.LValue) bool) {
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if !fn(k, v) {
			return
		}
	}
}
