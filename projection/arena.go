package projection

import (
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Table arenas: the records of a table (string records, rec.go, and
// packed collection records, crec.go) sit back to back in one
// pointer-free allocation of the table's own, not each in its own.
//
//	table.a ──► tableArena{ar, more, dead}
//	            ar, each range of more:
//	            +----------+----------+-----+----------+
//	            | record   | record   | …   | record   |
//	            +----------+----------+-----+----------+
//	            each starts where the last ends (a record needs no
//	            alignment: its access time is in its slot); slot.p
//	            points inside
//
// What it saves is the Go allocator's rounding: a record of n bytes
// takes n rounded to its size class (16-byte steps up to 256 B, 32 up to
// 512), 6 bytes a key on every dataset of the compare harness, where the
// arena takes n.
//
// Who makes one: a load, and a compaction. A load builds each record in
// a stage (a buffer that travels with the builder's batch of inserts and
// is reused once they are done) and the builder copies it into its
// table's arena as it inserts the key: chunks of loadChunk bytes, the
// last one copied at Commit into a piece of exactly its used size (a
// bump chunk shared by the tables' last pieces). So a load allocates no
// record of its own, and at no point holds a record twice over more
// than a batch's worth. A table's arena is then a few ranges (t.ar and
// t.more).
//
// Records are still immutable, and an arena's bytes are never reused: a
// record that is replaced or removed leaves dead bytes behind (retire
// counts them). Once a quarter of a table's arena is dead the table is
// queued, and after the command that did it (Apply, ApplyBatch; a
// cluster shard's DeleteWhere and CommitClaimed after each stripe; with
// the writer's hold and the table's stripe lock) the table is compacted:
// every record it holds, in its arena or written since on the heap, is
// copied into one new arena (arenaFit: an allocation the allocator does
// not round up; what does not fit gets an allocation of its own), and
// the slots are pointed there. The old ranges are left to the garbage
// collector, so whatever still holds a slice of them (a reader's value
// past its lock, a reply being written) reads the bytes it read before.
// A compaction is deferred to the end of the command because the
// command may still hold an obj into the old arena: it may read it, but
// an access-time touch through it would be lost.
//
// Records over arenaMaxRec bytes stay on their own: a compaction copies
// what it moves while the stripe is locked, and a big value would stall
// the readers of that stripe; their rounding is a small share of them.
const arenaMaxRec = 4096

// tableArena is a table's arena: its records, back to back, in ar and the
// ranges in more; dead is how many of their bytes no slot points at any
// more; fill is the used part of ar while a load fills it. A table holds
// a pointer to one (most tables of a keyspace, the empty dbs', have none).
type tableArena struct {
	ar   []byte
	more [][]byte
	dead int
	fill int
}

// recBytes is the bytes s's value takes in an arena: a string record or a
// packed collection record; 0 for anything else (a box, a folded
// collection), which is never put in one.
func recBytes(s *slot) int {
	_, n := recSizes(s)
	return n
}

// recSizes is recBytes (n) with the record's own bytes, the same now that
// no record is padded.
func recSizes(s *slot) (own, n int) {
	switch {
	case s.tag&(tagBox|tagFold) == 0:
		n = recOwn(s.p, s.storedLen())
		return n, n
	case isCRec(s.tag):
		own = crecBytes(s.p, s.storedLen())
		return own, own
	}
	return 0, 0
}

// moveRec copies s's record (own bytes of it) into dst and points s there.
func moveRec(s *slot, dst []byte, own int) {
	copy(dst[:own], unsafe.Slice((*byte)(s.p), own))
	s.p = unsafe.Pointer(&dst[0])
}

// inArena reports whether p points into one of the table's arena ranges.
func (t *table) inArena(p unsafe.Pointer) bool {
	a := t.a
	if a == nil {
		return false
	}
	if inRange(p, a.ar) {
		return true
	}
	for _, r := range a.more {
		if inRange(p, r) {
			return true
		}
	}
	return false
}

// inRange reports whether p points into r (its length, not capacity).
func inRange(p unsafe.Pointer, r []byte) bool {
	return len(r) > 0 && uintptr(p)-uintptr(unsafe.Pointer(&r[0])) < uintptr(len(r))
}

// arenaBytes is the size of the table's arena, all its ranges.
func (t *table) arenaBytes() int {
	if t.a == nil {
		return 0
	}
	n := len(t.a.ar)
	for _, r := range t.a.more {
		n += len(r)
	}
	return n
}

// stage is where a load builds its records before the builder copies
// them into their tables (a nil *stage allocates each on its own).
type stage struct{ b []byte }

// alloc returns n bytes (a record needs no alignment). A record too big
// for an arena gets an allocation of its own: the builder copies only
// those of at most arenaMaxRec bytes.
func (st *stage) alloc(n int) []byte {
	m := n
	if st == nil || m > arenaMaxRec {
		return make([]byte, n)
	}
	if cap(st.b)-len(st.b) < m {
		// The records already built stay in the old buffer until their
		// batch is done; the new one is kept for the next batches.
		st.b = make([]byte, 0, max(2*cap(st.b), 32<<10))
	}
	off := len(st.b)
	st.b = st.b[:off+m]
	return st.b[off : off+n : off+n]
}

func (st *stage) reset() { st.b = st.b[:0] }

// loadChunk is the size of the chunks a load fills a table's arena with:
// a size class, so none of it is lost to rounding.
const loadChunk = 16 << 10

// putLoaded stores a loaded key whose hash is h (0: not computed yet; a
// key whose hash is 0 only has it computed again); with arenas on, a
// record of at most arenaMaxRec bytes (built in the load's stage) is
// copied into its table's arena first.
func (d *db) putLoaded(ns slot, h uint64, arenas bool) {
	var buf [tagLongKey]byte
	key := ns.appendKey(buf[:0])
	if h == 0 {
		h = keyHash(key)
	}
	t := d.ownTable(h) // a db without a RESIZEDB hint still holds the shared empty set
	if arenas {
		if own, n := recSizes(&ns); n > 0 && n <= arenaMaxRec {
			t.loadCopy(&ns, own, n)
		}
	}
	d.put(t, t.find(key, h), h, ns)
}

// loadCopy moves the record of ns (own bytes, n in the arena) to the end
// of the table's arena being loaded: ar is the chunk being filled, fill
// its used bytes, more the chunks filled before.
func (t *table) loadCopy(ns *slot, own, n int) {
	if t.a == nil {
		t.a = &tableArena{}
	}
	a := t.a
	if len(a.ar)-a.fill < n {
		if a.fill > 0 {
			a.more = append(a.more, a.ar[:a.fill:a.fill])
		}
		a.ar, a.fill = make([]byte, max(loadChunk, n)), 0
	}
	moveRec(ns, a.ar[a.fill:], own)
	a.fill += n
}

// finishLoad ends the load's arena of the table: the used part of the
// chunk being filled is copied into a piece of tails (exactly its size)
// and its records are pointed there.
func (t *table) finishLoad(tails *bump) {
	ta := t.a
	cur := ta.ar[:ta.fill]
	ta.ar, ta.fill = nil, 0
	if len(cur) == 0 {
		if len(ta.more) == 0 {
			t.a = nil
		}
		return
	}
	piece := tails.alloc(len(cur))
	copy(piece, cur)
	base := uintptr(unsafe.Pointer(&cur[0]))
	if a := t.load(); a != nil {
		for i := range a.s {
			if s := &a.s[i]; s.tag != 0 && inRange(s.p, cur) {
				s.p = unsafe.Pointer(&piece[uintptr(s.p)-base])
			}
		}
	}
	ta.ar = piece
}

// packArena compacts the table: its records of at most arenaMaxRec
// bytes, wherever they are, are copied into one new arena of arenaFit
// size, and those that do not fit in it, when they were in the old
// arena, get allocations of their own; the old ranges become garbage.
// The caller holds the table's stripe lock.
func (t *table) packArena() {
	a := t.load()
	total := 0
	if a != nil {
		for i := range a.s {
			if a.s[i].tag != 0 {
				if n := recBytes(&a.s[i]); n <= arenaMaxRec {
					total += n
				}
			}
		}
	}
	size := arenaFit(total)
	var buf []byte
	if size > 0 {
		buf = make([]byte, size)
	}
	off := 0
	for i := 0; a != nil && i < len(a.s); i++ {
		s := &a.s[i]
		if s.tag == 0 {
			continue
		}
		own, n := recSizes(s)
		if n == 0 || n > arenaMaxRec {
			continue
		}
		switch {
		case off+n <= size:
			moveRec(s, buf[off:], own)
			off += n
		case t.inArena(s.p):
			moveRec(s, make([]byte, n), own) // it cannot stay in the old arena
		}
		// Otherwise it stays where it is.
	}
	t.a = nil
	if off > 0 {
		t.a = &tableArena{ar: buf[:off:off]} // what first-fit left of the tail is not its
	}
}

// arenaFit is the size of the arena for records of total bytes: the
// largest allocation of at most total bytes that the allocator hands out
// exactly (a size class below 32 KiB, whole pages above), so that no
// byte of it is lost to rounding; what is left over stays on the heap.
func arenaFit(total int) int {
	if total <= 0 {
		return 0
	}
	if total >= 32<<10 {
		return total &^ (8<<10 - 1)
	}
	cl := sizeClasses()
	i := sort.SearchInts(cl, total+1) // the first class over total
	if i == 0 {
		return 0
	}
	return cl[i-1]
}

// classUp is the size class an allocation of n bytes (0 < n ≤ 32 KiB)
// takes.
func classUp(n int) int {
	cl := sizeClasses()
	return cl[sort.SearchInts(cl, n)]
}

// sizeClasses is the allocator's size classes up to 32 KiB, as it rounds
// a byte slice's capacity.
func sizeClasses() []int {
	classesOnce.Do(func() {
		for n := 1; n <= 32<<10; {
			c := int(allocSize(n))
			classes = append(classes, c)
			n = c + 1
		}
	})
	return classes
}

// bump hands out pieces of big allocations, one after the other: where a
// load puts the tables' last pieces (finishLoad). A piece keeps its
// whole chunk alive; the chunk's tail past the last piece is lost, so
// chunks are big (bumpChunk) and the last one is cut to what is still
// wanted (need: the bytes of pieces still to come).
type bump struct {
	b    []byte
	need int
}

const bumpChunk = 1 << 20

func (bp *bump) alloc(n int) []byte {
	if len(bp.b) < n {
		bp.b = make([]byte, max(n, min(bp.need, bumpChunk)))
	}
	bp.need -= n
	d := bp.b[:n:n]
	bp.b = bp.b[n:]
	return d
}

var (
	classesOnce sync.Once
	classes     []int // the allocator's size classes up to 32 KiB
)

// retire notes that s's value is about to be replaced or removed: when it
// is a record in t's arena, its bytes there are dead from now on, and
// the table is queued for compaction when they reach a quarter of the
// arena. The caller holds the write lock.
func (d *db) retire(t *table, s *slot) {
	if !t.inArena(s.p) {
		return
	}
	a := t.a
	before, size := a.dead, t.arenaBytes()
	a.dead += recBytes(s)
	if before*4 < size && a.dead*4 >= size && d.aq != nil {
		d.aq.add(t)
	}
}

// arenaQueue is a dataset's tables waiting for compaction. Only writers
// touch it, and writers hold the projection's hold.
type arenaQueue struct {
	t []*table
}

func (q *arenaQueue) add(t *table) { q.t = append(q.t, t) }

// compactQueued compacts the queued tables of ds; the caller holds the
// hold and no stripe lock. A queued table is found in whichever db holds
// its bucket set now (SWAPDB moves sets between dbs); one that is no
// longer in any (FLUSHDB, a new dataset) is dropped.
func (ds *dataset) compactQueued() {
	q := &ds.aq
	if len(q.t) == 0 {
		return
	}
	for i, t := range q.t {
		q.t[i] = nil
		for _, d := range ds.dbs {
			bs := d.tabs.Load()
			if len(bs.t) == 0 {
				continue
			}
			off := uintptr(unsafe.Pointer(t)) - uintptr(unsafe.Pointer(&bs.t[0]))
			if off >= uintptr(len(bs.t))*unsafe.Sizeof(table{}) {
				continue
			}
			mu := &d.stripes[uint64(off/unsafe.Sizeof(table{}))&d.smask].mu
			mu.Lock()
			if size := t.arenaBytes(); size > 0 && t.a.dead*4 >= size {
				t.packArena()
			}
			mu.Unlock()
			break
		}
	}
	q.t = q.t[:0]
}

// noArena turns table arenas off, for tests that compare the two.
var noArena atomic.Bool

// finishArenas ends the load's arenas of every table (finishLoad);
// nothing else sees the keyspace yet.
func (ds *dataset) finishArenas() {
	tails := &bump{}
	for _, d := range ds.dbs {
		bs := d.tabs.Load()
		for i := range bs.t {
			if a := bs.t[i].a; a != nil {
				tails.need += a.fill
			}
		}
	}
	for _, d := range ds.dbs {
		bs := d.tabs.Load()
		for i := range bs.t {
			if bs.t[i].a != nil {
				bs.t[i].finishLoad(tails)
			}
		}
	}
}

// saneArena checks the arena's books: the records the slots hold in it
// and the dead bytes retire counted make up the whole of it.
func (t *table) saneArena() (live int, ok bool) {
	a := t.load()
	if a != nil {
		for i := range a.s {
			if s := &a.s[i]; s.tag != 0 && t.inArena(s.p) {
				live += recBytes(s)
			}
		}
	}
	if t.a == nil {
		return live, live == 0
	}
	return live, live+t.a.dead == t.arenaBytes()
}
