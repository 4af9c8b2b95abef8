package projection

import "github.com/vdr-project/vdr/rdbparse"

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
		s.pk.set(make([]byte, 0, size))
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
	z.pk.set(make([]byte, 0, size))
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
	h.pk.set(make([]byte, 0, size))
}
