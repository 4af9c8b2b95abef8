package projection

import (
	"bytes"
	"encoding/binary"
	"math"
	"sort"

	"github.com/tidwall/btree"
	"github.com/vdr-project/vdr/rdbparse"
)

// zsetObj is a sorted set ordered by (score, member). While Redis would
// keep it as a listpack it is one pack of member, score, … kept sorted
// (members as entries, text-packed when that saves, zpack.go; scores in
// zscore's compact form, mostly 1 to 4 bytes); past
// zset-max-listpack-entries/-value it becomes big: a B-tree of (score,
// member) plus a dense (dense.go: members and scores in a slice, a
// member→index map), like Redis's skiplist+dict (src/t_zset.c). Ranks in
// the B-tree come from binary search over GetAt (its nodes keep counts);
// the dense gives O(1) random members and cursor scans.
//
// It is a listpack exactly while big is nil (Redis never converts back).
// 32 bytes: a packed sorted set is this and its pack. Packing members
// took the harness's sorted sets (10 members of 10–26 alphanumeric
// characters) from 342 to 311 heap bytes a key, table included
// (BenchmarkMemoryPerKeyByType), and a Redis replica's 1M-key sorted
// sets from 0.71× to 0.65× its RSS (bench/cmd/compare -mix zsets), for
// about 20 ns of unpacking a member read (BenchmarkZPackedReads, load
// average 1.4: ZRANGE of 10, 285 → 490 ns; BenchmarkReadByType/zsets,
// load average 2.5–3.4: 530 → 940 ns).
type zsetObj struct {
	pk  pbuf
	big *zbig
	n   int32 // members of the pack
	lru lruWord
}

// zbig is a sorted set past the listpack limits.
type zbig struct {
	tree *btree.BTreeG[zitem]
	dict *dense[zmem]
}

// isLP reports whether Redis would keep the sorted set as a listpack.
func (z *zsetObj) isLP() bool { return z.big == nil }

type zitem struct {
	score  float64
	member string
}

func zless(a, b zitem) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.member < b.member
}

// zref is a decoded item of a read; member points into the projection.
type zref struct {
	m []byte
	s float64
}

func newZSet(sizeHint, maxLenHint int, ec *EncodingConfig) *zsetObj {
	z := &zsetObj{}
	if sizeHint > ec.ZSetMaxListpackEntries || maxLenHint > ec.ZSetMaxListpackValue {
		z.toBig()
	}
	return z
}

func (z *zsetObj) toBig() {
	t := btree.NewBTreeGOptions(zless, btree.Options{NoLocks: true})
	d := newDense[zmem](int(z.n))
	var buf [zmemberTmpLen]byte
	for off := 0; off < len(z.pk.bytes()); {
		var e []byte
		var coded bool
		var s float64
		e, coded, s, off = zpackNext(z.pk.bytes(), off)
		ms := string(zmemberTmp(&buf, e, coded))
		t.Load(zitem{score: s, member: ms})
		d.push(zmem{ms, s})
	}
	z.big = &zbig{tree: t, dict: d}
	z.pk.set(nil)
	z.n = 0
}

// A packed score is a uvarint x: when x&7 = k < 7 the score is m/10^k
// with m the zigzag-decoded x>>3, else (k = 7) the 8 bytes of the float64
// follow. The encoder picks the smallest k whose m gives back exactly the
// score's bits, so the form is lossless: 1234.56 takes 3 bytes, 42 one,
// and a score with no short decimal form 9 bytes. Redis's listpack keeps a
// score as its shortest decimal string for the same reason.
const zscoreRaw = 7

var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

// zscoreMantissa returns m and k of score's short form, ok false when it
// has none (non-integral at 6 decimals, ±Inf, -0, or |m| ≥ 2^53).
func zscoreMantissa(score float64) (m int64, k int, ok bool) {
	if score == 0 {
		return 0, 0, !math.Signbit(score)
	}
	for k := range pow10 {
		t := math.Round(score * pow10[k])
		if math.Abs(t) >= 1<<53 {
			return 0, 0, false
		}
		if t/pow10[k] == score {
			return int64(t), k, true
		}
	}
	return 0, 0, false
}

// zscoreAppend appends score's packed form.
func zscoreAppend(b []byte, score float64) []byte {
	if m, k, ok := zscoreMantissa(score); ok {
		zz := uint64(m<<1) ^ uint64(m>>63)
		return binary.AppendUvarint(b, zz<<3|uint64(k))
	}
	b = append(b, zscoreRaw)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(score))
}

// zscoreSize is the length of score's packed form.
func zscoreSize(score float64) int {
	var tmp [16]byte
	return len(zscoreAppend(tmp[:0], score))
}

// zscoreNext decodes the packed score at off.
func zscoreNext(b []byte, off int) (float64, int) {
	x, off := zuvarint(b, off)
	k := x & 7
	if k == zscoreRaw {
		return math.Float64frombits(binary.LittleEndian.Uint64(b[off:])), off + 8
	}
	zz := x >> 3
	m := int64(zz>>1) ^ -int64(zz&1)
	if k == 0 {
		return float64(m), off
	}
	return float64(m) / pow10[k], off
}

// reserve sizes a packed sorted set's pack for the score, member… pairs
// of a ZADD (scores parsed) when it stays packed with them, so that the
// new ones are added without regrowing it; tp: text packing on.
func (z *zsetObj) reserve(sm [][]byte, scores []float64, ec *EncodingConfig, tp bool) {
	if z.big != nil || int(z.n)+len(scores) > ec.ZSetMaxListpackEntries || len(scores) < 2 {
		return
	}
	extra := 0
	for j, s := range scores {
		m := sm[2*j+1]
		if len(m) > ec.ZSetMaxListpackValue {
			return
		}
		if _, _, _, _, ok := z.pfind(m); !ok {
			extra += entrySize(m, tp) + zscoreSize(s)
		}
	}
	z.pk.reserve(extra)
}

// zscoreSkip returns the offset after the packed score at off.
func zscoreSkip(b []byte, off int) int {
	x, off := zuvarint(b, off)
	if x&7 == zscoreRaw {
		return off + 8
	}
	return off
}

// zuvarint is binary.Uvarint at off, unrolled for the one to four bytes
// of most packed scores, which ZRANGE decodes for every member.
func zuvarint(b []byte, off int) (uint64, int) {
	x := uint64(b[off])
	if x < 0x80 {
		return x, off + 1
	}
	y := uint64(b[off+1])
	x = x&0x7f | y<<7
	if y < 0x80 {
		return x, off + 2
	}
	y = uint64(b[off+2])
	x = x&(1<<14-1) | y<<14
	if y < 0x80 {
		return x, off + 3
	}
	y = uint64(b[off+3])
	x = x&(1<<21-1) | y<<21
	if y < 0x80 {
		return x, off + 4
	}
	r, w := binary.Uvarint(b[off:])
	return r, off + w
}

// loadSorted fills an empty packed sorted set with ms in one pass when
// they come in (score, member) order, ascending or descending (an RDB
// keeps a listpack ascending and saves a skiplist from its tail), with no
// member twice and all within the listpack limits: no search per member,
// and a pack of exactly its size, members packed when tp. buf is scratch
// space, returned for reuse. ok is false, and nothing done, otherwise
// (set them one by one).
func (z *zsetObj) loadSorted(ms []rdbparse.ZMember, buf []byte, ec *EncodingConfig, tp bool) ([]byte, bool) {
	if z.big != nil || z.n != 0 || len(ms) < 2 || len(ms) > ec.ZSetMaxListpackEntries {
		return buf, false
	}
	c0 := zcmp(&ms[0], &ms[1])
	if c0 == 0 {
		return buf, false
	}
	for i := range ms {
		if len(ms[i].Member) > ec.ZSetMaxListpackValue || i > 0 && zcmp(&ms[i-1], &ms[i]) != c0 {
			return buf, false
		}
	}
	if seenTwice(len(ms), func(i int) []byte { return ms[i].Member }) {
		return buf, false
	}
	buf = buf[:0]
	for k := range ms {
		i := k
		if c0 > 0 {
			i = len(ms) - 1 - k // descending: add from the end
		}
		score := ms[i].Score
		if score == 0 {
			score = 0 // a listpack gives -0 back as 0 (see set)
		}
		buf = zscoreAppend(entryAppend(buf, ms[i].Member, tp), score)
	}
	z.pk.set(buf[:len(buf):len(buf)]) // the loader's: it copies the pack out (Loader.unalias)
	z.n = int32(len(ms))
	return buf, true
}

// zcmp orders two members as the sorted set does: -1, 0 or 1.
func zcmp(a, b *rdbparse.ZMember) int {
	switch {
	case a.Score < b.Score:
		return -1
	case a.Score > b.Score:
		return 1
	}
	return bytes.Compare(a.Member, b.Member)
}

func (z *zsetObj) card() int {
	if z.big != nil {
		return z.big.tree.Len()
	}
	return int(z.n)
}

// pfind locates member in the pack.
func (z *zsetObj) pfind(m []byte) (off, end int, score float64, rank int, ok bool) {
	q := zquery{m: m}
	pack := z.pk.bytes()
	for off < len(pack) {
		e, coded, so := entryNext(pack, off)
		if q.is(e, coded) {
			s, next := zscoreNext(pack, so)
			return off, next, s, rank, true
		}
		off = zscoreSkip(pack, so)
		rank++
	}
	return 0, 0, 0, 0, false
}

func (z *zsetObj) score(m []byte) (float64, bool) {
	if z.big != nil {
		i, ok := z.big.dict.find(m)
		if !ok {
			return 0, false
		}
		return z.big.dict.items[i].s, true
	}
	_, _, s, _, ok := z.pfind(m)
	return s, ok
}

func (z *zsetObj) rank(m []byte) (int, float64, bool) {
	if z.big != nil {
		s, ok := z.score(m)
		if !ok {
			return 0, 0, false
		}
		it := zitem{score: s, member: string(m)}
		r := sort.Search(z.big.tree.Len(), func(i int) bool {
			x, _ := z.big.tree.GetAt(i)
			return !zless(x, it)
		})
		return r, s, true
	}
	_, _, s, r, ok := z.pfind(m)
	return r, s, ok
}

// set adds member with score or changes its score; it reports whether the
// member is new. Conversion follows zsetAdd (src/t_zset.c), on m's own
// length however short its packed form. A packed set stores m text-packed
// when tp (text packing on) and that saves.
func (z *zsetObj) set(m []byte, score float64, ec *EncodingConfig, tp bool) bool {
	if z.big != nil {
		if i, ok := z.big.dict.find(m); ok {
			x := &z.big.dict.items[i]
			if x.s == score {
				return false
			}
			z.big.tree.Delete(zitem{score: x.s, member: x.m})
			x.s = score
			z.big.tree.Set(zitem{score: score, member: x.m})
			return false
		}
		ms := string(m)
		z.big.dict.push(zmem{ms, score})
		z.big.tree.Set(zitem{score: score, member: ms})
		return true
	}
	if score == 0 {
		// A listpack stores integral scores as integers (src/t_zset.c
		// zzlInsertAt, double2ll), so -0 comes back as 0.
		score = math.Abs(score)
	}
	isNew := true
	if off, end, old, _, ok := z.pfind(m); ok {
		if old == score {
			return false
		}
		z.pk.set(packCut(z.pk.bytes(), off, end))
		z.n--
		isNew = false
	}
	// find the insert position: members of equal score in byte order
	off := 0
	pack := z.pk.bytes()
	for off < len(pack) {
		e, coded, s, next := zpackNext(pack, off)
		if s > score || (s == score && zcmpStored(e, coded, m) > 0) {
			break
		}
		off = next
	}
	var tmp [80]byte
	enc := entryAppend(tmp[:0], m, tp)
	enc = zscoreAppend(enc, score)
	z.pk.set(packInsert(pack, off, enc))
	z.n++
	if int(z.n) > ec.ZSetMaxListpackEntries || len(m) > ec.ZSetMaxListpackValue {
		z.toBig()
	}
	return isNew
}

func (z *zsetObj) remove(m []byte) bool {
	if z.big != nil {
		i, ok := z.big.dict.find(m)
		if !ok {
			return false
		}
		z.big.tree.Delete(zitem{score: z.big.dict.items[i].s, member: z.big.dict.items[i].m})
		z.big.dict.removeAt(i)
		return true
	}
	off, end, _, _, ok := z.pfind(m)
	if !ok {
		return false
	}
	z.pk.set(packCut(z.pk.bytes(), off, end))
	z.n--
	return true
}

// items returns the decoded pack (small sets only), members unpacked
// into sc (see scratch).
func (z *zsetObj) items(sc *scratch) []zref {
	out := make([]zref, 0, z.n)
	for off := 0; off < len(z.pk.bytes()); {
		var r zref
		var e []byte
		var coded bool
		e, coded, r.s, off = zpackNext(z.pk.bytes(), off)
		r.m = entryValue(e, coded, sc)
		out = append(out, r)
	}
	return out
}

// at returns the item of ascending rank i.
func (z *zsetObj) atRank(i int, small []zref) ([]byte, float64) {
	if z.big != nil {
		x, _ := z.big.tree.GetAt(i)
		return stringBytes(x.member), x.score
	}
	return small[i].m, small[i].s
}

// walkRank calls fn for ascending ranks s..e (or, when reverse, for
// descending ranks s..e, i.e. ascending ranks n-1-s down to n-1-e).
// Packed members are unpacked into sc (see scratch).
func (z *zsetObj) walkRank(s, e int, reverse bool, sc *scratch, fn func(m []byte, score float64) bool) {
	n := z.card()
	if reverse {
		s, e = n-1-e, n-1-s
	}
	z.walkIdx(s, e+1, reverse, 0, -1, sc, fn)
}

// walkIdx calls fn for ascending indexes [lo, hi), backwards when reverse,
// after skipping offset items, at most count (count < 0: all), packed
// members unpacked into sc.
func (z *zsetObj) walkIdx(lo, hi int, reverse bool, offset, count int, sc *scratch, fn func(m []byte, score float64) bool) {
	if offset < 0 || lo >= hi {
		return
	}
	if z.big != nil {
		var pivot zitem
		if !reverse {
			if lo+offset >= hi {
				return
			}
			pivot, _ = z.big.tree.GetAt(lo + offset)
			i := lo + offset
			z.big.tree.Ascend(pivot, func(x zitem) bool {
				if i >= hi || count == 0 {
					return false
				}
				i++
				count--
				return fn(stringBytes(x.member), x.score)
			})
			return
		}
		if hi-1-offset < lo {
			return
		}
		pivot, _ = z.big.tree.GetAt(hi - 1 - offset)
		i := hi - 1 - offset
		z.big.tree.Descend(pivot, func(x zitem) bool {
			if i < lo || count == 0 {
				return false
			}
			i--
			count--
			return fn(stringBytes(x.member), x.score)
		})
		return
	}
	// Packed: walk in place, without decoding into a slice.
	if !reverse {
		i, off := 0, 0
		for ; off < len(z.pk.bytes()) && i < lo+offset; i++ {
			off = zskip(z.pk.bytes(), off)
		}
		for ; off < len(z.pk.bytes()) && i < hi && count != 0; i++ {
			var e []byte
			var coded bool
			var s float64
			e, coded, s, off = zpackNext(z.pk.bytes(), off)
			count--
			if !fn(entryValue(e, coded, sc), s) {
				return
			}
		}
		return
	}
	var small [256]int32
	offs := z.offsets(hi, small[:0])
	for i := hi - 1 - offset; i >= lo && count != 0; i-- {
		e, coded, s, _ := zpackNext(z.pk.bytes(), int(offs[i]))
		count--
		if !fn(entryValue(e, coded, sc), s) {
			return
		}
	}
}

// offsets appends to offs the pack offsets of the first n members (all
// when fewer), for walks from the tail.
func (z *zsetObj) offsets(n int, offs []int32) []int32 {
	for off := 0; off < len(z.pk.bytes()) && len(offs) < n; {
		offs = append(offs, int32(off))
		off = zskip(z.pk.bytes(), off)
	}
	return offs
}

// search returns the first ascending index of a big sorted set whose
// item satisfies pred (pred must be monotone: false…false true…true).
func (z *zsetObj) search(pred func(m []byte, s float64) bool) int {
	return sort.Search(z.big.tree.Len(), func(i int) bool {
		x, _ := z.big.tree.GetAt(i)
		return pred(stringBytes(x.member), x.score)
	})
}

func aboveMin(s float64, min ScoreBound) bool {
	if min.Exclusive {
		return s > min.Score
	}
	return s >= min.Score
}

func belowMax(s float64, max ScoreBound) bool {
	if max.Exclusive {
		return s < max.Score
	}
	return s <= max.Score
}

// scoreRankRange returns the ascending index range [lo, hi) of items with
// scores within [min, max].
func (z *zsetObj) scoreRankRange(min, max ScoreBound) (int, int) {
	var lo, hi int
	if z.big != nil {
		lo = z.search(func(_ []byte, s float64) bool { return aboveMin(s, min) })
		hi = z.search(func(_ []byte, s float64) bool { return !belowMax(s, max) })
	} else {
		// one pass over the scores, members skipped unread
		pack := z.pk.bytes()
		for off := 0; off < len(pack); {
			var s float64
			s, off = zscoreNext(pack, entrySkip(pack, off))
			if !belowMax(s, max) {
				break
			}
			hi++
			if !aboveMin(s, min) {
				lo++
			}
		}
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

func lexAboveMin(m []byte, min LexBound) bool {
	switch min.Inf {
	case -1:
		return true
	case 1:
		return false
	}
	c := bytes.Compare(m, min.Value)
	if min.Exclusive {
		return c > 0
	}
	return c >= 0
}

func lexBelowMax(m []byte, max LexBound) bool {
	switch max.Inf {
	case 1:
		return true
	case -1:
		return false
	}
	c := bytes.Compare(m, max.Value)
	if max.Exclusive {
		return c < 0
	}
	return c <= 0
}

// lexRankRange returns the ascending index range [lo, hi) of a lex range.
// Lex ranges are defined only when all scores are equal; for a listpack
// Redis still answers deterministically otherwise, and so do we, the same
// way: the first member (from the head) ≥ min, then every following
// member while ≤ max (src/t_zset.c zzlFirstInLexRange and
// zzlDeleteRangeByLex). The B-tree uses binary search, as Redis's skiplist
// descent assumes the same order.
func (z *zsetObj) lexRankRange(min, max LexBound) (int, int) {
	if z.big != nil {
		lo := z.search(func(m []byte, _ float64) bool { return lexAboveMin(m, min) })
		hi := z.search(func(m []byte, _ float64) bool { return !lexBelowMax(m, max) })
		if hi < lo {
			hi = lo
		}
		return lo, hi
	}
	var buf [zmemberTmpLen]byte
	lo, off := 0, 0
	for off < len(z.pk.bytes()) {
		e, coded, _, next := zpackNext(z.pk.bytes(), off)
		if lexAboveMin(zmemberTmp(&buf, e, coded), min) {
			break
		}
		lo, off = lo+1, next
	}
	hi := lo
	for off < len(z.pk.bytes()) {
		e, coded, _, next := zpackNext(z.pk.bytes(), off)
		if !lexBelowMax(zmemberTmp(&buf, e, coded), max) {
			break
		}
		hi, off = hi+1, next
	}
	return lo, hi
}

// lexRankRangeRev is lexRankRange for a reverse walk: the last member ≤
// max (from the tail), then every preceding member while ≥ min
// (zzlLastInLexRange).
func (z *zsetObj) lexRankRangeRev(min, max LexBound) (int, int) {
	if z.big != nil {
		return z.lexRankRange(min, max)
	}
	var small [256]int32
	offs := z.offsets(int(z.n), small[:0])
	var buf [zmemberTmpLen]byte
	member := func(i int) []byte {
		e, coded, _ := entryNext(z.pk.bytes(), int(offs[i]))
		return zmemberTmp(&buf, e, coded)
	}
	hi := len(offs)
	for hi > 0 && !lexBelowMax(member(hi-1), max) {
		hi--
	}
	lo := hi
	for lo > 0 && lexAboveMin(member(lo-1), min) {
		lo--
	}
	return lo, hi
}

func (z *zsetObj) walkScore(min, max ScoreBound, reverse bool, offset, count int, sc *scratch, fn func(m []byte, s float64) bool) {
	lo, hi := z.scoreRankRange(min, max)
	z.walkIdx(lo, hi, reverse, offset, count, sc, fn)
}

func (z *zsetObj) walkLex(min, max LexBound, reverse bool, offset, count int, sc *scratch, fn func(m []byte, s float64) bool) {
	lo, hi := z.lexRankRange(min, max)
	if reverse {
		lo, hi = z.lexRankRangeRev(min, max)
	}
	z.walkIdx(lo, hi, reverse, offset, count, sc, fn)
}

// removeIdx deletes ascending indexes [lo, hi) and returns how many.
func (z *zsetObj) removeIdx(lo, hi int) int {
	hi = min(hi, z.card())
	if lo < 0 || lo >= hi {
		return 0
	}
	if z.big == nil {
		// one cut: the members are back to back
		pack := z.pk.bytes()
		from, i := 0, 0
		for ; i < lo; i++ {
			from = zskip(pack, from)
		}
		to := from
		for ; i < hi; i++ {
			to = zskip(pack, to)
		}
		z.pk.set(packCut(pack, from, to))
		z.n -= int32(hi - lo)
		return hi - lo
	}
	var ms [][]byte
	z.walkIdx(lo, hi, false, 0, -1, nil, func(m []byte, _ float64) bool {
		ms = append(ms, append([]byte(nil), m...))
		return true
	})
	for _, m := range ms {
		z.remove(m)
	}
	return len(ms)
}

// denseZSetElem is the memory of one member of a big sorted set besides
// its bytes: a B-tree item (24, nodes about 3/4 full: 32), a dense slice
// item (24) and an index slot (8, plus a control byte and load slack:
// about 12). The member's bytes are shared by the tree and the slice.
const denseZSetElem = 32 + 24 + 12

// bytes estimates the sorted set's memory from at most samples members
// (0: all), like objectComputeSize (src/object.c).
func (z *zsetObj) bytes(samples int) int {
	if z.big != nil {
		n := z.big.dict.len()
		if samples <= 0 || samples > n {
			samples = n
		}
		sum := 0
		for _, x := range z.big.dict.items[:samples] {
			sum += len(x.m)
		}
		est := 64 + 48 + cap(z.big.dict.items)*24 + n*(denseZSetElem-24)
		if samples > 0 {
			est += int(float64(sum) / float64(samples) * float64(n))
		}
		return est
	}
	return 32 + z.pk.capacity()
}

// clone returns a deep copy (COPY).
func (z *zsetObj) clone() *zsetObj {
	nz := &zsetObj{n: z.n, pk: z.pk.clone()}
	if z.big != nil {
		nz.big = &zbig{tree: z.big.tree.Copy(), dict: z.big.dict.clone()}
	}
	return nz
}
