// Package geo is Redis's geospatial arithmetic, reproduced so that every
// result is the same double, the same member set and the same order as
// redis-server 7.0 computes (see src/geohash.c, src/geohash_helper.c and
// src/geo.c).
//
// A point is stored in a sorted set whose score is a 52-bit geohash: the
// latitude and longitude are each scaled to 26 bits over the Mercator
// ranges below and interleaved, latitude in the even bits:
//
//	bit 51 ............................................. bit 0
//	lon25 lat25 lon24 lat24 ... lon1 lat1 lon0 lat0
//
// A search (GEOSEARCH, GEORADIUS) picks a geohash step from the radius,
// scans the score ranges of the centre box and its 8 neighbours, keeps the
// points inside the circle or the box, and sorts them by distance when
// asked.
//
// The package is pure logic: it knows nothing of sorted set storage (a
// search reads through a range function) nor of RESP.
package geo

import (
	"math"
	"strconv"
)

// Coordinate limits (src/geohash.h).
const (
	LatMin  = -85.05112878 // GEO_LAT_MIN
	LatMax  = 85.05112878  // GEO_LAT_MAX
	LongMin = -180.0       // GEO_LONG_MIN
	LongMax = 180.0        // GEO_LONG_MAX
	StepMax = 26           // GEO_STEP_MAX: 52 bits
)

// EarthRadiusInMeters is Earth's quadratic mean radius for WGS-84
// (src/geohash_helper.c EARTH_RADIUS_IN_METERS).
const EarthRadiusInMeters = 6372797.560856

// mercatorMax is MERCATOR_MAX (src/geohash_helper.c).
const mercatorMax = 20037726.37

// dR is D_R, M_PI/180.0 computed in double precision as C does (a Go
// constant expression would be computed exactly, then rounded, which
// may differ in the last bit).
var dR = func() float64 { p := math.Pi; return p / 180.0 }()

func degRad(ang float64) float64 { return float64(ang * dR) }
func radDeg(ang float64) float64 { return float64(ang / dR) }

// Range is a coordinate interval (GeoHashRange).
type Range struct{ Min, Max float64 }

// HashBits is a geohash of Step bits per coordinate (GeoHashBits).
type HashBits struct {
	Bits uint64
	Step uint8
}

// isZero is HASHISZERO.
func (h HashBits) isZero() bool { return h.Bits == 0 && h.Step == 0 }

// Area is the box a geohash covers (GeoHashArea).
type Area struct {
	Hash      HashBits
	Longitude Range
	Latitude  Range
}

var (
	wgs84Long = Range{LongMin, LongMax}
	wgs84Lat  = Range{LatMin, LatMax}
)

func interleave64(xlo, ylo uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | x<<s[i]) & b[i]
		y = (y | y<<s[i]) & b[i]
	}
	return x | y<<1
}

func deinterleave64(v uint64) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	s := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := v, v>>1
	for i := 0; i < 6; i++ {
		x = (x | x>>s[i]) & b[i]
		y = (y | y>>s[i]) & b[i]
	}
	return x | y<<32
}

// Encode is geohashEncode: the step-bit geohash of (lon, lat) over the
// given ranges; false when the point is outside the GEO limits or the
// ranges, or step is not in 1..32.
func Encode(longR, latR Range, lon, lat float64, step uint8) (HashBits, bool) {
	if step > 32 || step == 0 || (latR.Min == 0 && latR.Max == 0) || (longR.Min == 0 && longR.Max == 0) {
		return HashBits{}, false
	}
	if lon > LongMax || lon < LongMin || lat > LatMax || lat < LatMin {
		return HashBits{}, false
	}
	if lat < latR.Min || lat > latR.Max || lon < longR.Min || lon > longR.Max {
		return HashBits{Step: step}, false
	}
	latOff := float64(lat-latR.Min) / float64(latR.Max-latR.Min)
	longOff := float64(lon-longR.Min) / float64(longR.Max-longR.Min)
	latOff = float64(latOff * float64(uint64(1)<<step))
	longOff = float64(longOff * float64(uint64(1)<<step))
	return HashBits{Bits: interleave64(uint32(latOff), uint32(longOff)), Step: step}, true
}

// EncodeWGS84 is geohashEncodeWGS84 over the GEO limits.
func EncodeWGS84(lon, lat float64, step uint8) (HashBits, bool) {
	return Encode(wgs84Long, wgs84Lat, lon, lat, step)
}

// Decode is geohashDecode: the box a geohash covers.
func Decode(longR, latR Range, h HashBits) (Area, bool) {
	if h.isZero() || (latR.Min == 0 && latR.Max == 0) || (longR.Min == 0 && longR.Max == 0) {
		return Area{}, false
	}
	sep := deinterleave64(h.Bits)
	latScale := latR.Max - latR.Min
	longScale := longR.Max - longR.Min
	ilato := uint32(sep)
	ilono := uint32(sep >> 32)
	div := float64(uint64(1) << h.Step)
	a := Area{Hash: h}
	a.Latitude.Min = latR.Min + float64(float64(ilato)/div*latScale)
	a.Latitude.Max = latR.Min + float64(float64(ilato+1)/div*latScale)
	a.Longitude.Min = longR.Min + float64(float64(ilono)/div*longScale)
	a.Longitude.Max = longR.Min + float64(float64(ilono+1)/div*longScale)
	return a, true
}

// center is geohashDecodeAreaToLongLat: the box's centre, clamped.
func (a Area) center() (lon, lat float64) {
	lon = (a.Longitude.Min + a.Longitude.Max) / 2
	lon = min(max(lon, LongMin), LongMax)
	lat = (a.Latitude.Min + a.Latitude.Max) / 2
	lat = min(max(lat, LatMin), LatMax)
	return lon, lat
}

// align52 is geohashAlign52Bits.
func align52(h HashBits) uint64 { return h.Bits << (52 - uint(h.Step)*2) }

// ValidLonLat reports whether a point is inside the GEO limits (what
// GEOADD and FROMLONLAT accept).
func ValidLonLat(lon, lat float64) bool {
	return lon >= LongMin && lon <= LongMax && lat >= LatMin && lat <= LatMax
}

// Score returns the sorted set score GEOADD stores for a point (ok is
// false outside the GEO limits).
func Score(lon, lat float64) (float64, bool) {
	h, ok := EncodeWGS84(lon, lat, StepMax)
	if !ok {
		return 0, false
	}
	return float64(align52(h)), true
}

// DecodeScore is decodeGeohash: the point a score stands for (the centre
// of its 52-bit box).
func DecodeScore(score float64) (lon, lat float64, ok bool) {
	a, ok := Decode(wgs84Long, wgs84Lat, HashBits{Bits: cUint64(score), Step: StepMax})
	if !ok {
		return 0, 0, false
	}
	lon, lat = a.center()
	return lon, lat, true
}

// cUint64 converts a double to uint64 as redis-server built by gcc for
// x86-64 does ((uint64_t)score in decodeGeohash): below 2^63 through a
// signed conversion, else 2^63 is subtracted first and the top bit set
// back; a signed conversion out of range gives 0x8000000000000000. Only
// scores GEOADD never writes (negative, ≥ 2^64, infinite) depend on it:
// +inf and 1e300 decode as 0, -1 as all ones, like Redis's.
func cUint64(x float64) uint64 {
	const two63 = 9223372036854775808.0
	cvtt := func(f float64) uint64 {
		if f >= -two63 && f < two63 {
			return uint64(int64(f))
		}
		return 1 << 63 // the "integer indefinite" value
	}
	if x < two63 || math.IsNaN(x) {
		return cvtt(x)
	}
	return cvtt(x-two63) ^ 1<<63
}

// HashString is the 11-character GEOHASH of a score (geohashCommand): the
// point re-encoded over the standard ranges (-180..180, -90..90), base32,
// with an eleventh character that is always '0'.
func HashString(score float64) (string, bool) {
	lon, lat, ok := DecodeScore(score)
	if !ok {
		return "", false
	}
	h, _ := Encode(Range{-180, 180}, Range{-90, 90}, lon, lat, StepMax)
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	var buf [11]byte
	for i := 0; i < 10; i++ {
		buf[i] = alphabet[(h.Bits>>(52-uint(i+1)*5))&0x1f]
	}
	buf[10] = alphabet[0]
	return string(buf[:]), true
}

// LatDistance is geohashGetLatDistance: the distance in meters between
// two latitudes on one meridian.
func LatDistance(lat1, lat2 float64) float64 {
	return float64(EarthRadiusInMeters * math.Abs(degRad(lat2)-degRad(lat1)))
}

// Distance is geohashGetDistance: the haversine distance in meters.
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := sin((lon2r - lon1r) / 2)
	if v == 0 {
		return LatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := sin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(cos(lat1r)*cos(lat2r))*v)*v)
	return float64(2.0*EarthRadiusInMeters) * asin(math.Sqrt(a))
}

// UnitToMeters returns the factor of a unit name (m, km, ft, mi, any
// case), and false for another name (extractUnitOrReply).
func UnitToMeters(u []byte) (float64, bool) {
	switch string(lowerASCII(u)) {
	case "m":
		return 1, true
	case "km":
		return 1000, true
	case "ft":
		return 0.3048, true
	case "mi":
		return 1609.34, true
	}
	return 0, false
}

func lowerASCII(b []byte) []byte {
	if len(b) > 2 {
		return nil
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// AppendDistance formats a distance as Redis replies it: fixed point with
// 4 decimals, rounded half to even (src/util.c fixedpoint_d2string with
// llrint).
func AppendDistance(b []byte, d float64) []byte {
	if d == 0 {
		return append(b, "0.0000"...)
	}
	v := math.RoundToEven(float64(d * 10000.0))
	if math.IsNaN(v) || v >= 9.2e18 || v <= -9.2e18 {
		return strconv.AppendFloat(b, d, 'f', 4, 64) // llrint would be undefined
	}
	n := int64(v)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	for len(s) < 5 {
		s = "0" + s
	}
	b = append(b, s[:len(s)-4]...)
	b = append(b, '.')
	return append(b, s[len(s)-4:]...)
}

// AppendCoord formats a coordinate as Redis replies it
// (addReplyHumanLongDouble: "%.17Lf" without trailing zeros, "-0" as "0").
func AppendCoord(b []byte, x float64) []byte {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	start := len(b)
	b = strconv.AppendFloat(b, x, 'f', 17, 64)
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if string(b[start:]) == "-0" {
		b = append(b[:start], '0')
	}
	return b
}
