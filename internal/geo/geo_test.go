package geo

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano() % 1_000_000)
	if s := os.Getenv("SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("bad SEED %q", s)
		}
		seed = v
	}
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	return seed
}

// zmember is one element of the in-memory sorted set the searches run on.
type zmember struct {
	m string
	s float64
}

// zrange is a RangeFunc over members sorted by (score, member).
func zrange(z []zmember) RangeFunc {
	return func(min, max float64, fn func([]byte, float64) bool) {
		i := sort.Search(len(z), func(i int) bool { return z[i].s >= min })
		for ; i < len(z) && z[i].s < max; i++ {
			if !fn([]byte(z[i].m), z[i].s) {
				return
			}
		}
	}
}

func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func fstr(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// randPoint draws a point, often on or next to an edge of the GEO limits.
func randPoint(r *rand.Rand) (lon, lat float64) {
	lon = LongMin + r.Float64()*(LongMax-LongMin)
	lat = LatMin + r.Float64()*(LatMax-LatMin)
	switch r.IntN(12) {
	case 0:
		lon = []float64{LongMin, LongMax, 0, -0.0000001, 179.9999999}[r.IntN(5)]
	case 1:
		lat = []float64{LatMin, LatMax, 0, 85.05112877, -85.0511287}[r.IntN(5)]
	case 2:
		lon, lat = lon/1000, lat/1000 // around (0, 0)
	}
	return lon, lat
}

func TestGeoAgainstRedis(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 7))
	srv := redistest.Start(t)
	do := func(args ...string) string { return srv.Do(t, args...) }

	const n = 400
	lons, lats := make([]float64, n), make([]float64, n)
	add := []string{"GEOADD", "g"}
	var z []zmember
	for i := range n {
		lons[i], lats[i] = randPoint(r)
		m := "m" + strconv.Itoa(i)
		add = append(add, fstr(lons[i]), fstr(lats[i]), m)
		s, ok := Score(lons[i], lats[i])
		if !ok {
			t.Fatalf("Score(%v, %v) not ok", lons[i], lats[i])
		}
		z = append(z, zmember{m, s})
	}
	if got := do(add...); got != ":"+strconv.Itoa(n)+"\r\n" {
		t.Fatalf("GEOADD: %q", got)
	}
	sort.Slice(z, func(i, j int) bool {
		if z[i].s != z[j].s {
			return z[i].s < z[j].s
		}
		return z[i].m < z[j].m
	})

	// Scores, GEOHASH, GEOPOS, member by member.
	for i := range n {
		m := "m" + strconv.Itoa(i)
		s, _ := Score(lons[i], lats[i])
		if got, want := do("ZSCORE", "g", m), bulk(strconv.FormatFloat(s, 'f', -1, 64)); got != want {
			t.Fatalf("score of (%v, %v): redis %q, ours %q", lons[i], lats[i], got, want)
		}
		h, _ := HashString(s)
		if got, want := do("GEOHASH", "g", m), "*1\r\n"+bulk(h); got != want {
			t.Fatalf("GEOHASH of (%v, %v): redis %q, ours %q", lons[i], lats[i], got, want)
		}
		lon, lat, _ := DecodeScore(s)
		want := "*1\r\n*2\r\n" + bulk(string(AppendCoord(nil, lon))) + bulk(string(AppendCoord(nil, lat)))
		if got := do("GEOPOS", "g", m); got != want {
			t.Fatalf("GEOPOS of (%v, %v): redis %q, ours %q", lons[i], lats[i], got, want)
		}
	}

	units := []string{"m", "km", "ft", "mi", "KM"}
	// GEODIST on random pairs.
	for range 300 {
		i, j := r.IntN(n), r.IntN(n)
		u := units[r.IntN(len(units))]
		conv, _ := UnitToMeters([]byte(u))
		si, _ := Score(lons[i], lats[i])
		sj, _ := Score(lons[j], lats[j])
		x1, y1, _ := DecodeScore(si)
		x2, y2, _ := DecodeScore(sj)
		want := bulk(string(AppendDistance(nil, Distance(x1, y1, x2, y2)/conv)))
		if got := do("GEODIST", "g", "m"+strconv.Itoa(i), "m"+strconv.Itoa(j), u); got != want {
			t.Fatalf("GEODIST m%d m%d %s: redis %q, ours %q", i, j, u, got, want)
		}
	}

	// Searches: the member set, order and distances of GEOSEARCH … WITHDIST
	// WITHHASH WITHCOORD, in scan order and sorted, with COUNT [ANY].
	for k := range 400 {
		lon, lat := randPoint(r)
		u := units[r.IntN(len(units))]
		conv, _ := UnitToMeters([]byte(u))
		sh := Shape{Lon: lon, Lat: lat, Conversion: conv}
		args := []string{"GEOSEARCH", "g", "FROMLONLAT", fstr(lon), fstr(lat)}
		size := math.Pow(10, r.Float64()*7) / conv // 1 m .. 10000 km
		if k%2 == 0 {
			sh.Radius = size
			args = append(args, "BYRADIUS", fstr(size), u)
		} else {
			sh.Box, sh.Width, sh.Height = true, size, size*(0.2+2*r.Float64())
			args = append(args, "BYBOX", fstr(sh.Width), fstr(sh.Height), u)
		}
		order, count, anyOpt := r.IntN(3), 0, false
		switch order {
		case 1:
			args = append(args, "ASC")
		case 2:
			args = append(args, "DESC")
		}
		if r.IntN(3) == 0 {
			count = 1 + r.IntN(20)
			args = append(args, "COUNT", strconv.Itoa(count))
			if r.IntN(2) == 0 {
				anyOpt = true
				args = append(args, "ANY")
			}
		}
		args = append(args, "WITHDIST", "WITHHASH", "WITHCOORD")
		limit := 0
		if anyOpt {
			limit = count
		}
		pts := Search(&sh, zrange(z), limit)
		if count > 0 && order == 0 && !anyOpt {
			order = 1
		}
		if order != 0 {
			Sort(pts, order == 2, count)
		}
		if count > 0 && len(pts) > count {
			pts = pts[:count]
		}
		var want bytes.Buffer
		fmt.Fprintf(&want, "*%d\r\n", len(pts))
		for _, p := range pts {
			want.WriteString("*4\r\n" + bulk(string(p.Member)) + bulk(string(AppendDistance(nil, p.Dist/conv))))
			fmt.Fprintf(&want, ":%d\r\n", int64(p.Score))
			want.WriteString("*2\r\n" + bulk(string(AppendCoord(nil, p.Lon))) + bulk(string(AppendCoord(nil, p.Lat))))
		}
		if got := do(args...); got != want.String() {
			t.Fatalf("%s:\nredis %q\nours  %q", strings.Join(args, " "), got, want.String())
		}
	}
}

// TestGeoEdges checks what needs no server: the encoding limits, the
// round trip of a score, and the reply formats.
func TestGeoEdges(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 11))
	for _, c := range [][2]float64{{LongMin - 1e-9, 0}, {LongMax + 1e-9, 0}, {0, LatMax + 1e-9}, {0, LatMin - 1e-9}} {
		if _, ok := Score(c[0], c[1]); ok {
			t.Errorf("Score(%v, %v) accepted a point outside the limits", c[0], c[1])
		}
	}
	for range 100000 {
		lon, lat := randPoint(r)
		s, ok := Score(lon, lat)
		if !ok || s < 0 || s >= 1<<54 { // the maxima scale to 2^26, one past 26 bits, as in Redis
			t.Fatalf("Score(%v, %v) = %v, %v", lon, lat, s, ok)
		}
		if lon == LongMax || lat == LatMax {
			continue // wraps, as in Redis
		}
		x, y, ok := DecodeScore(s)
		// A 52-bit box is about 0.6 m wide: the centre is within 1e-5°.
		if !ok || math.Abs(x-lon) > 1e-5 || math.Abs(y-lat) > 1e-5 {
			t.Fatalf("round trip of (%v, %v): (%v, %v)", lon, lat, x, y)
		}
		if _, ok := HashString(s); !ok {
			t.Fatalf("HashString(%v) failed", s)
		}
	}
	f := func(d float64, want string) {
		t.Helper()
		if got := string(AppendDistance(nil, d)); got != want {
			t.Errorf("AppendDistance(%v) = %q, want %q", d, got, want)
		}
	}
	f(0, "0.0000")
	f(0.0001, "0.0001")
	f(6.0642951598391699e-05, "0.0001")
	f(0.00005, "0.0000") // half to even
	f(1234.56785, "1234.5678")
	g := func(x float64, want string) {
		t.Helper()
		if got := string(AppendCoord(nil, x)); got != want {
			t.Errorf("AppendCoord(%v) = %q, want %q", x, got, want)
		}
	}
	g(-0.0, "0")
	g(13.5, "13.5")
	g(-180, "-180")
	g(1e-18, "0")
}
