// Package fpconv formats doubles exactly as Redis 7.2+ and Valkey do in
// replies: the Grisu2 digits of deps/fpconv/fpconv_dtoa.c (a port of
// night-shift/fpconv) with its own layout rules, and d2string's special
// cases around it (src/util.c).
//
// Grisu2 gives digits that read back as the same double, nearly always
// the shortest such, but not always: strconv's shortest form is not a
// substitute, so this is a line-by-line port of the C code.
//
// It does not parse doubles, and it does not do 7.0's "%.17g".
package fpconv

import (
	"math"
	"strconv"
)

const (
	fracMask  = 0x000FFFFFFFFFFFFF
	expMask   = 0x7FF0000000000000
	hiddenBit = 0x0010000000000000
	signMask  = 0x8000000000000000
	expBias   = 1023 + 52

	nPowers    = 87   // npowers
	stepPowers = 8    // steppowers
	firstPower = -348 // firstpower: 10^-348
	expMax     = -32  // expmax
	expMin     = -60  // expmin
)

var tens = [...]uint64{
	10000000000000000000, 1000000000000000000, 100000000000000000,
	10000000000000000, 1000000000000000, 100000000000000, 10000000000000,
	1000000000000, 100000000000, 10000000000, 1000000000, 100000000,
	10000000, 1000000, 100000, 10000, 1000, 100, 10, 1,
}

// fp is a double as a 64-bit fraction and a binary exponent (struct Fp).
type fp struct {
	frac uint64
	exp  int
}

// powersTen are the cached normalized powers of ten (fpconv_powers.h).
var powersTen = [nPowers]fp{
	{18054884314459144840, -1220}, {13451937075301367670, -1193},
	{10022474136428063862, -1166}, {14934650266808366570, -1140},
	{11127181549972568877, -1113}, {16580792590934885855, -1087},
	{12353653155963782858, -1060}, {18408377700990114895, -1034},
	{13715310171984221708, -1007}, {10218702384817765436, -980},
	{15227053142812498563, -954}, {11345038669416679861, -927},
	{16905424996341287883, -901}, {12595523146049147757, -874},
	{9384396036005875287, -847}, {13983839803942852151, -821},
	{10418772551374772303, -794}, {15525180923007089351, -768},
	{11567161174868858868, -741}, {17236413322193710309, -715},
	{12842128665889583758, -688}, {9568131466127621947, -661},
	{14257626930069360058, -635}, {10622759856335341974, -608},
	{15829145694278690180, -582}, {11793632577567316726, -555},
	{17573882009934360870, -529}, {13093562431584567480, -502},
	{9755464219737475723, -475}, {14536774485912137811, -449},
	{10830740992659433045, -422}, {16139061738043178685, -396},
	{12024538023802026127, -369}, {17917957937422433684, -343},
	{13349918974505688015, -316}, {9946464728195732843, -289},
	{14821387422376473014, -263}, {11042794154864902060, -236},
	{16455045573212060422, -210}, {12259964326927110867, -183},
	{18268770466636286478, -157}, {13611294676837538539, -130},
	{10141204801825835212, -103}, {15111572745182864684, -77},
	{11258999068426240000, -50}, {16777216000000000000, -24},
	{12500000000000000000, 3}, {9313225746154785156, 30},
	{13877787807814456755, 56}, {10339757656912845936, 83},
	{15407439555097886824, 109}, {11479437019748901445, 136},
	{17105694144590052135, 162}, {12744735289059618216, 189},
	{9495567745759798747, 216}, {14149498560666738074, 242},
	{10542197943230523224, 269}, {15709099088952724970, 295},
	{11704190886730495818, 322}, {17440603504673385349, 348},
	{12994262207056124023, 375}, {9681479787123295682, 402},
	{14426529090290212157, 428}, {10748601772107342003, 455},
	{16016664761464807395, 481}, {11933345169920330789, 508},
	{17782069995880619868, 534}, {13248674568444952270, 561},
	{9871031767461413346, 588}, {14708983551653345445, 614},
	{10959046745042015199, 641}, {16330252207878254650, 667},
	{12166986024289022870, 694}, {18130221999122236476, 720},
	{13508068024458167312, 747}, {10064294952495520794, 774},
	{14996968138956309548, 800}, {11173611982879273257, 827},
	{16649979327439178909, 853}, {12405201291620119593, 880},
	{9242595204427927429, 907}, {13772540099066387757, 933},
	{10261342003245940623, 960}, {15290591125556738113, 986},
	{11392378155556871081, 1013}, {16975966327722178521, 1039},
	{12648080533535911531, 1066},
}

// findCachedPow10 is find_cachedpow10.
func findCachedPow10(exp int) (fp, int) {
	const oneLogTen = 0.30102999566398114
	approx := int(float64(-(exp + nPowers)) * oneLogTen)
	idx := (approx - firstPower) / stepPowers
	for {
		current := exp + powersTen[idx].exp + 64
		if current < expMin {
			idx++
			continue
		}
		if current > expMax {
			idx--
			continue
		}
		return powersTen[idx], firstPower + idx*stepPowers
	}
}

func buildFp(d float64) fp {
	bits := math.Float64bits(d)
	f := fp{frac: bits & fracMask, exp: int((bits & expMask) >> 52)}
	if f.exp != 0 {
		f.frac += hiddenBit
		f.exp -= expBias
	} else {
		f.exp = -expBias + 1
	}
	return f
}

func normalize(f *fp) {
	for f.frac&hiddenBit == 0 {
		f.frac <<= 1
		f.exp--
	}
	const shift = 64 - 52 - 1
	f.frac <<= shift
	f.exp -= shift
}

func normalizedBoundaries(f *fp) (lower, upper fp) {
	upper.frac = (f.frac << 1) + 1
	upper.exp = f.exp - 1
	for upper.frac&(hiddenBit<<1) == 0 {
		upper.frac <<= 1
		upper.exp--
	}
	const uShift = 64 - 52 - 2
	upper.frac <<= uShift
	upper.exp -= uShift

	lShift := 1
	if f.frac == hiddenBit {
		lShift = 2
	}
	lower.frac = (f.frac << lShift) - 1
	lower.exp = f.exp - lShift
	lower.frac <<= uint(lower.exp - upper.exp)
	lower.exp = upper.exp
	return lower, upper
}

func multiply(a, b fp) fp {
	const loMask = 0x00000000FFFFFFFF
	ahBl := (a.frac >> 32) * (b.frac & loMask)
	alBh := (a.frac & loMask) * (b.frac >> 32)
	alBl := (a.frac & loMask) * (b.frac & loMask)
	ahBh := (a.frac >> 32) * (b.frac >> 32)
	tmp := (ahBl & loMask) + (alBh & loMask) + (alBl >> 32)
	tmp += 1 << 31 // round up
	return fp{ahBh + (ahBl >> 32) + (alBh >> 32) + (tmp >> 32), a.exp + b.exp + 64}
}

func roundDigit(digits []byte, ndigits int, delta, rem, kappa, frac uint64) {
	for rem < frac && delta-rem >= kappa &&
		(rem+kappa < frac || frac-rem > rem+kappa-frac) {
		digits[ndigits-1]--
		rem += kappa
	}
}

func generateDigits(f, upper, lower fp, digits []byte, K *int) int {
	wfrac := upper.frac - f.frac
	delta := upper.frac - lower.frac
	oneExp := uint(-upper.exp)
	oneFrac := uint64(1) << oneExp
	part1 := upper.frac >> oneExp
	part2 := upper.frac & (oneFrac - 1)

	idx, kappa := 0, 10
	for divp := 10; kappa > 0; divp++ {
		div := tens[divp]
		digit := uint32(part1 / div)
		if digit != 0 || idx != 0 {
			digits[idx] = byte(digit) + '0'
			idx++
		}
		part1 -= uint64(digit) * div
		kappa--
		tmp := (part1 << oneExp) + part2
		if tmp <= delta {
			*K += kappa
			roundDigit(digits, idx, delta, tmp, div<<oneExp, wfrac)
			return idx
		}
	}
	unit := 18 // tens[18] == 10
	for {
		part2 *= 10
		delta *= 10
		kappa--
		digit := uint32(part2 >> oneExp)
		if digit != 0 || idx != 0 {
			digits[idx] = byte(digit) + '0'
			idx++
		}
		part2 &= oneFrac - 1
		if part2 < delta {
			*K += kappa
			roundDigit(digits, idx, delta, part2, oneFrac, wfrac*tens[unit])
			return idx
		}
		unit--
	}
}

func grisu2(d float64, digits []byte) (ndigits, K int) {
	w := buildFp(d)
	lower, upper := normalizedBoundaries(&w)
	normalize(&w)
	cp, k := findCachedPow10(upper.exp)
	w = multiply(w, cp)
	upper = multiply(upper, cp)
	lower = multiply(lower, cp)
	lower.frac++
	upper.frac--
	K = -k
	n := generateDigits(w, upper, lower, digits, &K)
	return n, K
}

func absv(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// emitDigits is emit_digits: plain integer, plain decimal, or
// scientific with an unpadded exponent ("1e+20", "1.5e-7").
func emitDigits(b []byte, digits []byte, ndigits, K int, neg bool) []byte {
	exp := absv(K + ndigits - 1)
	if K >= 0 && exp < ndigits+7 {
		b = append(b, digits[:ndigits]...)
		for i := 0; i < K; i++ {
			b = append(b, '0')
		}
		return b
	}
	if K < 0 && (K > -7 || exp < 4) {
		offset := ndigits - absv(K)
		if offset <= 0 {
			b = append(b, '0', '.')
			for i := 0; i < -offset; i++ {
				b = append(b, '0')
			}
			return append(b, digits[:ndigits]...)
		}
		b = append(b, digits[:offset]...)
		b = append(b, '.')
		return append(b, digits[offset:ndigits]...)
	}
	lim := 18
	if neg {
		lim = 17
	}
	ndigits = min(ndigits, lim)
	b = append(b, digits[0])
	if ndigits > 1 {
		b = append(b, '.')
		b = append(b, digits[1:ndigits]...)
	}
	b = append(b, 'e')
	if K+ndigits-1 < 0 {
		b = append(b, '-')
	} else {
		b = append(b, '+')
	}
	cent := 0
	if exp > 99 {
		cent = exp / 100
		b = append(b, byte(cent)+'0')
		exp -= cent * 100
	}
	if exp > 9 {
		dec := exp / 10
		b = append(b, byte(dec)+'0')
		exp -= dec * 10
	} else if cent != 0 {
		b = append(b, '0')
	}
	return append(b, byte(exp%10)+'0')
}

// AppendDtoa appends fpconv_dtoa(d): "0" for ±0 (with the sign), "nan",
// "inf" as the C code writes them, otherwise Grisu2's digits.
func AppendDtoa(b []byte, d float64) []byte {
	bits := math.Float64bits(d)
	neg := bits&signMask != 0
	if neg {
		b = append(b, '-')
	}
	if d == 0 {
		return append(b, '0')
	}
	if bits&expMask == expMask {
		if bits&fracMask != 0 {
			return append(b, "nan"...)
		}
		return append(b, "inf"...)
	}
	var digits [18]byte
	n, K := grisu2(d, digits[:])
	return emitDigits(b, digits[:], n, K, neg)
}

// AppendD2String appends d as Redis 7.2's d2string (src/util.c) writes
// it: "nan", "inf", "-inf", "0"/"-0", integers in ±LLONG_MAX/2 as
// integers (double2ll), everything else through fpconv_dtoa.
func AppendD2String(b []byte, d float64) []byte {
	switch {
	case math.IsNaN(d):
		return append(b, "nan"...)
	case math.IsInf(d, 1):
		return append(b, "inf"...)
	case math.IsInf(d, -1):
		return append(b, "-inf"...)
	case d == 0:
		if math.Signbit(d) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	// double2ll: (double)(-LLONG_MAX/2) and (double)(LLONG_MAX/2) round to
	// ±2^62.
	const half = float64(math.MaxInt64 / 2)
	if d >= -half && d <= half {
		if ll := int64(d); float64(ll) == d {
			return strconv.AppendInt(b, ll, 10)
		}
	}
	return AppendDtoa(b, d)
}
