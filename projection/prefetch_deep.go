//go:build !race

package projection

// prefetchDeep is the second stage of Projection.PrefetchKeys: with the
// slot lines on their way (stage one), it walks each key's probe run and
// prefetches, for the slots whose hash bits match, what the slot points
// at, the next miss of the lookup: a string's record (key and value, its
// first two lines) or a box. It reports whether the slot it found points
// at a box (then prefetchBoxed and stage three have more to fetch; a
// string's record has nothing past its lines).
//
// It holds no lock: the applier may be rewriting the slots it reads. That
// is safe because it only reads memory it may read and only prefetches
// the addresses it computes (a prefetch of any address is harmless):
// slotArr is published whole (its length and slots agree), so every slot
// read is inside the array; a word-sized racy read yields some value once
// written there (the Go memory model), so p is some record or box,
// possibly not the one the tag belongs to, and a mismatch only
// prefetches a wrong line. prefetchBoxed reads a box's first word (every
// record and box is at least 8 bytes: recMin). The race detector cannot
// know that these reads are only hints, so race builds skip this stage
// (prefetch_deep_race.go).
func (t *table) prefetchDeep(h uint64) (boxed bool) {
	s := t.racyProbe(h)
	if s == nil {
		return false
	}
	st, p := s.tag, s.p // racy copies: they may not belong together
	prefetch(uintptr(p))
	if st&tagBox == 0 {
		// A record's next lines too: a record of the usual size (under
		// 128 bytes) spans two, or three when it starts late in a line
		// (an arena packs records at any byte: one in five of the
		// harness's strings). Its length is in the record, and reading
		// it here would wait for the line just asked for; the line of
		// p+127 is the second one when p starts a line.
		prefetch(uintptr(p) + 64)
		if st&tagFold != 0 {
			// A packed collection record (crec.go): its pack follows
			// the key, and its reads walk it from the start (the line
			// of p+127 is among these).
			prefetch(uintptr(p) + 128)
			prefetch(uintptr(p) + 192)
		} else {
			prefetch(uintptr(p) + 127)
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
	i := homeIn(h, a.n)
	for probe := 0; probe < 8; probe++ {
		s := &a.s[i]
		st := s.tag
		if st == 0 {
			return nil
		}
		if st&tagHash == tag {
			return s
		}
		i = next(i, a.n)
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
