package projection

// This file is the read API the commands package codes against. Signatures
// here are stable: fields and methods may be added, never changed.
//
// Rules for every read:
//   - Open a View (View, ViewDB, ViewAll) and do all the reading inside its
//     callback. A View holds read locks, so keep callbacks short and never
//     call back into the Projection (View, Apply, …) from inside one.
//   - Every []byte handed out (Value.Bytes, members, fields, keys) points
//     into the projection: it is valid only until the callback returns and
//     must not be modified. Copy (or write into the reply buffer) before
//     returning.
//   - A key whose expire time is ≤ the View's clock reads as missing, as on
//     a Redis replica; nothing is ever deleted by a read.

import (
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vdr-project/vdr/rdbparse"
)

// Projection is the in-memory replica of a primary's keyspace. One
// goroutine applies writes (Apply, ApplyBatch, BeginLoad); any number read
// concurrently through Views.
type Projection struct {
	opts  Options
	cur   atomic.Pointer[dataset]
	enc   atomic.Pointer[EncodingConfig]
	st    statsState
	ap    applier
	watch watchReg
	// hold is held by the applier (write) for each Apply, ApplyBatch and
	// keyspace swap, and by ViewAll (read): a ViewAll sees one state
	// without locking every stripe (see LOCKING.md).
	hold sync.RWMutex
	// cow is the copy-on-write snapshot running, if any (cow.go).
	cow atomic.Pointer[Snapshot]
	// onChange hears every change (OnChange, change.go).
	onChange func(ch *Change)
	// notify and onEvents: keyspace notifications (notify.go).
	notify   atomic.Uint32
	onEvents func(evs []Event)

	customClock bool // Options.Now was given: access times follow it too
}

// New returns an empty Projection.
func New(opts Options) (*Projection, error) {
	custom := opts.Now != nil
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := &Projection{opts: opts, customClock: custom}
	if !custom {
		coarseOnce.Do(startCoarseClock)
	}
	p.cur.Store(newDataset(&p.opts))
	ec := opts.Encoding
	p.enc.Store(&ec)
	p.st.init()
	p.ap.init(p)
	return p, nil
}

// NumDBs returns the number of databases.
func (p *Projection) NumDBs() int { return p.opts.NumDBs }

// Now returns the projection's clock (Unix ms), the one reads use to decide
// expiry.
func (p *Projection) Now() int64 { return p.opts.Now() }

// SetEncodingConfig replaces the encoding thresholds (for example after
// reading the primary's CONFIG). It affects what later writes convert and
// what OBJECT ENCODING reports from then on; like Redis, existing values
// keep the encoding they already had.
func (p *Projection) SetEncodingConfig(ec EncodingConfig) {
	ec.ensureDefaults()
	p.enc.Store(&ec)
}

// EncodingConfig returns the current encoding thresholds.
func (p *Projection) EncodingConfig() EncodingConfig { return *p.enc.Load() }

// DBSize returns the number of keys in db, counting keys that are expired
// but not yet deleted by the primary (as Redis's DBSIZE does on a replica).
func (p *Projection) DBSize(db int) (int64, error) {
	ds := p.cur.Load()
	if db < 0 || db >= len(ds.dbs) {
		return 0, ErrDBIndex
	}
	return ds.dbs[db].keys.Load(), nil
}

// View runs fn with read access to the named keys of db. It read-locks the
// stripes of those keys (in stripe order) for the duration of fn, so
// everything fn reads is one consistent state: no write, and no part of a
// MULTI/EXEC unit, is visible half-done. Reading a key not in keys reports
// a missing key and sets View.Err to ErrKeyNotLocked (a programming error
// in the caller). keys may repeat.
func (p *Projection) View(db int, keys [][]byte, fn func(v *View)) error {
	return p.view(db, keys, false, fn)
}

// ViewNoTouch is View whose reads leave access times alone (View.NoTouch).
func (p *Projection) ViewNoTouch(db int, keys [][]byte, fn func(v *View)) error {
	return p.view(db, keys, true, fn)
}

func (p *Projection) view(db int, keys [][]byte, noTouch bool, fn func(v *View)) error {
	ds := p.cur.Load()
	if db < 0 || db >= len(ds.dbs) {
		return ErrDBIndex
	}
	d := ds.dbs[db]
	v := viewPool.Get().(*View)
	idx := d.rlockKeys(keys, v.lockBuf[:0])
	v.p, v.ds, v.db, v.d, v.enc, v.locked, v.noTouch = p, ds, db, d, p.enc.Load(), idx, noTouch
	defer func() {
		for i := len(idx) - 1; i >= 0; i-- {
			d.stripes[idx[i]].mu.RUnlock()
		}
		lockBuf := v.lockBuf[:0] // a grown idx was a separate slice; keep the small one
		sc := v.sc
		sc.recycle()
		*v = View{lockBuf: lockBuf, sc: sc}
		viewPool.Put(v)
	}()
	fn(v)
	return nil
}

// rlockKeys read-locks the distinct stripes of keys in ascending order
// and returns them (appended to idx[:0]). The stripes are picked with the
// bucket count of the db's bucket set; SWAPDB (under every stripe) may
// give the db another set meanwhile, whose count maps the keys to other
// stripes, so once they are held the set is checked and, if it changed,
// they are picked again. (A loop of its own: a defer after a backward
// jump in view would be heap-allocated.)
func (d *db) rlockKeys(keys [][]byte, idx []int) []int {
	if len(keys) > manyKeys {
		return d.rlockEvery(idx)
	}
	for {
		idx = idx[:0]
		bs := d.tabs.Load()
		for _, k := range keys {
			h := keyHash(k)
			b := bs.bucketOfHash(h)
			idx = append(idx, b&int(d.smask))
			if len(keys) > 1 {
				// Several keys (MGET, SUNION…): start every slot's cache
				// miss now, so they overlap instead of coming one by one.
				bs.t[b].prefetchSlot(h)
			}
		}
		if len(keys) > 1 {
			for _, k := range keys {
				h := keyHash(k)
				bs.t[bs.bucketOfHash(h)].prefetchDeep(h)
			}
		}
		sort.Ints(idx)
		idx = dedupSorted(idx)
		for _, s := range idx {
			d.stripes[s].mu.RLock()
		}
		if d.tabs.Load() == bs {
			return idx
		}
		for i := len(idx) - 1; i >= 0; i-- {
			d.stripes[idx[i]].mu.RUnlock()
		}
	}
}

// manyKeys is how many keys a View picks stripes for; past it (EXISTS,
// MGET… with thousands of keys) it takes every stripe of the db: hashing
// each key once more to find its stripe, sorting a stripe per key and
// prefetching slots that are evicted again before their lookup cost more
// than the lookups themselves (EXISTS of a million keys on an empty db:
// 100 → 49 ms, commands' BenchmarkExistsHuge).
const manyKeys = 64

// rlockEvery read-locks every stripe of d, in order, and returns their
// indexes in idx (a View of many keys).
func (d *db) rlockEvery(idx []int) []int {
	idx = idx[:0]
	for s := range d.stripes {
		idx = append(idx, s)
		d.stripes[s].mu.RLock()
	}
	return idx
}

// Prefetch starts loading the memory a lookup of key in db reads first
// (its table slot), without waiting for it and without a lock. A reader
// that holds several requests (a pipeline) calls it for each of their keys
// before running the first, so the cache misses of all of them overlap;
// the later lookups then find their slots in cache. It is only a hint:
// a wrong db or a key that is absent or moves meanwhile costs nothing
// but the wasted fetch.
func (p *Projection) Prefetch(db int, key []byte) {
	ds := p.cur.Load()
	if uint(db) >= uint(len(ds.dbs)) {
		return
	}
	h := keyHash(key)
	ds.dbs[db].tableOf(h).prefetchSlot(h)
}

// maxPrefetchKeys is the most keys PrefetchKeys hints at once.
const maxPrefetchKeys = 64

// PrefetchKeys is Prefetch for several keys of db, in stages: every
// key's slot line first, then, once those are on their way, each key's
// record or box (prefetchDeep), then the value a box points at
// (prefetchBoxed), then the first lines of a collection's data. Keys past
// maxPrefetchKeys are ignored.
func (p *Projection) PrefetchKeys(db int, keys [][]byte) {
	ds := p.cur.Load()
	if uint(db) >= uint(len(ds.dbs)) || len(keys) == 0 {
		return
	}
	d := ds.dbs[db]
	bs := d.tabs.Load()
	var hs [maxPrefetchKeys]uint64
	var ts [maxPrefetchKeys]*table
	n := min(len(keys), maxPrefetchKeys)
	for i := 0; i < n; i++ {
		h := keyHash(keys[i])
		hs[i], ts[i] = h, &bs.t[bs.bucketOfHash(h)]
		ts[i].prefetchSlot(h)
	}
	var boxed uint64 // bit i: key i's slot may point at a box
	for i := 0; i < n; i++ {
		if ts[i].prefetchDeep(hs[i]) {
			boxed |= 1 << i
		}
	}
	for i := 0; boxed != 0 && i < n; i++ {
		if boxed&(1<<i) != 0 {
			ts[i].prefetchBoxed(hs[i])
		}
	}
	// Stage three, under each key's stripe lock: by now the slots, keys
	// and value headers are (mostly) in cache; start on the first bytes
	// of each collection's data (a string, in a record, has none: its
	// key is skipped). A stripe pins the db's bucket set only if bs is
	// still it (SWAPDB may have moved bs to another db, whose stripes
	// guard it now).
	for i := 0; boxed != 0 && i < n; i++ {
		if boxed&(1<<i) == 0 {
			continue
		}
		s := &d.stripes[bs.bucketOfHash(hs[i])&int(d.smask)]
		s.mu.RLock()
		if d.tabs.Load() != bs {
			s.mu.RUnlock()
			return
		}
		if sl := ts[i].find(keys[i], hs[i]); sl != nil {
			o := sl.obj()
			o.prefetchData()
		}
		s.mu.RUnlock()
	}
}

// viewPool recycles Views (a View passed to a callback escapes, so each
// would otherwise be a heap allocation per read).
var viewPool = sync.Pool{New: func() any { return &View{lockBuf: make([]int, 0, 8)} }}

// ViewDB runs fn with read access to every key of db (KEYS, RANDOMKEY,
// DBSIZE, or a transaction whose keys are not known up front). It blocks
// the applier for db while fn runs: keep fn short.
func (p *Projection) ViewDB(db int, fn func(v *View)) error {
	ds := p.cur.Load()
	if db < 0 || db >= len(ds.dbs) {
		return ErrDBIndex
	}
	d := ds.dbs[db]
	d.rlockAll()
	defer d.runlockAll()
	v := View{p: p, ds: ds, db: db, d: d, enc: p.enc.Load(), all: true}
	fn(&v)
	return nil
}

// ViewAll runs fn with read access to every key of every database, one
// consistent state across all of them (MULTI/EXEC of reads that SELECT
// several databases). The View starts on db 0; use View.Select. It blocks
// the applier while fn runs.
func (p *Projection) ViewAll(fn func(v *View)) {
	// The applier is the only writer, and it takes hold before any
	// stripe: while ViewAll holds it for reading nothing changes, so the
	// View reads every db without taking their stripes (read-locking
	// 16 dbs × 16+ stripes made a script cost 10 µs before it ran).
	p.hold.RLock()
	defer p.hold.RUnlock()
	ds := p.cur.Load()
	v := View{p: p, ds: ds, db: 0, d: ds.dbs[0], enc: p.enc.Load(), all: true, multi: true}
	fn(&v)
}

// Scan visits the keys of one step of a SCAN over db starting at cursor
// (0 to begin) and returns the cursor to pass next (0 when the scan is
// complete). Each step returns whole hash buckets, each under its stripe's
// read lock, until at least count keys were visited or 10×count non-empty
// buckets were looked at (empty ones are skipped, so a sparse db is not
// spread over empty steps); a bucket's keys never move, so every key present for
// the whole scan is returned exactly once. Expired keys are skipped. fn
// receives each live key with its value (valid only during that fn call);
// MATCH and TYPE filtering is the caller's. A cursor that was never
// returned (too large) ends the scan.
func (p *Projection) Scan(db int, cursor uint64, count int, fn func(key []byte, val Value)) (next uint64, err error) {
	ds := p.cur.Load()
	if db < 0 || db >= len(ds.dbs) {
		return 0, ErrDBIndex
	}
	d := ds.dbs[db]
	if count < 1 {
		count = 10
	}
	nb := uint64(d.numBuckets())
	if cursor >= nb || d.keys.Load() == 0 {
		return 0, nil
	}
	now := p.opts.Now()
	enc := p.enc.Load()
	var sc scratch // a Value is valid during its fn call: reset after each
	seen, looked := 0, 0
	b := cursor
	// looked counts only buckets that held keys: the bucket count is
	// fixed (Options.Buckets) and not sized to the keys as Redis's dict
	// is, so a sparse db would otherwise take calls that return nothing.
	// An empty bucket costs one uncontended read lock.
	for b < nb && seen < count && looked < 10*count {
		s := &d.stripes[b&d.smask]
		s.mu.RLock()
		// SWAPDB may have given the db a bucket set of another size since
		// nb was read (a stripe pins it): a scan across SWAPDB has no
		// guarantee to keep, but it must stay in bounds.
		if nb = d.tabs.Load().nb; b >= nb {
			s.mu.RUnlock()
			break
		}
		full := false
		d.each(int(b), func(sl *slot) bool {
			full = true
			o := sl.obj()
			if o.exp != 0 && o.exp <= now {
				return true
			}
			seen++
			fn(stringBytes(sl.keyString()), Value{o: o, ok: true, enc: enc, now: now, sc: &sc})
			sc.reset()
			return true
		})
		s.mu.RUnlock()
		if full {
			looked++
		}
		b++
	}
	if b >= nb {
		return 0, nil
	}
	return b, nil
}

// View is read access to a consistent state of the projection; it is
// valid only inside the callback it was passed to.
type View struct {
	p       *Projection
	ds      *dataset
	d       *db
	db      int
	now     int64 // the clock, read on first need (keys without a TTL never need it)
	enc     *EncodingConfig
	locked  []int // sorted stripe indexes held (when !all)
	lockBuf []int // backing store for locked, reused through viewPool
	all     bool  // every stripe of d held
	multi   bool  // every stripe of every db held (ViewAll)
	noTouch bool  // reads leave access times alone (NoTouch)
	err     error
	// sc holds the list elements and hash values read unpacked
	// (epack.go), for the View's life; reused through viewPool.
	sc scratch
	// views hold the structs Get and Peek build of packed records
	// (crec.go), for the View's life; past them, views are allocated.
	views  [4]listObj
	nviews int
}

// DB returns the database the View reads.
func (v *View) DB() int { return v.db }

// Now returns the View's clock (Unix ms): read once, when first needed,
// then fixed for the View's life.
func (v *View) Now() int64 {
	if v.now == 0 {
		v.now = v.p.opts.Now()
	}
	return v.now
}

// expired reports whether an expire time has passed by the View's clock.
func (v *View) expired(exp int64) bool { return exp != 0 && exp <= v.Now() }

// Err returns ErrKeyNotLocked if the View was asked for a key outside its
// locks, else nil.
func (v *View) Err() error { return v.err }

// Select switches a ViewAll view to another database. Views from View and
// ViewDB can only "select" their own database.
func (v *View) Select(db int) error {
	if db < 0 || db >= len(v.ds.dbs) {
		return ErrDBIndex
	}
	if !v.multi && db != v.db {
		return ErrKeyNotLocked
	}
	v.db, v.d = db, v.ds.dbs[db]
	return nil
}

func (v *View) holds(key []byte) bool {
	if v.all || len(v.locked) == len(v.d.stripes) {
		// Every stripe is held (a View of more than manyKeys keys): no
		// need to hash the key a second time to find its stripe.
		return true
	}
	s := v.d.stripeOf(key)
	for _, x := range v.locked {
		if x == s {
			return true
		}
	}
	return false
}

// Get returns key's value; Value.Exists is false when the key is missing
// or logically expired.
func (v *View) Get(key []byte) Value {
	if !v.holds(key) {
		v.err = ErrKeyNotLocked
		return Value{enc: v.enc}
	}
	o, ok := v.d.lookupR(key)
	if !ok || v.expired(o.exp) {
		return Value{enc: v.enc}
	}
	if !v.noTouch {
		o.touch(v.p.lruNow())
	}
	return v.value(o)
}

// value is the Value of o, a key's obj: a packed record's view is built
// in the View's room (crec.go), and a hash with field TTLs gets the
// View's clock.
func (v *View) value(o obj) Value {
	x := Value{o: o, ok: true, enc: v.enc, sc: &v.sc}
	switch {
	case o.flags&flagCRec != 0:
		var dst *listObj
		if v.nviews < len(v.views) {
			dst = &v.views[v.nviews]
			v.nviews++
		} else {
			dst = new(listObj)
		}
		x.view = o.viewInto(dst, false)
	case o.kind == KindHash && o.hash().tl() != nil:
		x.now = v.Now() // field TTLs are judged by the View's clock
	}
	return x
}

// Peek returns key's value even when it is logically expired, and leaves
// its access time alone: a plain find in the main dict, as MEMORY USAGE
// does (src/object.c memoryCommand uses dictFind, not a lookup).
func (v *View) Peek(key []byte) Value {
	if !v.holds(key) {
		v.err = ErrKeyNotLocked
		return Value{enc: v.enc}
	}
	o, ok := v.d.lookupR(key)
	if !ok {
		return Value{enc: v.enc}
	}
	return v.value(o)
}

// Exists reports whether key is present and not expired.
func (v *View) Exists(key []byte) bool { return v.Get(key).Exists() }

// DBSize returns the number of keys of the View's database, counting keys
// expired but not yet deleted (Redis's DBSIZE on a replica).
func (v *View) DBSize() int64 { return v.d.keys.Load() }

// Keys calls fn for every live key of the View's database until fn returns
// false (KEYS). It needs a View from ViewDB or ViewAll; otherwise it sets
// Err to ErrKeyNotLocked and returns at once.
func (v *View) Keys(fn func(key []byte, val Value) bool) {
	if !v.all {
		v.err = ErrKeyNotLocked
		return
	}
	for b, nb := 0, v.d.numBuckets(); b < nb; b++ {
		more := v.d.each(b, func(sl *slot) bool {
			o := sl.obj()
			if v.expired(o.exp) {
				return true
			}
			return fn(stringBytes(sl.keyString()), Value{o: o, ok: true, enc: v.enc, now: v.Now(), sc: &v.sc})
		})
		if !more {
			return
		}
	}
}

// RandomKey returns a random key (RANDOMKEY), or false when there is
// none, as a replica's dbRandomKey picks it (src/db.c): a key without an
// expire time at once; a key with one unless it is logically expired.
// When every key has an expire time and 100 of those drawn were expired,
// the last one drawn is returned anyway (a replica never deletes them, so
// Redis would loop forever otherwise). It needs a View from ViewDB or
// ViewAll. r may be nil.
func (v *View) RandomKey(r *rand.Rand) ([]byte, bool) {
	if !v.all {
		v.err = ErrKeyNotLocked
		return nil, false
	}
	n := v.d.keys.Load()
	if n == 0 {
		return nil, false
	}
	allVolatile := v.d.expires.Load() == n
	bs := v.d.tabs.Load()
	nb := len(bs.t)
	// Draw a random bucket, then a random key in it (a fair enough stand-in
	// for dictGetFairRandomKey). Only expired keys count as tries, as in
	// Redis; the draws of empty buckets are bounded too.
	tries := 100
	for draw := 0; draw < 100*nb+1000; draw++ {
		t := &bs.t[randN(r, nb)]
		if t.n == 0 {
			continue
		}
		sl := t.nth(randN(r, int(t.n)))
		if sl.exp() == 0 {
			return stringBytes(sl.keyString()), true
		}
		if allVolatile {
			if tries--; tries == 0 {
				return stringBytes(sl.keyString()), true
			}
		}
		if !v.expired(sl.exp()) {
			return stringBytes(sl.keyString()), true
		}
		if !allVolatile && draw > 1000 {
			break // few live keys among many expired: walk to one
		}
	}
	// A walk from a random bucket: the first live key, else (only
	// reachable with bounded draws) the first key.
	start := randN(r, nb)
	var first []byte
	for j := 0; j < nb; j++ {
		var key []byte
		found := !bs.t[(start+j)%nb].each(func(sl *slot) bool {
			if first == nil {
				first = stringBytes(sl.keyString())
			}
			if v.expired(sl.exp()) {
				return true
			}
			key = stringBytes(sl.keyString())
			return false
		})
		if found {
			return key, true
		}
	}
	if allVolatile && first != nil {
		return first, true
	}
	return nil, false
}

// Value is a handle on one key's value inside a View. The zero Value is a
// missing key. Accessors for another type than Kind return zero results;
// check Kind first (for WRONGTYPE). Everything it hands out is valid only
// inside the View callback.
type Value struct {
	o   obj
	ok  bool
	enc *EncodingConfig
	now int64    // the View's clock, set for hashes with field TTLs
	sc  *scratch // where packed elements are unpacked (the View's); nil: fresh slices
	// view is the struct of a packed record (o has flagCRec) the View
	// built; nil: o.list() and the like build one when asked.
	view unsafe.Pointer
}

// list, set, zset and hash return the value's struct (a view of a packed
// record).
func (x *Value) list() *listObj {
	if x.view != nil {
		return (*listObj)(x.view)
	}
	return x.o.list()
}

func (x *Value) set() *setObj {
	if x.view != nil {
		return (*setObj)(x.view)
	}
	return x.o.set()
}

func (x *Value) zset() *zsetObj {
	if x.view != nil {
		return (*zsetObj)(x.view)
	}
	return x.o.zset()
}

func (x *Value) hash() *hashObj {
	if x.view != nil {
		return (*hashObj)(x.view)
	}
	return x.o.hash()
}

// Exists reports whether the key is present (and not expired).
func (x Value) Exists() bool { return x.ok }

// Kind returns the value's type, KindNone for a missing key.
func (x Value) Kind() Kind {
	if !x.ok {
		return KindNone
	}
	return x.o.kind
}

// Type returns the name TYPE replies: "string", "list", "set", "zset",
// "hash", or "none".
func (x Value) Type() string {
	if !x.ok {
		return "none"
	}
	return x.o.kind.String()
}

// ExpireMs returns the absolute expire time in Unix ms, -1 when the key
// has none, -2 when the key is missing (as PEXPIRETIME replies).
func (x Value) ExpireMs() int64 {
	if !x.ok {
		return -2
	}
	if x.o.exp == 0 {
		return -1
	}
	return x.o.exp
}

// Encoding returns what OBJECT ENCODING would report on the primary:
// "int", "embstr", "raw", "quicklist", "listpack", "intset", "hashtable",
// "skiplist"; "" for a missing key.
func (x Value) Encoding() string {
	if !x.ok {
		return ""
	}
	switch x.o.kind {
	case rdbparse.KindString:
		switch x.o.enc {
		case encInt:
			return "int"
		case encEmbstr:
			return "embstr"
		}
		return "raw"
	case rdbparse.KindList:
		return x.list().encoding(x.enc)
	case rdbparse.KindSet:
		return x.set().encoding()
	case rdbparse.KindZSet:
		if x.zset().isLP() {
			return "listpack"
		}
		return "skiplist"
	case rdbparse.KindHash:
		if h := x.hash(); h.listpackEx() {
			return "listpackex" // OBJ_ENCODING_LISTPACK_EX (Redis 7.4)
		} else if h.lp() {
			return "listpack"
		}
		return "hashtable"
	case rdbparse.KindStream:
		return "stream"
	}
	return ""
}

// MemoryUsage returns an estimate of the bytes the value and its key take
// in the projection (MEMORY USAGE), sampling DefaultMemorySamples
// elements of a collection.
func (x Value) MemoryUsage(key []byte) int64 {
	return x.MemoryUsageSamples(key, DefaultMemorySamples)
}

// DefaultMemorySamples is MEMORY USAGE's default SAMPLES
// (OBJ_COMPUTE_SIZE_DEF_SAMPLES, src/object.c).
const DefaultMemorySamples = 5

// MemoryUsageSamples is MemoryUsage looking at the sizes of at most
// samples elements of a set, hash or sorted set (0: all) and assuming the
// rest are of their mean size, as MEMORY USAGE … SAMPLES does (src/object.c
// objectComputeSize); its cost is O(samples), not O(elements).
func (x Value) MemoryUsageSamples(key []byte, samples int) int64 {
	if !x.ok {
		return 0
	}
	return memUsage(&x.o, key, samples, defaultSlotShare, false)
}

// MemoryUsage is MEMORY USAGE key [SAMPLES samples]: Peek(key)'s
// MemoryUsageSamples, with the key's share of its own table (its slot
// array over its keys) in place of the average; 0 for a missing key.
func (v *View) MemoryUsage(key []byte, samples int) int64 {
	x := v.Peek(key)
	if !x.ok {
		return 0
	}
	share := int64(defaultSlotShare)
	t := v.d.tableOf(keyHash(key))
	if t.n > 0 {
		share = int64(t.size.Load()) * int64(unsafe.Sizeof(slot{})) / int64(t.n)
	}
	// Only records are ever in an arena; ptr is inside one (a string's
	// value, a packed record's start).
	return memUsage(&x.o, key, samples, share, t.inArena(x.o.ptr))
}

// Dump returns the value's DUMP payload (a fresh slice the caller owns),
// in plain RDB encodings with RDB version 10, which RESTORE on Redis 7.0
// and later accepts; a hash with field TTLs is RDB_TYPE_HASH_METADATA with
// version 12 (Redis 7.4+). It returns ErrNoSuchKey for a missing key.
func (x Value) Dump() ([]byte, error) {
	if !x.ok {
		return nil, ErrNoSuchKey
	}
	return dump(&x.o), nil
}

// ---- strings ----

// Bytes returns a string value's bytes (integers in decimal), nil for
// other kinds. Valid only inside the View callback; do not modify.
func (x Value) Bytes() []byte {
	if !x.ok || x.o.kind != rdbparse.KindString {
		return nil
	}
	return x.o.bytes()
}

// AppendBytes appends a string value's bytes (integers in decimal) to
// dst, unpacking a packed one straight into it; other kinds append
// nothing. Bytes may allocate for a packed value; this does not.
func (x Value) AppendBytes(dst []byte) []byte {
	if !x.ok || x.o.kind != rdbparse.KindString {
		return dst
	}
	return x.o.appendBytes(dst)
}

// Len returns a string's length (STRLEN), a list's length (LLEN), a set's
// or sorted set's cardinality (SCARD, ZCARD), a hash's field count (HLEN);
// 0 for a missing key.
func (x Value) Len() int {
	if !x.ok {
		return 0
	}
	switch x.o.kind {
	case rdbparse.KindString:
		return x.o.strLen()
	case rdbparse.KindList:
		return x.list().size()
	case rdbparse.KindSet:
		return x.set().card()
	case rdbparse.KindZSet:
		return x.zset().card()
	case rdbparse.KindHash:
		return x.hash().count()
	case rdbparse.KindStream:
		return x.o.stream().length()
	}
	return 0
}

// ---- lists ----

// ListIndex returns the element at index i (negative counts from the
// tail, as LINDEX), and false when out of range or not a list.
func (x Value) ListIndex(i int) ([]byte, bool) {
	if !x.ok || x.o.kind != rdbparse.KindList {
		return nil, false
	}
	l := x.list()
	if i < 0 {
		i += l.size()
	}
	if i < 0 || i >= l.size() {
		return nil, false
	}
	return l.index(i, x.sc), true
}

// ListRange calls fn for the elements from start to stop inclusive, with
// LRANGE's index rules (negative counts from the tail; clamped; empty when
// start > stop after normalising), until fn returns false.
func (x Value) ListRange(start, stop int, fn func(i int, elem []byte) bool) {
	if !x.ok || x.o.kind != rdbparse.KindList {
		return
	}
	l := x.list()
	s, e, ok := normRange(start, stop, l.size())
	if !ok {
		return
	}
	l.walk(s, e, false, x.sc, fn)
}

// ListEach calls fn for every element head to tail (or tail to head when
// reverse), with its index from the head, until fn returns false (LPOS).
func (x Value) ListEach(reverse bool, fn func(i int, elem []byte) bool) {
	if !x.ok || x.o.kind != rdbparse.KindList || x.list().size() == 0 {
		return
	}
	l := x.list()
	l.walk(0, l.size()-1, reverse, x.sc, fn)
}

// ListEachMatch calls fn for every element head to tail (or tail to head
// when reverse), with its index from the head and whether it equals elem,
// until fn returns false (LPOS). Packed elements are compared packed: a
// value has one stored form (epack.go), so none is unpacked.
func (x Value) ListEachMatch(elem []byte, reverse bool, fn func(i int, match bool) bool) {
	if !x.ok || x.o.kind != rdbparse.KindList || x.list().size() == 0 {
		return
	}
	// elem's coded form, if it has one: whether the projection packs or
	// not (Options.PlainText), an element equal to elem is stored either
	// as elem or as this.
	var tmp [96]byte
	ce, ccoded, _ := entryNext(entryAppend(tmp[:0], elem, true), 0)
	l := x.list()
	l.walkEntries(0, l.size()-1, reverse, func(i int, e []byte, coded bool) bool {
		if coded {
			return fn(i, ccoded && string(e) == string(ce))
		}
		return fn(i, string(e) == string(elem))
	})
}

// ---- sets ----

// SetContains reports whether member is in the set (SISMEMBER).
func (x Value) SetContains(member []byte) bool {
	if !x.ok || x.o.kind != rdbparse.KindSet {
		return false
	}
	return x.set().has(member)
}

// SetEach calls fn for every member until it returns false (SMEMBERS and
// the set algebra of SINTER/SUNION/SDIFF/SINTERCARD, which callers do over
// several Values of one View).
func (x Value) SetEach(fn func(member []byte) bool) {
	if !x.ok || x.o.kind != rdbparse.KindSet {
		return
	}
	x.set().each(fn)
}

// SetRandom samples members with SRANDMEMBER's count rule: count > 0
// gives min(count, card) distinct members, count < 0 gives -count members
// that may repeat. fn is called once per sampled member. r may be nil.
func (x Value) SetRandom(r *rand.Rand, count int, fn func(member []byte)) {
	if !x.ok || x.o.kind != rdbparse.KindSet {
		return
	}
	s := x.set()
	var small [][]byte
	if s.d == nil {
		var buf [setPackEntries][]byte
		small = buf[:0]
		s.each(func(m []byte) bool { small = append(small, m); return true })
	}
	sampleIdx(r, s.card(), count, func(i int) { fn(s.at(i, small)) })
}

// SetScan visits members for SSCAN from cursor and returns the next
// cursor. A big hash-table set is walked count members at a time
// (dense.scanDesc: every member present for the whole scan is returned);
// an intset, a listpack or a small set is returned whole in one step
// (cursor 0 back), as Redis does for its small encodings.
func (x Value) SetScan(cursor uint64, count int, fn func(member []byte)) uint64 {
	if !x.ok || x.o.kind != rdbparse.KindSet {
		return 0
	}
	if s := x.set(); s.d != nil && s.enc == setEncHT {
		return s.d.scanDesc(cursor, count, func(m *smem) { fn(stringBytes(string(*m))) })
	}
	x.SetEach(func(m []byte) bool { fn(m); return true })
	return 0
}

// ---- hashes ----

// HashGet returns a field's value (HGET, HMGET, HEXISTS, HSTRLEN).
func (x Value) HashGet(field []byte) ([]byte, bool) {
	if !x.ok || x.o.kind != rdbparse.KindHash {
		return nil, false
	}
	h := x.hash()
	if h.expiredAt(field, x.now) {
		return nil, false
	}
	return h.get(field, x.sc)
}

// HashValueLen returns the length of a field's value (HSTRLEN) without
// unpacking it, and false for a missing field.
func (x Value) HashValueLen(field []byte) (int, bool) {
	if !x.ok || x.o.kind != rdbparse.KindHash {
		return 0, false
	}
	h := x.hash()
	if h.expiredAt(field, x.now) {
		return 0, false
	}
	return h.valueLen(field)
}

// HashEach calls fn for every field and value until fn returns false
// (HGETALL, HKEYS, HVALS), in the order Redis would use for a listpack.
func (x Value) HashEach(fn func(field, value []byte) bool) {
	if !x.ok || x.o.kind != rdbparse.KindHash {
		return
	}
	x.hash().eachLive(x.now, x.sc, fn)
}

// HashRandom samples fields with HRANDFIELD's count rule (see SetRandom).
func (x Value) HashRandom(r *rand.Rand, count int, fn func(field, value []byte)) {
	if !x.ok || x.o.kind != rdbparse.KindHash {
		return
	}
	// A 7.4 replica samples expired fields too: it cannot delete them
	// (hashTypeExpireIfNeeded does nothing with masterhost set) and
	// hrandfieldWithCountCommand samples hashTypeLength(hash, 0) fields.
	h := x.hash()
	var small [][]byte
	if h.dn() == nil {
		small = make([][]byte, 0, 2*h.count())
		h.each(x.sc, func(f, v []byte) bool { small = append(small, f, v); return true })
	}
	sampleIdx(r, h.count(), count, func(i int) { fn(h.at(i, small)) })
}

// HashScan visits fields for HSCAN from cursor and returns the next
// cursor: a hash table count fields at a time (see SetScan), a listpack
// whole in one step.
func (x Value) HashScan(cursor uint64, count int, fn func(field, value []byte)) uint64 {
	if !x.ok || x.o.kind != rdbparse.KindHash {
		return 0
	}
	if h := x.hash(); h.dn() != nil {
		return h.dn().scanDesc(cursor, count, func(it *hfield) {
			f := stringBytes(it.f)
			if h.tl() == nil || !h.expiredAt(f, x.now) {
				fn(f, stringBytes(it.v))
			}
		})
	}
	x.HashEach(func(f, v []byte) bool { fn(f, v); return true })
	return 0
}

// ---- sorted sets ----

// ScoreBound is one end of a score range: ZRANGEBYSCORE's "1.5", "(1.5",
// "-inf", "+inf".
type ScoreBound struct {
	Score     float64
	Exclusive bool
}

// LexBound is one end of a lex range: "[a", "(a", "-" (Inf -1), "+"
// (Inf +1).
type LexBound struct {
	Value     []byte
	Exclusive bool
	Inf       int8
}

// ZScore returns a member's score (ZSCORE, ZMSCORE).
func (x Value) ZScore(member []byte) (float64, bool) {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return 0, false
	}
	return x.zset().score(member)
}

// ZRank returns a member's 0-based rank in ascending (score, member) order,
// or in descending order when reverse (ZREVRANK), with its score.
func (x Value) ZRank(member []byte, reverse bool) (rank int, score float64, ok bool) {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return 0, 0, false
	}
	z := x.zset()
	rank, score, ok = z.rank(member)
	if ok && reverse {
		rank = z.card() - 1 - rank
	}
	return rank, score, ok
}

// ZRangeByRank calls fn for ranks start..stop inclusive with ZRANGE's
// index rules (negative from the end, clamped), in ascending order, or
// descending when reverse (ranks then count from the highest), until fn
// returns false.
func (x Value) ZRangeByRank(start, stop int, reverse bool, fn func(member []byte, score float64) bool) {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return
	}
	z := x.zset()
	s, e, ok := normRange(start, stop, z.card())
	if !ok {
		return
	}
	z.walkRank(s, e, reverse, x.sc, fn)
}

// ZRangeByScore calls fn for members with min ≤ score ≤ max (bounds may be
// exclusive), ascending, or descending when reverse, skipping offset
// matches and stopping after count (count < 0: no limit) or when fn
// returns false. min is always the low end, whatever the order.
func (x Value) ZRangeByScore(min, max ScoreBound, reverse bool, offset, count int, fn func(member []byte, score float64) bool) {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return
	}
	x.zset().walkScore(min, max, reverse, offset, count, x.sc, fn)
}

// ZRangeByLex is ZRangeByScore for lex ranges (all members are assumed to
// have the same score, as Redis requires for BYLEX).
func (x Value) ZRangeByLex(min, max LexBound, reverse bool, offset, count int, fn func(member []byte, score float64) bool) {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return
	}
	x.zset().walkLex(min, max, reverse, offset, count, x.sc, fn)
}

// ZCount returns the number of members with scores in [min, max] (ZCOUNT).
func (x Value) ZCount(min, max ScoreBound) int {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return 0
	}
	lo, hi := x.zset().scoreRankRange(min, max)
	return hi - lo
}

// ZLexCount returns the number of members in a lex range (ZLEXCOUNT).
func (x Value) ZLexCount(min, max LexBound) int {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return 0
	}
	lo, hi := x.zset().lexRankRange(min, max)
	return hi - lo
}

// ZEach calls fn for every member in ascending order until it returns
// false (ZUNION, ZINTER, ZDIFF, ZINTERCARD over several Values).
func (x Value) ZEach(fn func(member []byte, score float64) bool) {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return
	}
	z := x.zset()
	if z.card() == 0 {
		return
	}
	z.walkRank(0, z.card()-1, false, x.sc, fn)
}

// ZRandom samples members with ZRANDMEMBER's count rule (see SetRandom).
func (x Value) ZRandom(r *rand.Rand, count int, fn func(member []byte, score float64)) {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return
	}
	z := x.zset()
	if n := z.card(); count >= n && n > 0 {
		// CASE 2 gives the whole zset through zuiNext, which starts at the
		// tail: descending (src/t_zset.c zrandmemberWithCountCommand).
		z.walkRank(0, n-1, true, x.sc, func(m []byte, s float64) bool { fn(m, s); return true })
		return
	}
	if z.big != nil {
		sampleIdx(r, z.card(), count, func(i int) {
			it := &z.big.dict.items[i]
			fn(stringBytes(it.m), it.s)
		})
		return
	}
	small := z.items(x.sc)
	sampleIdx(r, len(small), count, func(i int) { fn(small[i].m, small[i].s) })
}

// ZScan visits members for ZSCAN from cursor and returns the next cursor:
// a skiplist count members at a time (see SetScan), a listpack whole in
// one step, in score order.
func (x Value) ZScan(cursor uint64, count int, fn func(member []byte, score float64)) uint64 {
	if !x.ok || x.o.kind != rdbparse.KindZSet {
		return 0
	}
	if z := x.zset(); z.big != nil {
		return z.big.dict.scanDesc(cursor, count, func(it *zmem) { fn(stringBytes(it.m), it.s) })
	}
	x.ZEach(func(m []byte, s float64) bool { fn(m, s); return true })
	return 0
}

// ---- helpers ----

// normRange applies LRANGE/ZRANGE index rules to start, stop over n
// elements: negative indexes count from the end, start is clamped at 0,
// stop at n-1; ok is false for an empty range.
func normRange(start, stop, n int) (s, e int, ok bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}

func randN(r *rand.Rand, n int) int {
	if n <= 1 {
		return 0
	}
	if r == nil {
		return rand.IntN(n)
	}
	return r.IntN(n)
}

func dedupSorted(a []int) []int {
	if len(a) < 2 {
		return a
	}
	out := a[:1]
	for _, x := range a[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}
