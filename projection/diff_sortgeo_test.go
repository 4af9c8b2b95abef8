package projection

import (
	"strconv"
	"testing"
)

// geoCenters are the areas the geo workload draws points around: two
// cities, the origin, and corners next to the GEO limits.
var geoCenters = [][2]float64{{13.361389, 38.115556}, {-73.98, 40.75}, {0, 0}, {179.5, 84.5}, {-179.9, -84.9}}

func (w *workload) geoPoint() (string, string) {
	c := geoCenters[w.r.IntN(len(geoCenters))]
	lon := min(max(c[0]+(w.r.Float64()*2-1)*w.r.Float64()*3, -180), 180)
	lat := min(max(c[1]+(w.r.Float64()*2-1)*w.r.Float64()*3, -85.05112878), 85.05112878)
	return strconv.FormatFloat(lon, 'f', -1, 64), strconv.FormatFloat(lat, 'f', -1, 64)
}

func (w *workload) geoKey() string {
	if w.r.IntN(8) == 0 {
		return w.key() // any type: WRONGTYPE on the primary, nothing propagated
	}
	return "g" + strconv.Itoa(w.r.IntN(4))
}

func (w *workload) dstKey() string {
	if w.r.IntN(4) == 0 {
		return w.key()
	}
	return "d" + strconv.Itoa(w.r.IntN(4))
}

func pickOne(w *workload, s ...string) string { return s[w.r.IntN(len(s))] }

// geoOpts appends a random radius or box, order and COUNT [ANY].
func (w *workload) geoOpts(c []string, byRadius bool) []string {
	size := strconv.FormatFloat(float64(1+w.r.IntN(400))*pow10(w.r.IntN(3)), 'f', -1, 64)
	unit := pickOne(w, "m", "km", "mi", "ft", "KM")
	if unit == "m" || unit == "ft" {
		size += "000"
	}
	if byRadius {
		c = append(c, size, unit)
	} else {
		c = append(c, size, strconv.Itoa(1+w.r.IntN(300)), unit)
	}
	switch w.r.IntN(3) {
	case 1:
		c = append(c, "ASC")
	case 2:
		c = append(c, "DESC")
	}
	if w.r.IntN(3) == 0 {
		c = append(c, "COUNT", strconv.Itoa(1+w.r.IntN(8)))
		if w.r.IntN(2) == 0 {
			c = append(c, "ANY")
		}
	}
	return c
}

func pow10(n int) float64 {
	f := 1.0
	for range n {
		f *= 10
	}
	return f
}

// sortGeoCommand is the extra generator of TestDifferentialSortGeo.
func sortGeoCommand(w *workload) []string {
	switch n := w.r.IntN(100); {
	case n < 25: // GEOADD (a ZADD on the link)
		c := []string{"GEOADD", w.geoKey()}
		for range 1 + w.r.IntN(4) {
			lon, lat := w.geoPoint()
			c = append(c, lon, lat, w.member())
		}
		return c
	case n < 35: // GEOSEARCHSTORE
		c := []string{"GEOSEARCHSTORE", w.dstKey(), w.geoKey()}
		if w.r.IntN(2) == 0 {
			c = append(c, "FROMMEMBER", w.member())
		} else {
			lon, lat := w.geoPoint()
			c = append(c, "FROMLONLAT", lon, lat)
		}
		radius := w.r.IntN(2) == 0
		if radius {
			c = append(c, "BYRADIUS")
		} else {
			c = append(c, "BYBOX")
		}
		c = w.geoOpts(c, radius)
		if w.r.IntN(2) == 0 {
			c = append(c, "STOREDIST")
		}
		return c
	case n < 43: // GEORADIUS … STORE|STOREDIST
		lon, lat := w.geoPoint()
		c := w.geoOpts([]string{"GEORADIUS", w.geoKey(), lon, lat}, true)
		return append(c, pickOne(w, "STORE", "STOREDIST"), w.dstKey())
	case n < 50: // GEORADIUSBYMEMBER … STORE|STOREDIST
		c := w.geoOpts([]string{"GEORADIUSBYMEMBER", w.geoKey(), w.member()}, true)
		return append(c, pickOne(w, "STORE", "STOREDIST"), w.dstKey())
	case n < 58: // the keys BY and GET patterns read
		m := w.member()
		if w.r.IntN(2) == 0 {
			v := strconv.Itoa(w.r.IntN(50) - 10)
			if w.r.IntN(6) == 0 {
				v = pickOne(w, "x"+m, "1.5", "", " 7", "inf", "nan")
			}
			return []string{"SET", "w_" + m, v}
		}
		return []string{"HSET", "h_" + m, "f", strconv.Itoa(w.r.IntN(50)), "s", "s" + m}
	case n < 66: // sources: lists, sets, sorted sets of members
		k := "s" + strconv.Itoa(w.r.IntN(4))
		c := []string{pickOne(w, "RPUSH", "SADD"), k}
		if k == "s3" {
			c[0] = "ZADD"
		}
		for range 1 + w.r.IntN(5) {
			if c[0] == "ZADD" {
				c = append(c, strconv.Itoa(w.r.IntN(10)))
			}
			c = append(c, w.member())
		}
		if k == "s0" {
			c[0] = "RPUSH" // s0 is always a list: ALPHA BY sorts it
		}
		return c
	default: // SORT … STORE
		src := "s" + strconv.Itoa(w.r.IntN(4))
		if w.r.IntN(8) == 0 {
			src = w.key()
		}
		c := []string{"SORT", src}
		alpha := w.r.IntN(3) == 0
		by := ""
		switch w.r.IntN(5) {
		case 0:
			by = "w_*"
		case 1:
			by = "h_*->f"
		case 2:
			by = "nosort"
		}
		// ALPHA BY orders ties by where they start (glibc's stable qsort,
		// or Redis's pqsort with LIMIT): only a list has an input order
		// both sides share (a set's is the primary's hash order).
		if alpha && by != "" && by != "nosort" {
			src = "s0"
			c[1] = src
		}
		if by != "" {
			c = append(c, "BY", by)
		}
		if w.r.IntN(3) == 0 {
			c = append(c, "LIMIT", strconv.Itoa(w.r.IntN(6)-1), strconv.Itoa(w.r.IntN(8)-2))
		}
		for range w.r.IntN(3) {
			c = append(c, "GET", pickOne(w, "#", "w_*", "h_*->s", "h_*->f", "nokey"))
		}
		if w.r.IntN(2) == 0 {
			c = append(c, pickOne(w, "ASC", "DESC"))
		}
		if alpha {
			c = append(c, "ALPHA")
		}
		return append(c, "STORE", w.dstKey())
	}
}

func TestDifferentialSortGeo(t *testing.T) {
	forSeeds(t, 3, 3000, 20, 20000, func(t *testing.T, seed int64, ops int) { runDifferentialMix(t, seed, ops, sortGeoCommand) })
}
