package projection

import (
	"hash/maphash"
	"math/rand/v2"
)

// dense is the big form of a set, a hash and a sorted set's member index:
// the elements in a slice, plus an index from each element's key to its
// position in the slice. The slice makes the value index-addressable, so
// a random element (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) costs O(1), and
// it gives the value an order that stays the same while the value does not
// change (SMEMBERS, HGETALL and SSCAN agree call after call, unlike a Go
// map's iteration). A delete moves the last element into the hole
// (swap-remove), so the slice stays dense.
//
// The index is keyed by a 32-bit hash of the key, not by the key: a
// map[uint32]uint32 slot is 8 bytes where a map[string]int slot is 24, and
// the key's bytes live once, in the slice. A lookup checks that the item
// at the index it finds has the key; a key whose hash is already taken by
// another key when it is indexed goes to over, a map by key, which a
// lookup consults when idx does not answer. Hashes are seeded per process
// (maphash), so collisions are the birthday rate (about n²/2³³: ~120 of
// 1M keys), not something a client can aim at.
//
// Cursor scans (scanDesc) walk the slice from the top index down, which
// stays correct while the value changes; see scanDesc.
type dense[T denseItem] struct {
	items []T
	idx   map[uint32]uint32 // hash → index of the first key indexed with that hash
	over  map[string]int    // keys whose hash was taken (nil when none)
}

// denseSeed seeds dense's key hashes.
var denseSeed = maphash.MakeSeed()

// denseHashMask is all ones; tests narrow it to force collisions.
var denseHashMask = ^uint32(0)

func denseHash(k []byte) uint32 {
	h := maphash.Bytes(denseSeed, k)
	return uint32(h^h>>32) & denseHashMask
}

// denseItem is an element of a dense: its key is the member (set, sorted
// set) or field (hash).
type denseItem interface {
	key() string
}

// smem is a set member.
type smem string

func (m smem) key() string { return string(m) }

// hfield is a hash field and its value.
type hfield struct {
	f, v string
}

func (x hfield) key() string { return x.f }

// zmem is a sorted-set member and its score.
type zmem struct {
	m string
	s float64
}

func (x zmem) key() string { return x.m }

func newDense[T denseItem](sizeHint int) *dense[T] {
	return &dense[T]{items: make([]T, 0, sizeHint), idx: make(map[uint32]uint32, sizeHint)}
}

func (d *dense[T]) len() int { return len(d.items) }

// find returns the index of key k.
func (d *dense[T]) find(k []byte) (int, bool) {
	if i, ok := d.idx[denseHash(k)]; ok && d.items[i].key() == string(k) {
		return int(i), true
	}
	if d.over != nil {
		i, ok := d.over[string(k)]
		return i, ok
	}
	return 0, false
}

// index records that key k (not indexed yet) is at i.
func (d *dense[T]) index(k string, i int) {
	h := denseHash(stringBytes(k))
	if _, taken := d.idx[h]; !taken {
		d.idx[h] = uint32(i)
		return
	}
	if d.over == nil {
		d.over = map[string]int{}
	}
	d.over[k] = i
}

// unindex forgets key k, at i.
func (d *dense[T]) unindex(k string, i int) {
	h := denseHash(stringBytes(k))
	if j, ok := d.idx[h]; ok && int(j) == i {
		delete(d.idx, h)
		return
	}
	delete(d.over, k)
	if len(d.over) == 0 {
		d.over = nil
	}
}

// relocate records that key k moved from index from to index to. idx
// holds k's entry exactly when its entry for k's hash is from (one key
// per index).
func (d *dense[T]) relocate(k string, from, to int) {
	h := denseHash(stringBytes(k))
	if j, ok := d.idx[h]; ok && int(j) == from {
		d.idx[h] = uint32(to)
		return
	}
	d.over[k] = to
}

// push appends it, whose key must be absent.
func (d *dense[T]) push(it T) {
	d.index(it.key(), len(d.items))
	d.items = append(d.items, it)
}

// removeAt deletes the item at index i by moving the last item into its
// place: the only item that moves goes from the end to a lower index.
func (d *dense[T]) removeAt(i int) {
	d.unindex(d.items[i].key(), i)
	last := len(d.items) - 1
	if i != last {
		d.relocate(d.items[last].key(), last, i)
		d.items[i] = d.items[last]
	}
	var zero T
	d.items[last] = zero // drop the reference to the moved strings
	d.items = d.items[:last]
	if cap(d.items) > 64 && len(d.items) < cap(d.items)/4 {
		d.items = append(make([]T, 0, 2*len(d.items)), d.items...)
	}
}

// insertAt puts it (key absent) at index i, shifting the items from i up
// by one (an ordered insert, for intsets kept ascending; O(n) like Redis's
// intsetAdd).
func (d *dense[T]) insertAt(i int, it T) {
	var zero T
	d.items = append(d.items, zero)
	copy(d.items[i+1:], d.items[i:])
	// top down: each item's new index is free by the time it is recorded
	for j := len(d.items) - 1; j > i; j-- {
		d.relocate(d.items[j].key(), j-1, j)
	}
	d.items[i] = it
	d.index(it.key(), i)
}

// removeOrdered deletes index i keeping the order of the rest (intsets);
// items above i move down by one.
func (d *dense[T]) removeOrdered(i int) {
	d.unindex(d.items[i].key(), i)
	for j := i + 1; j < len(d.items); j++ { // bottom up, as insertAt top down
		d.relocate(d.items[j].key(), j, j-1)
	}
	copy(d.items[i:], d.items[i+1:])
	var zero T
	d.items[len(d.items)-1] = zero
	d.items = d.items[:len(d.items)-1]
}

func (d *dense[T]) clone() *dense[T] {
	n := newDense[T](len(d.items))
	for _, it := range d.items {
		n.push(it)
	}
	return n
}

// scanDesc visits up to count items for a cursor scan (SSCAN, HSCAN,
// ZSCAN) and returns the cursor to pass next, 0 when done. Cursor 0
// starts at the top index; cursor c > 0 continues at index c-1 (clamped
// to the current top, the value may have shrunk).
//
// Guarantee: an element present from the first call to the last is
// returned at least once, however the value changes between calls.
// Proof: let P be the index the next call starts at (its cursor minus
// one, clamped). Invariant: an element e not yet returned sits at an
// index ≤ P. It holds at the start (P = top). A call visits P, P-1, …
// down to some Q and sets P = Q-1: e was either visited or is below Q.
// Between calls the value changes only by push (a new, higher index;
// nothing moves), removeAt (the last item moves to a lower index),
// removeOrdered (items move down by one) and insertAt (only while the set
// is an intset, which is scanned whole in one step, so no cursor is live
// across it). No existing element ever moves up, so e stays ≤ P, and the
// clamp to the new top keeps it (e's index ≤ top). P falls at every call
// that visits anything, so the scan ends with P < 0, and e, never above
// P, was visited on the way. Elements may be returned twice (one moved
// down from the unvisited top into the visited range is met again).
func (d *dense[T]) scanDesc(cursor uint64, count int, fn func(it *T)) uint64 {
	n := len(d.items)
	if n == 0 {
		return 0
	}
	if count < 1 {
		count = 1
	}
	p := n - 1
	if cursor != 0 && cursor-1 < uint64(n-1) {
		p = int(cursor - 1)
	}
	for ; p >= 0 && count > 0; p, count = p-1, count-1 {
		fn(&d.items[p])
	}
	if p < 0 {
		return 0
	}
	return uint64(p) + 1
}

// sampleIdx implements the count rule of SRANDMEMBER, HRANDFIELD and
// ZRANDMEMBER over n index-addressable elements in O(|count|) (see
// src/t_set.c srandmemberWithCountCommand and its hash and zset twins):
//
//   - count < 0: -count independent uniform picks (CASE 1);
//   - count ≥ n: every element once, in order (CASE 2);
//   - 3·count > n: a uniform subset of count, in element order (CASE 3:
//     Redis copies the value and deletes random elements; selection
//     sampling gives the same distribution in O(n) = O(count));
//   - else: a uniform subset of count in pick order (CASE 4: Redis adds
//     random elements to a dict until it holds count; Floyd's algorithm
//     takes count picks, never more).
func sampleIdx(r *rand.Rand, n, count int, at func(i int)) {
	if n == 0 || count == 0 {
		return
	}
	if count < 0 {
		for j := 0; j < -max(count, -maxInt); j++ {
			at(randN(r, n))
		}
		return
	}
	if count == 1 && n > 1 {
		at(randN(r, n)) // one uniform pick: the no-count form
		return
	}
	if count >= n {
		for i := 0; i < n; i++ {
			at(i)
		}
		return
	}
	if count*3 > n {
		// Selection sampling (Knuth's algorithm S): keep index i with
		// probability need/left.
		need := count
		for i := 0; i < n && need > 0; i++ {
			if randN(r, n-i) < need {
				at(i)
				need--
			}
		}
		return
	}
	chosen := make(map[int]struct{}, count)
	for j := n - count; j < n; j++ {
		t := randN(r, j+1)
		if _, dup := chosen[t]; dup {
			t = j
		}
		chosen[t] = struct{}{}
		at(t)
	}
}

const maxInt = int(^uint(0) >> 1)
