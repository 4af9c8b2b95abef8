package script

// struct: the lua_struct library as bundled in Redis 7.0 (struct.pack,
// struct.unpack, struct.size), with the sizes of an x86-64 Linux build:
// short 2, int 4, long and size_t 8, native little-endian, maximum
// alignment 8. Integers are 64-bit internally (C long), so sizes above 8
// ("i16") keep only 64 bits of value, as in C.

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

const (
	rlStMaxIntSize = 32
	rlStMaxAlign   = 8
	rlStBig        = 0
	rlStLittle     = 1
)

type rlStHeader struct {
	endian int
	align  int
}

func rlStructOpen(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(rlStPack))
	t.RawSetString("unpack", L.NewFunction(rlStUnpack))
	t.RawSetString("size", L.NewFunction(rlStSize))
	return t
}

func rlStIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// rlStGetNum reads an optional decimal count at fmt[*i].
func rlStGetNum(L *lua.LState, f string, i *int, df int) int {
	if *i >= len(f) || !rlStIsDigit(f[*i]) {
		return df
	}
	a := 0
	for *i < len(f) && rlStIsDigit(f[*i]) {
		d := int(f[*i] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			rlRaise(L, "integral size overflow")
		}
		a = a*10 + d
		*i++
	}
	return a
}

func rlStOptSize(L *lua.LState, opt byte, f string, i *int) uint64 {
	switch opt {
	case 'B', 'b', 'x':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T', 'd':
		return 8
	case 'f':
		return 4
	case 'c':
		return uint64(rlStGetNum(L, f, i, 1))
	case 'i', 'I':
		sz := rlStGetNum(L, f, i, 4)
		if sz > rlStMaxIntSize {
			rlRaise(L, "integral size "+strconv.Itoa(sz)+" is larger than limit of "+strconv.Itoa(rlStMaxIntSize))
		}
		return uint64(sz)
	}
	return 0
}

func rlStToAlign(n uint64, h *rlStHeader, opt byte, size uint64) uint64 {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > uint64(h.align) {
		size = uint64(h.align)
	}
	return (size - (n & (size - 1))) & (size - 1)
}

func rlStControl(L *lua.LState, opt byte, f string, i *int, h *rlStHeader) {
	switch opt {
	case ' ':
	case '>':
		h.endian = rlStBig
	case '<':
		h.endian = rlStLittle
	case '!':
		a := rlStGetNum(L, f, i, rlStMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			rlRaise(L, "alignment "+strconv.Itoa(a)+" is not a power of 2")
		}
		h.align = a
	default:
		rlArgError(L, 1, "invalid format option '"+string([]byte{opt})+"'")
	}
}

// rlStFormat mirrors luaL_checkstring for the format argument; the format is
// a C string, so it ends at its first NUL byte.
func rlStFormat(L *lua.LState) string {
	f := rlCheckString(L, 1)
	for i := 0; i < len(f); i++ {
		if f[i] == 0 {
			return f[:i]
		}
	}
	return f
}

// rlStDoubleToUint64 mirrors a C (unsigned long) conversion of a double as
// gcc compiles it on x86-64.
func rlStDoubleToUint64(n float64) uint64 {
	if !(n >= 9223372036854775808.0) {
		return uint64(rlNumberToInteger(n))
	}
	return uint64(rlNumberToInteger(n-9223372036854775808.0)) ^ (1 << 63)
}

func rlStPack(L *lua.LState) int {
	f := rlStFormat(L)
	// The C code pushes a nil to separate the arguments from its string
	// buffer, so the first missing argument reads as nil, not "no value".
	L.Push(lua.LNil)
	h := rlStHeader{endian: rlStLittle, align: 1}
	arg := 2
	var total uint64
	var out []byte
	for i := 0; i < len(f); {
		opt := f[i]
		i++
		size := rlStOptSize(L, opt, f, &i)
		toalign := rlStToAlign(total, &h, opt, size)
		total += toalign
		for ; toalign > 0; toalign-- {
			out = append(out, 0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := rlCheckNumber(L, arg)
			arg++
			var v uint64
			if n < 0 {
				v = uint64(rlNumberToInteger(n))
			} else {
				v = rlStDoubleToUint64(n)
			}
			buf := make([]byte, size)
			if h.endian == rlStLittle {
				for k := uint64(0); k < size; k++ {
					buf[k] = byte(v)
					v >>= 8
				}
			} else {
				for k := int(size) - 1; k >= 0; k-- {
					buf[k] = byte(v)
					v >>= 8
				}
			}
			out = append(out, buf...)
		case 'x':
			out = append(out, 0)
		case 'f':
			bits := math.Float32bits(float32(rlCheckNumber(L, arg)))
			arg++
			out = rlStAppendUint(out, uint64(bits), 4, h.endian)
		case 'd':
			bits := math.Float64bits(rlCheckNumber(L, arg))
			arg++
			out = rlStAppendUint(out, bits, 8, h.endian)
		case 'c', 's':
			s := rlCheckString(L, arg)
			arg++
			if size == 0 {
				size = uint64(len(s))
			}
			if uint64(len(s)) < size {
				// The C code checks after advancing arg, so it names the
				// argument after the string.
				rlArgError(L, arg, "string too short")
			}
			out = append(out, s[:size]...)
			if opt == 's' {
				out = append(out, 0)
				size++
			}
		default:
			rlStControl(L, opt, f, &i, &h)
		}
		total += size
	}
	L.Push(lua.LString(out))
	return 1
}

func rlStAppendUint(out []byte, v uint64, size int, endian int) []byte {
	buf := make([]byte, size)
	for k := 0; k < size; k++ {
		buf[k] = byte(v >> (8 * k))
	}
	if endian == rlStBig {
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			buf[a], buf[b] = buf[b], buf[a]
		}
	}
	return append(out, buf...)
}

func rlStGetInteger(data string, endian int, signed bool, size int) float64 {
	var l uint64
	if endian == rlStBig {
		for k := 0; k < size; k++ {
			l = l<<8 | uint64(data[k])
		}
	} else {
		for k := size - 1; k >= 0; k-- {
			l = l<<8 | uint64(data[k])
		}
	}
	if !signed {
		return float64(l)
	}
	// The shift count size*8-1 exceeds 63 for sizes above 8; x86 uses it
	// modulo 64 (and size 0 gives -1, that is 63).
	mask := ^uint64(0) << (uint(size*8-1) & 63)
	if l&mask != 0 {
		l |= mask
	}
	return float64(int64(l))
}

func rlStUnpack(L *lua.LState) int {
	f := rlStFormat(L)
	data := rlCheckString(L, 2)
	ld := uint64(len(data))
	pos := uint64(rlOptInteger(L, 3, 1))
	if pos == 0 {
		rlArgError(L, 3, "offset must be 1 or greater")
	}
	pos--
	h := rlStHeader{endian: rlStLittle, align: 1}
	nargs := L.GetTop()
	var res []lua.LValue
	for i := 0; i < len(f); {
		opt := f[i]
		i++
		size := rlStOptSize(L, opt, f, &i)
		pos += rlStToAlign(pos, &h, opt, size)
		if !(size <= ld && pos <= ld-size) {
			rlArgError(L, 2, "data string too short")
		}
		if nargs+len(res)+2 > rlMaxCStack {
			rlRaise(L, "stack overflow (too many results)")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := opt >= 'a' && opt <= 'z'
			res = append(res, lua.LNumber(rlStGetInteger(data[pos:], h.endian, signed, int(size))))
		case 'x':
		case 'f':
			b := []byte(data[pos : pos+4])
			if h.endian == rlStBig {
				b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
			}
			bits := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
			res = append(res, lua.LNumber(math.Float32frombits(bits)))
		case 'd':
			var bits uint64
			for k := 0; k < 8; k++ {
				var c byte
				if h.endian == rlStBig {
					c = data[pos+7-uint64(k)]
				} else {
					c = data[pos+uint64(k)]
				}
				bits |= uint64(c) << (8 * k)
			}
			res = append(res, lua.LNumber(math.Float64frombits(bits)))
		case 'c':
			if size == 0 {
				var prev float64
				ok := false
				if len(res) > 0 {
					prev, ok = rlToNumber(res[len(res)-1])
				}
				if !ok {
					rlRaise(L, "format 'c0' needs a previous size")
				}
				size = rlStDoubleToUint64(prev)
				res = res[:len(res)-1]
				if !(size <= ld && pos <= ld-size) {
					rlArgError(L, 2, "data string too short")
				}
			}
			res = append(res, lua.LString(data[pos:pos+size]))
		case 's':
			e := -1
			for k := pos; k < ld; k++ {
				if data[k] == 0 {
					e = int(k - pos)
					break
				}
			}
			if e < 0 {
				rlRaise(L, "unfinished string in data")
			}
			res = append(res, lua.LString(data[pos:pos+uint64(e)]))
			size = uint64(e) + 1
		default:
			rlStControl(L, opt, f, &i, &h)
		}
		pos += size
	}
	for _, v := range res {
		L.Push(v)
	}
	L.Push(lua.LNumber(float64(int64(pos + 1))))
	return len(res) + 1
}

func rlStSize(L *lua.LState) int {
	f := rlStFormat(L)
	h := rlStHeader{endian: rlStLittle, align: 1}
	var pos uint64
	for i := 0; i < len(f); {
		opt := f[i]
		i++
		size := rlStOptSize(L, opt, f, &i)
		pos += rlStToAlign(pos, &h, opt, size)
		if opt == 's' {
			rlArgError(L, 1, "option 's' has no fixed size")
		} else if opt == 'c' && size == 0 {
			rlArgError(L, 1, "option 'c0' has no fixed size")
		}
		if !rlStIsAlnum(opt) {
			rlStControl(L, opt, f, &i, &h)
		}
		pos += size
	}
	L.Push(lua.LNumber(float64(int64(pos))))
	return 1
}

func rlStIsAlnum(c byte) bool {
	return rlStIsDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z'
}
