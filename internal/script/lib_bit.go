package script

// bit: LuaBitOp 1.0.2 as bundled in Redis 7.0. Operands are Lua numbers
// (doubles) reduced to 32 bits the way LuaBitOp does it: the number plus
// 2^52+2^51 keeps its low 32 bits in the low word of the double, which
// rounds fractions to nearest-even and wraps modulo 2^32. Results are
// signed 32-bit integers.

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

func rlBitOpen(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	reg := func(name string, fn lua.LGFunction) {
		t.RawSetString(name, L.NewFunction(fn))
	}
	reg("tobit", func(L *lua.LState) int {
		return rlBitRet(L, rlBitArg(L, 1))
	})
	reg("bnot", func(L *lua.LState) int {
		return rlBitRet(L, ^rlBitArg(L, 1))
	})
	fold := func(op func(a, b uint32) uint32) func(L *lua.LState) int {
		return func(L *lua.LState) int {
			b := rlBitArg(L, 1)
			// LuaBitOp folds from the last argument down to the second.
			for i := L.GetTop(); i > 1; i-- {
				b = op(b, rlBitArg(L, i))
			}
			return rlBitRet(L, b)
		}
	}
	reg("band", fold(func(a, b uint32) uint32 { return a & b }))
	reg("bor", fold(func(a, b uint32) uint32 { return a | b }))
	reg("bxor", fold(func(a, b uint32) uint32 { return a ^ b }))
	shift := func(op func(b, n uint32) uint32) func(L *lua.LState) int {
		return func(L *lua.LState) int {
			b := rlBitArg(L, 1)
			n := rlBitArg(L, 2) & 31
			return rlBitRet(L, op(b, n))
		}
	}
	reg("lshift", shift(func(b, n uint32) uint32 { return b << n }))
	reg("rshift", shift(func(b, n uint32) uint32 { return b >> n }))
	reg("arshift", shift(func(b, n uint32) uint32 { return uint32(int32(b) >> n) }))
	// In C, b >> 32 and b << 32 on a 32-bit value are undefined; x86 masks
	// the count to 5 bits, so for n == 0 both halves are b.
	reg("rol", shift(func(b, n uint32) uint32 { return b<<n | b>>((32-n)&31) }))
	reg("ror", shift(func(b, n uint32) uint32 { return b<<((32-n)&31) | b>>n }))
	reg("bswap", func(L *lua.LState) int {
		b := rlBitArg(L, 1)
		return rlBitRet(L, b>>24|(b>>8)&0xff00|(b&0xff00)<<8|b<<24)
	})
	reg("tohex", func(L *lua.LState) int {
		b := rlBitArg(L, 1)
		n := int32(8)
		if L.GetTop() >= 2 {
			n = int32(rlBitArg(L, 2))
		}
		digits := "0123456789abcdef"
		if n < 0 {
			n = -n
			digits = "0123456789ABCDEF"
		}
		if n > 8 {
			n = 8
		}
		if n < 0 {
			// -(-2^31) overflows; the C library would then ask Lua for a
			// string of a negative (huge) length and fail. Give nothing.
			n = 0
		}
		buf := make([]byte, n)
		for i := int(n) - 1; i >= 0; i-- {
			buf[i] = digits[b&15]
			b >>= 4
		}
		L.Push(lua.LString(buf))
		return 1
	})
	return t
}

// rlBitArg mirrors LuaBitOp's barg for Lua 5.1: lua_tonumber (0 for values
// that are not numbers), reduced to 32 bits; a 0 result from a value that
// is not a number is a type error.
func rlBitArg(L *lua.LState, idx int) uint32 {
	n, ok := rlToNumber(L.Get(idx))
	b := uint32(math.Float64bits(n + 6755399441055744.0))
	if b == 0 && !ok {
		rlTypeError(L, idx, "number")
	}
	return b
}

func rlBitRet(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(int32(b)))
	return 1
}
