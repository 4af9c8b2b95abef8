package projection

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// A packed collection record (crec): a small list, set, sorted set or
// hash whose key has no expire time is held, after a load, as one
// allocation without Go pointers, like a string's record:
//
//	slot.p ──► +---------+-----+-----------+---------+------+
//	           | klen    | key | n<<3 | fl | plen    | pack |
//	           | uvarint |     | uvarint   | uvarint |      |
//	           +---------+-----+-----------+---------+------+
//	klen only for a key of 63 bytes or more (the slot's tag holds
//	shorter ones')
//	n: the struct's element count; fl: bit 2 the pack's flag (pbufFlag:
//	a list's listpack encoding), bits 0–1 a set's encoding
//
// where a folded key is the type's 32-byte struct with the key after it
// (48 B for a key of up to 16 bytes) and its pack, a second allocation:
// the record drops the struct's pointers, capacity and the second
// allocation's rounding, about 25 bytes a key. It is what the struct
// would be when the struct has nothing but its pack (a list of one
// chunk, a set without a dense, a sorted set without its tree, a hash
// without field TTLs or a dense).
//
// The slot says so with tagFold and no tagBox (a folded key has both),
// and holds its access time (slot.lru), as a string record's slot does.
// The obj
// read from it has flagCRec, ptr the record, n the key's length and lw
// the slot's access-time word; its list(), set(), zset() and hash() build a read-only copy of
// the struct whose pack points into the record (a view): on the heap for
// the rare readers, in the View's own room for View.Get and View.Peek
// (Value.view). A view is never written through: every write looks its
// key up with db.lookup, which first turns a record back into a folded
// key (expand), so the writes of list.go, set.go… run on a struct as
// before. Only a load and a moved key (RENAME, MOVE, COPY, RESTORE) make
// records; a key written since its load stays folded.

// noCRec turns packed collection records off, for tests that build a
// folded twin (noFold turns both off).
var noCRec atomic.Bool

const (
	crecFlagBit = 4 // fl: the pack's pbufFlag
	crecEncBits = 3 // fl: a set's encoding
	crecFlBits  = 3 // how many bits of the head fl takes
)

// isCRec reports whether a slot's tag says its p is a packed collection
// record.
func isCRec(tag uint32) bool { return tag&(tagBox|tagFold) == tagFold }

// crecParts returns what a collection struct holds when it can be a
// record: its pack, element count, fl byte and access-time word; ok is
// false when it holds more than its pack.
func crecParts(o *obj) (pk *pbuf, n uint32, fl byte, lru *lruWord, ok bool) {
	switch o.kind {
	case KindList:
		l := o.list()
		if l.more != nil {
			return nil, 0, 0, nil, false
		}
		pk, n, lru = &l.one, uint32(l.n), &l.lru
	case KindSet:
		s := o.set()
		if s.d != nil || s.enc&^crecEncBits != 0 {
			return nil, 0, 0, nil, false
		}
		pk, n, fl, lru = &s.pk, uint32(s.n), s.enc, &s.lru
	case KindZSet:
		z := o.zset()
		if z.big != nil {
			return nil, 0, 0, nil, false
		}
		pk, n, lru = &z.pk, uint32(z.n), &z.lru
	case KindHash:
		h := o.hash()
		if h.x != nil {
			return nil, 0, 0, nil, false
		}
		pk, n, lru = &h.pk, uint32(h.n), &h.lru
	default:
		return nil, 0, 0, nil, false
	}
	if pk.size() == 0 {
		return nil, 0, 0, nil, false // an empty collection is never kept
	}
	if pk.flag() {
		fl |= crecFlagBit
	}
	return pk, n, fl, lru, true
}

// crecSlot builds the record of the collection o under key (a key being
// stored whole: a load, a moved key) and returns the slot that holds it;
// ok is false when o cannot be one (an expire time, more than a pack).
// The pack is copied: o stays as it was.
func crecSlot(key []byte, o *obj) (slot, bool) { return crecSlotIn(nil, key, o) }

// crecSlotIn is crecSlot building the record in st (a load's stage,
// arena.go; nil: an allocation of its own).
func crecSlotIn(st *stage, key []byte, o *obj) (slot, bool) {
	if o.exp != 0 || o.flags&flagCRec != 0 || noFold.Load() || noCRec.Load() {
		return slot{}, false
	}
	pk, n, fl, lru, ok := crecParts(o)
	if !ok {
		return slot{}, false
	}
	f := formOf(key)
	p := newCRec(st, f, fl, n, pk.bytes())
	return slot{p: p, tag: uint32(o.kind) | tagFold | f.tag(), lru: lru.t.Load()}, true
}

// crecSize is the bytes a record holds whose key takes klen bytes in it
// (packed or not): at least recMin, as a string record.
func crecSize(klen int, n uint32, plen int) int {
	return recSize(crecKey(klen) + klen + uvarintLen(uint64(n)<<crecFlBits) + uvarintLen(uint64(plen)) + plen)
}

// crecKey is where the key of a record of a klen-byte key starts: after
// its length, for a long one.
func crecKey(klen int) int {
	if klen < tagLongKey {
		return 0
	}
	return uvarintLen(uint64(klen))
}

// newCRec allocates a record of the key stored as f.
func newCRec(st *stage, f keyForm, fl byte, n uint32, pack []byte) unsafe.Pointer {
	buf := st.alloc(crecSize(f.n, n, len(pack)))
	i := crecKey(len(f.key))
	if i > 0 {
		binary.PutUvarint(buf, uint64(len(f.key)))
	}
	i += f.put(buf[i:])
	i += binary.PutUvarint(buf[i:], uint64(n)<<crecFlBits|uint64(fl))
	i += binary.PutUvarint(buf[i:], uint64(len(pack)))
	copy(buf[i:], pack)
	return unsafe.Pointer(&buf[0])
}

// crecRead decodes the record at p whose key takes klen bytes in it: its
// fl byte, element count and pack.
func crecRead(p unsafe.Pointer, klen int) (fl byte, n uint32, pack []byte) {
	i := crecKey(klen) + klen
	head, w := uvarintAt(unsafe.Add(p, i))
	i += w
	plen, w := uvarintAt(unsafe.Add(p, i))
	i += w
	pack = unsafe.Slice((*byte)(unsafe.Add(p, i)), int(plen))
	return byte(head & (1<<crecFlBits - 1)), uint32(head >> crecFlBits), pack
}

// crecBytes is the size of the record (MEMORY USAGE).
func crecBytes(p unsafe.Pointer, klen int) int {
	_, n, pack := crecRead(p, klen)
	return crecSize(klen, n, len(pack))
}

// viewInto fills dst, a zero struct of o's kind (every one is 32 bytes
// with its pointers in the same words, so a listObj holds any of them),
// from the record o points at. With own set the pack is a copy (a struct
// that will be written); otherwise it points into the record, with its
// capacity its length.
func (o *obj) viewInto(dst *listObj, own bool) unsafe.Pointer {
	fl, n, pack := crecRead(o.ptr, int(o.n))
	if own {
		pack = append(make([]byte, 0, len(pack)), pack...)
	}
	var pk *pbuf
	var w *lruWord
	switch o.kind {
	case KindList:
		dst.n = int32(n)
		pk, w = &dst.one, &dst.lru
	case KindSet:
		s := (*setObj)(unsafe.Pointer(dst))
		s.n, s.enc = uint16(n), fl&crecEncBits
		pk, w = &s.pk, &s.lru
	case KindZSet:
		z := (*zsetObj)(unsafe.Pointer(dst))
		z.n = int32(n)
		pk, w = &z.pk, &z.lru
	default:
		h := (*hashObj)(unsafe.Pointer(dst))
		h.n = int32(n)
		pk, w = &h.pk, &h.lru
	}
	pk.set(pack)
	pk.setFlag(fl&crecFlagBit != 0)
	if o.lw != nil {
		w.t.Store(o.lw.t.Load())
	}
	return unsafe.Pointer(dst)
}

// view returns a heap view of the record o points at (flagCRec).
func (o *obj) view() unsafe.Pointer { return o.viewInto(new(listObj), false) }

// expand turns the record in s (a key being written: see db.lookup) into
// a folded key, or a boxed one when the key is too long to fold, and
// returns its obj. The struct owns a copy of the pack.
func (s *slot) expand() obj {
	o := s.obj()
	st := obj{ptr: o.viewInto(new(listObj), true), kind: o.kind}
	key := s.appendKey(nil)
	ns, ok := foldSlot(key, &st)
	if !ok {
		ns = makeSlot(key, &st)
	}
	s.p, s.tag, s.lru = ns.p, s.tag&tagKey|ns.tag&^tagKey, 0
	return s.obj()
}
