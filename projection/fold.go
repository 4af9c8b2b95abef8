package projection

import "unsafe"

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
// Keys are folded where the loader makes them (a full sync, an RDB file):
// that is where a sidecar's keys come from. A key the stream creates is
// boxed, as before: the apply paths build a value, store it and go on
// changing it through their own pointer, so moving the struct there would
// need each of them to take the pointer back.
type folded[T, K any] struct {
	v T
	k K
}

const (
	foldKeyMax = 48 // longest key a folded allocation holds
	foldOffset = 32 // where the key starts: every foldable struct is 32 bytes
)

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

// foldSlot moves the collection o (a loaded key's, not yet stored) into a
// folded allocation with key, points o at it and returns the slot that
// holds it; ok is false when the key cannot fold (an expire time, a long
// key, a string or a stream), and o is unchanged. The move copies every
// field of the struct (TestFoldCopiesEveryField holds it to that).
func foldSlot(key []byte, o *obj) (s slot, ok bool) {
	if o.exp != 0 || len(key) > foldKeyMax {
		return slot{}, false
	}
	var p unsafe.Pointer
	switch o.kind {
	case KindList:
		var l *listObj
		p, l = newFolded[listObj](key)
		src := o.list()
		l.one, l.more, l.n = src.one, src.more, src.n
		l.lru.t.Store(src.lru.t.Load())
	case KindSet:
		var st *setObj
		p, st = newFolded[setObj](key)
		src := o.set()
		st.pk, st.d, st.n, st.enc = src.pk, src.d, src.n, src.enc
		st.lru.t.Store(src.lru.t.Load())
	case KindZSet:
		var z *zsetObj
		p, z = newFolded[zsetObj](key)
		src := o.zset()
		z.pk, z.big, z.n = src.pk, src.big, src.n
		z.lru.t.Store(src.lru.t.Load())
	case KindHash:
		var h *hashObj
		p, h = newFolded[hashObj](key)
		src := o.hash()
		h.pk, h.x, h.n = src.pk, src.x, src.n
		h.lru.t.Store(src.lru.t.Load())
	default:
		return slot{}, false
	}
	o.ptr = p
	return slot{p: p, tag: uint32(o.kind) | tagBox | tagFold, klen: uint32(len(key))}, true
}

// unfold gives the folded key in s a box with expire time exp (setExpire):
// the box points at the same struct.
func (s *slot) unfold(exp int64) {
	key := unsafe.Slice(s.keyData(), int(s.klen))
	o := obj{ptr: s.p, kind: Kind(s.tag & tagKind), exp: exp}
	s.p = newBox(key, &o)
	s.tag &^= tagFold
}
