//go:build !race

package projection

// prefetchDeep is the second stage of Projection.PrefetchKeys: with the
// slot lines on their way (stage one), it walks each key's probe run and
// prefetches, for the slots whose hash bits match, the key's bytes and the
// value (o.ptr), the next two misses of the lookup; for a string, whose
// key and value share a buffer, the buffer's first and last lines (the
// last holds the access-time word a read refreshes).
//
// It holds no lock: the applier may be rewriting the slots it reads. That
// is safe because it only ever prefetches what it reads, never follows
// it (its pointers, or addresses computed from them: a torn read makes a
// wrong address, and a prefetch of any address is harmless): slotArr is
// published whole (its length and mask agree), so every
// slot read is inside the array, and a word-sized racy read yields some
// value once written there (the Go memory model), so at worst a stale or
// mismatched address is prefetched. The race detector cannot know that
// these reads are only hints, so race builds skip this stage
// (prefetch_deep_race.go).
func (t *table) prefetchDeep(h uint64) {
	a := t.arr.Load()
	if a == nil {
		return
	}
	tag := hash32(h)
	i := uint64(tag) & a.mask
	for probe := 0; probe < 8; probe++ {
		s := &a.s[i]
		st := s.tag
		if st == 0 {
			return
		}
		if st == tag {
			o := s.o // racy copy: its fields may not belong together
			prefetch(uintptr(s.key))
			if o.kind == KindString && o.flags&flagBoxed == 0 {
				// Key, value and access-time word share one buffer: its
				// last line too, where touch reads the word.
				if end := uintptr(o.ptr) + uintptr(o.n) + 3; end&^63 != uintptr(s.key)&^63 {
					prefetch(end)
				}
				return
			}
			prefetch(uintptr(o.ptr))
			return
		}
		i = (i + 1) & a.mask
	}
}
