package projection

import (
	"fmt"

	"github.com/vdr-project/vdr/rdbparse"
)

// LoadOptions tunes a full-sync load.
type LoadOptions struct {
	// DropOld empties the serving projection as soon as the load begins,
	// to free its memory before the new copy is built (readers see an empty
	// keyspace until Commit). Otherwise the old copy keeps serving until
	// Commit swaps (like repl-diskless-load swapdb).
	DropOld bool
}

// Loader builds a new keyspace from a full sync. It is used by one
// goroutine; nothing it builds is visible until Commit.
type Loader struct {
	p      *Projection
	ds     *dataset
	ec     *EncodingConfig
	keys   uint64
	done   bool
	cur    obj    // collection being loaded (Batch > 0)
	curKey []byte // its key
	curDB  int
	skip   bool // current key is skipped (module/stream)
}

// BeginLoad starts building a fresh keyspace.
func (p *Projection) BeginLoad(opts LoadOptions) *Loader {
	if opts.DropOld {
		p.cur.Store(newDataset(&p.opts))
		p.watch.touchAll()
	}
	return &Loader{p: p, ds: newDataset(&p.opts), ec: p.enc.Load()}
}

// Entry adds one rdbparse entry (a key, or one batch of a big key). It
// copies every byte it keeps. Module values are not projected: the key is
// skipped and counted in Stats.Unknown under "rdb:module".
func (ld *Loader) Entry(e *rdbparse.Entry) error {
	if ld.done {
		return ErrLoadClosed
	}
	if e.DB < 0 || e.DB >= len(ld.ds.dbs) {
		return fmt.Errorf("projection: load key %q: db %d: %w", e.Key, e.DB, ErrDBIndex)
	}
	d := ld.ds.dbs[e.DB]
	exp := int64(0)
	if e.ExpireMs >= 0 {
		exp = e.ExpireMs
		if exp == 0 {
			exp = 1
		}
	}
	if e.Batch == 0 {
		ld.skip = false
		ld.curKey = append(ld.curKey[:0], e.Key...)
		ld.curDB = e.DB
		switch e.Kind {
		case KindString:
			d.setString(e.Key, e.String, exp)
			ld.keys++
			return nil
		case KindList:
			ld.cur = obj{kind: KindList, ptr: ptrOf(&listObj{})}
		case KindSet:
			var first []byte
			if len(e.Elems) > 0 {
				first = e.Elems[0]
			}
			hint := int(e.Len)
			if hint < 0 {
				hint = len(e.Elems)
			}
			ld.cur = obj{kind: KindSet, ptr: ptrOf(newSet(first, hint, ld.ec))}
		case KindZSet:
			hint, maxLen := int(e.Len), 0
			if hint < 0 {
				hint = len(e.ZMembers)
			}
			for _, m := range e.ZMembers {
				maxLen = max(maxLen, len(m.Member))
			}
			ld.cur = obj{kind: KindZSet, ptr: ptrOf(newZSet(hint, maxLen, ld.ec))}
		case KindHash:
			ld.cur = obj{kind: KindHash, ptr: ptrOf(newHash())}
			if fieldTTL(e) {
				return ld.skipKey(e, "rdb:hash-field-ttl")
			}
		case KindStream:
			ld.cur = obj{kind: KindStream, ptr: ptrOf(newStream())}
		default:
			return ld.skipKey(e, "rdb:"+e.Kind.String())
		}
		ld.cur.exp = exp
		d.store(e.Key, ld.cur)
		ld.keys++
	} else if ld.skip || string(e.Key) != string(ld.curKey) || e.DB != ld.curDB {
		if ld.skip {
			return nil
		}
		return fmt.Errorf("projection: load key %q batch %d without its first batch: %w", e.Key, e.Batch, ErrSyntax)
	}
	switch e.Kind {
	case KindList:
		l := ld.cur.list()
		for _, x := range e.Elems {
			l.pushTail(x)
		}
		if e.Last {
			l.updateLP(ld.ec)
		}
	case KindSet:
		s := ld.cur.set()
		for _, x := range e.Elems {
			s.add(x, ld.ec)
		}
	case KindZSet:
		z := ld.cur.zset()
		for _, m := range e.ZMembers {
			z.set(m.Member, m.Score, ld.ec)
		}
	case KindStream:
		return ld.streamBatch(e) // an empty stream is a legal key: never dropped
	case KindHash:
		if fieldTTL(e) { // a later batch with field TTLs (Redis 7.4+): not mirrored
			d.remove(e.Key)
			ld.keys--
			return ld.skipKey(e, "rdb:hash-field-ttl")
		}
		h := ld.cur.hash()
		for _, f := range e.Fields {
			h.set(f.Field, f.Value, ld.ec)
		}
	}
	if e.Last && memCount(&ld.cur) == 0 {
		d.remove(e.Key) // Redis skips empty collections on load (src/rdb.c "empty keys")
	}
	return nil
}

// skipKey leaves a key out of the projection (a type or feature it does
// not mirror) and counts it in Stats.Unknown under name.
func (ld *Loader) skipKey(e *rdbparse.Entry, name string) error {
	ld.skip = true
	ld.p.st.mu.Lock()
	ld.p.st.unknown[name]++
	ld.p.st.mu.Unlock()
	return nil
}

// fieldTTL reports whether a hash batch carries per-field TTLs (Redis 7.4
// hash types 24/25), which the projection does not mirror.
func fieldTTL(e *rdbparse.Entry) bool {
	for _, f := range e.Fields {
		if f.ExpireMs >= 0 {
			return true
		}
	}
	return false
}

// memCount is a collection's element count.
func memCount(o *obj) int {
	switch o.kind {
	case KindList:
		return o.list().n
	case KindSet:
		return o.set().card()
	case KindZSet:
		return o.zset().card()
	case KindHash:
		return o.hash().count()
	}
	return 1
}

// Keys returns the number of keys loaded so far.
func (ld *Loader) Keys() uint64 { return ld.keys }

// Commit makes the loaded keyspace the one readers and Apply see, in one
// atomic step: a View opened before Commit reads the old keyspace to its
// end, one opened after reads the new one.
func (ld *Loader) Commit() error {
	if ld.done {
		return ErrLoadClosed
	}
	ld.done = true
	ld.p.cur.Store(ld.ds)
	ld.p.watch.touchAll()
	ld.p.st.loads.Add(1)
	ld.p.st.loadedKeys.Add(ld.keys)
	ld.ds = nil
	return nil
}

// Abort drops the partial keyspace; the projection keeps what it served
// (empty, if the load was begun with DropOld).
func (ld *Loader) Abort() {
	ld.done = true
	ld.ds = nil
}

// maxResizeHint caps a RESIZEDB hint: it comes from the input, and a
// corrupt or hostile file must not make the loader preallocate without
// bound.
const maxResizeHint = 1 << 26

// ResizeDB presizes database db of the keyspace being built for about keys
// keys (an RDB's RESIZEDB hint), so that its hash buckets are not rehashed
// again and again as they fill: on a 1M-key load, growing the maps was a
// third of the build time.
func (ld *Loader) ResizeDB(db int, keys uint64) {
	if ld.done || db < 0 || db >= len(ld.ds.dbs) || keys == 0 {
		return
	}
	keys = min(keys, maxResizeHint)
	d := ld.ds.dbs[db]
	per := int(keys/uint64(len(d.buckets))) + 1
	per += per / 8 // the keys do not spread evenly
	for i := range d.buckets {
		if d.buckets[i] == nil {
			d.buckets[i] = make(map[string]obj, per)
		}
	}
}
