package script

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/vdr-project/vdr/internal/redistest"
)

var rlBitCases = []rlLibCase{
	{"", `bit.tobit(0), bit.tobit(1), bit.tobit(-1), bit.tobit(2^31), bit.tobit(2^31 - 1)`},
	{"", `bit.tobit(2^32), bit.tobit(2^32 + 5), bit.tobit(-2^32 - 1), bit.tobit(0xffffffff)`},
	{"", `bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-2.5), bit.tobit(0.4999), bit.tobit(-0.5)`},
	{"", `bit.tobit(2^52), bit.tobit(2^52 + 3), bit.tobit(2^53 + 2), bit.tobit(2^64), bit.tobit(1e300)`},
	{"local z = 0", `bit.tobit(INF), bit.tobit(-INF), bit.tobit(z/z)`},
	{"", `bit.tobit("10"), bit.tobit("0x10"), bit.tobit(" 7 "), bit.tobit("1e3")`},
	{"", `bit.tobit(cjson.decode("nan(123)")), bit.tobit(cjson.decode("-nan")), bit.bnot(cjson.decode("nan(0xffffffffffffffff)"))`},
	{"", `bit.tobit("abc")`},
	{"", `bit.tobit("")`},
	{"", `bit.tobit()`},
	{"", `bit.tobit(nil)`},
	{"", `bit.tobit(true)`},
	{"", `bit.tobit({})`},
	{"", `bit.bnot(0), bit.bnot(-1), bit.bnot(0x12345678), bit.bnot(2^31)`},
	{"", `bit.band(0xff, 0x0f, 0x3), bit.band(-1, 2^31), bit.band(1)`},
	{"", `bit.bor(1, 2, 4, 8), bit.bor(2^31, 1), bit.bor(0)`},
	{"", `bit.bxor(5, 3), bit.bxor(-1, 0x0f0f0f0f), bit.bxor(1, 1, 1)`},
	{"", `bit.band()`},
	{"", `bit.band(1, "x")`},
	{"", `bit.bor(1, 2, nil)`},
	{"", `bit.bxor({}, 1)`},
	{"", `bit.lshift(1, 0), bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.lshift(1, -1)`},
	{"", `bit.lshift(0x7fffffff, 1), bit.lshift(-1, 4), bit.lshift(3, 2.5)`},
	{"", `bit.rshift(-1, 28), bit.rshift(-1, 0), bit.rshift(2^31, 31), bit.rshift(256, 36)`},
	{"", `bit.arshift(-256, 4), bit.arshift(2^31, 31), bit.arshift(0x7fffffff, 30), bit.arshift(-1, 40)`},
	{"", `bit.rol(0x12345678, 8), bit.rol(1, 0), bit.rol(1, 31), bit.rol(2^31, 1), bit.rol(1, 32)`},
	{"", `bit.ror(0x12345678, 8), bit.ror(1, 0), bit.ror(1, 1), bit.ror(1, 32), bit.ror(1, -1)`},
	{"", `bit.lshift(1)`},
	{"", `bit.rol("x", 1)`},
	{"", `bit.bswap(0x12345678), bit.bswap(-1), bit.bswap(0), bit.bswap(0xff)`},
	{"", `bit.tohex(255), bit.tohex(-1), bit.tohex(0), bit.tohex(0x12345678)`},
	{"", `bit.tohex(255, 2), bit.tohex(255, -4), bit.tohex(0x12345678, 12), bit.tohex(1, 0), bit.tohex(0xabcdef, -3)`},
	{"", `bit.tohex(2^32 + 10, 1), bit.tohex(-1, -8), bit.tohex(1, 2^32 + 3)`},
	{"", `bit.tohex(1, nil)`},
	{"", `bit.tohex()`},
	{"", `bit.tohex("ff")`},
	{"", `bit.tohex("0xff")`},
}

func rlGenBitNumber(r *rand.Rand) float64 {
	switch r.IntN(8) {
	case 0:
		return []float64{0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 1 << 31, 1<<31 - 1, -(1 << 31), 1 << 32, 1<<32 - 1,
			1 << 52, 1 << 53, 1 << 63, 1 << 64, 1e300, -1e300, 6755399441055744, 4503599627370496.5}[r.IntN(21)]
	case 1:
		return float64(r.Int32())
	case 2:
		return float64(r.Uint32())
	case 3:
		return (r.Float64() - 0.5) * math.Pow(2, float64(r.IntN(70)))
	case 4:
		return float64(r.Int64N(1<<53) - 1<<52)
	case 5:
		return float64(r.IntN(80) - 40)
	case 6:
		return math.Float64frombits(r.Uint64())
	}
	return float64(r.IntN(1<<20)) + float64(r.IntN(4))/4
}

// TestBitRandomDifferential runs every bit function on generated numbers.
// The numbers travel as JSON text, which both sides read with cjson.
func TestBitRandomDifferential(t *testing.T) {
	srv := redistest.Start(t)
	r := rand.New(rand.NewPCG(9, 90))
	var inputs []string
	for i := 0; i < 3000; i++ {
		a, b := rlGenBitNumber(r), rlGenBitNumber(r)
		if math.IsNaN(a) || math.IsNaN(b) {
			continue
		}
		inputs = append(inputs, "["+rlFmtG(a, 17)+","+rlFmtG(b, 17)+","+strconv.Itoa(r.IntN(21)-10)+"]")
	}
	const setup = "local c = cjson.new() c.decode_invalid_numbers(true)"
	rlRunBatch(t, srv.Addr(), setup, `(function() local a = c.decode(x) return
		bit.tobit(a[1]), bit.bnot(a[1]), bit.band(a[1], a[2]), bit.bor(a[1], a[2]), bit.bxor(a[1], a[2], a[3]),
		bit.lshift(a[1], a[2]), bit.rshift(a[1], a[2]), bit.arshift(a[1], a[2]), bit.rol(a[1], a[2]),
		bit.ror(a[1], a[2]), bit.bswap(a[1]), bit.tohex(a[1]), bit.tohex(a[1], a[3]), bit.lshift(a[1], a[3]),
		bit.arshift(a[2], a[3]) end)()`, inputs)
}
