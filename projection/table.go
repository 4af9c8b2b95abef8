package projection

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// table is one bucket's keys: an open-addressing hash table with linear
// probing, in place of a Go map[string]obj.
//
// Why not a Go map: a read of a random key in a large keyspace is a chain
// of cache misses, and the map costs three of them before the value (its
// group's control word, the slot, the key's bytes), with no way to start
// them early. Here a 16-byte slot holds 20 bits of the key's hash, the
// value's kind, the key's length, a record's access time and a pointer
// to the key's record or box (rec.go), where the key's bytes sit beside
// the value's header, so
//
//   - a lookup reads one slot line, compares the stored hash bits and
//     length, and reads the record or box only for a slot where both
//     match (starting that fetch at once: prefetch(s.p));
//   - the slot's address is known from the hash alone, so a reader with
//     several requests in hand (a pipeline, MGET) fetches every slot line
//     at once before it runs any of them (Projection.Prefetch);
//   - a table grows without touching the keys: a slot's home is its
//     stored hash bits scaled to the array's length (homeIn).
//
// An array may have any number of slots, not only a power of two: a
// home is the 20 hash bits times the length, shifted down (a multiply,
// not a mask), and a probe wraps at the length. So an array is sized to
// what its allocation holds (arraySlots: a slot array over 512 bytes
// carries the allocator's 8-byte header, and 1024 slots would round up
// to 18 KiB), and a load gives each table exactly what its keys need
// (fitTables).
//
// The slot array's address and length are atomic words, so Prefetch
// computes a slot's address without the stripe lock and without a data
// race (a length and address from two different arrays, seen during a
// growth, make a wrong address, and a prefetch of any address is
// harmless); everything else holds the stripe lock as before, and sees
// the two agree.
//
// Deletion shifts the following run back (no tombstones), so a probe
// always ends at an empty slot. The table grows at 13/16 full, by half;
// it frees its array when the last key goes.
type table struct {
	first atomic.Pointer[slot]    // slot 0 of the array; nil: no array
	size  atomic.Uint32           // the array's slots (a bucket's table never nears 2³²)
	n     int32                   // used slots (32 bits each: a table is 32 B, two a cache line)
	arr   atomic.Pointer[slotArr] // the same array with its length, consistent (prefetchDeep)

	a *tableArena // the table's arena (arena.go); nil: none
}

// slotArr is a view of a table's array, for the methods that hold the
// stripe lock.
type slotArr struct {
	n uint64 // len(s)
	s []slot
}

// load returns the table's array (nil when it has none); the caller holds
// the stripe lock.
func (t *table) load() *slotArr {
	p := t.first.Load()
	if p == nil {
		return nil
	}
	n := uint64(t.size.Load())
	return &slotArr{n: n, s: unsafe.Slice(p, n)}
}

// publish makes a the table's array (nil: none).
func (t *table) publish(a *slotArr) {
	t.arr.Store(a)
	if a == nil {
		t.first.Store(nil)
		t.size.Store(0)
		return
	}
	t.size.Store(uint32(a.n))
	t.first.Store(&a.s[0])
}

// slot is one key and where its value is: 16 bytes.
//
//	p     the key's record (a string's, rec.go; a packed collection's,
//	      crec.go), or its *box or folded collection (every other value)
//	tag   bits 12–31: bits 12–31 of the key's hash; bits 6–11: the key's
//	      length, or tagLongKey for a key of 63 bytes or more (its
//	      length is then in its record or box); bit 5: the record holds
//	      the key packed (keypack.go); bit 4: p is a folded
//	      collection (fold.go; bit 3 is then set too) or a packed
//	      collection record (bit 3 clear); bit 3: p is a box; bits 0–2:
//	      the value's Kind (never 0, so a used slot's tag is never 0)
//	lru   a record's access time (lru.go): a record is pointer-free bytes
//	      packed back to back in its table's arena, with no room for an
//	      aligned atomic word, so the word it would hold is its slot's;
//	      boxes and folded collections keep theirs in their structs
//
// A lookup compares the hash bits and the length in the slot, and reads
// the key's bytes (in the record or box, beside the value's header) only
// for a slot where both match.
type slot struct {
	p   unsafe.Pointer
	tag uint32
	lru uint32 // atomic: readers touch it under the read lock
}

// Bits of slot.tag.
const (
	tagKind    = 7                         // the value's Kind
	tagBox     = 8                         // p is a *box or a folded collection, not a string record
	tagFold    = 16                        // p is a folded collection (fold.go), not a *box
	tagPacked  = 32                        // the record holds the key packed (keypack.go)
	tagKlen    = 63 << klenShift           // the key's length, up to tagLongKey
	tagHash    = ^uint32(1<<homeShift - 1) // the key's hash bits
	tagKey     = tagHash | tagKlen         // the bits a key decides
	tagLongKey = 63                        // the length field of a key of 63 bytes or more
	klenShift  = 6                         // where the length field starts
	homeShift  = 12                        // where the hash bits start
	homeBits   = 32 - homeShift            // tables of up to 2^homeBits slots find a slot's home in its tag
)

// klenTag is the length field of a key of n bytes, in place.
func klenTag(n int) uint32 { return uint32(min(n, tagLongKey)) << klenShift }

// keyTag is the tag bits of a key of n bytes whose hash is h.
func keyTag(h uint64, n int) uint32 { return hash32(h) | klenTag(n) }

// klen returns the length of the slot's key: from its tag, or for a long
// key from its record or box.
func (s *slot) klen() int {
	if n := int(s.tag&tagKlen) >> klenShift; n < tagLongKey {
		return n
	}
	switch {
	case s.tag&tagBox != 0:
		return len((*box)(s.p).key) // a long key is never folded, nor boxed inline
	case s.tag&tagFold != 0:
		n, _ := uvarintAt(s.p) // a packed collection record starts with it
		return int(n)
	}
	return recLongKlen(s.p)
}

// lruWord is the slot's access-time word.
func (s *slot) lruWord() *lruWord { return (*lruWord)(unsafe.Pointer(&s.lru)) }

const minTableSlots = 8

// hash32 is the part of a key's hash a slot keeps: bits 12–31 of the
// low 32 (the bucket is chosen by the high 32).
func hash32(h uint64) uint32 { return uint32(h) & tagHash }

// homeIn is the first slot a key of hash h may occupy in an array of n
// slots: its 20 stored hash bits scaled to n, so that the slot's tag
// gives it (tagHome) and growing reads no key. (A table of more than
// 2^20 slots, which only billions of keys make, has no more than 2^20
// homes; its runs are longer, and it is still right.)
func homeIn(h, n uint64) uint64 { return uint64(uint32(h)>>homeShift) * n >> homeBits }

// tagHome is homeIn from a slot's stored hash bits.
func tagHome(t uint32, n uint64) uint64 { return uint64(t>>homeShift) * n >> homeBits }

// homeOf is the home of a used slot in an array of n slots.
func homeOf(s *slot, n uint64) uint64 { return tagHome(s.tag, n) }

// next is the slot after i in an array of n.
func next(i, n uint64) uint64 {
	if i++; i == n {
		return 0
	}
	return i
}

// slotsNeeded is the fewest slots that hold n keys under the growth
// threshold (13/16).
func slotsNeeded(n int) int { return max(minTableSlots, (n*16+12)/13) }

// slotsFor returns the slot count an array is given for n keys: what
// they need, rounded up to what its allocation holds.
func slotsFor(n int) int { return arraySlots(slotsNeeded(n)) }

// arraySlots is the most slots an allocation for c of them holds: the
// allocator rounds an array of slots up to a size class (one over 512
// bytes carries an 8-byte header first, which it counts) or, over 32
// KiB, to whole pages; the slots that fit in the rounding are free.
func arraySlots(c int) int {
	const sz = int(unsafe.Sizeof(slot{}))
	switch b := c * sz; {
	case b <= 512:
		return classUp(b) / sz
	case b+8 <= 32<<10:
		return (classUp(b+8) - 8) / sz
	default:
		return (b + 8<<10 - 1) &^ (8<<10 - 1) / sz
	}
}

func newSlotArr(c int) *slotArr { return &slotArr{n: uint64(c), s: make([]slot, c)} }

// pieces is where a load's presize puts its tables' arrays: slabs of k
// pieces of size slots each (a multiple of 4), table i's in slab i/k at
// (i%k)·size, so that fitTables can fit the tables in place.
type pieces struct {
	slabs   [][]slot
	size, k int
}

func newPieces(tables, size int) *pieces {
	p := &pieces{size: size, k: max(1, slabSlots/size)}
	for left := tables; left > 0; left -= p.k {
		p.slabs = append(p.slabs, make([]slot, min(left, p.k)*size))
	}
	return p
}

// piece is table i's array.
func (p *pieces) piece(i int) []slot {
	s := p.slabs[i/p.k][(i%p.k)*p.size:]
	return s[:p.size:p.size]
}

// keyString returns the slot's key: its bytes in place, or for a packed
// one a new string of them unpacked.
func (s *slot) keyString() string {
	if s.tag&tagPacked != 0 {
		return string(appendUnpacked(nil, s.keyData(), s.klen()))
	}
	return unsafe.String(s.keyData(), s.klen())
}

// appendKey appends the slot's key to dst.
func (s *slot) appendKey(dst []byte) []byte {
	if s.tag&tagPacked != 0 {
		return appendUnpacked(dst, s.keyData(), s.klen())
	}
	return append(dst, s.stored()...)
}

// storedLen is the length of what the record or box holds of the key: the
// key's, or its packed form's.
func (s *slot) storedLen() int {
	if s.tag&tagPacked != 0 {
		return packedStoredLen(s.keyData())
	}
	return s.klen()
}

// stored returns what the record or box holds of the key.
func (s *slot) stored() []byte { return unsafe.Slice(s.keyData(), s.storedLen()) }

// keyIs reports whether the slot holds key.
func (s *slot) keyIs(key []byte) bool {
	if s.tag&tagPacked != 0 {
		_, ok := packedMatch(s.keyData(), key)
		return ok
	}
	return string(key) == unsafe.String(s.keyData(), s.klen())
}

// keyData returns the first byte of what the slot's record or box holds
// of its key (packed, with tagPacked).
func (s *slot) keyData() *byte {
	switch {
	case isCRec(s.tag):
		return (*byte)(unsafe.Add(s.p, crecKey(s.klen())))
	case s.tag&tagFold != 0:
		return (*byte)(unsafe.Add(s.p, foldOffset))
	case s.tag&tagBox != 0:
		return boxKey(s.p, s.klen())
	}
	return recKey(s.p)
}

// find returns key's slot, or nil.
func (t *table) find(key []byte, h uint64) *slot {
	p := t.first.Load()
	if p == nil {
		return nil
	}
	n := uint64(t.size.Load())
	tag := keyTag(h, len(key))
	for i := homeIn(h, n); ; i = next(i, n) {
		s := (*slot)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*unsafe.Sizeof(slot{})))
		if s.tag&tagKey == tag && s.tag != 0 {
			prefetch(uintptr(s.p))
			if s.keyIs(key) {
				return s
			}
		} else if s.tag == 0 {
			return nil
		}
	}
}

// findObj is find returning the key's value: a record's head is decoded
// once, for the key's position and for the obj.
func (t *table) findObj(key []byte, h uint64) (obj, bool) {
	p := t.first.Load()
	if p == nil {
		return obj{}, false
	}
	n := uint64(t.size.Load())
	tag := keyTag(h, len(key))
	for i := homeIn(h, n); ; i = next(i, n) {
		s := (*slot)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*unsafe.Sizeof(slot{})))
		if s.tag&tagKey == tag && s.tag != 0 {
			if s.tag&(tagBox|tagFold) != 0 {
				if s.keyIs(key) {
					return s.obj(), true
				}
				continue
			}
			head, w := recHead(s.p)
			if head&recLong != 0 {
				if recLongKlen(s.p) != len(key) {
					continue
				}
				_, kw := uvarintAt(unsafe.Add(s.p, w))
				w += kw
			}
			var exp int64
			if head&recExp != 0 {
				exp = int64(binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(s.p, w)), 8)))
				w += 8
			}
			kb, klen := unsafe.Add(s.p, w), len(key)
			if s.tag&tagPacked != 0 {
				var ok bool
				if klen, ok = packedMatch((*byte)(kb), key); !ok {
					continue
				}
			} else if string(key) != unsafe.String((*byte)(kb), klen) {
				continue
			}
			o := obj{kind: KindString, enc: uint8(head & 3), n: uint32(head >> recLenShift), exp: exp, ptr: recVal(s.p, w+klen, head), lw: s.lruWord()}
			if o.enc == encCoded {
				o.decoded()
			}
			return o, true
		} else if s.tag == 0 {
			return obj{}, false
		}
	}
}

// findString is find for a key held as a string.
func (t *table) findString(key string, h uint64) *slot {
	return t.find(unsafe.Slice(unsafe.StringData(key), len(key)), h)
}

// insert adds the key of ns (a slot's p, kind and length bits and access
// time; its hash bits are h's), known to be absent, and returns its slot.
func (t *table) insert(h uint64, ns slot) *slot {
	a := t.load()
	if a == nil || int(t.n)+1 > int(a.n)*13/16 {
		a = t.grow(a)
	}
	ns.tag = ns.tag&^tagHash | hash32(h)
	i := homeIn(h, a.n)
	for a.s[i].tag != 0 {
		i = next(i, a.n)
	}
	s := &a.s[i]
	*s = ns
	t.n++
	return s
}

// grow moves the slots to an array half as big again (or the first one),
// as much as its allocation holds; the homes come from the stored hash
// bits (homeOf), so no key is read. Growing by half, not by twice, keeps
// a table between 54% and 81% full, and a table a load left just under
// the threshold (fitTables) gains half its slots, not all of them.
func (t *table) grow(old *slotArr) *slotArr {
	if old == nil {
		a := newSlotArr(arraySlots(minTableSlots))
		t.publish(a)
		return a
	}
	a := newSlotArr(arraySlots(len(old.s) + len(old.s)/2))
	t.rehashInto(old, a)
	t.publish(a)
	return a
}

// rehashInto puts old's slots in a, an empty array big enough for them.
func (t *table) rehashInto(old, a *slotArr) {
	for k := range old.s {
		s := &old.s[k]
		if s.tag == 0 {
			continue
		}
		i := homeOf(s, a.n)
		for a.s[i].tag != 0 {
			i = next(i, a.n)
		}
		a.s[i] = *s
	}
}

// fitTables gives each table of a dataset a load has just built (before
// anyone else sees it) an array of the slots its keys need and no more:
// slotsNeeded, 13/16 full, rounded up to a cache line's four slots. A
// load sizes its tables for the mean share of keys (presize), with room
// for the ones that get more, and leaves them about 72% full; fitted,
// they are 79–81% full, 3.5 bytes of slot a key less.
//
// The presized arrays are pieces of a few big allocations (pieces), and
// the fitted ones take their place: table by table, in order, each is
// rehashed (through a scratch copy) to the front of what is left, so
// that no array is allocated and the slabs past the last fitted table
// are freed. A table that outgrew its piece during the load, and every
// table of a database the load did not presize, is fitted into new
// slabs. A slab over 32 KiB starts a page, so no slot of a fitted array
// straddles two cache lines.
//
// A piece keeps its whole slab alive: when a table grows out of its
// piece, the piece stays allocated until every table in that slab has
// grown out of it or emptied, and the next load's fit starts afresh.
func (ds *dataset) fitTables() {
	for _, d := range ds.dbs {
		bs := d.tabs.Load()
		pc := d.loadPieces
		d.loadPieces = nil
		if bs.shared {
			continue
		}
		var rest []*table // fitted into new slabs
		if pc != nil {
			rest = pc.fitInPlace(bs)
		} else {
			for i := range bs.t {
				rest = append(rest, &bs.t[i])
			}
		}
		need := 0
		for _, t := range rest {
			need += fitSlots(int(t.n))
		}
		var slab []slot
		for _, t := range rest {
			if t.n == 0 {
				t.publish(nil)
				continue
			}
			c := fitSlots(int(t.n))
			if len(slab) < c {
				slab = make([]slot, min(max(need, c), slabSlots))
			}
			a := &slotArr{n: uint64(c), s: slab[:c:c]}
			slab, need = slab[c:], need-c
			t.rehashInto(t.load(), a)
			t.publish(a)
		}
	}
}

// fitInPlace fits the tables of bs that still hold their pieces into the
// slabs, from the front, and returns the others (they outgrew their
// pieces, or have no keys). A fitted table takes no more slots than its
// piece (it holds at most 13/16 of it), so the front, which only moves
// past what earlier tables took, never reaches a piece not yet fitted.
func (pc *pieces) fitInPlace(bs *bucketSet) (rest []*table) {
	var scratch []slot
	si, off := 0, 0 // where the next fitted array goes: pc.slabs[si][off:]
	for i := range bs.t {
		t := &bs.t[i]
		a := t.load()
		if a == nil {
			continue
		}
		if t.n == 0 || &a.s[0] != &pc.piece(i)[0] {
			rest = append(rest, t)
			continue
		}
		c := fitSlots(int(t.n))
		if off+c > len(pc.slabs[si]) {
			si, off = si+1, 0
		}
		scratch = append(scratch[:0], a.s...)
		dst := pc.slabs[si][off : off+c : off+c]
		clear(dst)
		f := &slotArr{n: uint64(c), s: dst}
		t.rehashInto(&slotArr{n: uint64(len(scratch)), s: scratch}, f)
		t.publish(f)
		off += c
	}
	return rest
}

// fitSlots is the slots fitTables gives a table of n keys.
func fitSlots(n int) int { return (slotsNeeded(n) + 3) &^ 3 }

// slabSlots bounds the allocations fitTables cuts arrays from (1 MiB).
const slabSlots = 1 << 16

// remove deletes the slot s (from find) and closes the gap: each later
// slot of the run that may live earlier moves back.
func (t *table) remove(s *slot) {
	a := t.load()
	i := uint64((uintptr(unsafe.Pointer(s)) - uintptr(unsafe.Pointer(&a.s[0]))) / unsafe.Sizeof(slot{}))
	j := i
	for {
		j = next(j, a.n)
		if a.s[j].tag == 0 {
			break
		}
		hm := homeOf(&a.s[j], a.n)
		// s[j] may fill the hole at i unless its home lies cyclically in
		// (i, j].
		if (i < j && (hm <= i || hm > j)) || (i > j && hm <= i && hm > j) {
			a.s[i] = a.s[j]
			i = j
		}
	}
	a.s[i] = slot{}
	t.n--
	if t.n == 0 {
		t.publish(nil)
	}
}

// each calls fn for every key until fn returns false. fn must not change
// the table.
func (t *table) each(fn func(s *slot) bool) bool {
	a := t.load()
	if a == nil {
		return true
	}
	for i := range a.s {
		if a.s[i].tag != 0 && !fn(&a.s[i]) {
			return false
		}
	}
	return true
}

// nth returns the i-th used slot in array order (0 ≤ i < n).
func (t *table) nth(i int) *slot {
	a := t.load()
	for k := range a.s {
		if a.s[k].tag != 0 {
			if i == 0 {
				return &a.s[k]
			}
			i--
		}
	}
	return nil
}

// prefetchSlot starts loading the slot line where a lookup of h begins.
// It reads only published, immutable memory, so it needs no lock.
func (t *table) prefetchSlot(h uint64) {
	if p := t.first.Load(); p != nil {
		prefetch(uintptr(unsafe.Pointer(p)) + uintptr(homeIn(h, uint64(t.size.Load())))*unsafe.Sizeof(slot{}))
	}
}

// bucketSet is a database's buckets; replaced whole (presize, SWAPDB), so
// Prefetch can read it without a lock.
type bucketSet struct {
	nb uint64 // len(t); any count ≥ 1, not only powers of two (see bucketOfHash)
	t  []table
	// shared: the dataset's empty set, which every db that has never had
	// a key holds (16 dbs of 4096 empty tables would be 2.6 MB); a write
	// that adds a key first gives its db a set of its own (db.put), and
	// nothing is ever written into this one.
	shared bool
}

// sane checks the table's invariants: the count, every key's stored hash
// bits, and that every key is found from its home (no hole in a run).
func (t *table) sane() error {
	a := t.load()
	if a == nil {
		if t.n != 0 {
			return fmt.Errorf("table: no slots but n=%d", t.n)
		}
		return nil
	}
	n := 0
	for i := range a.s {
		s := &a.s[i]
		if s.tag == 0 {
			if s.p != nil || s.lru != 0 {
				return fmt.Errorf("table: empty slot %d not cleared", i)
			}
			continue
		}
		n++
		key := stringBytes(s.keyString())
		h := keyHash(key)
		if keyTag(h, len(key)) != s.tag&tagKey {
			return fmt.Errorf("table: key %q stored with hash and length bits %#x, not %#x", key, s.tag&tagKey, keyTag(h, len(key)))
		}
		if k := Kind(s.tag & tagKind); k < KindString || k > KindStream || (s.tag&(tagBox|tagFold) == 0 && k != KindString) ||
			(s.tag&tagFold != 0 && (k < KindList || k > KindHash || s.tag&tagBox != 0 && len(key) > foldKeyMax)) {
			return fmt.Errorf("table: key %q: bad kind bits %#x", key, s.tag&^tagKey)
		}
		if want := s.tag&tagBox == 0 && packDigits(key) > 0; (s.tag&tagPacked != 0) != want {
			return fmt.Errorf("table: key %q: packed bit %v, want %v", key, s.tag&tagPacked != 0, want)
		}
		if t.find(key, h) != s {
			return fmt.Errorf("table: key %q in slot %d is not found from its home", key, i)
		}
	}
	if n != int(t.n) {
		return fmt.Errorf("table: %d keys, n=%d", n, t.n)
	}
	if live, ok := t.saneArena(); !ok {
		return fmt.Errorf("table: arena of %d bytes holds %d live and %d dead", t.arenaBytes(), live, t.a.dead)
	}
	if n > int(a.n)*13/16 {
		return fmt.Errorf("table: %d keys in %d slots", n, a.n)
	}
	return nil
}

// prefetchData starts loading the first lines of a collection's packed
// data (a list's first chunk, a packed set, sorted set or hash): the
// reads of small collections (LRANGE, SMEMBERS, HGETALL…) start there.
// The caller holds the key's stripe lock.
func (o *obj) prefetchData() {
	b := o.firstPack()
	if len(b) == 0 {
		return
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	end := p + uintptr(min(len(b), prefetchDataBytes))
	for p &^= 63; p < end; p += 64 {
		prefetch(p)
	}
}

// prefetchDataBytes bounds how much of a collection prefetchData fetches.
const prefetchDataBytes = 256
