package geo

import (
	"math"
	"sort"
	"strconv"
	"testing"
)

// fuzzSet is a small sorted set of points spread over the globe and
// packed near the edges of the GEO limits.
func fuzzSet() []zmember {
	var z []zmember
	for i := 0; i < 200; i++ {
		lon := LongMin + float64(i%20)*(LongMax-LongMin)/19
		lat := LatMin + float64(i/20)*(LatMax-LatMin)/9
		s, ok := Score(lon, lat)
		if !ok {
			panic("fuzzSet: point outside the limits")
		}
		z = append(z, zmember{"p" + strconv.Itoa(i), s})
	}
	sort.Slice(z, func(i, j int) bool { return z[i].s < z[j].s || (z[i].s == z[j].s && z[i].m < z[j].m) })
	return z
}

// FuzzSearch feeds arbitrary centres and sizes (infinities, NaN, huge,
// tiny) to the encoder and the search: nothing may panic, every point
// found must pass the shape test it was found by, and a search must not
// return a member twice.
func FuzzSearch(f *testing.F) {
	f.Add(13.361389, 38.115556, 200.0, 100.0, false, 1000.0)
	f.Add(180.0, 85.05112878, 1e7, 1e7, true, 1.0)
	f.Add(-180.0, -85.05112878, 0.0, 0.0, false, 0.3048)
	f.Add(0.0, 0.0, math.Inf(1), 5.0, true, 1609.34)
	z := fuzzSet()
	f.Fuzz(func(t *testing.T, lon, lat, a, b float64, box bool, conv float64) {
		if s, ok := Score(lon, lat); ok {
			if _, _, ok := DecodeScore(s); !ok {
				t.Fatalf("DecodeScore(Score(%v, %v)) failed", lon, lat)
			}
			HashString(s)
		}
		if !ValidLonLat(lon, lat) || a < 0 || b < 0 || !(conv > 0) {
			return // the parsers reject these before a search
		}
		sh := Shape{Box: box, Lon: lon, Lat: lat, Radius: a, Width: a, Height: b, Conversion: conv}
		pts := Search(&sh, zrange(z), 0)
		seen := map[string]bool{}
		for _, p := range pts {
			if seen[string(p.Member)] {
				t.Fatalf("%+v: %s found twice", sh, p.Member)
			}
			seen[string(p.Member)] = true
			if _, _, _, ok := sh.within(p.Score); !ok {
				t.Fatalf("%+v: %s is outside", sh, p.Member)
			}
		}
		Sort(pts, false, len(pts)/2)
		AppendDistance(nil, a)
		AppendCoord(nil, b)
	})
}
