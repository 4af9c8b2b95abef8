package server

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/geo"
	"github.com/vdr-project/vdr/internal/redistest"
)

// The read-side differential test for geo and SORT_RO: a real primary
// feeds a real replica and vdr's projection; seeded random GEOPOS GEODIST
// GEOHASH GEOSEARCH GEORADIUS_RO GEORADIUSBYMEMBER_RO SORT_RO (and the
// write forms GEORADIUS, GEORADIUSBYMEMBER, SORT, which a read-only
// replica refuses) go to both, in RESP2 and RESP3, and the raw replies
// are compared byte for byte. Only a SORT_RO whose order is the source
// set's hash order (BY nosort on a set) is compared as a multiset.

var sgCenters = [][2]float64{{13.361389, 38.115556}, {-73.98, 40.75}, {0, 0}, {179.5, 84.5}, {-179.9, -84.9}}

type sgGen struct {
	r       *rand.Rand
	members []string
}

func (g *sgGen) pick(ss ...string) string { return ss[g.r.IntN(len(ss))] }

func (g *sgGen) point() (string, string) {
	c := sgCenters[g.r.IntN(len(sgCenters))]
	lon := min(max(c[0]+(g.r.Float64()*2-1)*g.r.Float64()*3, -180), 180)
	lat := min(max(c[1]+(g.r.Float64()*2-1)*g.r.Float64()*3, -85.05112878), 85.05112878)
	return strconv.FormatFloat(lon, 'f', -1, 64), strconv.FormatFloat(lat, 'f', -1, 64)
}

func (g *sgGen) member() string {
	if g.r.IntN(12) == 0 {
		return "nosuch"
	}
	return g.members[g.r.IntN(len(g.members))]
}

func (g *sgGen) geoKey() string {
	switch g.r.IntN(14) {
	case 0:
		return "missing:geo"
	case 1:
		return "sl:0" // a list: WRONGTYPE
	case 2:
		return "geo:bad" // scores no GEOADD gives
	}
	return "geo:" + strconv.Itoa(g.r.IntN(3))
}

func (g *sgGen) unit() string {
	if g.r.IntN(30) == 0 {
		return "yd"
	}
	return g.pick("m", "km", "mi", "ft", "KM", "Mi")
}

func (g *sgGen) size(unit string) string {
	f := float64(1+g.r.IntN(500)) * []float64{1, 10, 100}[g.r.IntN(3)]
	switch strings.ToLower(unit) {
	case "m", "ft":
		f *= 1000
	}
	if g.r.IntN(40) == 0 {
		return g.pick("-1", "abc", "0", "inf", "1e300", "0.0001")
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// opts appends order, COUNT [ANY] and WITH* options in random order.
func (g *sgGen) opts(c []string) []string {
	var o [][]string
	switch g.r.IntN(3) {
	case 1:
		o = append(o, []string{"ASC"})
	case 2:
		o = append(o, []string{"DESC"})
	}
	if g.r.IntN(3) == 0 {
		cnt := []string{"COUNT", strconv.Itoa(1 + g.r.IntN(10))}
		if g.r.IntN(40) == 0 {
			cnt[1] = g.pick("0", "-3", "x")
		}
		if g.r.IntN(2) == 0 {
			cnt = append(cnt, "ANY")
		}
		o = append(o, cnt)
	} else if g.r.IntN(40) == 0 {
		o = append(o, []string{"ANY"}) // ANY without COUNT: an error
	}
	for _, w := range []string{"WITHCOORD", "WITHDIST", "WITHHASH"} {
		if g.r.IntN(2) == 0 {
			o = append(o, []string{w})
		}
	}
	g.r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
	for _, x := range o {
		c = append(c, x...)
	}
	return c
}

// next returns a read and whether its reply is compared as a multiset.
func (g *sgGen) next() ([]string, bool) {
	switch n := g.r.IntN(100); {
	case n < 8:
		c := []string{"GEOPOS", g.geoKey()}
		for range 1 + g.r.IntN(4) {
			c = append(c, g.member())
		}
		return c, false
	case n < 16:
		c := []string{"GEODIST", g.geoKey(), g.member(), g.member()}
		switch g.r.IntN(4) {
		case 0:
			c = append(c, g.unit())
		case 1:
			c = append(c, g.unit(), "extra")
		}
		return c, false
	case n < 22:
		c := []string{"GEOHASH", g.geoKey()}
		for range 1 + g.r.IntN(4) {
			c = append(c, g.member())
		}
		return c, false
	case n < 45:
		c := []string{g.pick("GEOSEARCH", "geosearch"), g.geoKey()}
		var from, by []string
		if g.r.IntN(2) == 0 {
			from = []string{"FROMMEMBER", g.member()}
		} else {
			lon, lat := g.point()
			if g.r.IntN(40) == 0 {
				lon = g.pick("181", "inf", "-inf")
			}
			from = []string{"FROMLONLAT", lon, lat}
		}
		u := g.unit()
		if g.r.IntN(2) == 0 {
			by = []string{"BYRADIUS", g.size(u), u}
		} else {
			by = []string{"BYBOX", g.size(u), g.size(u), u}
		}
		switch g.r.IntN(30) {
		case 0:
			from = nil
		case 1:
			by = nil
		}
		if g.r.IntN(2) == 0 {
			from, by = by, from
		}
		c = append(append(c, from...), by...)
		return g.opts(c), false
	case n < 57:
		lon, lat := g.point()
		u := g.unit()
		c := []string{"GEORADIUS_RO", g.geoKey(), lon, lat, g.size(u), u}
		c = g.opts(c)
		if g.r.IntN(30) == 0 {
			c = append(c, "STORE", "dst") // not an option of the _RO form
		}
		return c, false
	case n < 67:
		u := g.unit()
		return g.opts([]string{"GEORADIUSBYMEMBER_RO", g.geoKey(), g.member(), g.size(u), u}), false
	case n < 70:
		// write commands: a read-only replica refuses them
		lon, lat := g.point()
		return []string{g.pick("GEORADIUS", "SORT"), g.geoKey(), lon, lat, "10", "km"}[:g.pick3()], false
	default:
		return g.sortRO()
	}
}

// pick3 cuts the write command above to a plausible length.
func (g *sgGen) pick3() int { return []int{2, 6}[g.r.IntN(2)] }

func (g *sgGen) sortRO() ([]string, bool) {
	src := g.pick("sl:0", "sl:1", "ss:0", "ss:1", "sz:0", "missing:s", "str:s", "geo:0")
	c := []string{g.pick("SORT_RO", "sort_ro"), src}
	alpha := g.r.IntN(3) == 0
	by := ""
	switch g.r.IntN(5) {
	case 0:
		by = "w_*"
	case 1:
		by = "h_*->f"
	case 2:
		by = "nosort"
	}
	// ALPHA BY orders ties by where they start (glibc's stable qsort, or
	// Redis's pqsort with LIMIT): only a list's or an intset's order is
	// shared. BY nosort on a hashtable set keeps the primary's hash order:
	// compare as a multiset, and without LIMIT.
	realBy := by != "" && by != "nosort"
	if alpha && realBy && !strings.HasPrefix(src, "sl:") && src != "ss:0" {
		src = g.pick("sl:0", "ss:0")
		c[1] = src
	}
	set := src == "ss:1" && by == "nosort" // ss:0 is an intset: ascending
	if by != "" {
		c = append(c, "BY", by)
	}
	if g.r.IntN(3) == 0 && !set {
		c = append(c, "LIMIT", strconv.Itoa(g.r.IntN(6)-1), strconv.Itoa(g.r.IntN(8)-2))
	}
	for range g.r.IntN(3) {
		c = append(c, "GET", g.pick("#", "w_*", "h_*->s", "h_*->f", "nokey", "h_*->"))
	}
	if g.r.IntN(2) == 0 {
		c = append(c, g.pick("ASC", "DESC"))
	}
	if alpha {
		c = append(c, "ALPHA")
	}
	if g.r.IntN(30) == 0 {
		c = append(c, g.pick("STORE", "BOGUS"), "dst")
	}
	return c, set
}

// sgDataset writes geo sets, SORT sources and the keys BY/GET patterns
// read, and returns the geo members.
func sgDataset(tb testing.TB, r *rand.Rand, f feeder) []string {
	g := &sgGen{r: r}
	var members []string
	for i := range 60 {
		members = append(members, "p"+strconv.Itoa(i))
	}
	members = append(members, "12", "7", "-3", strings.Repeat("long", 20))
	// Three geo sets: one small enough to stay a listpack, two skiplists.
	// A primary propagates GEOADD as ZADD with the geohash scores, and the
	// feeder applies what it sends to the primary: write that ZADD.
	for k, n := range []int{6, 60, 64} {
		c := []string{"ZADD", "geo:" + strconv.Itoa(k)}
		for _, m := range members[len(members)-n:] {
			lon, lat := g.point()
			x, _ := strconv.ParseFloat(lon, 64)
			y, _ := strconv.ParseFloat(lat, 64)
			s, ok := geo.Score(x, y)
			if !ok {
				tb.Fatalf("geo.Score(%s, %s) failed", lon, lat)
			}
			c = append(c, strconv.FormatFloat(s, 'f', -1, 64), m)
		}
		f.write(tb, 0, c...)
	}
	f.write(tb, 0, "ZADD", "geo:bad", "-1", "p0", "1e300", "p1", "1e17", "p2", "4503599627370496", "p3",
		"inf", "p4", "-inf", "p5", "0.5", "p6", "9007199254740993", "p7")
	// SORT sources: lists (with repeats), sets (an intset, a hashtable), a
	// sorted set; and the pattern keys, some missing, some not numbers.
	sortMembers := []string{"a", "b", "c", "10", "2", "-5", "1.5", "zz", "m1", "m2", "m3", "x y"}
	for i, k := range []string{"sl:0", "sl:1"} {
		c := []string{"RPUSH", k}
		for range 8 + 8*i {
			c = append(c, sortMembers[r.IntN(len(sortMembers))])
		}
		f.write(tb, 0, c...)
	}
	f.write(tb, 0, "SADD", "ss:0", "5", "3", "11", "-2", "8")
	c := []string{"SADD", "ss:1"}
	c = append(c, sortMembers...)
	f.write(tb, 0, c...)
	c = []string{"ZADD", "sz:0"}
	for i, m := range sortMembers {
		c = append(c, strconv.Itoa(i%4), m)
	}
	f.write(tb, 0, c...)
	f.write(tb, 0, "SET", "str:s", "v")
	for _, m := range append(sortMembers, "5", "3", "11", "-2", "8") {
		switch r.IntN(6) {
		case 0:
			continue // missing
		case 1:
			f.write(tb, 0, "SET", "w_"+m, g.pick("x"+m, " 4", "1e3", ""))
		default:
			f.write(tb, 0, "SET", "w_"+m, strconv.Itoa(r.IntN(40)-10))
		}
		if r.IntN(4) != 0 {
			f.write(tb, 0, "HSET", "h_"+m, "f", strconv.Itoa(r.IntN(40)), "s", "s-"+m)
		}
	}
	f.sync(tb)
	return members
}

func TestDifferentialSortGeoReads(t *testing.T) {
	sd := seed(t)
	r := rand.New(rand.NewPCG(uint64(sd), 0x6e0))
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0")
	redistest.WaitFor(t, 15*time.Second, "replica link up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up"
	})
	proj := newProjection(t)
	ver := asPrimary(t, proj, primary.Addr()) // before any write: encodings are chosen as writes apply
	f := &applyFeed{primary: dialRaw(t, primary.Addr()), proj: proj}
	members := sgDataset(t, r, f)
	vdr := startVDR(t, Options{Projection: proj, Compat: ver})
	n := 3000
	if os.Getenv("VDR_LONG") != "" {
		n = 50000
	}
	for _, proto := range []string{"2", "3"} {
		rc, vc := dialRaw(t, replica.Addr()), dialRaw(t, vdr.Addr())
		if proto == "3" {
			if rr, vr := rc.dos("HELLO", "3"), vc.dos("HELLO", "3"); len(rr) == 0 || len(vr) == 0 {
				t.Fatal("HELLO 3 failed")
			}
		}
		g := &sgGen{r: r, members: members}
		fails := 0
		for i := 0; i < n && fails < maxDiffFails(); i++ {
			args, multiset := g.next()
			wb, gb := rc.do(bs(args...)...), vc.do(bs(args...)...)
			want, got := string(wb), string(gb)
			if multiset {
				want, got = unordered(args, wb), unordered(args, gb)
			}
			if want != got {
				fails++
				t.Errorf("RESP%s #%d %q:\n redis: %.600q\n   vdr: %.600q%s", proto, i, args, want, got, firstDiff(want, got))
			}
		}
	}
}
