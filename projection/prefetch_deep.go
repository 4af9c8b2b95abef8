//go:build !race

package projection

import "unsafe"

// prefetchDeep is the second stage of Projection.PrefetchKeys: with the
// slot lines on their way (stage one), it walks each key's probe run and
// prefetches, for the slots whose hash bits match, what the slot points
// at, the next miss of the lookup: a string's record (key and value) —
// its first line and its last, which holds the access-time word a read
// refreshes — or a box. It reports whether the slot it found points at a
// box (then prefetchBoxed has a next line to fetch).
//
// It holds no lock: the applier may be rewriting the slots it reads. That
// is safe because it only reads memory it may read and only prefetches
// the addresses it computes (a prefetch of any address is harmless):
// slotArr is published whole (its length and mask agree), so every slot
// read is inside the array; a word-sized racy read yields some value once
// written there (the Go memory model), so p is some record or box (kept
// alive by the local copy), possibly not the one the tag belongs to; it
// reads at most the first ten bytes behind p (a record's head; every
// record and box is at least that long) to find the record's end, and a
// mismatched guess only prefetches a wrong line. The race detector cannot
// know that these reads are only hints, so race builds skip this stage
// (prefetch_deep_race.go).
func (t *table) prefetchDeep(h uint64) (boxed bool) {
	s := t.racyProbe(h)
	if s == nil {
		return false
	}
	st, p := s.tag, s.p // racy copies: they may not belong together
	prefetch(uintptr(p))
	if st&tagBox == 0 && p != nil {
		// The record's last line too, where touch reads the word.
		head, w := recHeadBounded(p)
		end := uintptr(p) + uintptr(w) + uintptr(s.klen) + uintptr(head>>3) + 7
		if head&recExp != 0 {
			end += 8
		}
		if end&^63 != uintptr(p)&^63 {
			prefetch(end)
		}
	}
	return st&tagBox != 0
}

// racyProbe walks h's probe run, without a lock, to the first slot whose
// hash bits match (at most 8 slots); nil if it meets an empty slot first.
func (t *table) racyProbe(h uint64) *slot {
	a := t.arr.Load()
	if a == nil {
		return nil
	}
	tag := hash32(h)
	i := home(tag) & a.mask
	for probe := 0; probe < 8; probe++ {
		s := &a.s[i]
		st := s.tag
		if st == 0 {
			return nil
		}
		if st&tagHash == tag {
			return s
		}
		i = (i + 1) & a.mask
	}
	return nil
}

// prefetchBoxed is the stage after prefetchDeep: for a key held in a box
// (a collection), whose line prefetchDeep started fetching, it reads the
// box's first word, the value's pointer, and prefetches the value's
// struct, so that stage three finds it in cache. It reads racily as
// prefetchDeep does: p is some record or box (every one is at least 8
// bytes), and the word read is only prefetched, never followed.
func (t *table) prefetchBoxed(h uint64) {
	if s := t.racyProbe(h); s != nil {
		if st, p := s.tag, s.p; st&tagBox != 0 && p != nil {
			prefetch(*(*uintptr)(p))
		}
	}
}

// recHeadBounded is recHead reading at most 10 bytes, for a p that may
// not be a record.
func recHeadBounded(p unsafe.Pointer) (head uint64, w int) {
	for shift := 0; w < 10; shift += 7 {
		b := *(*byte)(unsafe.Add(p, w))
		w++
		head |= uint64(b&0x7f) << shift
		if b < 0x80 {
			break
		}
	}
	return head, w
}
