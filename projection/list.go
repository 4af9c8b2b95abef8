package projection

import "unsafe"

// listObj is a list: a sequence of packed chunks, like Redis's quicklist
// of listpacks. Each chunk holds at most listChunkEntries elements and
// listChunkBytes bytes (a single larger element gets a chunk of its own).
// Pushes and pops at either end touch one chunk; index operations walk
// chunk counts; in-the-middle edits (LINSERT, LSET, LREM, LTRIM) rebuild.
//
// The first chunk lives in the listObj itself (one): most lists have one
// chunk, and a read of one then costs a cache miss for the listObj (which
// the table lookup already prefetches) and one for its bytes, with no
// chunk array between them. chunks points into one until a second chunk
// makes append move it to the heap.
type listObj struct {
	chunks []lchunk
	n      int
	lru    lruWord
	lp     bool      // Redis 7.2+: would be a single listpack on the primary
	one    [1]lchunk // chunks' array while it has one chunk
}

type lchunk struct {
	b []byte
	n int
}

const (
	listChunkEntries = 128
	listChunkBytes   = 8 << 10
)

func (l *listObj) encoding(ec *EncodingConfig) string {
	if ec != nil && ec.Redis72 && l.lp {
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
		l.lp = l.n <= limit
		return
	}
	bytesLimit := 4096 << (-limit - 1)
	if -limit > 5 {
		bytesLimit = 64 << 10
	}
	size := 0
	for _, c := range l.chunks {
		if size += len(c.b); size > bytesLimit {
			break // chunks are mostly full, so this stops early
		}
	}
	l.lp = size <= bytesLimit
}

func (l *listObj) pushTail(e []byte) {
	if l.chunks == nil {
		l.chunks = l.one[:0]
	}
	if k := len(l.chunks); k > 0 {
		c := &l.chunks[k-1]
		if c.n < listChunkEntries && len(c.b)+packSize(e) <= listChunkBytes {
			c.b = packAppend(c.b, e)
			c.n++
			l.n++
			return
		}
	}
	l.chunks = append(l.chunks, lchunk{b: encodeElem(e), n: 1})
	l.n++
}

func (l *listObj) pushHead(e []byte) {
	if l.chunks == nil {
		l.chunks = l.one[:0]
	}
	if len(l.chunks) > 0 {
		c := &l.chunks[0]
		if c.n < listChunkEntries && len(c.b)+packSize(e) <= listChunkBytes {
			var tmp [80]byte
			c.b = packInsert(c.b, 0, packAppend(tmp[:0], e))
			c.n++
			l.n++
			return
		}
	}
	l.chunks = append(l.chunks, lchunk{})
	copy(l.chunks[1:], l.chunks)
	l.chunks[0] = lchunk{b: encodeElem(e), n: 1}
	l.n++
}

// popHead removes and returns the first element (a copy).
func (l *listObj) popHead() []byte {
	c := &l.chunks[0]
	e, next := packNext(c.b, 0)
	out := append([]byte(nil), e...)
	c.b = packCut(c.b, 0, next)
	c.n--
	l.n--
	if c.n == 0 {
		copy(l.chunks, l.chunks[1:])
		l.chunks[len(l.chunks)-1] = lchunk{}
		l.chunks = l.chunks[:len(l.chunks)-1]
	}
	return out
}

// popTail removes and returns the last element (a copy).
func (l *listObj) popTail() []byte {
	c := &l.chunks[len(l.chunks)-1]
	off, last := 0, 0
	for i := 0; i < c.n; i++ {
		last = off
		_, off = packNext(c.b, off)
	}
	e, _ := packNext(c.b, last)
	out := append([]byte(nil), e...)
	c.b = packCut(c.b, last, len(c.b))
	c.n--
	l.n--
	if c.n == 0 {
		l.chunks[len(l.chunks)-1] = lchunk{}
		l.chunks = l.chunks[:len(l.chunks)-1]
	}
	return out
}

// index returns element i (0 ≤ i < n).
func (l *listObj) index(i int) []byte {
	var e []byte
	l.walk(i, i, false, func(_ int, x []byte) bool { e = x; return false })
	return e
}

// walk calls fn for elements s..e inclusive (0 ≤ s ≤ e < n), in order or
// reversed, until fn returns false.
func (l *listObj) walk(s, e int, reverse bool, fn func(i int, elem []byte) bool) {
	if !reverse {
		base := 0
		for ci := range l.chunks {
			c := &l.chunks[ci]
			if base+c.n <= s {
				base += c.n
				continue
			}
			off := 0
			for j := 0; j < c.n; j++ {
				var x []byte
				x, off = packNext(c.b, off)
				i := base + j
				if i < s {
					continue
				}
				if i > e {
					return
				}
				if !fn(i, x) {
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
	base := l.n
	var offs []int
	for ci := len(l.chunks) - 1; ci >= 0; ci-- {
		c := &l.chunks[ci]
		base -= c.n
		if base > e {
			continue
		}
		offs = offs[:0]
		off := 0
		for j := 0; j < c.n; j++ {
			offs = append(offs, off)
			_, off = packNext(c.b, off)
		}
		for j := c.n - 1; j >= 0; j-- {
			i := base + j
			if i > e {
				continue
			}
			if i < s {
				return
			}
			x, _ := packNext(c.b, offs[j])
			if !fn(i, x) {
				return
			}
		}
	}
}

// elems returns copies of all elements (for rebuilding edits).
func (l *listObj) elems() [][]byte {
	out := make([][]byte, 0, l.n)
	if l.n == 0 {
		return out
	}
	l.walk(0, l.n-1, false, func(_ int, x []byte) bool {
		out = append(out, append([]byte(nil), x...))
		return true
	})
	return out
}

// rebuild replaces the content with es.
func (l *listObj) rebuild(es [][]byte) {
	l.chunks = nil
	l.n = 0
	for _, e := range es {
		l.pushTail(e)
	}
}

func (l *listObj) bytes() int {
	n := int(unsafe.Sizeof(*l))
	if cap(l.chunks) > 0 && &l.chunks[:1][0] != &l.one[0] {
		n += int(unsafe.Sizeof(lchunk{})) * cap(l.chunks)
	}
	for _, c := range l.chunks {
		n += cap(c.b)
	}
	return n
}
