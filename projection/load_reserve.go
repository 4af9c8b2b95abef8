package projection

import (
	"unsafe"

	"github.com/vdr-project/vdr/rdbparse"
)

// reserve sizes the pack of a collection that arrives whole, in one
// batch, before its elements are added: appending element by element
// would grow the pack through several reallocations, leaving it up to
// twice the size it needs (a 10-field hash of the benchmark's mix wasted a
// third of its pack) and garbage behind, which fragments the heap of a
// freshly loaded keyspace. Most keys of a real dataset are small and take
// this path; a collection that will not stay packed is left alone.
func (ld *Loader) reserve(e *rdbparse.Entry) {
	switch e.Kind {
	case KindSet:
		s := ld.cur.set()
		if len(e.Elems) > setPackEntries {
			return
		}
		size := 0
		for _, x := range e.Elems {
			if len(x) > setPackValue {
				return
			}
			size += packSize(x)
		}
		s.pk.set(ld.roomFor(size))
	default:
		// strings come sized; streams are not packed; a list is
		// listObj.loadElems's (which packs one chunk of exactly its size);
		// a sorted set or a hash is reserveZSet's or reserveHash's, when
		// loadSorted or loadFields cannot take it.
	}
}

// reserveZSet is reserve for a sorted set whose members do not come in
// order (zsetObj.loadSorted takes those that do); tp: members text-packed.
func (ld *Loader) reserveZSet(z *zsetObj, e *rdbparse.Entry, tp bool) {
	if z.big != nil {
		return
	}
	size := 0
	for _, m := range e.ZMembers {
		size += entrySize(m.Member, tp) + zscoreSize(m.Score)
	}
	z.pk.set(ld.roomFor(size))
}

// reserveHash is reserve for a hash that hashObj.loadFields cannot take.
func (ld *Loader) reserveHash(h *hashObj, e *rdbparse.Entry) {
	ec := ld.ec
	if len(e.Fields) > ec.HashMaxListpackEntries {
		return
	}
	size, tp := 0, ld.p.textPack()
	for _, f := range e.Fields {
		if len(f.Field) > ec.HashMaxListpackValue || len(f.Value) > ec.HashMaxListpackValue {
			return
		}
		size += fieldSize(f.Field) + entrySize(f.Value, tp)
	}
	h.pk.set(ld.roomFor(size))
}

// roomFor returns the loader's own room for a pack of size bytes (empty,
// with that capacity at least): a collection that comes whole is built
// there and copied out once, into its packed record or, when it cannot be
// one, a pack of its size (unalias). Building it in a fresh allocation
// would leave, for every key, a freed pack of the record's size class
// between the records, a heap the runtime cannot give back.
func (ld *Loader) roomFor(size int) []byte {
	if cap(ld.room) < size {
		ld.room = make([]byte, 0, max(size, 2*cap(ld.room), 4096))
	}
	return ld.room[:0:size]
}

// unalias gives the collection o a pack of its own when it is built in
// the loader's room or scratch (a key that is not stored as a record).
func (ld *Loader) unalias(o *obj) {
	var pk *pbuf
	switch o.kind {
	case KindList:
		pk = &o.list().one
	case KindSet:
		pk = &o.set().pk
	case KindZSet:
		pk = &o.zset().pk
	case KindHash:
		pk = &o.hash().pk
	default:
		return
	}
	if pk.size() == 0 || !within(pk.p, ld.room) && !within(pk.p, ld.zbuf) {
		return
	}
	f := pk.flag()
	pk.set(append(make([]byte, 0, pk.size()), pk.bytes()...))
	pk.setFlag(f)
}

// within reports whether p points into b's array.
func within(p *byte, b []byte) bool {
	if cap(b) == 0 {
		return false
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return uintptr(unsafe.Pointer(p)) >= a && uintptr(unsafe.Pointer(p)) < a+uintptr(cap(b))
}
