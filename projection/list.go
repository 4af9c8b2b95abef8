package projection

import "unsafe"

// listObj is a list: a sequence of packed chunks, like Redis's quicklist
// of listpacks. Each chunk holds at most listChunkEntries elements and
// listChunkBytes bytes (a single larger element gets a chunk of its own),
// each element an entry (epack.go): text of one small alphabet is stored
// packed, and unpacked by the reads (walk, index) into a scratch. Edits
// in the middle move and compare entries without unpacking them (an
// element has one entry). The chunk limits count stored bytes; the
// listpack limit Redis 7.2 reports by counts the elements' own lengths.
// Pushes and pops at either end touch one chunk; index operations walk
// chunk counts; in-the-middle edits (LINSERT, LSET, LREM, LTRIM) rebuild.
//
// Most lists have one chunk, and then it lives in the listObj itself
// (one, its element count being n): the list is 32 bytes and its pack,
// and a read costs a cache miss for the listObj (which the table lookup
// already prefetches) and one for its bytes. A second chunk moves every
// chunk to more; the last but one going back moves the rest back to one.
// one's flag is lp: Redis 7.2+ would keep the list as a single listpack.
type listObj struct {
	one  pbuf
	more *[]lchunk // the chunks when there are two or more (one is then empty)
	n    int32
	lru  lruWord
}

type lchunk struct {
	b []byte
	n int
}

const (
	listChunkEntries = 128
	listChunkBytes   = 8 << 10
)

// size is the list's length.
func (l *listObj) size() int { return int(l.n) }

// numChunks is how many chunks the list has.
func (l *listObj) numChunks() int {
	if l.more != nil {
		return len(*l.more)
	}
	if l.n > 0 {
		return 1
	}
	return 0
}

// chunk returns chunk i.
func (l *listObj) chunk(i int) lchunk {
	if l.more != nil {
		return (*l.more)[i]
	}
	return lchunk{b: l.one.bytes(), n: int(l.n)}
}

// setChunk replaces chunk i; the caller keeps n right.
func (l *listObj) setChunk(i int, c lchunk) {
	if l.more != nil {
		(*l.more)[i] = c
		return
	}
	l.one.set(c.b)
}

// insertChunk inserts c as chunk i (0 or numChunks()).
func (l *listObj) insertChunk(i int, c lchunk) {
	if l.more == nil {
		if l.numChunks() == 0 {
			l.one.set(c.b)
			return
		}
		cs := make([]lchunk, 1, 2)
		cs[0] = lchunk{b: l.one.bytes(), n: int(l.n)}
		l.one.set(nil)
		l.more = &cs
	}
	cs := append(*l.more, lchunk{})
	copy(cs[i+1:], cs[i:])
	cs[i] = c
	*l.more = cs
}

// dropChunk removes chunk i, an empty one.
func (l *listObj) dropChunk(i int) {
	if l.more == nil {
		l.one.set(nil)
		return
	}
	cs := *l.more
	copy(cs[i:], cs[i+1:])
	cs[len(cs)-1] = lchunk{}
	cs = cs[:len(cs)-1]
	if len(cs) == 1 {
		l.more = nil
		l.one.set(cs[0].b)
		return
	}
	*l.more = cs
}

func (l *listObj) encoding(ec *EncodingConfig) string {
	if ec != nil && ec.Redis72 && l.one.flag() {
		return "listpack"
	}
	return "quicklist"
}

// updateLP tracks Redis 7.2's listpack↔quicklist conversion approximately:
// a list is a listpack while it fits in one node by list-max-listpack-size.
func (l *listObj) updateLP(ec *EncodingConfig) {
	if !ec.Redis72 {
		return // 7.0: always a quicklist
	}
	limit := ec.ListMaxListpackSize
	if limit >= 0 {
		l.one.setFlag(int(l.n) <= limit)
		return
	}
	bytesLimit := 4096 << (-limit - 1)
	if -limit > 5 {
		bytesLimit = 64 << 10
	}
	l.one.setFlag(l.rawSizeOver(bytesLimit) <= bytesLimit)
}

// rawSizeOver returns the size the list's packs would have with every
// element stored plain (uvarint length and bytes: Redis's listpacks hold
// them so, and the limit is Redis's), counting no further than past
// limit. An element's entry is at least a third of that (hex at 4 bits a
// character is the shortest form) and at most one byte more (a plain
// entry's length has a bit more), so the walk over the elements is only
// for the lists in between.
func (l *listObj) rawSizeOver(limit int) int {
	stored, n := 0, 0
	for i, k := 0, l.numChunks(); i < k; i++ {
		c := l.chunk(i)
		stored, n = stored+len(c.b), n+c.n
		if stored-n > limit {
			return stored - n // chunks are mostly full, so this stops early
		}
	}
	if 3*stored <= limit {
		return 3 * stored
	}
	size := 0
	for i, k := 0, l.numChunks(); i < k && size <= limit; i++ {
		b := l.chunk(i).b
		for off := 0; off < len(b) && size <= limit; {
			x, coded, next := entryNext(b, off)
			n := entryLen(x, coded)
			size += uvarintLen(uint64(n)) + n
			off = next
		}
	}
	return size
}

// reserve sizes the only chunk for a push of es when they all fit in it,
// so that they are added without regrowing it.
func (l *listObj) reserve(es [][]byte, tp bool) {
	if len(es) < 2 || l.more != nil {
		return
	}
	extra := 0
	for _, e := range es {
		extra += entrySize(e, tp)
	}
	if int(l.n)+len(es) > listChunkEntries || l.one.size()+extra > listChunkBytes {
		return
	}
	l.one.reserve(extra)
}

// loadElems fills an empty list with es in one pack of exactly its size
// when they fit in one chunk (a list as an RDB saves it); buf is scratch
// space, returned for reuse. ok is false, and nothing done, otherwise.
func (l *listObj) loadElems(es [][]byte, buf []byte, tp bool) ([]byte, bool) {
	if l.n != 0 || len(es) == 0 || len(es) > listChunkEntries {
		return buf, false
	}
	buf = buf[:0]
	for _, e := range es {
		if buf = entryAppend(buf, e, tp); len(buf) > listChunkBytes {
			return buf, false
		}
	}
	l.one.set(buf[:len(buf):len(buf)]) // the loader's: it copies the pack out (Loader.unalias)
	l.n = int32(len(es))
	return buf, true
}

// pushTail appends e, packed when tp (text packing on) and that saves.
func (l *listObj) pushTail(e []byte, tp bool) {
	var tmp [80]byte
	l.pushTailEntry(entryAppend(tmp[:0], e, tp))
}

// pushHead prepends e (see pushTail).
func (l *listObj) pushHead(e []byte, tp bool) {
	var tmp [80]byte
	l.pushHeadEntry(entryAppend(tmp[:0], e, tp))
}

// pushTailEntry appends an element given as its entry (epack.go).
func (l *listObj) pushTailEntry(ent []byte) {
	if l.n == 0 && l.one.capacity() >= len(ent) {
		l.one.set(append(l.one.bytes()[:0], ent...)) // reserved by a load
		l.n++
		return
	}
	if k := l.numChunks(); k > 0 {
		c := l.chunk(k - 1)
		if c.n < listChunkEntries && len(c.b)+len(ent) <= listChunkBytes {
			l.setChunk(k-1, lchunk{b: append(c.b, ent...), n: c.n + 1})
			l.n++
			return
		}
	}
	l.insertChunk(l.numChunks(), lchunk{b: cloneBytes(ent), n: 1})
	l.n++
}

// pushHeadEntry prepends an element given as its entry.
func (l *listObj) pushHeadEntry(ent []byte) {
	if l.numChunks() > 0 {
		c := l.chunk(0)
		if c.n < listChunkEntries && len(c.b)+len(ent) <= listChunkBytes {
			l.setChunk(0, lchunk{b: packInsert(c.b, 0, ent), n: c.n + 1})
			l.n++
			return
		}
	}
	l.insertChunk(0, lchunk{b: cloneBytes(ent), n: 1})
	l.n++
}

// cloneBytes returns a copy of b of exactly its length.
func cloneBytes(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}

// popHead removes the first element and returns its entry (a copy).
func (l *listObj) popHead() []byte {
	c := l.chunk(0)
	next := entrySkip(c.b, 0)
	out := cloneBytes(c.b[:next])
	c.b = packCut(c.b, 0, next)
	c.n--
	l.n--
	if c.n == 0 {
		l.dropChunk(0)
	} else {
		l.setChunk(0, c)
	}
	return out
}

// popTail removes the last element and returns its entry (a copy).
func (l *listObj) popTail() []byte {
	k := l.numChunks() - 1
	c := l.chunk(k)
	off, last := 0, 0
	for i := 0; i < c.n; i++ {
		last = off
		off = entrySkip(c.b, off)
	}
	out := cloneBytes(c.b[last:])
	c.b = packCut(c.b, last, len(c.b))
	c.n--
	l.n--
	if c.n == 0 {
		l.dropChunk(k)
	} else {
		l.setChunk(k, c)
	}
	return out
}

// index returns element i (0 ≤ i < n), unpacked into sc if coded.
func (l *listObj) index(i int, sc *scratch) []byte {
	var e []byte
	l.walk(i, i, false, sc, func(_ int, x []byte) bool { e = x; return false })
	return e
}

// walk calls fn for elements s..e inclusive (0 ≤ s ≤ e < n), in order or
// reversed, until fn returns false. Coded elements are unpacked into sc.
func (l *listObj) walk(s, e int, reverse bool, sc *scratch, fn func(i int, elem []byte) bool) {
	if reverse {
		l.walkEntries(s, e, true, func(i int, x []byte, coded bool) bool {
			return fn(i, entryValue(x, coded, sc))
		})
		return
	}
	// Forward, the common read (LRANGE), has a loop of its own: through
	// walkEntries, a call more per element cost LRANGE of ten 9%.
	base := 0
	for ci, k := 0, l.numChunks(); ci < k && base <= e; ci++ {
		c := l.chunk(ci)
		if base+c.n <= s {
			base += c.n
			continue
		}
		for j, off := 0, 0; j < c.n && base+j <= e; j++ {
			x, coded, next := entryNext(c.b, off)
			off = next
			if base+j < s {
				continue
			}
			if coded {
				x = sc.unpack(x)
			}
			if !fn(base+j, x) {
				return
			}
		}
		base += c.n
	}
}

// walkEntries is walk handing out the stored bytes of each element and
// whether they are coded (epack.go).
func (l *listObj) walkEntries(s, e int, reverse bool, fn func(i int, x []byte, coded bool) bool) {
	if !reverse {
		base := 0
		for ci, k := 0, l.numChunks(); ci < k; ci++ {
			c := l.chunk(ci)
			if base+c.n <= s {
				base += c.n
				continue
			}
			off := 0
			for j := 0; j < c.n; j++ {
				i := base + j
				if i < s {
					off = entrySkip(c.b, off)
					continue
				}
				if i > e {
					return
				}
				var x []byte
				var coded bool
				x, coded, off = entryNext(c.b, off)
				if !fn(i, x, coded) {
					return
				}
			}
			base += c.n
			if base > e {
				return
			}
		}
		return
	}
	// Reverse: walk chunks from the tail; decode a chunk into a small
	// scratch of offsets to go backwards.
	base := int(l.n)
	var offs []int
	for ci := l.numChunks() - 1; ci >= 0; ci-- {
		c := l.chunk(ci)
		base -= c.n
		if base > e {
			continue
		}
		offs = offs[:0]
		off := 0
		for j := 0; j < c.n; j++ {
			offs = append(offs, off)
			off = entrySkip(c.b, off)
		}
		for j := c.n - 1; j >= 0; j-- {
			i := base + j
			if i > e {
				continue
			}
			if i < s {
				return
			}
			x, coded, _ := entryNext(c.b, offs[j])
			if !fn(i, x, coded) {
				return
			}
		}
	}
}

// entries returns copies of all elements' entries (for rebuilding edits,
// which compare and move entries without unpacking them).
func (l *listObj) entries() [][]byte {
	out := make([][]byte, 0, l.n)
	for ci, k := 0, l.numChunks(); ci < k; ci++ {
		c := l.chunk(ci)
		b := cloneBytes(c.b) // one copy per chunk, sliced per entry
		for off := 0; off < len(b); {
			next := entrySkip(b, off)
			out = append(out, b[off:next:next])
			off = next
		}
	}
	return out
}

// rebuild replaces the content with the elements whose entries are ents.
func (l *listObj) rebuild(ents [][]byte) {
	l.one.set(nil)
	l.more = nil
	l.n = 0
	for _, e := range ents {
		l.pushTailEntry(e)
	}
}

func (l *listObj) bytes() int {
	n := int(unsafe.Sizeof(*l)) + l.one.capacity()
	if l.more != nil {
		n += 24 + int(unsafe.Sizeof(lchunk{}))*cap(*l.more)
		for _, c := range *l.more {
			n += cap(c.b)
		}
	}
	return n
}

// clone returns a deep copy (COPY).
func (l *listObj) clone() *listObj {
	nl := &listObj{n: l.n, one: l.one.clone()}
	if l.more != nil {
		cs := make([]lchunk, len(*l.more))
		for i, c := range *l.more {
			cs[i] = lchunk{b: append([]byte(nil), c.b...), n: c.n}
		}
		nl.more = &cs
	}
	return nl
}
