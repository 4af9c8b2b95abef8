package projection

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/rdbparse"
)

// Packed members of sorted sets (zpack.go): every write path packs what
// it should, the pack stays in (score, member bytes) order whatever the
// coded forms' order, every read gives back the members' own bytes, and a
// projection with Options.PlainText answers exactly alike.

// zpackMembers mixes members that are coded (base64 and hex of 12 and
// more characters) with ones that are not, chosen so that coded forms
// sort otherwise than the members: in bytes - < 0 < B < _ < a, in the
// base64 alphabet's numbering B < a < 0 < - < _, and hex has another
// codec byte.
var zpackMembers = []string{
	"a", "B", "0", "-", "_", "",
	"aaaaaaaaaaaa", "aaaaaaaaaaa", "aaaaaaaaaaaaa", "BBBBBBBBBBBB", "000000000000", "------------", "____________",
	"0123456789ab", "0123456789AB", "abcdefabcdef", "ABCDEFABCDEF", "abcdefabcdeg", "Zm9vYmFyYmF6cXV4",
	"a+/bcdefghijk", "hello, world!", "member0", "0000000000000000000000000000000000000000000000000000000000000000",
}

// readZSet describes everything the read API gives for a sorted set, the
// same for both projections when packing is right.
func readZSet(p *Projection, key string, probes []string) string {
	var b strings.Builder
	get(p, 0, key, func(x Value) {
		fmt.Fprintf(&b, "%s %s len %d\n", x.Type(), x.Encoding(), x.Len())
		d, _ := x.Dump()
		fmt.Fprintf(&b, "dump %x\n", d)
		if x.Kind() != KindZSet {
			return
		}
		var ms [][]byte
		var ss []float64
		x.ZRangeByRank(0, -1, false, func(m []byte, s float64) bool { ms, ss = append(ms, m), append(ss, s); return true })
		first := fmt.Sprintf("%q", ms)
		pair := func(m []byte, s float64) bool { fmt.Fprintf(&b, " %q:%v", m, s); return true }
		line := func(format string, a ...any) { fmt.Fprintf(&b, "\n"+format+":", a...) }
		for i := range ms {
			r, s, ok := x.ZRank(ms[i], false)
			rr, _, _ := x.ZRank(ms[i], true)
			zs, zok := x.ZScore(ms[i])
			line("%q %v rank %d %v %v rev %d score %v %v", ms[i], ss[i], r, s, ok, rr, zs, zok)
		}
		for _, m := range append(probes, "nope", packable) {
			r, _, ok := x.ZRank([]byte(m), false)
			s, sok := x.ZScore([]byte(m))
			line("probe %q %d %v %v %v", m, r, ok, s, sok)
		}
		line("rev")
		x.ZRangeByRank(0, -1, true, pair)
		line("tail")
		x.ZRangeByRank(-3, -2, true, pair)
		line("each")
		x.ZEach(pair)
		if len(ss) > 0 {
			lo, hi := ScoreBound{Score: ss[0]}, ScoreBound{Score: ss[len(ss)/2], Exclusive: true}
			line("byscore count %d", x.ZCount(lo, hi))
			x.ZRangeByScore(lo, hi, false, 0, -1, pair)
			line("byscore rev limit")
			x.ZRangeByScore(lo, ScoreBound{Score: ss[len(ss)-1]}, true, 1, 3, pair)
		}
		bounds := []LexBound{{Inf: -1}, {Inf: 1}}
		for _, m := range append(probes, "nope") {
			bounds = append(bounds, LexBound{Value: []byte(m)}, LexBound{Value: []byte(m), Exclusive: true})
		}
		for _, lo := range bounds {
			for _, hi := range bounds {
				line("lex %v %v count %d", lo, hi, x.ZLexCount(lo, hi))
				x.ZRangeByLex(lo, hi, false, 0, -1, pair)
				line("lex rev")
				x.ZRangeByLex(lo, hi, true, 0, -1, pair)
				line("lex rev limit")
				x.ZRangeByLex(lo, hi, true, 1, 2, pair)
			}
		}
		line("random")
		for _, n := range []int{1, 3, -2 * len(ms), len(ms) + 1} {
			x.ZRandom(rand.New(rand.NewPCG(1, 2)), n, func(m []byte, s float64) { pair(m, s) })
		}
		line("scan")
		for c := uint64(0); ; {
			if c = x.ZScan(c, 10, func(m []byte, s float64) { pair(m, s) }); c == 0 {
				break
			}
		}
		// what a read handed out is still intact after all the others
		if again := fmt.Sprintf("%q", ms); again != first {
			line("members changed: %s, were %s", again, first)
		}
		b.WriteByte('\n')
	})
	return b.String()
}

// zcodedCount counts key's coded members, and fails when one that should
// be coded (or not) is stored otherwise or the projection is not sane.
func zcodedCount(t *testing.T, p *Projection, key string) int {
	t.Helper()
	tp, n := p.textPack(), 0
	get(p, 0, key, func(x Value) {
		if err := p.sane(); err != nil {
			t.Error(err)
		}
		if x.Kind() != KindZSet || !x.o.zset().isLP() {
			return
		}
		pack := x.o.zset().pk.bytes()
		for off := 0; off < len(pack); {
			e, coded, _, next := zpackNext(pack, off)
			v := appendEntry(nil, e, coded)
			if _, want, _ := entryNext(entryAppend(nil, v, tp), 0); coded != want {
				t.Errorf("%s: %q stored coded=%v, want %v", key, v, coded, want)
			}
			if coded {
				n++
			}
			off = next
		}
	})
	return n
}

// zsame checks that key reads alike in both projections and returns how
// many of the packed one's members are coded.
func (pp *packedPair) zsame(t *testing.T, key string, probes ...string) int {
	t.Helper()
	a, b := readZSet(pp.p, key, probes), readZSet(pp.q, key, probes)
	if strings.Contains(a, "members changed") {
		t.Fatalf("%s:\n%s", key, a)
	}
	if a != b {
		t.Fatalf("%s reads differently: %s", key, firstDiff(a, b))
	}
	if n := zcodedCount(t, pp.q, key); n != 0 {
		t.Errorf("%s: %d coded members with PlainText", key, n)
	}
	return zcodedCount(t, pp.p, key)
}

// firstDiff shows the first line where two descriptions differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n%.2000s\n%.2000s", i, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines, %d lines", len(la), len(lb))
}

// zcard returns key's ZCARD.
func zcard(p *Projection, key string) (n int) {
	get(p, 0, key, func(x Value) { n = x.Len() })
	return n
}

// unordered drops from a description the lines of reads whose order is
// a big sorted set's insertion order (ZRANDMEMBER, ZSCAN), for keys of
// different histories.
func unordered(d string) string {
	var out []string
	for _, l := range strings.Split(d, "\n") {
		if !strings.HasPrefix(l, "random:") && !strings.HasPrefix(l, "scan:") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// zmembers returns key's members in order.
func zmembers(p *Projection, key string) []string {
	var out []string
	get(p, 0, key, func(x Value) {
		x.ZRangeByRank(0, -1, false, func(m []byte, _ float64) bool { out = append(out, string(m)); return true })
	})
	return out
}

// TestZPackOrder: members of one score, added in any order, come back in
// byte order, and lex ranges cut them where the bytes say.
func TestZPackOrder(t *testing.T) {
	want := slices.Clone(zpackMembers)
	slices.Sort(want)
	r := rand.New(rand.NewPCG(7, 7))
	for round := 0; round < 4; round++ {
		pp := newPackedPair(t, nil)
		order := slices.Clone(zpackMembers)
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for i := 0; i < len(order); i += 3 {
			c := []string{"ZADD", "z"}
			for _, m := range order[i:min(i+3, len(order))] {
				c = append(c, "1", m)
			}
			pp.apply(t, c...)
		}
		if got := zmembers(pp.p, "z"); !slices.Equal(got, want) {
			t.Fatalf("order %q:\ngot  %q\nwant %q", order, got, want)
		}
		if n := pp.zsame(t, "z", "a", "B", "0", "-", "_", "aaaaaaaaaaaa", "0123456789ab", "____________"); n < 12 {
			t.Fatalf("%d members coded", n)
		}
		// lex ranges against the raw order
		get(pp.p, 0, "z", func(x Value) {
			for _, lo := range want {
				for _, hi := range want {
					minB, maxB := LexBound{Value: []byte(lo)}, LexBound{Value: []byte(hi), Exclusive: true}
					var exp, got []string
					for _, m := range want {
						if lexAboveMin([]byte(m), minB) && lexBelowMax([]byte(m), maxB) {
							exp = append(exp, m)
						}
					}
					x.ZRangeByLex(minB, maxB, false, 0, -1, func(m []byte, _ float64) bool { got = append(got, string(m)); return true })
					if !slices.Equal(got, exp) || x.ZLexCount(minB, maxB) != len(exp) {
						t.Fatalf("[%q (%q: %q, count %d, want %q", lo, hi, got, x.ZLexCount(minB, maxB), exp)
					}
				}
			}
		})
		pp.apply(t, "ZRANGESTORE", "st", "z", "[0", "(b", "BYLEX")
		pp.apply(t, "ZRANGESTORE", "st2", "z", "[_", "(-", "BYLEX", "REV", "LIMIT", "1", "5")
		pp.apply(t, "ZREMRANGEBYLEX", "z", "(0", "[aaaaaaaaaaaa")
		pp.apply(t, "ZADD", "z", "1", "BBBBBBBBBBBC", "1", "000000000001")
		for _, k := range []string{"z", "st", "st2"} {
			pp.zsame(t, k, "0", "aaaaaaaaaaaa", "BBBBBBBBBBBB")
		}
	}
}

// TestZPackWrites runs every write path of sorted sets on members of both
// kinds.
func TestZPackWrites(t *testing.T) {
	pp := newPackedPair(t, nil)
	probes := []string{packable, unpackable, "abcdefabcdef", "a"}
	pp.apply(t, "ZADD", "z", "1", packable, "2", unpackable, "2", "abcdefabcdef", "2", "ABCDEFABCDEF", "3", "a", "-1.5", packable2)
	if n := pp.zsame(t, "z", probes...); n != 4 {
		t.Fatalf("ZADD: %d coded, want 4", n)
	}
	pp.apply(t, "ZADD", "z", "NX", "9", packable, "9", "QUJDREVGR0hJSktM")
	pp.apply(t, "ZADD", "z", "XX", "CH", "2", packable, "7", "not-there-at-all")
	pp.apply(t, "ZADD", "z", "GT", "1", unpackable, "5", "abcdefabcdef")
	pp.apply(t, "ZADD", "z", "LT", "0", "ABCDEFABCDEF")
	pp.apply(t, "ZADD", "z", "INCR", "10", "QUJDREVGR0hJSktM")
	pp.apply(t, "ZINCRBY", "z", "-3", packable2)
	pp.apply(t, "ZINCRBY", "z", "2.25", "fedcba9876543210")
	pp.zsame(t, "z", probes...)
	pp.apply(t, "ZREM", "z", "a", "nope", "abcdefabcdef")
	pp.apply(t, "ZADD", "z", "4", "abcdefabcdef", "4", "aaaaaaaaaaaa", "4", "____________", "4", "b")
	pp.zsame(t, "z", probes...)
	pp.apply(t, "COPY", "z", "z2")
	pp.apply(t, "ZPOPMIN", "z2")
	pp.apply(t, "ZPOPMAX", "z2", "2")
	pp.apply(t, "ZREMRANGEBYSCORE", "z2", "(3", "4")
	pp.apply(t, "ZREMRANGEBYRANK", "z2", "1", "1")
	pp.zsame(t, "z2", probes...)
	pp.apply(t, "RENAME", "z2", "z3")
	pp.zsame(t, "z3", probes...)
	pp.apply(t, "SADD", "s", packable, "0123456789abcdef00", "x")
	pp.apply(t, "ZADD", "y", "5", packable, "6", "0123456789abcdef00", "7", "zzzzzzzzzzzzzzzz")
	pp.apply(t, "ZUNIONSTORE", "u", "3", "z", "y", "s", "WEIGHTS", "1", "2", "3", "AGGREGATE", "MAX")
	pp.apply(t, "ZINTERSTORE", "i", "2", "z", "s")
	pp.apply(t, "ZDIFFSTORE", "d", "2", "z", "y")
	pp.apply(t, "ZRANGESTORE", "rs", "z", "1", "4", "BYSCORE", "LIMIT", "1", "3")
	pp.apply(t, "ZRANGESTORE", "rr", "z", "0", "-1", "REV")
	for _, k := range []string{"u", "i", "d", "rs", "rr", "y"} {
		if pp.zsame(t, k, probes...) == 0 && k != "i" {
			t.Errorf("%s: nothing coded", k)
		}
	}
	// Geo: members of geo sets are sorted set members.
	// (GEOADD reaches a replica as ZADD of geohash scores: Redis's example)
	pp.apply(t, "ZADD", "g", "3479099956230698", "PalermoCity00", "3479447370796909", "Catania", "3479100000000000", "0123456789abcdef")
	pp.apply(t, "GEOSEARCHSTORE", "gs", "g", "FROMMEMBER", "PalermoCity00", "BYRADIUS", "200", "km", "ASC")
	pp.apply(t, "GEORADIUS", "g", "15", "37", "300", "km", "STOREDIST", "gd")
	pp.apply(t, "GEORADIUSBYMEMBER", "g", "0123456789abcdef", "100", "km", "STORE", "gm")
	for _, k := range []string{"g", "gs", "gd", "gm"} {
		pp.zsame(t, k, "PalermoCity00", "0123456789abcdef")
	}
	// SORT reads members (BY/GET through them), stores a list and makes
	// the source a skiplist.
	pp.apply(t, "SET", "w_"+packable, "3")
	pp.apply(t, "SET", "w_"+unpackable, "1")
	pp.apply(t, "COPY", "z", "zs")
	pp.apply(t, "SORT", "zs", "BY", "w_*", "GET", "#", "GET", "w_*", "STORE", "sorted")
	pp.apply(t, "SORT", "zs", "BY", "nosort", "LIMIT", "1", "3", "STORE", "sorted2")
	pp.apply(t, "SORT", "zs", "ALPHA", "DESC", "STORE", "sorted3")
	pp.zsame(t, "zs", probes...)
	for _, k := range []string{"sorted", "sorted2", "sorted3"} {
		pp.same(t, k)
	}
	if got := encodingOf(pp.p, "zs"); got != "skiplist" {
		t.Errorf("SORT left %s", got)
	}
	got := zmembers(pp.p, "zs")
	get(pp.p, 0, "sorted3", func(x Value) {
		e, _ := x.ListIndex(0)
		if slices.Sort(got); string(e) != got[len(got)-1] {
			t.Errorf("SORT ALPHA DESC: first %q of %q", e, got)
		}
	})
	// SORT_RO of a packed set, by and with its members, on the read side
	var sorted [2]string
	for i, p := range []*Projection{pp.p, pp.q} {
		p.ViewDB(0, func(v *View) {
			res, err := v.Sort(args("SORT_RO z BY w_* GET # GET w_* ALPHA"), true /* readonly */)
			if err != nil || len(res.Elems) != 2*zcard(p, "z") {
				t.Fatalf("SORT_RO: %v %q", err, res.Elems)
			}
			sorted[i] = fmt.Sprintf("%q", res.Elems)
		})
	}
	if sorted[0] != sorted[1] || !strings.Contains(sorted[0], packable) {
		t.Errorf("SORT_RO: packed %s, plain %s", sorted[0], sorted[1])
	}
}

// TestZPackThresholds: zset-max-listpack-value is judged on the members'
// own lengths, as Redis's is, however short their packed forms.
func TestZPackThresholds(t *testing.T) {
	pp := newPackedPair(t, nil)
	v64, v65 := strings.Repeat("ab", 32), strings.Repeat("ab", 32)+"c"
	for k, ms := range map[string][]string{"z64": {v64}, "z65": {v65}, "zgrow": {packable, v65}} {
		for i, m := range ms {
			pp.apply(t, "ZADD", k, strconv.Itoa(i+1), m) // zgrow: packed, then too long
		}
	}
	for i := 0; i < 129; i++ {
		pp.apply(t, "ZADD", "z129", "0", fmt.Sprintf("%016x", i))
		if i == 127 {
			pp.zsame(t, "z129", "000000000000007f")
			if got := encodingOf(pp.p, "z129"); got != "listpack" {
				t.Errorf("128 members: %s", got)
			}
		}
	}
	for key, want := range map[string]string{"z64": "listpack", "z65": "skiplist", "zgrow": "skiplist", "z129": "skiplist"} {
		pp.zsame(t, key, v64, packable, "000000000000007f")
		if got := encodingOf(pp.p, key); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
	// members longer than a lookup's buffer (zquery)
	ec := EncodingConfig{ZSetMaxListpackValue: 400}
	pp = newPackedPair(t, &ec)
	long := []string{strings.Repeat("0123456789abcdef", 20), strings.Repeat("0123456789abcdeF", 20), strings.Repeat("Ab-_", 60), strings.Repeat("x", 200)}
	for i, m := range long {
		pp.apply(t, "ZADD", "zl", "1", m, strconv.Itoa(i), "short"+strconv.Itoa(i), "2", fmt.Sprintf("%0200x", i))
	}
	pp.apply(t, "ZREM", "zl", long[2])
	pp.apply(t, "ZINCRBY", "zl", "1", long[0])
	if pp.zsame(t, "zl", long...) < 3 || encodingOf(pp.p, "zl") != "listpack" {
		t.Errorf("long members: %s", encodingOf(pp.p, "zl"))
	}
	ec = EncodingConfig{ZSetMaxListpackValue: 10, ZSetMaxListpackEntries: 4}
	pp = newPackedPair(t, &ec)
	pp.apply(t, "ZADD", "z", "1", "0123456789", "2", "abcdef", "3", "x")
	if pp.zsame(t, "z", "abcdef") != 2 || encodingOf(pp.p, "z") != "listpack" {
		t.Errorf("10 hex digits: %s", encodingOf(pp.p, "z"))
	}
	pp.apply(t, "ZADD", "z", "1", "0123456789a")
	pp.zsame(t, "z", "abcdef")
	if got := encodingOf(pp.p, "z"); got != "skiplist" {
		t.Errorf("11 hex digits: %s", got)
	}
}

// TestZPackRoundTrips: DUMP/RESTORE, a snapshot's RDB and a load give
// back the same members, packed again by a packing projection and plain
// by a PlainText one.
func TestZPackRoundTrips(t *testing.T) {
	pp := newPackedPair(t, nil)
	c := []string{"ZADD", "z"}
	for i, m := range zpackMembers {
		c = append(c, strconv.Itoa(i%3), m)
	}
	pp.apply(t, c...)
	pp.apply(t, "ZADD", "ties", "1", "aaaaaaaaaaaa", "1", "BBBBBBBBBBBB", "1", "000000000000", "1", "____________", "1", "a")
	c = []string{"ZADD", "zbig"}
	for i := 0; i < 200; i++ {
		c = append(c, strconv.Itoa(i%7), fmt.Sprintf("%024x", i))
	}
	pp.apply(t, c...)
	keys := []string{"z", "ties", "zbig"}
	for _, k := range keys {
		var payload []byte
		get(pp.p, 0, k, func(x Value) { payload, _ = x.Dump() })
		pp.apply(t, "RESTORE", k+":r", "0", string(payload))
		if pp.zsame(t, k+":r") == 0 && k != "zbig" {
			t.Errorf("%s: RESTORE packed nothing", k)
		}
		if a, b := unordered(readZSet(pp.p, k, nil)), unordered(readZSet(pp.p, k+":r", nil)); a != b {
			t.Errorf("%s: RESTORE changed it: %s", k, firstDiff(a, b))
		}
	}
	reloadPacked(t, pp.p, func(plain bool, lp *Projection) {
		for _, k := range keys {
			if a, b := unordered(readZSet(pp.p, k, nil)), unordered(readZSet(lp, k, nil)); a != b {
				t.Errorf("plain=%v: %s after a load: %s", plain, k, firstDiff(a, b))
			}
			if n := zcodedCount(t, lp, k); (n == 0) != (plain || k == "zbig") {
				t.Errorf("plain=%v: %s loaded with %d coded", plain, k, n)
			}
		}
	})
}

// reloadPacked writes p's snapshot and loads it into a packing and a
// PlainText projection, which must hold what p does, and calls fn with
// each.
func reloadPacked(t *testing.T, p *Projection, fn func(plain bool, lp *Projection)) {
	t.Helper()
	file := snapshotFile(t, p)
	for _, plain := range []bool{false, true} {
		lp, err := New(Options{PlainText: plain})
		if err != nil {
			t.Fatal(err)
		}
		ld := lp.BeginLoad(LoadOptions{})
		if err := rdbparse.Parse(bytes.NewReader(file), loadHandler{ld: ld}, nil); err != nil {
			t.Fatal(err)
		}
		if err := ld.Commit(); err != nil {
			t.Fatal(err)
		}
		if a, b := canonical(p), canonical(lp); !maps2Equal(a, b) {
			t.Fatalf("plain=%v: loaded snapshot differs:\n%v\n%v", plain, a, b)
		}
		fn(plain, lp)
	}
}

// TestZPackLoadSized: a loaded packed sorted set's pack is exactly its
// size, whether its members come in order (loadSorted) or not
// (reserveZSet).
func TestZPackLoadSized(t *testing.T) {
	for _, plain := range []bool{false, true} {
		p, err := New(Options{PlainText: plain})
		if err != nil {
			t.Fatal(err)
		}
		ld := p.BeginLoad(LoadOptions{})
		var sorted, unsorted []rdbparse.ZMember
		for i, m := range zpackMembers[6:] {
			sorted = append(sorted, rdbparse.ZMember{Member: []byte(m), Score: float64(i)})
			unsorted = append(unsorted, rdbparse.ZMember{Member: []byte(m), Score: float64(i % 4)})
		}
		for k, ms := range map[string][]rdbparse.ZMember{"sorted": sorted, "unsorted": unsorted} {
			e := &rdbparse.Entry{Key: []byte(k), Kind: KindZSet, RDBType: rdbparse.TypeZSetListpack, Len: int64(len(ms)), ZMembers: ms, Last: true, ExpireMs: -1}
			if err := ld.Entry(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := ld.Commit(); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"sorted", "unsorted"} {
			get(p, 0, k, func(x Value) {
				z := x.o.zset()
				if z.pk.capacity() != len(z.pk.bytes()) || z.n != int32(len(sorted)) {
					t.Errorf("plain=%v %s: pack of %d bytes in %d, %d members", plain, k, len(z.pk.bytes()), z.pk.capacity(), z.n)
				}
			})
			if n := zcodedCount(t, p, k); (n == 0) != plain {
				t.Errorf("plain=%v %s: %d coded", plain, k, n)
			}
		}
	}
}

// TestZPackRandom runs random sorted set writes on both projections and
// compares every key after each batch. SEED= repeats a run.
func TestZPackRandom(t *testing.T) {
	seed := seedFromEnv(t, rand.Int64())
	t.Logf("SEED=%d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 5))
	member := func() string {
		if r.IntN(4) == 0 {
			return zpackMembers[r.IntN(len(zpackMembers))]
		}
		return textValue(r, zpackAlphabets, []int{1, 5, 11, 12, 13, 18, 26, 40}, 3)
	}
	score := func() string { return strconv.Itoa(r.IntN(3)) }
	lex := func() string {
		if r.IntN(5) == 0 {
			return "-"
		}
		return "[" + member()
	}
	ec := EncodingConfig{ZSetMaxListpackEntries: 24}
	pp := newPackedPair(t, &ec)
	keys := []string{"z0", "z1", "z2"}
	for round := 0; round < 15; round++ {
		for i := 0; i < 40; i++ {
			k := keys[r.IntN(len(keys))]
			switch r.IntN(10) {
			case 0, 1, 2:
				pp.apply(t, "ZADD", k, score(), member(), score(), member(), score(), member())
			case 3:
				pp.apply(t, "ZINCRBY", k, score(), member())
			case 4:
				pp.apply(t, "ZREM", k, member(), member())
			case 5:
				pp.apply(t, "ZPOPMIN", k, strconv.Itoa(r.IntN(3)))
			case 6:
				pp.apply(t, "ZREMRANGEBYLEX", k, lex(), "+")
			case 7:
				pp.apply(t, "ZUNIONSTORE", k, "2", keys[r.IntN(3)], keys[r.IntN(3)])
			case 8:
				pp.apply(t, "ZRANGESTORE", k, keys[r.IntN(3)], lex(), "+", "BYLEX")
			default:
				pp.apply(t, "ZPOPMAX", k)
			}
		}
		for _, k := range keys {
			pp.zsame(t, k, member(), member())
		}
	}
}

var zpackAlphabets = []string{"0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", "aB0-_", "abc+/XYZ019", "a b,c!"}

// zpackExtra generates sorted set writes whose members are hex or base64
// text of lengths around the packing and listpack limits (a workload
// Extra), with few distinct scores, so that order among ties is tested.
// Lex ranges go to keys of their own ("zl" and a key) whose scores are
// all 0: on mixed scores they are undefined, and Redis's skiplist walk
// differs there from the B-tree's binary search (zset.go lexRankRange).
func zpackExtra(w *workload) []string {
	r := w.Rand()
	lengths := []int{1, 4, 6, 8, 10, 11, 12, 16, 18, 26, 63, 64, 65}
	member := func() string { return textValue(r, zpackAlphabets, lengths, 3) }
	score := func() string { return strconv.Itoa(r.IntN(2)) }
	key := w.Key()
	lk := func() string { return "zl" + w.Key() }
	switch r.IntN(16) {
	case 0, 1:
		return []string{"ZADD", key, score(), member(), score(), member(), score(), member()}
	case 2:
		return []string{"ZINCRBY", key, score(), member()}
	case 3:
		return []string{"ZREM", key, member(), member()}
	case 4:
		return []string{"ZPOPMIN", key}
	case 5:
		return []string{"ZPOPMAX", key, "2"}
	case 6:
		return []string{"ZUNIONSTORE", key, "2", w.Key(), w.Key()}
	case 7:
		return []string{"ZADD", key, "GT", "CH", score(), member()}
	case 8:
		return []string{"ZINTERSTORE", key, "2", w.Key(), w.Key(), "AGGREGATE", "MAX"}
	case 9, 10, 11:
		return []string{"ZADD", lk(), "0", member(), "0", member(), "0", member()}
	case 12:
		return []string{"ZREMRANGEBYLEX", lk(), "[" + member(), "+"}
	case 13:
		return []string{"ZRANGESTORE", lk(), lk(), "[" + member(), "+", "BYLEX"}
	case 14:
		return []string{"ZREM", lk(), member(), member()}
	}
	return []string{"ZPOPMIN", lk(), "2"}
}

// TestDifferentialPackedZSet runs the differential test against a real
// primary and replica with packable sorted set members mixed in (odd
// seeds with zset-max-listpack-value 10, so members cross it).
func TestDifferentialPackedZSet(t *testing.T) {
	forSeeds(t, 2, 2000, 10, 20000, func(t *testing.T, seed int64, ops int) { runDifferentialMix(t, seed, ops, zpackExtra) })
}
