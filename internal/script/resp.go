package script

import (
	"errors"
	"math"
	"strconv"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Conversions between RESP and Lua values, as src/script_lua.c does:
// redisProtocolToLuaType for what redis.call returns, luaReplyToRedisReply
// for what a script returns.

// errBadReply is a command reply this parser cannot read (a bug in a
// handler, never the script's doing).
var errBadReply = errors.New("script: malformed command reply")

// luaMaxCStack is Lua 5.1's LUAI_MAXCSTACK. luaReplyToRedisReply checks
// for 4 free stack slots at each value it converts and answers "reached
// lua stack limit" in its place when there are none; Encoder counts the
// slots Redis's conversion would be using (replyTop) so a deeply nested
// or self-referencing table fails at the same depth, byte for byte.
const (
	luaMaxCStack = 8000
	replyTop     = 2 // the error handler and the script's result
)

// ReplyToLua parses one RESP2/RESP3 reply into a Lua value and returns the
// unread rest: integers become numbers, bulk strings strings, a null bulk
// or null array false, a status {ok=…}, an error {err=…} (marked
// ignore_error_stats_update), arrays tables; RESP3 maps {map={…}}, sets
// {set={k=true}}, null nil, booleans booleans, doubles {double=…}, big
// numbers {big_number=…}, verbatim strings {verbatim_string={format=…,
// string=…}}; attributes are skipped.
func ReplyToLua(L *lua.LState, b []byte) (lua.LValue, []byte, error) {
	p := replyParser{L: L, whole: b}
	return p.parse(b)
}

// replyParser is ReplyToLua's state: the strings of one reply are cut
// from one copy of it (all), made at its first string, and boxed by the
// state's slab when st is set.
type replyParser struct {
	L     *lua.LState
	st    *State
	whole []byte
	all   string
}

// str returns the Lua string of b, a part of p.whole.
func (p *replyParser) str(b []byte) lua.LValue {
	if len(b) == 0 {
		return lua.LString("")
	}
	if p.all == "" {
		p.all = string(p.whole)
	}
	off := cap(p.whole) - cap(b)
	s := p.all[off : off+len(b)]
	if p.st != nil {
		return p.st.str(s)
	}
	return lua.LString(s)
}

func (p *replyParser) parse(b []byte) (lua.LValue, []byte, error) {
	L := p.L
	if len(b) < 3 {
		return lua.LNil, nil, errBadReply
	}
	t := b[0]
	line, rest, ok := readLine(b[1:])
	if !ok {
		return lua.LNil, nil, errBadReply
	}
	switch t {
	case '+':
		tb := L.NewTable()
		tb.RawSetString("ok", lua.LString(line))
		return tb, rest, nil
	case '-':
		tb := errorTable(L, "-"+string(line))
		tb.RawSetString("ignore_error_stats_update", lua.LTrue)
		return tb, rest, nil
	case ':':
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return lua.LNil, nil, errBadReply
		}
		return lua.LNumber(n), rest, nil
	case '$', '=':
		n, err := strconv.Atoi(string(line))
		if err != nil {
			return lua.LNil, nil, errBadReply
		}
		if n < 0 {
			return lua.LFalse, rest, nil
		}
		if len(rest) < n+2 || rest[n] != '\r' || rest[n+1] != '\n' {
			return lua.LNil, nil, errBadReply
		}
		s := rest[:n]
		rest = rest[n+2:]
		if t == '$' {
			return p.str(s), rest, nil
		}
		if len(s) < 4 {
			return lua.LNil, nil, errBadReply
		}
		vt := L.NewTable()
		vt.RawSetString("string", lua.LString(s[4:]))
		vt.RawSetString("format", lua.LString(s[:3]))
		tb := L.NewTable()
		tb.RawSetString("verbatim_string", vt)
		return tb, rest, nil
	case '*', '>', '%', '~', '|':
		n, err := strconv.Atoi(string(line))
		if err != nil {
			return lua.LNil, nil, errBadReply
		}
		if n < 0 {
			return lua.LFalse, rest, nil
		}
		if n > len(rest) {
			return lua.LNil, nil, errBadReply
		}
		switch t {
		case '|':
			for i := 0; i < 2*n; i++ {
				if _, rest, err = p.parse(rest); err != nil {
					return lua.LNil, nil, err
				}
			}
			return p.parse(rest)
		case '%':
			m := L.NewTable()
			for i := 0; i < n; i++ {
				var k, v lua.LValue
				if k, rest, err = p.parse(rest); err != nil {
					return lua.LNil, nil, err
				}
				if v, rest, err = p.parse(rest); err != nil {
					return lua.LNil, nil, err
				}
				if k != lua.LNil {
					m.RawSet(k, v)
				}
			}
			tb := L.NewTable()
			tb.RawSetString("map", m)
			return tb, rest, nil
		case '~':
			m := L.NewTable()
			for i := 0; i < n; i++ {
				var k lua.LValue
				if k, rest, err = p.parse(rest); err != nil {
					return lua.LNil, nil, err
				}
				if k != lua.LNil {
					m.RawSet(k, lua.LTrue)
				}
			}
			tb := L.NewTable()
			tb.RawSetString("set", m)
			return tb, rest, nil
		}
		tb := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			var v lua.LValue
			if v, rest, err = p.parse(rest); err != nil {
				return lua.LNil, nil, err
			}
			tb.RawSetInt(i, v)
		}
		return tb, rest, nil
	case '_':
		return lua.LNil, rest, nil
	case '#':
		return lua.LBool(len(line) == 1 && line[0] == 't'), rest, nil
	case ',':
		d, err := strconv.ParseFloat(string(line), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return lua.LNil, nil, errBadReply
		}
		tb := L.NewTable()
		tb.RawSetString("double", lua.LNumber(d))
		return tb, rest, nil
	case '(':
		tb := L.NewTable()
		tb.RawSetString("big_number", lua.LString(line))
		return tb, rest, nil
	}
	return lua.LNil, nil, errBadReply
}

func readLine(b []byte) (line, rest []byte, ok bool) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return b[:i], b[i+2:], true
		}
	}
	return nil, nil, false
}

// Encoder writes a script's result as RESP, luaReplyToRedisReply's way:
// ClientResp is the caller's protocol, ScriptResp the one the script set
// with redis.setresp (it decides how booleans convert).
type Encoder struct {
	ClientResp int
	ScriptResp int
}

// Append appends v's reply to b.
func (e Encoder) Append(b []byte, v lua.LValue) []byte { return e.append(b, v, replyTop) }

// append converts v, which sits at stack height top.
func (e Encoder) append(b []byte, v lua.LValue, top int) []byte {
	if top+4 > luaMaxCStack {
		return appendError(b, "-ERR reached lua stack limit")
	}
	switch x := v.(type) {
	case lua.LString:
		return appendBulk(b, string(x))
	case lua.LBool:
		if e.ScriptResp == 2 {
			if x {
				return append(b, ":1\r\n"...)
			}
			return e.null(b)
		}
		if e.ClientResp == 2 {
			if x {
				return append(b, ":1\r\n"...)
			}
			return append(b, ":0\r\n"...)
		}
		if x {
			return append(b, "#t\r\n"...)
		}
		return append(b, "#f\r\n"...)
	case lua.LNumber:
		return appendHeader(b, ':', luaToInt64(float64(x)))
	case *lua.LTable:
		return e.appendTable(b, x, top)
	}
	return e.null(b)
}

func (e Encoder) null(b []byte) []byte {
	if e.ClientResp >= 3 {
		return append(b, "_\r\n"...)
	}
	return append(b, "$-1\r\n"...)
}

func (e Encoder) appendTable(b []byte, t *lua.LTable, top int) []byte {
	if s, ok := t.RawGetString("err").(lua.LString); ok {
		return appendError(b, "-"+string(s))
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		b = append(b, '+')
		b = appendMapped(b, string(s))
		return append(b, '\r', '\n')
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		return e.appendDouble(b, float64(d))
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		if e.ClientResp == 2 {
			return appendBulk(b, mapCRLF(string(s)))
		}
		b = append(b, '(')
		b = appendMapped(b, string(s))
		return append(b, '\r', '\n')
	}
	if vt, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, fok := vt.RawGetString("format").(lua.LString)
		s, sok := vt.RawGetString("string").(lua.LString)
		if fok && sok {
			if e.ClientResp == 2 {
				return appendBulk(b, string(s))
			}
			ext := string(f)
			for len(ext) < 3 {
				ext += "\x00"
			}
			b = appendHeader(b, '=', int64(len(s)+4))
			b = append(b, ext[:3]...)
			b = append(b, ':')
			b = append(b, s...)
			return append(b, '\r', '\n')
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		var body []byte
		n := 0
		// Stack: the map table, lua_next's key and value, the key's copy.
		m.ForEach(func(k, v lua.LValue) {
			body = e.append(body, k, top+4)
			body = e.append(body, v, top+3)
			n++
		})
		if e.ClientResp >= 3 {
			b = appendHeader(b, '%', int64(n))
		} else {
			b = appendHeader(b, '*', int64(2*n))
		}
		return append(b, body...)
	}
	if m, ok := t.RawGetString("set").(*lua.LTable); ok {
		var body []byte
		n := 0
		m.ForEach(func(k, _ lua.LValue) {
			body = e.append(body, k, top+3)
			n++
		})
		if e.ClientResp >= 3 {
			b = appendHeader(b, '~', int64(n))
		} else {
			b = appendHeader(b, '*', int64(n))
		}
		return append(b, body...)
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	b = appendHeader(b, '*', int64(n))
	for i := 1; i <= n; i++ {
		b = e.append(b, t.RawGetInt(i), top+1)
	}
	return b
}

// appendDouble is addReplyDouble: "%.17g", inf/-inf spelled out.
func (e Encoder) appendDouble(b []byte, d float64) []byte {
	s := formatG17(d)
	if e.ClientResp == 2 {
		return appendBulk(b, s)
	}
	b = append(b, ',')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// formatG17 is C's "%.17g".
func formatG17(d float64) string { return formatG(d, 17) }

// formatG is C's "%.<prec>g".
func formatG(d float64, prec int) string { return string(appendG(nil, d, prec)) }

// appendG appends C's "%.<prec>g" of d to b.
func appendG(b []byte, d float64, prec int) []byte {
	switch {
	case math.IsInf(d, 1):
		return append(b, "inf"...)
	case math.IsInf(d, -1):
		return append(b, "-inf"...)
	case math.IsNaN(d):
		if math.Signbit(d) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, d, 'g', prec, 64)
}

// luaToInt64 is C's (long long) cast of a double on amd64/arm64: NaN and
// values out of range become math.MinInt64 on amd64 (cvttsd2si).
func luaToInt64(d float64) int64 {
	if d != d || d >= 9223372036854775807 || d < -9223372036854775808 {
		return math.MinInt64
	}
	return int64(d)
}

func appendHeader(b []byte, c byte, n int64) []byte {
	b = append(b, c)
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

func appendBulk(b []byte, s string) []byte {
	b = appendHeader(b, '$', int64(len(s)))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// appendError writes an error reply as addReplyErrorFormatEx does: CR/LF
// trimmed from the ends, mapped to spaces inside; "-ERR " added when the
// text does not start with '-'.
func appendError(b []byte, msg string) []byte {
	msg = trimCRLF(msg)
	if len(msg) == 0 || msg[0] != '-' {
		b = append(b, "-ERR "...)
	}
	b = appendMapped(b, msg)
	return append(b, '\r', '\n')
}

func appendMapped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

func mapCRLF(s string) string { return string(appendMapped(nil, s)) }

// luaArgs converts redis.call's arguments to an argv as luaArgsToRedisArgv
// does: numbers as "%.17g", strings as they are. On failure it pushes the
// error table and returns false.
//
// The argv and its slices are the state's, valid until the next call:
// strings are passed without a copy (Lua strings are immutable Go
// strings, and a command handler neither changes nor keeps its args, see
// commands.Exec), numbers are formatted into one reused buffer.
func (st *State) luaArgs(L *lua.LState) ([][]byte, bool) {
	argc := L.GetTop()
	if argc == 0 {
		pushError(L, "Please specify at least one argument for this redis lib call")
		return nil, false
	}
	// First the numbers, formatted into nums (which may move as it
	// grows), and the types checked; then the argv, slicing nums.
	nums, ends := st.numBuf[:0], st.numEnds[:0]
	for j := 1; j <= argc; j++ {
		switch v := L.Get(j).(type) {
		case lua.LNumber:
			nums = appendG(nums, float64(v), 17)
			ends = append(ends, len(nums))
		case lua.LString:
		default:
			L.SetTop(0)
			pushError(L, "Lua redis lib command arguments must be strings or integers")
			return nil, false
		}
	}
	argv := st.argBuf[:0]
	off, n := 0, 0
	for j := 1; j <= argc; j++ {
		switch v := L.Get(j).(type) {
		case lua.LNumber:
			end := ends[n]
			argv = append(argv, nums[off:end:end])
			off, n = end, n+1
		case lua.LString:
			argv = append(argv, unsafe.Slice(unsafe.StringData(string(v)), len(v)))
		}
	}
	st.argBuf, st.numBuf, st.numEnds = argv, nums, ends
	L.SetTop(0)
	return argv, true
}
