package geo

import (
	"strconv"
	"testing"
)

// BenchmarkDistance measures one haversine distance (with cgo: three C
// library calls).
func BenchmarkDistance(b *testing.B) {
	b.ReportAllocs()
	x := 0.0
	for i := 0; i < b.N; i++ {
		x += Distance(13.361389, 38.115556, 15.087269+float64(i&7), 37.502669)
	}
	_ = x
}

// BenchmarkSearch measures a radius search over a 200-point set.
func BenchmarkSearch(b *testing.B) {
	z := fuzzSet()
	for _, radius := range []float64{500, 5000} {
		b.Run("radius_km="+strconv.Itoa(int(radius)), func(b *testing.B) {
			b.ReportAllocs()
			sh := Shape{Lon: 10, Lat: 40, Radius: radius, Conversion: 1000}
			for i := 0; i < b.N; i++ {
				Search(&sh, zrange(z), 0)
			}
		})
	}
}
