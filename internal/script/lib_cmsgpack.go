package script

// cmsgpack: lua-cmsgpack 0.4.0 as bundled in Redis 7.0 (pack, unpack,
// unpack_one, unpack_limit), for Lua 5.1 numbers on a 64-bit build.
//
// Packing: a number equal to an int64 is packed as the smallest integer
// format, other numbers as float 32 when that is exact, else float 64;
// tables whose keys are exactly 1..n are arrays, other tables maps;
// values that are not strings, booleans, numbers or tables pack as nil;
// tables nested 16 deep pack as nil. Unpacking: uint 64 values are cast to
// int64 (lua_pushunsigned is lua_pushinteger on 64-bit builds); bin, ext
// and the reserved byte are "Bad data format in input.".
//
// As with cjson, maps are packed in gopher-lua's table iteration order,
// which may differ from Lua 5.1's for tables with several hash keys.

import (
	"encoding/binary"
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

const rlMpMaxNesting = 16

func rlMsgpackOpen(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(rlMpPack))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int {
		return rlMpUnpackFull(L, 0, 0)
	}))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		off := rlOptInteger(L, 2, 0)
		rlMpDropExtraArgs(L)
		return rlMpUnpackFull(L, 1, off)
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		limit := rlCheckInteger(L, 2)
		off := rlOptInteger(L, 3, 0)
		rlMpDropExtraArgs(L)
		return rlMpUnpackFull(L, limit, off)
	}))
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return t
}

// rlMpDropExtraArgs mirrors lua_pop(L, lua_gettop(L)-1): keep the first
// argument; with no argument at all the stack stays empty.
func rlMpDropExtraArgs(L *lua.LState) {
	if L.GetTop() > 1 {
		L.SetTop(1)
	}
}

func rlMpPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		rlArgError(L, 0, "MessagePack pack needs input.")
	}
	if 2*n > rlMaxCStack {
		// lua_checkstack(L, nargs) with nargs slots already in use.
		rlArgError(L, 0, "Too many arguments for MessagePack pack.")
	}
	var buf []byte
	for i := 1; i <= n; i++ {
		buf = rlMpEncode(buf, L.Get(i), 0)
	}
	L.Push(lua.LString(buf))
	return 1
}

func rlMpEncode(buf []byte, v lua.LValue, level int) []byte {
	switch x := v.(type) {
	case lua.LString:
		return rlMpEncodeBytes(buf, string(x))
	case lua.LBool:
		if x {
			return append(buf, 0xc3)
		}
		return append(buf, 0xc2)
	case lua.LNumber:
		n := float64(x)
		if !math.IsInf(n, 0) && n >= -9223372036854775808.0 && n < 9223372036854775808.0 && float64(int64(n)) == n {
			return rlMpEncodeInt(buf, int64(n))
		}
		return rlMpEncodeDouble(buf, n)
	case *lua.LTable:
		if level == rlMpMaxNesting {
			return append(buf, 0xc0)
		}
		return rlMpEncodeTable(buf, x, level)
	}
	return append(buf, 0xc0)
}

func rlMpEncodeBytes(buf []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		buf = append(buf, 0xa0|byte(n))
	case n <= 0xff:
		buf = append(buf, 0xd9, byte(n))
	case n <= 0xffff:
		buf = append(buf, 0xda, byte(n>>8), byte(n))
	default:
		buf = append(buf, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(buf, s...)
}

func rlMpEncodeDouble(buf []byte, d float64) []byte {
	f := float32(d)
	if float64(f) == d {
		buf = append(buf, 0xca)
		return binary.BigEndian.AppendUint32(buf, math.Float32bits(f))
	}
	buf = append(buf, 0xcb)
	return binary.BigEndian.AppendUint64(buf, math.Float64bits(d))
}

func rlMpEncodeInt(buf []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(buf, byte(n))
		case n <= 0xff:
			return append(buf, 0xcc, byte(n))
		case n <= 0xffff:
			return binary.BigEndian.AppendUint16(append(buf, 0xcd), uint16(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(buf, 0xce), uint32(n))
		}
		return binary.BigEndian.AppendUint64(append(buf, 0xcf), uint64(n))
	}
	switch {
	case n >= -32:
		return append(buf, byte(int8(n)))
	case n >= -128:
		return append(buf, 0xd0, byte(n))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(buf, 0xd1), uint16(n))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(buf, 0xd2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(buf, 0xd3), uint64(n))
}

func rlMpHeader(buf []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n <= 15:
		return append(buf, fix|byte(n))
	case n <= 65535:
		return binary.BigEndian.AppendUint16(append(buf, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(buf, b32), uint32(n))
}

func rlMpEncodeTable(buf []byte, t *lua.LTable, level int) []byte {
	// An array is a table whose keys are all numbers equal to a C int
	// greater than 0, and whose largest key is the number of keys.
	count, max := 0, 0
	isArray := true
	rlTableNext(t, func(k, _ lua.LValue) bool {
		kn, ok := k.(lua.LNumber)
		if !ok || kn <= 0 || float64(kn) >= 2147483648.0 || float64(int32(kn)) != float64(kn) {
			isArray = false
			return false
		}
		if int(kn) > max {
			max = int(kn)
		}
		count++
		return true
	})
	if isArray && max == count {
		buf = rlMpHeader(buf, count, 0x90, 0xdc, 0xdd)
		for j := 1; j <= count; j++ {
			// RawGet, not RawGetInt: the latter misses keys stored in the
			// hash part (at or beyond lua.MaxArrayIndex).
			buf = rlMpEncode(buf, t.RawGet(lua.LNumber(j)), level+1)
		}
		return buf
	}
	n := 0
	rlTableNext(t, func(_, _ lua.LValue) bool { n++; return true })
	buf = rlMpHeader(buf, n, 0x80, 0xde, 0xdf)
	rlTableNext(t, func(k, v lua.LValue) bool {
		buf = rlMpEncode(buf, k, level+1)
		buf = rlMpEncode(buf, v, level+1)
		return true
	})
	return buf
}

// rlMpDecoder walks the input, tracking how many Lua stack slots the C
// decoder would hold (top) to reproduce its luaL_checkstack failures.
type rlMpDecoder struct {
	L   *lua.LState
	s   string
	p   int
	err int // 0, rlMpErrEOF, rlMpErrBadFmt
	top int
}

const (
	rlMpErrEOF    = 1
	rlMpErrBadFmt = 2
)

func (d *rlMpDecoder) need(n uint64) bool {
	if uint64(len(d.s)-d.p) < n {
		d.err = rlMpErrEOF
		return false
	}
	return true
}

func (d *rlMpDecoder) checkStack(msg string) {
	if d.top+1 > rlMaxCStack {
		rlRaise(d.L, "stack overflow ("+msg+")")
	}
}

func (d *rlMpDecoder) be(off, n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(d.s[d.p+off+i])
	}
	return v
}

// decode returns one value; on error d.err is set and the value is unused.
func (d *rlMpDecoder) decode() lua.LValue {
	if !d.need(1) {
		return lua.LNil
	}
	d.checkStack("too many return values at once; use unpack_one or unpack_limit instead.")
	c := d.s[d.p]
	var v lua.LValue
	switch c {
	case 0xcc:
		if !d.need(uint64(2)) {
			return lua.LNil
		}
		v = lua.LNumber(d.be(1, 1))
		d.p += 2
	case 0xd0:
		if !d.need(uint64(2)) {
			return lua.LNil
		}
		v = lua.LNumber(int8(d.s[d.p+1]))
		d.p += 2
	case 0xcd:
		if !d.need(uint64(3)) {
			return lua.LNil
		}
		v = lua.LNumber(d.be(1, 2))
		d.p += 3
	case 0xd1:
		if !d.need(uint64(3)) {
			return lua.LNil
		}
		v = lua.LNumber(int16(d.be(1, 2)))
		d.p += 3
	case 0xce:
		if !d.need(uint64(5)) {
			return lua.LNil
		}
		v = lua.LNumber(d.be(1, 4))
		d.p += 5
	case 0xd2:
		if !d.need(uint64(5)) {
			return lua.LNil
		}
		v = lua.LNumber(int32(d.be(1, 4)))
		d.p += 5
	case 0xcf, 0xd3:
		if !d.need(uint64(9)) {
			return lua.LNil
		}
		v = lua.LNumber(int64(d.be(1, 8)))
		d.p += 9
	case 0xc0:
		v = lua.LNil
		d.p++
	case 0xc3:
		v = lua.LTrue
		d.p++
	case 0xc2:
		v = lua.LFalse
		d.p++
	case 0xca:
		if !d.need(uint64(5)) {
			return lua.LNil
		}
		v = lua.LNumber(math.Float32frombits(uint32(d.be(1, 4))))
		d.p += 5
	case 0xcb:
		if !d.need(uint64(9)) {
			return lua.LNil
		}
		v = lua.LNumber(math.Float64frombits(d.be(1, 8)))
		d.p += 9
	case 0xd9, 0xda, 0xdb:
		hl := 1 << (c - 0xd9) // 1, 2 or 4 length bytes
		if !d.need(uint64(1 + hl)) {
			return lua.LNil
		}
		l := d.be(1, hl)
		if c == 0xdb {
			d.p += 5
			if !d.need(l) {
				return lua.LNil
			}
			v = lua.LString(d.s[d.p : d.p+int(l)])
			d.p += int(l)
		} else {
			if !d.need(uint64(1+hl) + l) {
				return lua.LNil
			}
			v = lua.LString(d.s[d.p+1+hl : d.p+1+hl+int(l)])
			d.p += 1 + hl + int(l)
		}
	case 0xdc, 0xdd, 0xde, 0xdf:
		hl := 2
		if c == 0xdd || c == 0xdf {
			hl = 4
		}
		if !d.need(uint64(1 + hl)) {
			return lua.LNil
		}
		l := d.be(1, hl)
		d.p += 1 + hl
		if c == 0xdc || c == 0xdd {
			return d.array(l)
		}
		return d.hash(l)
	default:
		switch {
		case c&0x80 == 0:
			v = lua.LNumber(c)
			d.p++
		case c&0xe0 == 0xe0:
			v = lua.LNumber(int8(c))
			d.p++
		case c&0xe0 == 0xa0:
			l := uint64(c & 0x1f)
			if !d.need(1 + l) {
				return lua.LNil
			}
			v = lua.LString(d.s[d.p+1 : d.p+1+int(l)])
			d.p += 1 + int(l)
		case c&0xf0 == 0x90:
			d.p++
			return d.array(uint64(c & 0xf))
		case c&0xf0 == 0x80:
			d.p++
			return d.hash(uint64(c & 0xf))
		default:
			d.err = rlMpErrBadFmt
			return lua.LNil
		}
	}
	return v
}

func (d *rlMpDecoder) array(n uint64) lua.LValue {
	t := d.L.NewTable()
	d.top++ // the table
	d.checkStack("in function mp_decode_to_lua_array")
	for i := uint64(1); i <= n; i++ {
		d.top++ // the index
		v := d.decode()
		d.top--
		if d.err != 0 {
			break
		}
		t.RawSetInt(int(i), v)
	}
	d.top--
	return t
}

func (d *rlMpDecoder) hash(n uint64) lua.LValue {
	t := d.L.NewTable()
	d.top++ // the table
	for ; n > 0; n-- {
		k := d.decode()
		if d.err != 0 {
			break
		}
		d.top++ // the key
		v := d.decode()
		d.top--
		if d.err != 0 {
			break
		}
		if k == lua.LNil {
			// lua_settable with a nil key raises this in Lua 5.1.
			rlRaiseBare(d.L, "table index is nil")
		}
		if kn, ok := k.(lua.LNumber); ok && kn != kn {
			rlRaiseBare(d.L, "table index is NaN")
		}
		t.RawSet(k, v)
	}
	d.top--
	return t
}

func rlMpUnpackFull(L *lua.LState, limit, offset int64) int {
	s := rlCheckString(L, 1)
	decodeAll := limit == 0 && offset == 0
	if offset < 0 || limit < 0 {
		// The C code prints the input length where it means the limit.
		rlRaise(L, "Invalid request to unpack with offset of "+strconv.Itoa(int(int32(offset)))+
			" and limit of "+strconv.Itoa(int(int32(len(s))))+".")
	}
	if uint64(offset) > uint64(len(s)) {
		rlRaise(L, "Start offset "+strconv.Itoa(int(int32(offset)))+" greater than input length "+
			strconv.Itoa(int(int32(len(s))))+".")
	}
	if decodeAll {
		limit = math.MaxInt32
	}
	d := &rlMpDecoder{L: L, s: s, p: int(offset), top: L.GetTop()}
	var out []lua.LValue
	for cnt := int64(0); d.p < len(s) && cnt < limit; cnt++ {
		v := d.decode()
		switch d.err {
		case rlMpErrEOF:
			rlRaise(L, "Missing bytes in input.")
		case rlMpErrBadFmt:
			rlRaise(L, "Bad data format in input.")
		}
		out = append(out, v)
		d.top++
	}
	if !decodeAll {
		if d.top+1 > rlMaxCStack {
			rlRaise(L, "stack overflow (in function mp_unpack_full)")
		}
		next := int64(-1)
		if d.p < len(s) {
			next = int64(d.p)
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range out {
		L.Push(v)
	}
	if decodeAll {
		return len(out)
	}
	return len(out) + 1
}
