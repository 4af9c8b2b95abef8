package projection

import (
	"encoding/binary"
	"fmt"

	"github.com/tidwall/btree"
)

// entryLog holds a stream's entries in ID order, in chunks like Redis's
// listpack nodes (src/t_stream.c streamAppendItem): up to chunkMaxEntries
// entries or about chunkMaxBytes each, IDs delta-encoded against the
// previous entry, and an entry whose field names equal its chunk's first
// entry's stores only its values. A B-tree indexes the chunks by first ID.
// Small entries then cost a few bytes over their values instead of a tree
// slot and an allocation each.
//
// Chunk layout, per entry:
//
//	+------+-----------+-----+----------------------------------------+
//	| flag | ms delta  | seq | same names: value…                     |
//	| (1B) | (uvarint) | (*) | else: npairs (uvarint), name value …    |
//	+------+-----------+-----+----------------------------------------+
//	(*) uvarint: seq minus the previous seq when ms delta is 0, else seq.
//	Strings are uvarint length + bytes.
//
// Chunks are never shared: COPY deep-copies them (copy), so appending in
// place is safe.
type entryLog struct {
	t *btree.BTreeG[*chunk]
	n int
}

type chunk struct {
	first, last StreamID
	n           int
	names       [][]byte // the first entry's field names
	b           []byte
}

const (
	chunkMaxEntries = 100 // stream-node-max-entries's default
	chunkMaxBytes   = 4096
	entrySameNames  = 1 // flag: the names are the chunk's first entry's
)

func newEntryLog() *entryLog {
	return &entryLog{t: btree.NewBTreeGOptions(func(a, b *chunk) bool { return idLess(a.first, b.first) }, btree.Options{NoLocks: true})}
}

func (l *entryLog) Len() int { return l.n }

// appendEntry encodes one entry at the end of c (whose last entry is prev).
func (c *chunk) appendEntry(id StreamID, fv [][]byte) {
	prev := c.last
	if c.n == 0 {
		prev = id
		c.first = id
		for i := 0; i+1 < len(fv); i += 2 {
			c.names = append(c.names, append([]byte(nil), fv[i]...))
		}
	}
	same := len(fv)/2 == len(c.names) && c.n > 0
	for i := 0; same && i < len(c.names); i++ {
		same = string(fv[2*i]) == string(c.names[i])
	}
	flag := byte(0)
	if same {
		flag = entrySameNames
	}
	c.b = append(c.b, flag)
	msDelta := id.Ms - prev.Ms
	c.b = binary.AppendUvarint(c.b, msDelta)
	if msDelta == 0 {
		c.b = binary.AppendUvarint(c.b, id.Seq-prev.Seq)
	} else {
		c.b = binary.AppendUvarint(c.b, id.Seq)
	}
	if !same {
		c.b = binary.AppendUvarint(c.b, uint64(len(fv)/2))
	}
	for i := 0; i+1 < len(fv); i += 2 {
		if !same {
			c.b = binary.AppendUvarint(c.b, uint64(len(fv[i])))
			c.b = append(c.b, fv[i]...)
		}
		c.b = binary.AppendUvarint(c.b, uint64(len(fv[i+1])))
		c.b = append(c.b, fv[i+1]...)
	}
	c.last = id
	c.n++
}

// chunkIter decodes a chunk's entries in order.
type chunkIter struct {
	c    *chunk
	pos  int
	prev StreamID
	i    int
}

func (it *chunkIter) str(b []byte) ([]byte, bool) {
	n, w := binary.Uvarint(b[it.pos:])
	if w <= 0 || uint64(len(b)-it.pos-w) < n {
		return nil, false
	}
	s := b[it.pos+w : it.pos+w+int(n) : it.pos+w+int(n)]
	it.pos += w + int(n)
	return s, true
}

func (it *chunkIter) uv(b []byte) (uint64, bool) {
	v, w := binary.Uvarint(b[it.pos:])
	if w <= 0 {
		return 0, false
	}
	it.pos += w
	return v, true
}

// next decodes the next entry, its fields appended to fv[:0] (pointing
// into the chunk).
func (it *chunkIter) next(fv [][]byte) (StreamID, [][]byte, bool) {
	c := it.c
	b := c.b
	if it.i >= c.n || it.pos >= len(b) {
		return StreamID{}, fv, false
	}
	if it.i == 0 {
		it.prev = c.first
	}
	flag := b[it.pos]
	it.pos++
	msDelta, ok1 := it.uv(b)
	seq, ok2 := it.uv(b)
	if !ok1 || !ok2 {
		return StreamID{}, fv, false
	}
	id := StreamID{Ms: it.prev.Ms + msDelta, Seq: seq}
	if msDelta == 0 {
		id.Seq = it.prev.Seq + seq
	}
	fv = fv[:0]
	if flag&entrySameNames != 0 {
		for _, name := range c.names {
			v, ok := it.str(b)
			if !ok {
				return StreamID{}, fv, false
			}
			fv = append(fv, name, v)
		}
	} else {
		np, ok := it.uv(b)
		if !ok {
			return StreamID{}, fv, false
		}
		for j := uint64(0); j < np; j++ {
			f, ok1 := it.str(b)
			v, ok2 := it.str(b)
			if !ok1 || !ok2 {
				return StreamID{}, fv, false
			}
			fv = append(fv, f, v)
		}
	}
	it.prev = id
	it.i++
	return id, fv, true
}

type decEntry struct {
	id StreamID
	fv [][]byte
}

// decode returns every entry of c (fields copied out of nothing: they
// point into c.b, valid while c is).
func (c *chunk) decode() []decEntry {
	out := make([]decEntry, 0, c.n)
	it := chunkIter{c: c}
	for {
		id, fv, ok := it.next(nil)
		if !ok {
			return out
		}
		out = append(out, decEntry{id, fv})
	}
}

// add inserts an entry; an existing entry with that ID is replaced.
func (l *entryLog) add(id StreamID, fv [][]byte) {
	if c, ok := l.t.Max(); !ok || idLess(c.last, id) {
		if ok && c.n < chunkMaxEntries && len(c.b) < chunkMaxBytes {
			c.appendEntry(id, fv)
		} else {
			nc := &chunk{}
			nc.appendEntry(id, fv)
			l.t.Set(nc)
		}
		l.n++
		return
	}
	// Out of order (only from an unusual RDB): rebuild the chunk it falls
	// in, or the one before the gap it falls in (the first chunk when it
	// comes before every entry).
	var c *chunk
	l.t.Descend(&chunk{first: id}, func(x *chunk) bool { c = x; return false })
	if c == nil {
		c, _ = l.t.Min()
	}
	es := c.decode()
	replaced := false
	at := len(es)
	for i, e := range es {
		if e.id == id {
			es[i].fv, replaced = fv, true
			break
		}
		if idLess(id, e.id) {
			at = i
			break
		}
	}
	if !replaced {
		es = append(es[:at], append([]decEntry{{id, fv}}, es[at:]...)...)
		l.n++
	}
	l.rebuild(c, es)
}

// chunkOf returns the chunk whose ID span holds id, or nil.
func (l *entryLog) chunkOf(id StreamID) *chunk {
	var c *chunk
	l.t.Descend(&chunk{first: id}, func(x *chunk) bool { c = x; return false })
	if c == nil || idLess(c.last, id) {
		return nil
	}
	return c
}

// rebuild replaces chunk old by chunks holding es (which may point into
// old: they are re-encoded before old is dropped).
func (l *entryLog) rebuild(old *chunk, es []decEntry) {
	var fresh []*chunk
	var cur *chunk
	for _, e := range es {
		if cur == nil || cur.n >= chunkMaxEntries || len(cur.b) >= chunkMaxBytes {
			cur = &chunk{}
			fresh = append(fresh, cur)
		}
		cur.appendEntry(e.id, e.fv)
	}
	l.t.Delete(old)
	for _, c := range fresh {
		l.t.Set(c)
	}
}

// has reports whether an entry with id exists.
func (l *entryLog) has(id StreamID) bool {
	c := l.chunkOf(id)
	if c == nil {
		return false
	}
	it := chunkIter{c: c}
	var fv [][]byte
	for {
		var x StreamID
		var ok bool
		if x, fv, ok = it.next(fv); !ok || idLess(id, x) {
			return false
		}
		if x == id {
			return true
		}
	}
}

// del removes the entry with id; false when there is none.
func (l *entryLog) del(id StreamID) bool {
	c := l.chunkOf(id)
	if c == nil {
		return false
	}
	es := c.decode()
	for i, e := range es {
		if e.id == id {
			l.rebuild(c, append(es[:i:i], es[i+1:]...))
			l.n--
			return true
		}
	}
	return false
}

// dropFront removes the first k entries (k ≤ Len), whole chunks at once
// where it can.
func (l *entryLog) dropFront(k int) {
	for k > 0 {
		c, ok := l.t.Min()
		if !ok {
			return
		}
		if c.n <= k {
			l.t.Delete(c)
			l.n -= c.n
			k -= c.n
			continue
		}
		es := c.decode()
		l.rebuild(c, es[k:])
		l.n -= k
		return
	}
}

// dropBefore removes the entries with IDs below minid; it returns how many.
func (l *entryLog) dropBefore(minid StreamID) int {
	n := 0
	for {
		c, ok := l.t.Min()
		if !ok || !idLess(c.first, minid) {
			return n
		}
		if idLess(c.last, minid) {
			l.t.Delete(c)
			l.n -= c.n
			n += c.n
			continue
		}
		es := c.decode()
		k := 0
		for k < len(es) && idLess(es[k].id, minid) {
			k++
		}
		l.rebuild(c, es[k:])
		l.n -= k
		return n + k
	}
}

func (l *entryLog) minID() (StreamID, bool) {
	c, ok := l.t.Min()
	if !ok {
		return StreamID{}, false
	}
	return c.first, true
}

func (l *entryLog) maxID() (StreamID, bool) {
	c, ok := l.t.Max()
	if !ok {
		return StreamID{}, false
	}
	return c.last, true
}

// ascend calls fn for the entries with ID ≥ start in order until it
// returns false. fv is reused between calls.
func (l *entryLog) ascend(start StreamID, fn func(id StreamID, fv [][]byte) bool) {
	from := &chunk{first: start}
	if c := l.chunkOf(start); c != nil {
		from = c
	}
	var fv [][]byte
	l.t.Ascend(from, func(c *chunk) bool {
		it := chunkIter{c: c}
		for {
			var id StreamID
			var ok bool
			if id, fv, ok = it.next(fv); !ok {
				return true
			}
			if idLess(id, start) {
				continue
			}
			if !fn(id, fv) {
				return false
			}
		}
	})
}

// descend calls fn for the entries with ID ≤ end in reverse order until it
// returns false.
func (l *entryLog) descend(end StreamID, fn func(id StreamID, fv [][]byte) bool) {
	l.t.Descend(&chunk{first: end}, func(c *chunk) bool {
		es := c.decode()
		for i := len(es) - 1; i >= 0; i-- {
			if idLess(end, es[i].id) {
				continue
			}
			if !fn(es[i].id, es[i].fv) {
				return false
			}
		}
		return true
	})
}

// copy deep-copies the log (COPY).
func (l *entryLog) copy() *entryLog {
	n := newEntryLog()
	n.n = l.n
	l.t.Scan(func(c *chunk) bool {
		nc := &chunk{first: c.first, last: c.last, n: c.n, b: append([]byte(nil), c.b...)}
		for _, name := range c.names {
			nc.names = append(nc.names, append([]byte(nil), name...))
		}
		n.t.Set(nc)
		return true
	})
	return n
}

// bytes is the memory the log takes, roughly.
func (l *entryLog) bytes() int {
	n := 0
	l.t.Scan(func(c *chunk) bool {
		n += 96 + cap(c.b)
		for _, name := range c.names {
			n += 24 + cap(name)
		}
		return true
	})
	return n
}

// sane checks chunk order, counts and decoding.
func (l *entryLog) sane() error {
	total := 0
	var prev StreamID
	var err error
	first := true
	l.t.Scan(func(c *chunk) bool {
		es := c.decode()
		if len(es) != c.n || c.n == 0 {
			err = fmt.Errorf("stream chunk %v decodes %d entries, counts %d", c.first, len(es), c.n)
			return false
		}
		if es[0].id != c.first || es[len(es)-1].id != c.last {
			err = fmt.Errorf("stream chunk %v..%v holds %v..%v", c.first, c.last, es[0].id, es[len(es)-1].id)
			return false
		}
		for _, e := range es {
			if !first && !idLess(prev, e.id) {
				err = fmt.Errorf("stream entries out of order at %v", e.id)
				return false
			}
			prev, first = e.id, false
		}
		total += c.n
		return true
	})
	if err == nil && total != l.n {
		err = fmt.Errorf("stream log counts %d entries, holds %d", l.n, total)
	}
	return err
}
