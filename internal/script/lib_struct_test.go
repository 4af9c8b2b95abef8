package script

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/vdr-project/vdr/internal/redistest"
)

var rlStructCases = []rlLibCase{
	// pack: integers
	{"", `struct.pack("b", -1), struct.pack("B", 255), struct.pack("B", 256), struct.pack("b", 128)`},
	{"", `struct.pack("h", -2), struct.pack(">h", 258), struct.pack("<H", 258), struct.pack("H", 65537)`},
	{"", `struct.pack("i", 1), struct.pack(">i", -2), struct.pack("I", 2^32 - 1), struct.pack("<I", 2^32)`},
	{"", `struct.pack("l", 2^53), struct.pack(">l", -3), struct.pack("L", -1), struct.pack("T", 5)`},
	{"", `struct.pack("L", 2^63), struct.pack("L", 2^64), struct.pack("l", -2^63), struct.pack("l", -2^64)`},
	{"", `struct.pack("L", 1e20), struct.pack("l", 2^63), struct.pack("B", -1)`},
	{"", `struct.pack("i3", 0x123456), struct.pack(">i3", -1), struct.pack("i1", 300), struct.pack("i0", 5)`},
	{"", `struct.pack("i16", -1), struct.pack(">I16", 2^40), struct.pack("i9", 1)`},
	{"", `struct.pack("b", 1.9), struct.pack("b", -1.9), struct.pack("b", "12"), struct.pack("b", " 0x10 ")`},
	{"local z = 0", `struct.pack("l", INF), struct.pack("l", -INF), struct.pack("l", z/z)`},
	{"", `struct.pack("b")`},
	{"", `struct.pack("b", "x")`},
	{"", `struct.pack("b", {})`},
	{"", `struct.pack("bb", 1)`},
	// pack: floats
	{"", `struct.pack("f", 1.5), struct.pack(">f", -0.1), struct.pack("d", 0.1), struct.pack(">d", 1e300)`},
	{"", `struct.pack("f", 1e300), struct.pack("f", INF), struct.pack("<d", -INF)`},
	{"", `struct.pack("d")`},
	// pack: strings
	{"", `struct.pack("c3", "abcdef"), struct.pack("c0", "xyz"), struct.pack("c", "qr"), struct.pack("s", "hi")`},
	{"", `struct.pack("s", "a\0b"), struct.pack("c0", ""), struct.pack("s", 12.5)`},
	{"", `struct.pack("c5", "ab")`},
	{"", `struct.pack("b c5", 1, "ab")`},
	{"", `struct.pack("s")`},
	{"", `struct.pack("s", {})`},
	// pack: padding, alignment and endianness controls
	{"", `struct.pack("x"), struct.pack("bxb", 1, 2), struct.pack(" b  b ", 1, 2)`},
	{"", `struct.pack("!4 b i", 1, 2), struct.pack("!2 b d", 1, 2), struct.pack("! b d", 1, 2)`},
	{"", `struct.pack("!8 b h b i b l", 1, 2, 3, 4, 5, 6)`},
	{"", `struct.pack("!4 b i3", 1, 2), struct.pack("!4 b c3", 1, "abc"), struct.pack("!4 b s b", 1, "ab", 2)`},
	{"", `struct.pack("!4 b f", 1, 2), struct.pack("!16 b i16", 1, 2), struct.pack("!1 b i", 1, 2)`},
	{"", `struct.pack(">!4 b i <h", 1, 2, 3)`},
	{"", `struct.pack("!3")`},
	{"", `struct.pack("!0")`},
	{"", `struct.pack("z")`},
	{"", `struct.pack("b@", 1)`},
	{"", `struct.pack("i33", 1)`},
	{"", `struct.pack("i99999999999", 1)`},
	{"", `struct.pack("c99999999999", "a")`},
	{"", `struct.pack("b\0b", 1)`},
	{"", `struct.pack()`},
	{"", `struct.pack({})`},
	{"", `struct.pack(12, 3)`},
	// unpack
	{"", `struct.unpack("b", "\255"), struct.unpack("B", "\255")`},
	{"", `struct.unpack(">h", "\1\2"), struct.unpack("<h", "\1\2"), struct.unpack("H", "\255\255"), struct.unpack("h", "\255\255")`},
	{"", `struct.unpack("<i", "\1\0\0\0"), struct.unpack(">I", "\255\255\255\255"), struct.unpack("i", "\255\255\255\255")`},
	{"", `struct.unpack("i3", "\255\255\255"), struct.unpack("I3", "\255\255\255"), struct.unpack(">i3", "\128\0\0")`},
	{"", `struct.unpack("l", string.rep("\255", 8)), struct.unpack("L", string.rep("\255", 8)), struct.unpack("T", "\1\0\0\0\0\0\0\0")`},
	{"", `struct.unpack(">L", "\0\32\0\0\0\0\0\1"), struct.unpack("<l", "\0\0\0\0\0\0\0\128")`},
	{"", `struct.unpack("i16", string.rep("\255", 16)), struct.unpack("I16", string.rep("\255", 16)), struct.unpack(">i16", string.rep("\1", 16))`},
	{"", `struct.unpack("i9", string.rep("\255", 9)), struct.unpack("<i12", "\1" .. string.rep("\0", 11)), struct.unpack("i0", "")`},
	{"", `struct.unpack("f", struct.pack("f", 1.5)), struct.unpack(">f", struct.pack(">f", -0.1))`},
	{"", `struct.unpack("d", struct.pack("d", 0.1)), struct.unpack(">d", struct.pack(">d", 1e300)), struct.unpack("f", "\0\0\128\127")`},
	{"", `struct.unpack("c2c1", "abc"), struct.unpack("bc0", "\3abcd"), struct.unpack("c1c0", "2abc")`},
	{"", `struct.unpack("c0", "abc")`},
	{"", `struct.unpack("bc0", "\9abc")`},
	{"", `struct.unpack("bc0", "\255abc")`},
	{"", `struct.unpack("s", "hi\0rest"), struct.unpack("ss", "a\0\0"), struct.unpack("s b", "x\0\7")`},
	{"", `struct.unpack("s", "hi")`},
	{"", `struct.unpack("i", "abc")`},
	{"", `struct.unpack("b", "")`},
	{"", `struct.unpack("b", "abc", 2), struct.unpack("b", "abc", 3), struct.unpack("", "abc", 4)`},
	{"", `struct.unpack("b", "abc", 0)`},
	{"", `struct.unpack("b", "abc", 4)`},
	{"", `struct.unpack("b", "abc", -1)`},
	{"", `struct.unpack("", "abc", -5), struct.unpack("", "abc", 2.7)`},
	{"", `struct.unpack("b", "abc", "x")`},
	{"", `struct.unpack("b", "abc", "2")`},
	{"", `struct.unpack("b", "abc", nil)`},
	{"", `struct.unpack("b")`},
	{"", `struct.unpack()`},
	{"", `struct.unpack("b", 7)`},
	{"", `struct.unpack("!4 b i", "\1\0\0\0\2\0\0\0"), struct.unpack("x b", "\0\5"), struct.unpack("!8 b d", "\1" .. string.rep("\0", 7) .. struct.pack("d", 2.5))`},
	{"", `struct.unpack("!4 b i", "\1\0\0\0\2\0\0")`},
	{"", `struct.unpack(">", "", 5)`},
	{"", `struct.unpack(">", "", 1)`},
	{"", `struct.unpack("z", "a")`},
	{"", `struct.unpack("!5", "a")`},
	{"", `struct.unpack("b\0b", "\1\2")`},
	{"", `select('#', struct.unpack(string.rep("b", 7997), string.rep("\1", 7997)))`},
	{"", `struct.unpack(string.rep("b", 7998), string.rep("\1", 7998))`},
	{"", `struct.unpack(string.rep("x", 9000), string.rep("\1", 9000))`},
	{"", `struct.unpack(struct.pack(">!4 b h i l f d c3 s x", -1, -2, -3, -4, 0.5, 0.25, "abc", "str"))`},
	// size
	{"", `struct.size("b"), struct.size("h"), struct.size("i"), struct.size("l"), struct.size("T"), struct.size("f"), struct.size("d")`},
	{"", `struct.size(""), struct.size("c10"), struct.size("i7"), struct.size("x"), struct.size("bbb")`},
	{"", `struct.size("!8 b d"), struct.size("!4 b d"), struct.size("! b i b"), struct.size("!2 b i16")`},
	{"", `struct.size("z"), struct.size("bzb"), struct.size("A9")`},
	{"", `struct.size("s")`},
	{"", `struct.size("c0")`},
	{"", `struct.size("b c0")`},
	{"", `struct.size("!3")`},
	{"", `struct.size("@")`},
	{"", `struct.size("i40")`},
	{"", `struct.size()`},
	{"", `struct.size(123)`},
}

// rlGenStructCase returns a format, the JSON array of values to pack with
// it, and random data to unpack with it.
func rlGenStructCase(r *rand.Rand) (string, string, string) {
	opts := []string{"b", "B", "h", "H", "i", "I", "l", "L", "T", "f", "d", "x", "c1", "c3", "c0", "s",
		"i3", "I3", "i5", "I7", "i8", "i12", "I16", "i1", "!", "!1", "!2", "!4", "!8", "<", ">", " ", "c"}
	if r.IntN(10) == 0 {
		opts = append(opts, "z", "!3", "i40", "@", "c12")
	}
	var f strings.Builder
	var vals []string
	for n := r.IntN(7); n > 0; n-- {
		o := opts[r.IntN(len(opts))]
		f.WriteString(o)
		switch o[0] {
		case 'c', 's':
			b, _ := json.Marshal([]string{"", "a", "abc", "hello", "x\x00y", "0123456789abcdef"}[r.IntN(6)])
			vals = append(vals, string(b))
		case 'b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'T', 'f', 'd':
			v := rlGenBitNumber(r)
			if math.IsNaN(v) {
				v = 1
			}
			vals = append(vals, rlFmtG(v, 17))
		}
	}
	if r.IntN(8) == 0 && len(vals) > 0 {
		vals = vals[:len(vals)-1]
	}
	data := make([]byte, r.IntN(40))
	for i := range data {
		data[i] = byte(r.IntN(256))
		if r.IntN(6) == 0 {
			data[i] = 0
		}
	}
	return f.String(), "[" + strings.Join(vals, ",") + "]", string(data)
}

// TestStructRandomDifferential packs generated values with generated
// formats, unpacks what was packed and unpacks random data, and sizes the
// formats, on Redis and on gopher-lua.
func TestStructRandomDifferential(t *testing.T) {
	srv := redistest.Start(t)
	r := rand.New(rand.NewPCG(10, 100))
	var packIn, dataIn []string
	for i := 0; i < 3000; i++ {
		f, vals, data := rlGenStructCase(r)
		packIn = append(packIn, f+"|"+vals)
		dataIn = append(dataIn, f+"|"+data)
	}
	const setup = `local function split(x)
  local i = string.find(x, "|", 1, true)
  return string.sub(x, 1, i - 1), string.sub(x, i + 1)
end`
	rlRunBatch(t, srv.Addr(), setup, `(function()
		local f, v = split(x)
		local p = struct.pack(f, unpack(cjson.decode(v)))
		return p, struct.unpack(f, p)
	end)()`, packIn)
	rlRunBatch(t, srv.Addr(), setup, `struct.unpack(split(x))`, dataIn)
	rlRunBatch(t, srv.Addr(), setup, `(function() local f, d = split(x) return struct.unpack(f, d, 1 + #d % 5) end)()`, dataIn)
	rlRunBatch(t, srv.Addr(), setup, `struct.size((split(x)))`, dataIn)
}

// FuzzStructUnpack runs struct.size, struct.unpack and struct.pack on
// arbitrary formats and data; none may panic.
func FuzzStructUnpack(f *testing.F) {
	for _, s := range []string{"b", ">!4 b h i l f d c3 s x", "c0", "bc0", "i16", "!8 b d", "s", "i33", "!3"} {
		f.Add(s, "\x03abc\x00\xff\xff\xff\xff\xff\xff\xff\xff", int64(1))
	}
	L := rlNewLibsState()
	defer L.Close()
	st := L.GetGlobal("struct").(*lua.LTable)
	size, unpack, pack := st.RawGetString("size"), st.RawGetString("unpack"), st.RawGetString("pack")
	f.Fuzz(func(t *testing.T, format, data string, pos int64) {
		if len(format) > 200 {
			return
		}
		top := L.GetTop()
		defer L.SetTop(top)
		L.CallByParam(lua.P{Fn: size, NRet: 1, Protect: true}, lua.LString(format))
		L.SetTop(top)
		L.CallByParam(lua.P{Fn: unpack, NRet: lua.MultRet, Protect: true}, lua.LString(format), lua.LString(data), lua.LNumber(pos))
		L.SetTop(top)
		L.CallByParam(lua.P{Fn: pack, NRet: 1, Protect: true}, lua.LString(format), lua.LNumber(pos), lua.LString(data), lua.LNumber(-pos), lua.LString(data))
	})
}
