package script

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/vdr-project/vdr/internal/redistest"
)

// rlMsgpackCases: maps with more than one key are compared after unpacking
// (mrt), because their packed key order follows table iteration order.
var rlMsgpackCases = []rlLibCase{
	// integers of every width
	{"", `cmsgpack.pack(0), cmsgpack.pack(1), cmsgpack.pack(127)`},
	{"", `cmsgpack.pack(128), cmsgpack.pack(255)`},
	{"", `cmsgpack.pack(256), cmsgpack.pack(65535)`},
	{"", `cmsgpack.pack(65536), cmsgpack.pack(2^32 - 1)`},
	{"", `cmsgpack.pack(2^32), cmsgpack.pack(2^53), cmsgpack.pack(2^62)`},
	{"", `cmsgpack.pack(-1), cmsgpack.pack(-32)`},
	{"", `cmsgpack.pack(-33), cmsgpack.pack(-128)`},
	{"", `cmsgpack.pack(-129), cmsgpack.pack(-32768)`},
	{"", `cmsgpack.pack(-32769), cmsgpack.pack(-2^31)`},
	{"", `cmsgpack.pack(-2^31 - 1), cmsgpack.pack(-2^53), cmsgpack.pack(-2^63)`},
	{"", `cmsgpack.pack(2^63), cmsgpack.pack(2^64), cmsgpack.pack(-2^64)`},
	// floats
	{"", `cmsgpack.pack(0.5), cmsgpack.pack(-1.25), cmsgpack.pack(0.1)`},
	{"", `cmsgpack.pack(1e300), cmsgpack.pack(1e-300), cmsgpack.pack(3.4028234663852886e38)`},
	{"", `cmsgpack.pack(INF), cmsgpack.pack(-INF)`},
	{"local z = 0", `cmsgpack.pack(-z), #cmsgpack.pack(z/z)`},
	{"local z = 0", `cmsgpack.pack(z/z, -(z/z))`},
	{"", `cmsgpack.pack(cjson.decode("nan"), cjson.decode("-nan"), cjson.decode("nan(123)"), cjson.decode("nan(0x7)"), cjson.decode("nan(017)"), cjson.decode("nan(z)"), cjson.decode("nan()"))`},
	// strings of every length class
	{"", `cmsgpack.pack(""), cmsgpack.pack("a"), cmsgpack.pack("\0\255")`},
	{"", `head(cmsgpack.pack(string.rep("x", 31))), head(cmsgpack.pack(string.rep("x", 32)))`},
	{"", `head(cmsgpack.pack(string.rep("x", 255))), head(cmsgpack.pack(string.rep("x", 256)))`},
	{"", `head(cmsgpack.pack(string.rep("x", 65535))), head(cmsgpack.pack(string.rep("x", 65536)))`},
	// other types
	{"", `cmsgpack.pack(true), cmsgpack.pack(false), cmsgpack.pack(nil)`},
	{"", `cmsgpack.pack(tostring), cmsgpack.pack(cjson.null), cmsgpack.pack(coroutine.create(function() end))`},
	// tables
	{"", `cmsgpack.pack({})`},
	{"", `cmsgpack.pack({1, 2, 3})`},
	{"", `cmsgpack.pack({"a", {true, {}}, 0.5})`},
	{"", `cmsgpack.pack({a = 1})`},
	{"", `cmsgpack.pack({[0] = 1})`},
	{"", `cmsgpack.pack({[1.5] = 1})`},
	{"", `cmsgpack.pack({[2] = "b"})`},
	{"", `cmsgpack.pack({[2^31] = 1})`},
	{"", `cmsgpack.pack({[-1] = 1})`},
	{"", `cmsgpack.pack({[true] = false})`},
	{"", `cmsgpack.pack({[{}] = {}})`},
	{"", `cmsgpack.pack({1, nil, 3})`},
	{"local t = {} for i = 1, 15 do t[i] = i end", `cmsgpack.pack(t)`},
	{"local t = {} for i = 1, 16 do t[i] = i end", `head(cmsgpack.pack(t))`},
	{"local t = {} for i = 1, 65535 do t[i] = 1 end", `head(cmsgpack.pack(t))`},
	{"local t = {} for i = 1, 65536 do t[i] = 1 end", `head(cmsgpack.pack(t))`},
	{"local t = {} for i = 1, 16 do t['k' .. i] = i end", `string.sub(cmsgpack.pack(t), 1, 3), mrt(t)`},
	{"local t = {} for i = 1, 65536 do t['k' .. i] = 1 end", `string.sub(cmsgpack.pack(t), 1, 5)`},
	{"", `mrt({a = 1, b = {1, 2}, c = {d = "e"}, [5] = 5, [1.5] = -1})`},
	{"", `mrt({[1] = 1, [3] = 3})`},
	{"", `cmsgpack.pack(deep(15))`},
	{"", `cmsgpack.pack(deep(16))`},
	{"", `cmsgpack.pack(deep(17))`},
	{"", `cmsgpack.pack({a = deep(16)})`},
	{"local t = {} t[1] = t", `cmsgpack.pack(t)`},
	{"", `depth(cmsgpack.unpack(cmsgpack.pack(deep(20))))`},
	// several values
	{"", `cmsgpack.pack(1, "a", {2})`},
	{"", `cmsgpack.pack(nil, nil)`},
	{"", `cmsgpack.pack()`},
	{"", `#cmsgpack.pack(unpack((function() local t = {} for i = 1, 4000 do t[i] = i end return t end)()))`},
	{"", `cmsgpack.pack(unpack((function() local t = {} for i = 1, 4001 do t[i] = i end return t end)()))`},
	{"", `mrt(1, "a", {2}, nil, true)`},
	// unpack
	{"", `cmsgpack.unpack(cmsgpack.pack(1, 2, 3))`},
	{"", `cmsgpack.unpack("")`},
	{"", `cmsgpack.unpack()`},
	{"", `cmsgpack.unpack(nil)`},
	{"", `cmsgpack.unpack(12)`},
	{"", `cmsgpack.unpack({})`},
	{"", `cmsgpack.unpack("\204\255", "ignored")`},
	{"", `cmsgpack.unpack("\0\127\128\224\255")`},
	{"", `cmsgpack.unpack("\204\200\205\1\2\206\1\2\3\4")`},
	{"", `cmsgpack.unpack("\208\128\209\128\0\210\128\0\0\0")`},
	{"", `cmsgpack.unpack("\209\255\1\209\1\255")`},
	{"", `cmsgpack.unpack("\207\255\255\255\255\255\255\255\255")`},
	{"", `cmsgpack.unpack("\207\128\0\0\0\0\0\0\0")`},
	{"", `cmsgpack.unpack("\207\0\0\0\1\0\0\0\0")`},
	{"", `cmsgpack.unpack("\211\128\0\0\0\0\0\0\0")`},
	{"", `cmsgpack.unpack("\211\255\255\255\255\255\255\255\254")`},
	{"", `cmsgpack.unpack("\202\63\192\0\0\203\63\185\153\153\153\153\153\154")`},
	{"", `cmsgpack.unpack("\202\127\128\0\0\202\127\192\0\0")`},
	{"", `cmsgpack.unpack("\192\194\195")`},
	{"", `cmsgpack.unpack("\217\3abc\218\0\3abc\219\0\0\0\3abc\163abc")`},
	{"", `cmsgpack.unpack("\220\0\2\1\2\221\0\0\0\2\1\2\146\1\2")`},
	{"", `cmsgpack.unpack("\222\0\1\1\2\223\0\0\0\1\161a\2\129\161b\3")`},
	{"", `cmsgpack.unpack("\147\1\192\3")`},
	{"", `cmsgpack.unpack("\129\1\192")`},
	{"", `cmsgpack.unpack("\129\192\1")`},
	{"", `cmsgpack.unpack("\129\203\127\248\0\0\0\0\0\0\1")`},
	{"", `cmsgpack.unpack("\130\1\2\1\3")`},
	{"", `cmsgpack.unpack("\193")`},
	{"", `cmsgpack.unpack("\1\196\1a")`},
	{"", `cmsgpack.unpack("\199\1\1a")`},
	{"", `cmsgpack.unpack("\212\1\1")`},
	{"", `cmsgpack.unpack("\146\1\193")`},
	{"", `cmsgpack.unpack("\205\1")`},
	{"", `cmsgpack.unpack("\146\1")`},
	{"", `cmsgpack.unpack("\1\2\146\1")`},
	{"", `cmsgpack.unpack("\217\5abc")`},
	{"", `cmsgpack.unpack("\219\0\0\0\5abc")`},
	{"", `cmsgpack.unpack("\165abc")`},
	{"", `cmsgpack.unpack("\221\255\255\255\255")`},
	{"", `cmsgpack.unpack("\129\1")`},
	{"", `select('#', cmsgpack.unpack(string.rep("\1", 7999)))`},
	{"", `cmsgpack.unpack(string.rep("\1", 8000))`},
	{"", `depth(cmsgpack.unpack(string.rep("\145", 3999) .. "\1"))`},
	{"", `cmsgpack.unpack(string.rep("\145", 4000) .. "\1")`},
	{"", `depth(cmsgpack.unpack(string.rep("\129\1", 3000) .. "\1"))`},
	// unpack_one and unpack_limit
	{"", `cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))`},
	{"", `cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)`},
	{"", `cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)`},
	{"", `cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)`},
	{"", `cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)`},
	{"", `cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)`},
	{"", `cmsgpack.unpack_one("")`},
	{"", `cmsgpack.unpack_one()`},
	{"", `cmsgpack.unpack_one(nil, 1)`},
	{"", `cmsgpack.unpack_limit()`},
	{"", `cmsgpack.unpack_limit(nil, 1)`},
	{"", `cmsgpack.unpack_one("\1", nil)`},
	{"", `cmsgpack.unpack_one("\1", "x")`},
	{"", `cmsgpack.unpack_one("\1\2", "1")`},
	{"", `cmsgpack.unpack_one("\1\2", 0.9)`},
	{"", `cmsgpack.unpack_one("\205\1")`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5)`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 2)`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 9)`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3))`},
	{"", `cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), {})`},
	{"", `cmsgpack.unpack_limit("\1\2\3", 1, 1, "extra")`},
	{"", `select('#', cmsgpack.unpack_limit(string.rep("\1", 8000), 7998))`},
	{"", `cmsgpack.unpack_limit(string.rep("\1", 8000), 7999)`},
	{"", `cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION`},
}

// rlGenMsgpack returns bytes that are mostly MessagePack, with every type
// byte and truncated or oversized payloads.
func rlGenMsgpack(r *rand.Rand, depth int) []byte {
	var b []byte
	switch k := r.IntN(14); {
	case k == 0:
		b = append(b, byte(r.IntN(256)))
	case k < 4:
		c := byte(0xc0 + r.IntN(0x20))
		b = append(b, c)
		n := []int{0, 1, 2, 4, 8, 3, 5, 9}[r.IntN(8)]
		for i := 0; i < n; i++ {
			b = append(b, byte(r.IntN(256)))
		}
	case k < 6:
		n := r.IntN(5)
		b = append(b, byte(0x90+n))
		if r.IntN(2) == 0 {
			b[0] = byte(0x80 + n)
			n *= 2
		}
		if depth < 4 {
			for i := 0; i < n; i++ {
				b = append(b, rlGenMsgpack(r, depth+1)...)
			}
		}
	case k < 8:
		n := r.IntN(6)
		b = append(b, byte(0xa0+n))
		for i := 0; i < n-r.IntN(2); i++ {
			b = append(b, byte('a'+r.IntN(26)))
		}
	case k < 10:
		b = append(b, byte(r.IntN(128)), byte(0xe0+r.IntN(32)))
	case k == 10:
		b = append(b, 0xca)
		b = binary.BigEndian.AppendUint32(b, r.Uint32())
	case k == 11:
		b = append(b, 0xcb)
		b = binary.BigEndian.AppendUint64(b, r.Uint64())
	case k == 12:
		b = append(b, []byte{0xcf, 0xd3, 0xce, 0xd2, 0xcd, 0xd1, 0xcc, 0xd0}[r.IntN(8)])
		b = binary.BigEndian.AppendUint64(b, r.Uint64())
	default:
		n := r.IntN(3)
		b = append(b, []byte{0xdc, 0xde, 0xdd, 0xdf}[r.IntN(4)], 0, byte(n))
		if b[0] >= 0xdd {
			b = append(b, 0, 0)
		}
		if b[0] == 0xde || b[0] == 0xdf {
			n *= 2
		}
		for i := 0; i < n && depth < 4; i++ {
			b = append(b, rlGenMsgpack(r, depth+1)...)
		}
	}
	return b
}

// TestCmsgpackRandomDifferential unpacks generated MessagePack and packs
// generated values (from JSON), on Redis and on gopher-lua. Packed tables
// are compared by length and by unpacking, since map key order may differ.
func TestCmsgpackRandomDifferential(t *testing.T) {
	srv := redistest.Start(t)
	r := rand.New(rand.NewPCG(8, 80))
	var raw []string
	for i := 0; i < 3000; i++ {
		var b []byte
		for n := 1 + r.IntN(3); n > 0; n-- {
			b = append(b, rlGenMsgpack(r, 0)...)
		}
		raw = append(raw, string(b))
	}
	rlRunBatch(t, srv.Addr(), "", `cmsgpack.unpack(x)`, raw)
	rlRunBatch(t, srv.Addr(), "", `cmsgpack.unpack_one(x, #x % 3)`, raw)
	rlRunBatch(t, srv.Addr(), "", `cmsgpack.unpack_limit(x, #x % 4, #x % 2)`, raw)
	rlRunBatch(t, srv.Addr(), "", `(function() local p = cmsgpack.pack(cmsgpack.unpack(x)) return #p, cmsgpack.unpack(p) end)()`, raw)

	var values []string
	for i := 0; i < 2000; i++ {
		values = append(values, rlGenJSON(r, 0))
	}
	for i := 0; i < 2000; i++ {
		values = append(values, rlGenJSONNumber(r))
	}
	rlRunBatch(t, srv.Addr(), "", `(function() local p = cmsgpack.pack(cjson.decode(x)) return #p, cmsgpack.unpack(p) end)()`, values)
	rlRunBatch(t, srv.Addr(), "", `cmsgpack.pack(cjson.decode(x), cjson.decode(x) ~= 0 and -cjson.decode(x) or 1)`, values[2000:])
}

// FuzzCmsgpackUnpack unpacks arbitrary bytes and packs what unpacked; it
// must never panic, and what pack produced must unpack again.
func FuzzCmsgpackUnpack(f *testing.F) {
	for _, s := range []string{"\x93\x01\xa1a\xc3", "\x81\xa1k\x92\xc0\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00",
		"\xdd\xff\xff\xff\xff", "\xdb\x00\x00\x00\x05abc", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "\xc1", "\x81\xc0\x01"} {
		f.Add(s, int64(0))
	}
	L := rlNewLibsState()
	defer L.Close()
	mp := L.GetGlobal("cmsgpack").(*lua.LTable)
	unpack, unpackOne, pack := mp.RawGetString("unpack"), mp.RawGetString("unpack_one"), mp.RawGetString("pack")
	f.Fuzz(func(t *testing.T, in string, off int64) {
		top := L.GetTop()
		defer L.SetTop(top)
		L.CallByParam(lua.P{Fn: unpackOne, NRet: 2, Protect: true}, lua.LString(in), lua.LNumber(off%64))
		L.SetTop(top)
		if err := L.CallByParam(lua.P{Fn: unpack, NRet: lua.MultRet, Protect: true}, lua.LString(in)); err != nil {
			return
		}
		n := L.GetTop() - top
		if n == 0 {
			return
		}
		args := make([]lua.LValue, n)
		for i := range args {
			args[i] = L.Get(top + 1 + i)
		}
		L.SetTop(top)
		if err := L.CallByParam(lua.P{Fn: pack, NRet: 1, Protect: true}, args...); err != nil {
			t.Fatalf("pack of unpacked %q: %v", in, err)
		}
		packed := L.Get(-1)
		L.SetTop(top)
		if err := L.CallByParam(lua.P{Fn: unpack, NRet: lua.MultRet, Protect: true}, packed); err != nil {
			t.Fatalf("unpack(%q) ok, pack gave %q which does not unpack: %v", in, packed, err)
		}
	})
}
