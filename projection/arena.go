package projection

import (
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Table arenas: the records of a table (string records, rec.go, and
// packed collection records, crec.go) sit back to back in one
// pointer-free allocation of the table's own, not each in its own.
//
//	table.ar ──► +----------+------+----------+------+-----+----------+
//	             | record   | pad  | record   | pad  | …   | record   |
//	             +----------+------+----------+------+-----+----------+
//	             each starts at a multiple of 4 (a record's access-time
//	             word is an aligned atomic word); slot.p points inside
//
// What it saves is the Go allocator's rounding: a record of n bytes
// takes n rounded to its size class (16-byte steps up to 256 B, 32 up to
// 512), 6 bytes a key on every dataset of the compare harness, where the
// arena takes n rounded to 4.
//
// Who makes one: a load (Loader.Commit packs every table of the new
// keyspace before it is published: nobody else sees it, so no lock), and
// a compaction. Records are still immutable, and the arena's bytes are
// never reused: a record that is replaced or removed leaves dead bytes
// behind (retire counts them). Once a quarter of a table's arena is dead
// the table is queued, and after the command that did it (Apply,
// ApplyBatch, with the writer's hold and the table's stripe lock) the
// table is compacted: every record it holds, in its arena or written
// since on the heap, is copied into a new arena of exactly their size,
// and the slots are pointed there. The old arena is left to the garbage
// collector, so whatever still holds a slice of it (a reader's value
// past its lock, a reply being written) reads the bytes it read before.
// A compaction is deferred to the end of the command because the
// command may still hold an obj into the old arena: it may read it, but
// an access-time touch through it would be lost.
//
// Records over arenaMaxRec bytes stay on their own: a compaction copies
// what it moves while the stripe is locked, and a big value would stall
// the readers of that stripe; their rounding is a small share of them.
const arenaMaxRec = 4096

// recBytes is the bytes s's value takes in an arena: a string record or a
// packed collection record, rounded up to 4; 0 for anything else (a box,
// a folded collection), which is never put in one.
func recBytes(s *slot) int {
	switch {
	case s.tag&(tagBox|tagFold) == 0:
		head, w := recHead(s.p)
		if head&recExp != 0 {
			w += 8
		}
		return (w+int(s.klen)+int(head>>3)+3)&^3 + 4 // newRec's size
	case isCRec(s.tag):
		return (crecBytes(s.p, int(s.klen)) + 3) &^ 3
	}
	return 0
}

// inArena reports whether p points into the table's arena.
func (t *table) inArena(p unsafe.Pointer) bool {
	return len(t.ar) > 0 && uintptr(p)-uintptr(unsafe.Pointer(&t.ar[0])) < uintptr(len(t.ar))
}

// packArena moves the table's records of at most arenaMaxRec bytes into
// one new arena; its old one, and the records it copied from the heap,
// become garbage. The arena is an allocation the Go allocator does not
// round up (arenaFit): the records that do not fit in it stay on their
// own, and one that was in the old arena gets a new allocation of its
// own (from lo, after a load: see there).
// The caller holds the table's stripe lock or owns the table alone (a
// load).
func (t *table) packArena(lo *bump) {
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
		n := recBytes(s)
		if n == 0 || n > arenaMaxRec {
			continue
		}
		// The record's own bytes: a packed record's size is not always a
		// multiple of 4, and the bytes past it are not its own.
		own := n
		if isCRec(s.tag) {
			own = crecBytes(s.p, int(s.klen))
		}
		var dst []byte
		switch {
		case off+n <= size:
			dst = buf[off : off+own]
			off += n
		case lo != nil:
			// After a load every record it made is freed, so that whole
			// spans go back to the OS: one left where it was would keep
			// its span, and one allocated anew would fill a hole in
			// another. The leftovers go after each other instead.
			dst = lo.alloc(n)[:own]
		case t.inArena(s.p):
			dst = make([]byte, n)[:own] // it cannot stay in the old arena
		default:
			continue // stays where it is
		}
		copy(dst, unsafe.Slice((*byte)(s.p), own))
		s.p = unsafe.Pointer(&dst[0])
	}
	t.ar, t.dead = nil, 0
	if off > 0 {
		t.ar = buf[:off:off] // what first-fit left of the tail is not its
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
	classesOnce.Do(func() {
		for n := 1; n <= 32<<10; {
			c := int(allocSize(n))
			classes = append(classes, c)
			n = c + 1
		}
	})
	i := sort.SearchInts(classes, total+1) // the first class over total
	if i == 0 {
		return 0
	}
	return classes[i-1]
}

// bump hands out pieces of big allocations, one after the other: where a
// load's leftover records go (packArena). A piece keeps its whole chunk
// alive; the chunk's tail past the last piece is lost.
type bump struct{ b []byte }

const bumpChunk = 256 << 10

func (bp *bump) alloc(n int) []byte {
	if len(bp.b) < n {
		bp.b = make([]byte, max(n, bumpChunk))
	}
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
	before := t.dead
	t.dead += recBytes(s)
	if before*4 < len(t.ar) && t.dead*4 >= len(t.ar) && d.aq != nil {
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
			if t.dead*4 >= len(t.ar) && len(t.ar) > 0 {
				t.packArena(nil)
			}
			mu.Unlock()
			break
		}
	}
	q.t = q.t[:0]
}

// noArena turns table arenas off, for tests that compare the two.
var noArena atomic.Bool

// packArenas gives every table of a loaded keyspace its arena, on as many
// goroutines as there are CPUs; nothing else sees the keyspace yet.
func (ds *dataset) packArenas() {
	if noArena.Load() {
		return
	}
	var sets []*bucketSet
	total := 0
	for _, d := range ds.dbs {
		if bs := d.tabs.Load(); d.keys.Load() > 0 {
			sets = append(sets, bs)
			total += len(bs.t)
		}
	}
	if total == 0 {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), max(total/64, 1))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*total/workers, (w+1)*total/workers // tables of their own: no shared cache lines
		wg.Add(1)
		go func() {
			defer wg.Done()
			i, left := 0, &bump{}
			for _, bs := range sets {
				for k := range bs.t {
					if i >= lo && i < hi {
						bs.t[k].packArena(left)
					}
					i++
				}
			}
		}()
	}
	wg.Wait()
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
	return live, live+t.dead == len(t.ar)
}
