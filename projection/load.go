package projection

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/vdr-project/vdr/rdbparse"
)

// LoadOptions tunes a full-sync load.
type LoadOptions struct {
	// DropOld empties the serving projection as soon as the load begins,
	// to free its memory before the new copy is built (readers see an empty
	// keyspace until Commit). Otherwise the old copy keeps serving until
	// Commit swaps (like repl-diskless-load swapdb).
	DropOld bool
	// GCPercent, when above the process's current GOGC, is the GOGC in
	// force while the load runs (restored by Commit or Abort). A load
	// allocates almost nothing but live data, so the collections a default
	// GOGC runs as the heap doubles mark the growing keyspace again and
	// again for nothing: a fifth of a 1M-key load's CPU time. A GOMEMLIMIT
	// still bounds the heap. 0 leaves GOGC alone. The setting is
	// process-wide: do not overlap loads that set it.
	GCPercent int
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
	whole  bool   // cur came whole in its first batch: stored once built
	room   []byte // where a whole collection's pack is built (roomFor)
	curKey []byte // its key
	curDB  int
	skip   bool       // current key is skipped (module/stream)
	zbuf   []byte     // scratch of zsetObj.loadSorted and hashObj.loadFields
	fc     fieldCache // the last loaded hash's field numbers

	// With more than one CPU the map inserts run on a builder goroutine
	// while this one parses and builds values (see builder); nil: inline.
	bld *builder

	// arenas: records are built in a stage and copied into their
	// tables' arenas (arena.go); st is the stage when loading inline.
	arenas bool
	st     stage

	gcRestore int // GOGC to restore at the end; 0: unchanged
}

// BeginLoad starts building a fresh keyspace.
func (p *Projection) BeginLoad(opts LoadOptions) *Loader {
	if opts.DropOld {
		p.hold.Lock()
		p.cur.Store(newDataset(&p.opts))
		p.watch.touchAll()
		p.hold.Unlock()
		p.flushedAll()
	}
	ld := &Loader{p: p, ds: newDataset(&p.opts), ec: p.enc.Load(), arenas: !noArena.Load()}
	if runtime.GOMAXPROCS(0) > 1 {
		ld.bld = newBuilder(ld.arenas)
	}
	if opts.GCPercent > 0 {
		if prev := debug.SetGCPercent(opts.GCPercent); prev < 0 || prev >= opts.GCPercent {
			debug.SetGCPercent(prev) // off, or already at least as lax
		} else {
			ld.gcRestore = prev
		}
	}
	return ld
}

// end stops the builder and restores GOGC.
func (ld *Loader) end() {
	ld.done = true
	ld.bld.finish()
	if ld.gcRestore > 0 {
		debug.SetGCPercent(ld.gcRestore)
		ld.gcRestore = 0
	}
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
			ns := d.stringSlotIn(ld.stage(), e.Key, e.String, exp, stringEncoding(e.String), ld.accessTime(e))
			ld.putSlot(d, ns)
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
			s := newSet(first, hint, ld.ec)
			if e.RDBType == rdbparse.TypeSetListpack && ld.ec.Redis72 {
				// rdbLoadObject keeps a listpack set a listpack, in its
				// order, whatever its members are (one of integers only
				// is not made an intset), unless it holds more than
				// set-max-listpack-entries.
				s.enc = setEncListpack
				if hint > ld.ec.SetMaxListpackEntries {
					s.enc = setEncHT
				}
			}
			if e.RDBType == rdbparse.TypeSet && hint > ld.ec.SetMaxIntsetEntries {
				// rdbLoadObject (7.0 and 7.2+): a plain set with more
				// members than set-max-intset-entries is a hashtable at
				// once (checked with a real 7.2.6: DEBUG RELOAD of 120
				// members with the threshold at 5).
				s.enc = setEncHT
			}
			ld.cur = obj{kind: KindSet, ptr: ptrOf(s)}
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
		case KindStream:
			ld.cur = obj{kind: KindStream, ptr: ptrOf(newStream())}
		default:
			return ld.skipKey(e, "rdb:"+e.Kind.String())
		}
		ld.cur.exp = exp
		ld.cur.touch(ld.accessTime(e))
		if e.Last {
			ld.reserve(e)
		}
		// A collection that comes whole in this batch is stored once
		// it is built, as a packed record when it can be (crec.go);
		// one in several batches is stored now and built in place.
		ld.whole = e.Last && ld.cur.kind >= KindList && ld.cur.kind <= KindHash
		if !ld.whole {
			ld.putSlot(d, foldOrBox(e.Key, &ld.cur))
		}
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
		tp := ld.p.textPack()
		var done bool
		if e.Batch == 0 && e.Last {
			ld.zbuf, done = l.loadElems(e.Elems, ld.zbuf, tp)
		}
		if !done {
			for _, x := range e.Elems {
				l.pushTail(x, tp)
			}
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
		tp := ld.p.textPack()
		var done bool
		if e.Batch == 0 && e.Last {
			ld.zbuf, done = z.loadSorted(e.ZMembers, ld.zbuf, ld.ec, tp)
		}
		if done {
			break
		}
		if e.Batch == 0 && e.Last {
			ld.reserveZSet(z, e, tp)
		}
		for _, m := range e.ZMembers {
			z.set(m.Member, m.Score, ld.ec, tp)
		}
	case KindStream:
		return ld.streamBatch(e) // an empty stream is a legal key: never dropped
	case KindHash:
		h := ld.cur.hash()
		if hashTypeWithTTLs(e.RDBType) || fieldTTL(e) {
			loadHashTTLBatch(h, e, ld.ec, ld.p.textPack())
			break
		}
		var done bool
		if e.Batch == 0 && e.Last {
			ld.zbuf, done = h.loadFields(e.Fields, ld.zbuf, &ld.fc, ld.ec, ld.p.textPack())
		}
		if done {
			break
		}
		if e.Batch == 0 && e.Last {
			ld.reserveHash(h, e)
		}
		tp := ld.p.textPack()
		for _, f := range e.Fields {
			h.set(f.Field, f.Value, ld.ec, tp)
		}
	default:
		// strings come whole in their first batch.
	}
	switch {
	case e.Last && memCount(&ld.cur) == 0:
		ld.remove(d, e.Key) // Redis skips empty collections on load (src/rdb.c "empty keys")
	case ld.whole:
		ns, ok := crecSlotIn(ld.stage(), e.Key, &ld.cur)
		if !ok {
			ld.unalias(&ld.cur)
			ns = foldOrBox(e.Key, &ld.cur)
		}
		ld.putSlot(d, ns)
	}
	ld.whole = false
	return nil
}

// foldOrBox returns the slot of a new collection o under key: folded
// when it can be (o then points at the moved struct), boxed otherwise.
func foldOrBox(key []byte, o *obj) slot {
	ns, ok := foldSlot(key, o)
	if !ok {
		ns = makeSlot(key, o)
	}
	return ns
}

// accessTime is a loaded key's access time: now, less the RDB's IDLE
// seconds when the primary saved them (src/rdb.c rdbLoad with
// objectSetLRUOrLFU).
func (ld *Loader) accessTime(e *rdbparse.Entry) uint32 {
	now := ld.p.lruNow()
	if e.Idle > 0 {
		return now - uint32(min(e.Idle, int64(now)-1))
	}
	return now
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
// hash types 22–25, Valkey's hash 2); see loadHashTTLBatch.
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
		return o.list().size()
	case KindSet:
		return o.set().card()
	case KindZSet:
		return o.zset().card()
	case KindHash:
		return o.hash().count()
	default:
		// a string or a stream counts as one.
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
	ld.end()
	ld.ds.finishArenas() // before anyone sees it: no locks (arena.go)
	ld.ds.fitTables()
	ld.p.hold.Lock()
	ld.p.cur.Store(ld.ds)
	ld.p.watch.touchAll()
	ld.p.hold.Unlock()
	ld.p.flushedAll()
	ld.p.st.loads.Add(1)
	ld.p.st.loadedKeys.Add(ld.keys)
	ld.ds = nil
	return nil
}

// Abort drops the partial keyspace; the projection keeps what it served
// (empty, if the load was begun with DropOld).
func (ld *Loader) Abort() {
	if !ld.done {
		ld.end()
	}
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
	if ld.bld != nil {
		ld.bld.add(loadOp{op: opResize, d: d, n: int(keys)})
		return
	}
	d.presize(int(keys))
}

// loadKeysPerBucket is how many keys a load puts in one bucket's table. A
// table of 1023 slots (what a 16 KiB allocation holds after its header)
// takes up to 831 keys (13/16) before it grows; with keys spread at
// random, 740 per bucket keeps nearly every table (3.3σ) under that while
// it loads, so few grow on the way. At Commit each table then gets just
// the slots its keys need (fitTables): about 81% full, 19.7 bytes of
// slot a key, whatever the share each bucket drew.
const loadKeysPerBucket = 740

// presize prepares an empty database for about keys keys: buckets of
// loadKeysPerBucket keys each (but at least four per stripe, so the
// stripes all take their share), each table sized for its share. A
// database that already holds keys keeps its buckets.
func (d *db) presize(keys int) {
	if d.keys.Load() != 0 {
		return
	}
	nb := max((keys+loadKeysPerBucket-1)/loadKeysPerBucket, 4*len(d.stripes))
	bs := &bucketSet{nb: uint64(nb), t: make([]table, nb)}
	pc := newPieces(nb, (slotsFor(keys/nb+1)+3)&^3)
	for i := range bs.t {
		p := pc.piece(i)
		bs.t[i].publish(&slotArr{n: uint64(len(p)), s: p})
	}
	d.loadPieces = pc
	d.tabs.Store(bs)
}

// putSlot stores a loaded key (a record or box that holds it): inline,
// or through the builder.
func (ld *Loader) putSlot(d *db, ns slot) {
	if ld.bld != nil {
		ld.bld.add(loadOp{op: opPut, d: d, s: ns})
		return
	}
	d.putLoaded(ns, 0, ld.arenas)
	ld.st.reset() // the record, if staged, is in its table now
}

// stage is where the next record of the load is built (arena.go): in the
// builder's current batch, which the builder copies into the tables
// before it reuses it; the loader's own when it loads inline; nil (an
// allocation of its own) with arenas off.
func (ld *Loader) stage() *stage {
	switch {
	case !ld.arenas:
		return nil
	case ld.bld != nil:
		return &ld.bld.cur.st
	}
	return &ld.st
}

// remove drops a loaded key (an empty collection): inline, or through the
// builder, in order with the puts.
func (ld *Loader) remove(d *db, key []byte) {
	if ld.bld != nil {
		ld.bld.add(loadOp{op: opRemove, d: d, key: string(key)})
		return
	}
	d.remove(key)
}

// A builder inserts loaded keys into the new keyspace's bucket maps on its
// own goroutine. Inserting is a third of a load's CPU time, nearly all of it
// a cache miss per key (the maps of a 1M-key keyspace span ~100 MB), so
// running it beside the parser, which decodes the RDB and builds the values,
// takes it off the critical path on a machine with a second core. Nothing
// reads the new keyspace before Commit, which waits for the builder, so it
// needs no locks; the operations of each key keep their order (see
// builderWindow).
type builder struct {
	cur    *batch
	work   chan *batch
	free   chan *batch
	done   chan struct{}
	arenas bool // copy staged records into the tables' arenas

	// The builder goroutine's scratch for sorting a window (sorted).
	order, out []*loadOp
	bkt, count []int32
}

// batch is a run of operations and the stage their records were built in.
type batch struct {
	ops []loadOp
	st  stage
}

// builderBatch is how many operations travel together: big enough that the
// channel hand-off is noise, small enough to stay in cache.
const builderBatch = 256

type loadOpKind uint8

const (
	opPut loadOpKind = iota
	opRemove
	opResize
)

type loadOp struct {
	op  loadOpKind
	d   *db
	s   slot   // opPut: the key's record or box
	h   uint64 // opPut: the key's hash, once the builder has looked ahead at it (0 before)
	key string // opRemove
	n   int    // opResize: keys per bucket
}

func newBuilder(arenas bool) *builder {
	b := &builder{
		work:   make(chan *batch, builderWindow),
		free:   make(chan *batch, 2*builderWindow+6),
		done:   make(chan struct{}),
		arenas: arenas,
	}
	for range 2*builderWindow + 5 {
		b.free <- &batch{ops: make([]loadOp, 0, builderBatch)}
	}
	b.cur = <-b.free
	go b.run()
	return b
}

func (b *builder) add(op loadOp) {
	b.cur.ops = append(b.cur.ops, op)
	if len(b.cur.ops) == builderBatch {
		b.work <- b.cur
		b.cur = <-b.free
	}
}

// builderWindow is how many batches the builder gathers before it
// inserts them, and inserts in the order of their tables. Keys arrive in
// no order the tables care about, so one at a time each put lands in a
// table of its own: a slot array and an arena tail that are out of the
// caches and, in a keyspace of gigabytes on 4 KiB pages, out of the TLB.
// Sorted, the puts of a window that share a table follow each other
// (about a dozen at 1M keys), and the rest walk forward through the slot
// arrays, which presize allocated one after another, instead of jumping
// about. Loading the 10M-key mixed dataset in process took 11.1–12.4 s
// and 21–23 s of CPU, against 15.0–17.8 s and 27–29 s unsorted; at 1M
// it makes no difference. The order of the keys does not matter to the
// keyspace: puts of one key share its table, and the sort is stable.
// The parser fills the next window meanwhile, so the builder keeps two
// windows of batches: loading the 1M-key mixed dataset peaked 5.4 MB
// higher (VmHWM 175.8 against 170.3 MB).
const builderWindow = 64

func (b *builder) run() {
	defer close(b.done)
	var win []*batch
	for bt := range b.work {
		if win = append(win, bt); len(win) == builderWindow {
			b.insertWindow(win)
			win = win[:0]
		}
	}
	b.insertWindow(win)
}

// insertWindow inserts the operations of win, sorted by table when they
// are all puts into one db, in their order otherwise (a RESIZEDB, or a
// removal, comes rarely), and gives the batches back.
func (b *builder) insertWindow(win []*batch) {
	if len(win) == 0 {
		return
	}
	ops := b.sorted(win)
	for i := range min(builderAhead, len(ops)) {
		b.ahead(ops[i])
	}
	for i, op := range ops {
		if j := i + builderAhead; j < len(ops) {
			b.ahead(ops[j])
		}
		switch op.op {
		case opPut:
			op.d.putLoaded(op.s, op.h, b.arenas)
		case opRemove:
			op.d.removeKeyed(op.key)
		case opResize:
			op.d.presize(op.n)
		}
	}
	for _, bt := range win {
		clear(bt.ops) // drop references: the slice is reused
		bt.ops = bt.ops[:0]
		bt.st.reset() // its records are in their tables now
		b.free <- bt
	}
}

// sorted returns the operations of win in the order to insert them: by
// bucket (a counting sort, stable) when every one is a put into one db,
// with each put's hash computed; as they came otherwise.
func (b *builder) sorted(win []*batch) []*loadOp {
	ops := b.order[:0]
	var d *db
	same := true
	for _, bt := range win {
		for i := range bt.ops {
			op := &bt.ops[i]
			ops = append(ops, op)
			if op.op != opPut || (d != nil && op.d != d) {
				same = false
			}
			d = op.d
		}
	}
	b.order = ops
	if !same || len(ops) < 2 {
		return ops
	}
	bs := d.tabs.Load()
	if bs.shared {
		return ops // no RESIZEDB hint: the db's own set is made by its first put
	}
	nb := int(bs.nb)
	if cap(b.count) < nb+1 {
		b.count = make([]int32, nb+1)
	}
	count := b.count[:nb+1]
	clear(count)
	if cap(b.bkt) < len(ops) {
		b.bkt = make([]int32, len(ops))
	}
	bkt := b.bkt[:len(ops)]
	for i, op := range ops {
		k := bs.bucketOfHash(op.hash())
		bkt[i] = int32(k)
		count[k+1]++
	}
	for k := 1; k <= nb; k++ {
		count[k] += count[k-1]
	}
	if cap(b.out) < len(ops) {
		b.out = make([]*loadOp, len(ops))
	}
	out := b.out[:len(ops)]
	for i, op := range ops {
		out[count[bkt[i]]] = op
		count[bkt[i]]++
	}
	return out
}

// builderAhead is how many operations ahead of the one it inserts the
// builder starts the cache misses of: a put's slot line and the end of
// its table's arena, where its record goes. Each is a miss in a keyspace
// bigger than the caches, and one at a time they were 60% of the
// builder's time (a load of the 1M-key mixed dataset waited 0.23 s on
// slot lines and 0.2 s on arena tails); started sixteen puts early they
// overlap (4, 8 and 32 did no better).
const builderAhead = 16

// ahead hashes op's key (unless sorted has) and starts fetching what
// putting it will touch. A prefetch that turns out wrong (an earlier
// operation presized the db or filled the arena's chunk) only costs a
// line.
func (b *builder) ahead(op *loadOp) {
	if op.op != opPut {
		return
	}
	t := op.d.tableOf(op.hash())
	t.prefetchSlot(op.h)
	if b.arenas && t.a != nil && t.a.fill < len(t.a.ar) {
		prefetch(uintptr(unsafe.Pointer(&t.a.ar[t.a.fill])))
	}
}

// hash returns the hash of a put's key, computing it the first time.
func (op *loadOp) hash() uint64 {
	if op.h == 0 {
		var buf [tagLongKey]byte
		op.h = keyHash(op.s.appendKey(buf[:0]))
	}
	return op.h
}

// finish applies what is queued and stops the goroutine; a nil builder
// (inline loading) has nothing to do.
func (b *builder) finish() {
	if b == nil || b.work == nil {
		return
	}
	if len(b.cur.ops) > 0 {
		b.work <- b.cur
	}
	close(b.work)
	<-b.done
	b.work = nil
	b.cur = nil
	// The batches and their stages (a window's worth twice over, a few
	// MB) are garbage now, whoever still holds the loader.
	b.free = nil
	b.order, b.out, b.bkt, b.count = nil, nil, nil, nil
}
