package script

// cjson: lua-cjson 2.1.0 as bundled in Redis 7.0 (encode, decode, the
// configuration functions, new, null, _NAME, _VERSION).
//
// Behaviour kept from the C library: '/' is escaped as "\/" and DEL as
// "\u007f"; numbers are written with "%.14g" (encode_number_precision);
// empty tables encode as {}; sparse arrays follow encode_sparse_array
// (defaults: convert off, ratio 2, safe 10); nesting is limited by
// encode_max_depth and decode_max_depth (1000); decoding accepts what
// strtod accepts where JSON has a number (hex, inf, nan, leading '+' or
// zeros: decode_invalid_numbers defaults to on); JSON null decodes to
// cjson.null; the input is a C string, so a NUL byte ends it.
//
// One difference cannot be removed: objects are written in the order the
// table iterates, and gopher-lua iterates the hash part in insertion order
// where Lua 5.1 uses its hash layout, so objects with several keys may
// list them in another order than Redis does. The order also decides the
// rare outcomes that depend on it: which of two unencodable values is
// reported, and whether a table mixing keys 1..n with a key of 2^31 or
// more is an array (the C code keeps the largest key in an int).

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// rlCjsonNullValue marks the userdata standing for cjson.null (a NULL
// lightuserdata in C, equal to every other one).
type rlCjsonNullValue struct{}

type rlCjsonConfig struct {
	sparseConvert     int
	sparseRatio       int
	sparseSafe        int
	encodeMaxDepth    int
	decodeMaxDepth    int
	encodeInvalidNums int // 0 off, 1 on, 2 null
	decodeInvalidNums int
	encodeKeepBuffer  int
	encodePrecision   int
}

// rlCjsonNew returns the cjson module table for L.
func rlCjsonNew(L *lua.LState) *lua.LTable {
	null := L.NewUserData()
	null.Value = rlCjsonNullValue{}
	// tostring(cjson.null) is "userdata: (nil)" in Redis (glibc prints a
	// NULL %p so). A metatable gives the same text; the price is that
	// getmetatable(cjson.null) is a table here and nil in Redis.
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("userdata: (nil)"))
		return 1
	}))
	null.Metatable = mt
	return rlCjsonModule(L, null)
}

func rlCjsonIsNull(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(rlCjsonNullValue)
	return ok
}

func rlCjsonModule(L *lua.LState, null *lua.LUserData) *lua.LTable {
	cfg := &rlCjsonConfig{
		sparseRatio:       2,
		sparseSafe:        10,
		encodeMaxDepth:    1000,
		decodeMaxDepth:    1000,
		decodeInvalidNums: 1,
		encodeKeepBuffer:  1,
		encodePrecision:   14,
	}
	t := L.NewTable()
	reg := func(name string, fn func(L *lua.LState) int) {
		t.RawSetString(name, L.NewFunction(fn))
	}
	reg("encode", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			rlArgError(L, 1, "expected 1 argument")
		}
		e := rlCjsonEncoder{L: L, cfg: cfg}
		e.value(L.Get(1), 0, 1)
		L.Push(lua.LString(e.buf))
		return 1
	})
	reg("decode", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			rlArgError(L, 1, "expected 1 argument")
		}
		s := rlCheckString(L, 1)
		if len(s) >= 2 && (s[0] == 0 || s[1] == 0) {
			rlRaise(L, "JSON parser does not support UTF-16 or UTF-32")
		}
		d := rlCjsonDecoder{L: L, cfg: cfg, s: s, null: null, top: 1}
		var tok rlCjsonToken
		d.next(&tok)
		v := d.value(&tok)
		d.next(&tok)
		if tok.typ != rlCjTEnd {
			d.throw("the end", &tok)
		}
		L.Push(v)
		return 1
	})
	reg("encode_sparse_array", func(L *lua.LState) int {
		const name = "encode_sparse_array"
		rlCjsonArgInit(L, 3)
		rlCjsonEnumOption(L, 1, &cfg.sparseConvert, nil)
		rlCjsonIntOption(L, 2, &cfg.sparseRatio, 0, math.MaxInt32)
		rlCjsonIntOption(L, 3, &cfg.sparseSafe, 0, math.MaxInt32)
		return 3
	})
	intOpt := func(name string, setting *int, lo, hi int) {
		reg(name, func(L *lua.LState) int {
			rlCjsonArgInit(L, 1)
			rlCjsonIntOption(L, 1, setting, lo, hi)
			return 1
		})
	}
	intOpt("encode_max_depth", &cfg.encodeMaxDepth, 1, math.MaxInt32)
	intOpt("decode_max_depth", &cfg.decodeMaxDepth, 1, math.MaxInt32)
	intOpt("encode_number_precision", &cfg.encodePrecision, 1, 14)
	enumOpt := func(name string, setting *int, options []string) {
		reg(name, func(L *lua.LState) int {
			rlCjsonArgInit(L, 1)
			rlCjsonEnumOption(L, 1, setting, options)
			return 1
		})
	}
	enumOpt("encode_keep_buffer", &cfg.encodeKeepBuffer, nil)
	enumOpt("encode_invalid_numbers", &cfg.encodeInvalidNums, []string{"off", "on", "null"})
	enumOpt("decode_invalid_numbers", &cfg.decodeInvalidNums, nil)
	reg("new", func(L *lua.LState) int {
		L.Push(rlCjsonModule(L, null))
		return 1
	})
	t.RawSetString("null", null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// rlCjsonArgInit mirrors json_arg_init: at most n arguments, missing ones
// read as nil.
func rlCjsonArgInit(L *lua.LState, n int) {
	if L.GetTop() > n {
		rlArgError(L, n+1, "found too many arguments")
	}
	for L.GetTop() < n {
		L.Push(lua.LNil)
	}
}

// rlCjsonIntOption mirrors json_integer_option. The value is a C int, so a
// lua_Integer beyond 32 bits is truncated; the range error always names
// argument 1, as the C code does.
func rlCjsonIntOption(L *lua.LState, idx int, setting *int, lo, hi int) {
	if L.Get(idx) != lua.LNil {
		v := int(int32(rlCheckInteger(L, idx)))
		if v < lo || v > hi {
			rlArgError(L, 1, "expected integer between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
		}
		*setting = v
	}
	L.Push(lua.LNumber(*setting))
}

// rlCjsonEnumOption mirrors json_enum_option with bool_true 1; nil options
// means {"off", "on"}.
func rlCjsonEnumOption(L *lua.LState, idx int, setting *int, options []string) {
	if options == nil {
		options = []string{"off", "on"}
	}
	v := L.Get(idx)
	if v != lua.LNil {
		if b, ok := v.(lua.LBool); ok {
			*setting = 0
			if b {
				*setting = 1
			}
		} else {
			s := rlCheckString(L, idx)
			found := -1
			for i, o := range options {
				if o == s {
					found = i
					break
				}
			}
			if found < 0 {
				rlArgError(L, idx, "invalid option '"+s+"'")
			}
			*setting = found
		}
	}
	if *setting == 0 || *setting == 1 {
		L.Push(lua.LBool(*setting == 1))
	} else {
		L.Push(lua.LString(options[*setting]))
	}
}

// ===== encoding =====

type rlCjsonEncoder struct {
	L   *lua.LState
	cfg *rlCjsonConfig
	buf []byte
}

func (e *rlCjsonEncoder) fail(v lua.LValue, reason string) {
	rlRaise(e.L, "Cannot serialise "+rlValueTypeName(v)+": "+reason)
}

var rlCjsonEscapes = func() [256]string {
	var t [256]string
	for c := 0; c < 0x20; c++ {
		t[c] = "\\u00" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
	}
	t['\b'], t['\t'], t['\n'], t['\f'], t['\r'] = "\\b", "\\t", "\\n", "\\f", "\\r"
	t['"'], t['\\'], t['/'], t[0x7f] = "\\\"", "\\\\", "\\/", "\\u007f"
	return t
}()

func (e *rlCjsonEncoder) str(s string) {
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); i++ {
		if esc := rlCjsonEscapes[s[i]]; esc != "" {
			e.buf = append(e.buf, esc...)
		} else {
			e.buf = append(e.buf, s[i])
		}
	}
	e.buf = append(e.buf, '"')
}

func (e *rlCjsonEncoder) number(v lua.LNumber) {
	n := float64(v)
	bad := math.IsInf(n, 0) || n != n
	switch e.cfg.encodeInvalidNums {
	case 0:
		if bad {
			e.fail(v, "must not be NaN or Inf")
		}
	case 1:
		if n != n {
			e.buf = append(e.buf, "nan"...)
			return
		}
	default:
		if bad {
			e.buf = append(e.buf, "null"...)
			return
		}
	}
	e.buf = append(e.buf, rlFmtG(n, e.cfg.encodePrecision)...)
}

// value appends v, which sits at Lua stack slot top in the C encoder
// (used to reproduce lua_checkstack failures under raised depth limits).
func (e *rlCjsonEncoder) value(v lua.LValue, depth, top int) {
	switch x := v.(type) {
	case lua.LString:
		e.str(string(x))
	case lua.LNumber:
		e.number(x)
	case lua.LBool:
		if x {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case *lua.LTable:
		depth++
		if depth > e.cfg.encodeMaxDepth || top+3 > rlMaxCStack {
			rlRaise(e.L, "Cannot serialise, excessive nesting ("+strconv.Itoa(depth)+")")
		}
		if n := e.arrayLength(x); n > 0 {
			e.buf = append(e.buf, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					e.buf = append(e.buf, ',')
				}
				e.value(x.RawGet(lua.LNumber(i)), depth, top+1)
			}
			e.buf = append(e.buf, ']')
		} else {
			e.object(x, depth, top)
		}
	default:
		if rlCjsonIsNull(v) {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.fail(v, "type not supported")
	}
}

// arrayLength mirrors lua_array_length: the largest key when all keys are
// integers >= 1 (and the array is not too sparse), else -1 (an object).
// The largest key is a C int: keys beyond its range become INT_MIN.
func (e *rlCjsonEncoder) arrayLength(t *lua.LTable) int {
	var max, items int32
	isArray := true
	rlTableNext(t, func(k, _ lua.LValue) bool {
		if kn, ok := k.(lua.LNumber); ok && kn != 0 {
			f := float64(kn)
			if math.Floor(f) == f && f >= 1 {
				if f > float64(max) {
					max = rlCjsonDoubleToInt(f)
				}
				items++
				return true
			}
		}
		isArray = false
		return false
	})
	if !isArray {
		return -1
	}
	ratio := int32(e.cfg.sparseRatio)
	if ratio > 0 && max > items*ratio && max > int32(e.cfg.sparseSafe) {
		if e.cfg.sparseConvert == 0 {
			e.fail(t, "excessively sparse array")
		}
		return -1
	}
	return int(max)
}

// rlCjsonDoubleToInt mirrors a C (int) conversion on x86-64.
func rlCjsonDoubleToInt(f float64) int32 {
	if f != f || f >= 2147483648.0 || f <= -2147483649.0 {
		return math.MinInt32
	}
	return int32(f)
}

func (e *rlCjsonEncoder) object(t *lua.LTable, depth, top int) {
	e.buf = append(e.buf, '{')
	first := true
	rlTableNext(t, func(k, v lua.LValue) bool {
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		switch kk := k.(type) {
		case lua.LNumber:
			e.buf = append(e.buf, '"')
			e.number(kk)
			e.buf = append(e.buf, '"', ':')
		case lua.LString:
			e.str(string(kk))
			e.buf = append(e.buf, ':')
		default:
			e.fail(k, "table key must be a number or string")
		}
		e.value(v, depth, top+2)
		return true
	})
	e.buf = append(e.buf, '}')
}

// ===== decoding =====

const (
	rlCjTObjBegin = iota
	rlCjTObjEnd
	rlCjTArrBegin
	rlCjTArrEnd
	rlCjTString
	rlCjTNumber
	rlCjTBoolean
	rlCjTNull
	rlCjTColon
	rlCjTComma
	rlCjTEnd
	rlCjTWhitespace
	rlCjTError
	rlCjTUnknown
)

var rlCjsonTokenNames = [...]string{
	"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END",
	"T_WHITESPACE", "T_ERROR", "T_UNKNOWN",
}

var rlCjsonCharTokens = func() [256]int {
	var t [256]int
	for i := range t {
		t[i] = rlCjTError
	}
	t['{'], t['}'], t['['], t[']'] = rlCjTObjBegin, rlCjTObjEnd, rlCjTArrBegin, rlCjTArrEnd
	t[','], t[':'], t[0] = rlCjTComma, rlCjTColon, rlCjTEnd
	t[' '], t['\t'], t['\n'], t['\r'] = rlCjTWhitespace, rlCjTWhitespace, rlCjTWhitespace, rlCjTWhitespace
	for _, c := range "fiInNt\"+-0123456789" {
		t[c] = rlCjTUnknown
	}
	return t
}()

var rlCjsonEscapeChars = func() [256]byte {
	var t [256]byte
	t['"'], t['\\'], t['/'] = '"', '\\', '/'
	t['b'], t['t'], t['n'], t['f'], t['r'] = '\b', '\t', '\n', '\f', '\r'
	t['u'] = 'u'
	return t
}()

type rlCjsonToken struct {
	typ   int
	index int
	str   string
	num   float64
	b     bool
	err   string
}

type rlCjsonDecoder struct {
	L     *lua.LState
	cfg   *rlCjsonConfig
	s     string
	p     int
	null  *lua.LUserData
	depth int
	top   int // Lua stack slots the C decoder would hold
	tmp   []byte
}

// at returns the byte at i, 0 past the end (the input is a C string).
func (d *rlCjsonDecoder) at(i int) byte {
	if i < len(d.s) {
		return d.s[i]
	}
	return 0
}

func (d *rlCjsonDecoder) hasPrefix(p string) bool {
	return strings.HasPrefix(d.s[min(d.p, len(d.s)):], p)
}

func (d *rlCjsonDecoder) setError(tok *rlCjsonToken, msg string) {
	tok.typ = rlCjTError
	tok.index = d.p
	tok.err = msg
}

func (d *rlCjsonDecoder) next(tok *rlCjsonToken) {
	var ch byte
	for {
		ch = d.at(d.p)
		tok.typ = rlCjsonCharTokens[ch]
		if tok.typ != rlCjTWhitespace {
			break
		}
		d.p++
	}
	tok.index = d.p
	switch tok.typ {
	case rlCjTError:
		d.setError(tok, "invalid token")
		return
	case rlCjTEnd:
		return
	case rlCjTUnknown:
	default:
		d.p++
		return
	}
	switch {
	case ch == '"':
		d.stringToken(tok)
	case ch == '-' || (ch >= '0' && ch <= '9'):
		if d.cfg.decodeInvalidNums == 0 && d.invalidNumber() {
			d.setError(tok, "invalid number")
			return
		}
		d.numberToken(tok)
	case d.hasPrefix("true"):
		tok.typ, tok.b = rlCjTBoolean, true
		d.p += 4
	case d.hasPrefix("false"):
		tok.typ, tok.b = rlCjTBoolean, false
		d.p += 5
	case d.hasPrefix("null"):
		tok.typ = rlCjTNull
		d.p += 4
	case d.cfg.decodeInvalidNums != 0 && d.invalidNumber():
		d.numberToken(tok)
	default:
		d.setError(tok, "invalid token")
	}
}

// invalidNumber mirrors json_is_invalid_number: what strtod accepts but
// strict JSON does not.
func (d *rlCjsonDecoder) invalidNumber() bool {
	p := d.p
	if d.at(p) == '+' {
		return true
	}
	if d.at(p) == '-' {
		p++
	}
	if c := d.at(p); c == '0' {
		c2 := d.at(p + 1)
		return c2|0x20 == 'x' || (c2 >= '0' && c2 <= '9')
	} else if c <= '9' {
		return false
	}
	rest := strings.ToLower(d.s[p:min(p+3, len(d.s))])
	return rest == "inf" || rest == "nan"
}

func (d *rlCjsonDecoder) numberToken(tok *rlCjsonToken) {
	tok.typ = rlCjTNumber
	s := d.s[d.p:]
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	v, n := rlStrtod(s, false)
	if n == 0 {
		d.setError(tok, "invalid number")
		return
	}
	tok.num = v
	d.p += n
}

func (d *rlCjsonDecoder) hex4(i int) int {
	v := 0
	for k := 0; k < 4; k++ {
		h := rlHexVal(d.at(i + k))
		if h < 0 {
			return -1
		}
		v = v<<4 | h
	}
	return v
}

// unicodeEscape decodes \uXXXX (or a surrogate pair) at d.p into d.tmp.
func (d *rlCjsonDecoder) unicodeEscape() bool {
	cp := d.hex4(d.p + 2)
	if cp < 0 {
		return false
	}
	n := 6
	if cp&0xF800 == 0xD800 {
		if cp&0x400 != 0 {
			return false
		}
		if d.at(d.p+6) != '\\' || d.at(d.p+7) != 'u' {
			return false
		}
		lo := d.hex4(d.p + 8)
		if lo < 0 || lo&0xFC00 != 0xDC00 {
			return false
		}
		cp = ((cp&0x3FF)<<10 | lo&0x3FF) + 0x10000
		n = 12
	}
	switch {
	case cp <= 0x7F:
		d.tmp = append(d.tmp, byte(cp))
	case cp <= 0x7FF:
		d.tmp = append(d.tmp, byte(cp>>6|0xC0), byte(cp&0x3F|0x80))
	case cp <= 0xFFFF:
		d.tmp = append(d.tmp, byte(cp>>12|0xE0), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80))
	default:
		d.tmp = append(d.tmp, byte(cp>>18|0xF0), byte(cp>>12&0x3F|0x80), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80))
	}
	d.p += n
	return true
}

func (d *rlCjsonDecoder) stringToken(tok *rlCjsonToken) {
	d.p++ // opening quote
	d.tmp = d.tmp[:0]
	for {
		ch := d.at(d.p)
		if ch == '"' {
			break
		}
		if ch == 0 {
			d.setError(tok, "unexpected end of string")
			return
		}
		if ch == '\\' {
			ch = rlCjsonEscapeChars[d.at(d.p+1)]
			if ch == 'u' {
				if d.unicodeEscape() {
					continue
				}
				d.setError(tok, "invalid unicode escape code")
				return
			}
			if ch == 0 {
				d.setError(tok, "invalid escape code")
				return
			}
			d.p++
		}
		d.tmp = append(d.tmp, ch)
		d.p++
	}
	d.p++ // closing quote
	tok.typ = rlCjTString
	tok.str = string(d.tmp)
}

func (d *rlCjsonDecoder) throw(expected string, tok *rlCjsonToken) {
	found := ""
	if tok.typ == rlCjTError {
		found = tok.err
	} else {
		found = rlCjsonTokenNames[tok.typ]
	}
	rlRaise(d.L, "Expected "+expected+" but found "+found+" at character "+strconv.Itoa(tok.index+1))
}

func (d *rlCjsonDecoder) descend(slots int) {
	d.depth++
	if d.depth <= d.cfg.decodeMaxDepth && d.top+slots <= rlMaxCStack {
		return
	}
	rlRaise(d.L, "Found too many nested data structures ("+strconv.Itoa(d.depth)+") at character "+strconv.Itoa(d.p))
}

func (d *rlCjsonDecoder) value(tok *rlCjsonToken) lua.LValue {
	switch tok.typ {
	case rlCjTString:
		return lua.LString(tok.str)
	case rlCjTNumber:
		return lua.LNumber(tok.num)
	case rlCjTBoolean:
		return lua.LBool(tok.b)
	case rlCjTNull:
		return d.null
	case rlCjTObjBegin:
		return d.object()
	case rlCjTArrBegin:
		return d.array()
	}
	d.throw("value", tok)
	return lua.LNil
}

func (d *rlCjsonDecoder) object() lua.LValue {
	d.descend(3)
	t := d.L.NewTable()
	d.top++
	var tok rlCjsonToken
	d.next(&tok)
	if tok.typ == rlCjTObjEnd {
		d.depth--
		d.top--
		return t
	}
	for {
		if tok.typ != rlCjTString {
			d.throw("object key string", &tok)
		}
		key := tok.str
		d.next(&tok)
		if tok.typ != rlCjTColon {
			d.throw("colon", &tok)
		}
		d.next(&tok)
		d.top++
		v := d.value(&tok)
		d.top--
		t.RawSetString(key, v)
		d.next(&tok)
		if tok.typ == rlCjTObjEnd {
			d.depth--
			d.top--
			return t
		}
		if tok.typ != rlCjTComma {
			d.throw("comma or object end", &tok)
		}
		d.next(&tok)
	}
}

func (d *rlCjsonDecoder) array() lua.LValue {
	d.descend(2)
	t := d.L.NewTable()
	d.top++
	var tok rlCjsonToken
	d.next(&tok)
	if tok.typ == rlCjTArrEnd {
		d.depth--
		d.top--
		return t
	}
	for i := 1; ; i++ {
		t.RawSetInt(i, d.value(&tok))
		d.next(&tok)
		if tok.typ == rlCjTArrEnd {
			d.depth--
			d.top--
			return t
		}
		if tok.typ != rlCjTComma {
			d.throw("comma or array end", &tok)
		}
		d.next(&tok)
	}
}
