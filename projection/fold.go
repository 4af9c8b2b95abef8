package projection

import (
	"sync/atomic"
	"unsafe"
)

// A folded key: a list, set, sorted set or hash whose key has no expire
// time and is at most foldKeyMax bytes long can be held in one
// allocation, the value's 32-byte struct with the key's bytes after it,
// where a box (pointer, expire time, key) and the struct were two:
//
//	slot.p ──► +-----------------------------+----------------+
//	           | listObj / setObj / zsetObj /| key (inline,   |
//	           | hashObj (32 B)              | 16, 32 or 48 B)|
//	           +-----------------------------+----------------+
//	           48, 64 or 80 B, against 64, 80 or 96 B boxed
//
// The slot says so with tagFold (beside tagBox: a folded key is not a
// record either). obj.ptr is slot.p itself, since the struct comes
// first. A folded key has no expire time: setExpire moves it into a box
// that points at the same struct (the inline key is then unused), and a
// store of another value under the key boxes it again.
//
// Keys are folded where the loader makes them (a full sync, an RDB file)
// and cannot make a packed record of them (crec.go; a record written to
// is expanded to a folded key),
// where a write creates a collection and goes on changing it (LPUSH,
// RPUSH, HSET, SADD, SMOVE, ZADD…) and where one is moved or built whole
// (RENAME, MOVE, COPY, RESTORE, SINTERSTORE…). The loader calls foldSlot
// and the writes storeNew; both hand back the moved struct. store itself
// never folds: it cannot move a struct its caller may still hold.
type folded[T, K any] struct {
	v T
	k K
}

const (
	foldKeyMax = 48 // longest key a folded allocation holds
	foldOffset = 32 // where the key starts: every foldable struct is 32 bytes
)

// noFold turns folding off, for tests that build a boxed twin.
var noFold atomic.Bool

// newFolded returns a zero T in a new folded allocation holding key
// (len(key) ≤ foldKeyMax), and the allocation.
func newFolded[T any](key []byte) (unsafe.Pointer, *T) {
	var p unsafe.Pointer
	var v *T
	var k []byte
	switch n := len(key); {
	case n <= 16:
		f := &folded[T, [16]byte]{}
		p, v, k = unsafe.Pointer(f), &f.v, f.k[:]
	case n <= 32:
		f := &folded[T, [32]byte]{}
		p, v, k = unsafe.Pointer(f), &f.v, f.k[:]
	default:
		f := &folded[T, [48]byte]{}
		p, v, k = unsafe.Pointer(f), &f.v, f.k[:]
	}
	copy(k, key)
	return p, v
}

// foldedSize is the size of the folded allocation of a klen-byte key.
func foldedSize(klen int) int64 {
	switch {
	case klen <= 16:
		return foldOffset + 16
	case klen <= 32:
		return foldOffset + 32
	}
	return foldOffset + 48
}

// foldSlot moves the collection o (a new key's, not yet stored) into a
// folded allocation with key, points o at it and returns the slot that
// holds it; ok is false when the key cannot fold (an expire time, a long
// key, a string or a stream), and o is unchanged. The move copies every
// field of the struct (TestFoldCopiesEveryField holds it to that); a nil
// o.ptr stands for a zero struct.
func foldSlot(key []byte, o *obj) (s slot, ok bool) {
	if o.exp != 0 || len(key) > foldKeyMax || noFold.Load() {
		return slot{}, false
	}
	var p unsafe.Pointer
	switch o.kind {
	case KindList:
		var l *listObj
		p, l = newFolded[listObj](key)
		if src := o.list(); src != nil {
			l.one, l.more, l.n = src.one, src.more, src.n
			l.lru.t.Store(src.lru.t.Load())
		}
	case KindSet:
		var st *setObj
		p, st = newFolded[setObj](key)
		if src := o.set(); src != nil {
			st.pk, st.d, st.n, st.enc = src.pk, src.d, src.n, src.enc
			st.lru.t.Store(src.lru.t.Load())
		}
	case KindZSet:
		var z *zsetObj
		p, z = newFolded[zsetObj](key)
		if src := o.zset(); src != nil {
			z.pk, z.big, z.n = src.pk, src.big, src.n
			z.lru.t.Store(src.lru.t.Load())
		}
	case KindHash:
		var h *hashObj
		p, h = newFolded[hashObj](key)
		if src := o.hash(); src != nil {
			h.pk, h.x, h.n = src.pk, src.x, src.n
			h.lru.t.Store(src.lru.t.Load())
		}
	default:
		return slot{}, false
	}
	o.ptr = p
	return slot{p: p, tag: uint32(o.kind) | tagBox | tagFold | klenTag(len(key))}, true
}

// storeNew stores the new collection o under key (replacing what is
// there, as store does), folded when it can be: o.ptr then points at the
// moved struct, and the caller goes on through o, never through the
// pointer it had. A nil o.ptr stands for a zero list or hash.
func (d *db) storeNew(key []byte, o *obj) {
	if ns, ok := foldSlot(key, o); ok {
		d.putSlot(ns)
		return
	}
	if o.ptr == nil {
		switch o.kind {
		case KindList:
			o.ptr = ptrOf(&listObj{})
		case KindHash:
			o.ptr = ptrOf(newHash())
		default:
			panic("projection: storeNew of a zero " + o.kind.String())
		}
	}
	d.store(key, *o)
}

// unfold gives the folded key in s a box with expire time exp (setExpire):
// the box points at the same struct.
func (s *slot) unfold(exp int64) {
	key := unsafe.Slice(s.keyData(), s.klen())
	o := obj{ptr: s.p, kind: Kind(s.tag & tagKind), exp: exp}
	s.p = newBox(key, &o)
	s.tag &^= tagFold
}
