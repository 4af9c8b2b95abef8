package geo

import (
	"math"
	"sort"

	"github.com/vdr-project/vdr/internal/pqsort"
)

// Shape is a search area (GeoShape): a circle of Radius, or a box of
// Width × Height, in the unit whose factor to meters is Conversion,
// centred on (Lon, Lat).
type Shape struct {
	Box                   bool // RECTANGLE_TYPE; false: CIRCULAR_TYPE
	Lon, Lat              float64
	Radius, Width, Height float64
	Conversion            float64
}

// bounds is geohashBoundingBox: min lon, min lat, max lon, max lat.
func (s *Shape) bounds() [4]float64 {
	var height, width float64
	if s.Box {
		height = float64(s.Conversion * (s.Height / 2))
		width = float64(s.Conversion * (s.Width / 2))
	} else {
		height = float64(s.Conversion * s.Radius)
		width = height
	}
	latDelta := radDeg(height / EarthRadiusInMeters)
	longDeltaTop := radDeg(float64(width/EarthRadiusInMeters) / cos(degRad(s.Lat+latDelta)))
	longDeltaBottom := radDeg(float64(width/EarthRadiusInMeters) / cos(degRad(s.Lat-latDelta)))
	var b [4]float64
	if s.Lat < 0 {
		b[0], b[2] = s.Lon-longDeltaBottom, s.Lon+longDeltaBottom
	} else {
		b[0], b[2] = s.Lon-longDeltaTop, s.Lon+longDeltaTop
	}
	b[1], b[3] = s.Lat-latDelta, s.Lat+latDelta
	return b
}

// estimateSteps is geohashEstimateStepsByRadius.
func estimateSteps(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), 26))
}

// Interleaved geohash bits: longitude in the odd positions, latitude in
// the even ones.
const (
	lonBits uint64 = 0xaaaaaaaaaaaaaaaa
	latBits uint64 = 0x5555555555555555
)

func moveX(h *HashBits, d int) { move(h, d, lonBits) }
func moveY(h *HashBits, d int) { move(h, d, latBits) }

// move steps the coordinate whose bits are mine by one cell in the
// direction of d's sign (0: none), wrapping within the hash's step, and
// leaves the other coordinate's bits alone.
func move(h *HashBits, d int, mine uint64) {
	if d == 0 {
		return
	}
	c := h.Bits & mine
	other := h.Bits &^ mine
	zz := ^mine >> (64 - uint(h.Step)*2) // the other coordinate's bits: carries ripple through them
	if d > 0 {
		c = c + (zz + 1)
	} else {
		c = c | zz
		c = c - (zz + 1)
	}
	c &= mine >> (64 - uint(h.Step)*2)
	h.Bits = c | other
}

// Neighbour indexes, in the order membersOfAllNeighbors scans them.
const (
	nCenter = iota
	nNorth
	nSouth
	nEast
	nWest
	nNorthEast
	nNorthWest
	nSouthEast
	nSouthWest
)

// neighbors is geohashNeighbors, returned in scan order (centre first).
func neighbors(h HashBits) [9]HashBits {
	var n [9]HashBits
	for i := range n {
		n[i] = h
	}
	mv := func(i, dx, dy int) { moveX(&n[i], dx); moveY(&n[i], dy) }
	mv(nEast, 1, 0)
	mv(nWest, -1, 0)
	mv(nSouth, 0, -1)
	mv(nNorth, 0, 1)
	mv(nNorthWest, -1, 1)
	mv(nNorthEast, 1, 1)
	mv(nSouthEast, 1, -1)
	mv(nSouthWest, -1, -1)
	return n
}

// areas is geohashCalculateAreasByShapeWGS84: the centre box and its
// neighbours, in scan order, with useless ones zeroed.
func (s *Shape) areas() [9]HashBits {
	b := s.bounds()
	minLon, minLat, maxLon, maxLat := b[0], b[1], b[2], b[3]
	var radiusMeters float64
	if s.Box {
		hw, hh := s.Width/2, s.Height/2
		radiusMeters = math.Sqrt(float64(hw*hw) + float64(hh*hh))
	} else {
		radiusMeters = s.Radius
	}
	radiusMeters = float64(radiusMeters * s.Conversion)
	steps := estimateSteps(radiusMeters, s.Lat)
	h, _ := EncodeWGS84(s.Lon, s.Lat, steps)
	n := neighbors(h)
	area, _ := Decode(wgs84Long, wgs84Lat, h)
	decrease := false
	{
		north, _ := Decode(wgs84Long, wgs84Lat, n[nNorth])
		south, _ := Decode(wgs84Long, wgs84Lat, n[nSouth])
		east, _ := Decode(wgs84Long, wgs84Lat, n[nEast])
		west, _ := Decode(wgs84Long, wgs84Lat, n[nWest])
		if north.Latitude.Max < maxLat || south.Latitude.Min > minLat ||
			east.Longitude.Max < maxLon || west.Longitude.Min > minLon {
			decrease = true
		}
	}
	if steps > 1 && decrease {
		steps--
		h, _ = EncodeWGS84(s.Lon, s.Lat, steps)
		n = neighbors(h)
		area, _ = Decode(wgs84Long, wgs84Lat, h)
	}
	if steps >= 2 {
		zero := func(is ...int) {
			for _, i := range is {
				n[i] = HashBits{}
			}
		}
		if area.Latitude.Min < minLat {
			zero(nSouth, nSouthWest, nSouthEast)
		}
		if area.Latitude.Max > maxLat {
			zero(nNorth, nNorthEast, nNorthWest)
		}
		if area.Longitude.Min < minLon {
			zero(nWest, nSouthWest, nNorthWest)
		}
		if area.Longitude.Max > maxLon {
			zero(nEast, nSouthEast, nNorthEast)
		}
	}
	return n
}

// within is geoWithinShape: whether the point a score stands for is in
// the shape, with its decoded position and its distance (meters) from
// the centre.
func (s *Shape) within(score float64) (lon, lat, dist float64, ok bool) {
	lon, lat, ok = DecodeScore(score)
	if !ok {
		return 0, 0, 0, false
	}
	if !s.Box {
		dist = Distance(s.Lon, s.Lat, lon, lat)
		return lon, lat, dist, dist <= float64(s.Radius*s.Conversion)
	}
	widthM, heightM := float64(s.Width*s.Conversion), float64(s.Height*s.Conversion)
	if LatDistance(lat, s.Lat) > heightM/2 {
		return lon, lat, 0, false
	}
	if Distance(lon, lat, s.Lon, lat) > widthM/2 {
		return lon, lat, 0, false
	}
	return lon, lat, Distance(s.Lon, s.Lat, lon, lat), true
}

// Point is one search result. Member aliases what the range function
// handed out. Dist is in meters until Search's caller converts it.
type Point struct {
	Member   []byte
	Score    float64
	Lon, Lat float64
	Dist     float64
}

// RangeFunc visits the members of a sorted set with min ≤ score < max in
// (score, member) order until fn returns false.
type RangeFunc func(min, max float64, fn func(member []byte, score float64) bool)

// Search is membersOfAllNeighbors: the points of the sorted set inside
// the shape, in the order Redis finds them (box by box, each in score
// order). With limit > 0 (COUNT … ANY) it stops once limit points are
// found. Distances are in meters.
func Search(s *Shape, zrange RangeFunc, limit int) []Point {
	n := s.areas()
	var pts []Point
	last := 0 // as in Redis, 0 also means "none yet": never compared with the centre
	for i, h := range n {
		if h.isZero() {
			continue
		}
		if last != 0 && h == n[last] {
			continue // huge radius: adjacent neighbours can be the same box
		}
		if len(pts) > 0 && limit > 0 && len(pts) >= limit {
			break
		}
		lo := align52(h)
		h.Bits++
		hi := align52(h)
		zrange(float64(lo), float64(hi), func(m []byte, score float64) bool {
			if lon, lat, d, ok := s.within(score); ok {
				pts = append(pts, Point{Member: m, Score: score, Lon: lon, Lat: lat, Dist: d})
			}
			return !(len(pts) > 0 && limit > 0 && len(pts) >= limit)
		})
		last = i
	}
	return pts
}

// Sort orders points by distance, ascending or descending, as Redis
// does: with count 0 (or not below len(pts)) glibc's qsort, a merge sort,
// so equal distances keep the order found; else Redis's partial quicksort
// of the first count places (see package pqsort), whose order for equal
// distances is its own.
func Sort(pts []Point, desc bool, count int) {
	if count <= 0 || count >= len(pts) {
		if desc {
			sort.SliceStable(pts, func(i, j int) bool { return pts[i].Dist > pts[j].Dist })
			return
		}
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].Dist < pts[j].Dist })
		return
	}
	pqsort.Sort(byDist{pts, desc}, 0, count-1)
}

// byDist is sort_gp_asc / sort_gp_desc.
type byDist struct {
	p    []Point
	desc bool
}

func (b byDist) Len() int      { return len(b.p) }
func (b byDist) Swap(i, j int) { b.p[i], b.p[j] = b.p[j], b.p[i] }
func (b byDist) Cmp(i, j int) int {
	c := 0
	if b.p[i].Dist > b.p[j].Dist {
		c = 1
	} else if b.p[i].Dist < b.p[j].Dist {
		c = -1
	}
	if b.desc {
		return -c
	}
	return c
}
