package projection

import (
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
// them early. Here a slot holds 32 bits of the key's hash, its length and
// a pointer to its bytes beside the obj, so
//
//   - a lookup reads one slot line, compares the stored hash bits, and
//     reads the key's bytes only for a slot whose bits match (and, as it
//     does, starts fetching the value: prefetch(o.ptr));
//   - the slot's address is known from the hash alone, so a reader with
//     several requests in hand (a pipeline, MGET) fetches every slot line
//     at once before it runs any of them (Projection.Prefetch);
//   - a table grows without touching the keys: a slot's home is its stored
//     hash bits.
//
// The slot array's address and mask are atomic words, so Prefetch
// computes a slot's address without the stripe lock and without a data
// race (a mask and address from two different arrays, seen during a
// growth, make a wrong address, and a prefetch of any address is
// harmless); everything else holds the stripe lock as before, and sees
// the two agree.
//
// Deletion shifts the following run back (no tombstones), so a probe
// always ends at an empty slot. The table grows at 13/16 full; it frees
// its array when the last key goes.
type table struct {
	first atomic.Pointer[slot]    // slot 0 of the array; nil: no array
	mask  atomic.Uint64           // slots - 1
	arr   atomic.Pointer[slotArr] // the same array with its mask, consistent (prefetchDeep)
	n     int                     // used slots
}

// slotArr is a view of a table's array, for the methods that hold the
// stripe lock.
type slotArr struct {
	mask uint64
	s    []slot
}

// load returns the table's array (nil when it has none); the caller holds
// the stripe lock.
func (t *table) load() *slotArr {
	p := t.first.Load()
	if p == nil {
		return nil
	}
	m := t.mask.Load()
	return &slotArr{mask: m, s: unsafe.Slice(p, m+1)}
}

// publish makes a the table's array (nil: none).
func (t *table) publish(a *slotArr) {
	t.arr.Store(a)
	if a == nil {
		t.first.Store(nil)
		t.mask.Store(0)
		return
	}
	t.mask.Store(a.mask)
	t.first.Store(&a.s[0])
}

// slot is one key and its value: 40 bytes.
type slot struct {
	key  unsafe.Pointer // the key's first byte (strings: shared with the value's buffer)
	klen uint32
	tag  uint32 // hash32 of the key; 0: empty
	o    obj
}

const minTableSlots = 8

// hash32 is the part of a key's hash a table keeps: the low 32 bits (the
// bucket is chosen by the high 32), never 0, which marks an empty slot. A
// slot's home is hash32 & mask.
func hash32(h uint64) uint32 {
	t := uint32(h)
	if t == 0 {
		t = 1
	}
	return t
}

// slotsFor returns the slot count that holds n keys under the growth
// threshold.
func slotsFor(n int) int {
	c := minTableSlots
	for n > c*13/16 {
		c *= 2
	}
	return c
}

func newSlotArr(c int) *slotArr {
	return &slotArr{mask: uint64(c - 1), s: make([]slot, c)}
}

// reserve sizes an empty table for n keys.
func (t *table) reserve(n int) {
	if t.n == 0 && n > 0 {
		t.publish(newSlotArr(slotsFor(n)))
	}
}

func (s *slot) keyString() string { return unsafe.String((*byte)(s.key), int(s.klen)) }

// find returns key's slot, or nil.
func (t *table) find(key []byte, h uint64) *slot {
	p := t.first.Load()
	if p == nil {
		return nil
	}
	mask := t.mask.Load()
	tag := hash32(h)
	for i := uint64(tag) & mask; ; i = (i + 1) & mask {
		s := (*slot)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*unsafe.Sizeof(slot{})))
		if s.tag == tag && int(s.klen) == len(key) {
			prefetch(uintptr(s.o.ptr))
			if string(key) == s.keyString() {
				return s
			}
		} else if s.tag == 0 {
			return nil
		}
	}
}

// findString is find for a key held as a string.
func (t *table) findString(key string, h uint64) *slot {
	return t.find(unsafe.Slice(unsafe.StringData(key), len(key)), h)
}

// insert adds a key known to be absent and returns its slot.
func (t *table) insert(key string, h uint64, o obj) *slot {
	a := t.load()
	if a == nil || t.n+1 > int(a.mask+1)*13/16 {
		a = t.grow(a)
	}
	tag := hash32(h)
	i := uint64(tag) & a.mask
	for a.s[i].tag != 0 {
		i = (i + 1) & a.mask
	}
	s := &a.s[i]
	*s = slot{key: unsafe.Pointer(unsafe.StringData(key)), klen: uint32(len(key)), tag: tag, o: o}
	t.n++
	return s
}

// grow moves the slots to an array twice as big (or the first one); the
// homes come from the stored hash bits, so no key is read.
func (t *table) grow(old *slotArr) *slotArr {
	if old == nil {
		a := newSlotArr(minTableSlots)
		t.publish(a)
		return a
	}
	a := newSlotArr(2 * len(old.s))
	for k := range old.s {
		s := &old.s[k]
		if s.tag == 0 {
			continue
		}
		i := uint64(s.tag) & a.mask
		for a.s[i].tag != 0 {
			i = (i + 1) & a.mask
		}
		a.s[i] = *s
	}
	t.publish(a)
	return a
}

// remove deletes the slot s (from find) and closes the gap: each later
// slot of the run that may live earlier moves back.
func (t *table) remove(s *slot) {
	a := t.load()
	i := uint64((uintptr(unsafe.Pointer(s)) - uintptr(unsafe.Pointer(&a.s[0]))) / unsafe.Sizeof(slot{}))
	j := i
	for {
		j = (j + 1) & a.mask
		if a.s[j].tag == 0 {
			break
		}
		home := uint64(a.s[j].tag) & a.mask
		// s[j] may fill the hole at i unless its home lies cyclically in
		// (i, j].
		if (i < j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
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
		prefetch(uintptr(unsafe.Pointer(p)) + uintptr(uint64(hash32(h))&t.mask.Load())*unsafe.Sizeof(slot{}))
	}
}

// bucketSet is a database's buckets; replaced whole (presize, SWAPDB), so
// Prefetch can read it without a lock.
type bucketSet struct {
	nb uint64 // len(t); any count ≥ 1, not only powers of two (see bucketOfHash)
	t  []table
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
			if s.key != nil || s.klen != 0 || s.o.ptr != nil {
				return fmt.Errorf("table: empty slot %d not cleared", i)
			}
			continue
		}
		n++
		key := stringBytes(s.keyString())
		h := keyHash(key)
		if hash32(h) != s.tag {
			return fmt.Errorf("table: key %q stored with hash bits %#x, not %#x", key, s.tag, hash32(h))
		}
		if t.find(key, h) != s {
			return fmt.Errorf("table: key %q in slot %d is not found from its home", key, i)
		}
	}
	if n != t.n {
		return fmt.Errorf("table: %d keys, n=%d", n, t.n)
	}
	if n > int(a.mask+1)*13/16 {
		return fmt.Errorf("table: %d keys in %d slots", n, a.mask+1)
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
