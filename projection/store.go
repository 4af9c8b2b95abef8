package projection

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/vdr-project/vdr/rdbparse"
)

// Kind is the logical type of a key; it is rdbparse's Kind so that loaded
// entries and projected values speak the same names. KindNone is a missing
// (or logically expired) key.
type Kind = rdbparse.Kind

// The kinds the projection holds, re-exported from rdbparse; KindNone is
// the Kind of a missing key.
const (
	KindNone   Kind = 0
	KindString      = rdbparse.KindString
	KindList        = rdbparse.KindList
	KindSet         = rdbparse.KindSet
	KindZSet        = rdbparse.KindZSet
	KindHash        = rdbparse.KindHash
)

// String encodings, as OBJECT ENCODING reports them (see src/object.c
// tryObjectEncoding and strEncoding).
const (
	encEmbstr uint8 = iota // OBJ_ENCODING_EMBSTR: ≤ 44 bytes, set whole
	encInt                 // OBJ_ENCODING_INT: canonical int64 decimal
	encRaw                 // OBJ_ENCODING_RAW: longer, or modified in place
)

// obj flags.
const (
	flagBoxed uint8 = 1 << iota // string: ptr is *rawStr (growable), not inline bytes
)

// obj is one key's value as kept in a bucket map. It is 24 bytes and holds
// no Go interface: a string's bytes share one allocation with the map key
// (the key string points at the first bytes of that buffer, ptr at the
// rest), so a string key costs one allocation plus its map slot. A string
// modified in place (APPEND, SETRANGE, SETBIT…) is "boxed": ptr points at
// a rawStr whose slice grows geometrically like an sds.
type obj struct {
	ptr   unsafe.Pointer // string: first value byte or *rawStr; list: *listObj; set: *setObj; zset: *zsetObj; hash: *hashObj
	n     uint32         // inline string: length
	kind  Kind
	enc   uint8 // string: encEmbstr/encInt/encRaw
	flags uint8
	exp   int64 // absolute Unix ms; 0 means no expiry
}

// rawStr is a growable string value.
type rawStr struct {
	b   []byte
	lru lruWord
}

func (o *obj) bytes() []byte {
	if o.flags&flagBoxed != 0 {
		return (*rawStr)(o.ptr).b
	}
	if o.n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(o.ptr), int(o.n))
}

func (o *obj) list() *listObj { return (*listObj)(o.ptr) }
func (o *obj) set() *setObj   { return (*setObj)(o.ptr) }
func (o *obj) zset() *zsetObj { return (*zsetObj)(o.ptr) }
func (o *obj) hash() *hashObj { return (*hashObj)(o.ptr) }

// stripe is one lock of a database; padded so that two stripes never
// share a cache line.
type stripe struct {
	mu sync.RWMutex
	_  [40]byte
}

// db is one Redis database.
type db struct {
	stripes []stripe
	tabs    atomic.Pointer[bucketSet] // bucket b is guarded by stripes[b&smask]
	keys    atomic.Int64              // keys present, including logically expired ones (as DBSIZE counts)
	expires atomic.Int64              // keys with an expire time
	smask   uint64
	// ev hears the keys store creates ("new" events, notify.go); set by
	// the applier only while it applies with the 'n' class on.
	ev   *applier
	evDB int
}

// dataset is one complete keyspace; a full sync builds a new one.
type dataset struct {
	dbs []*db
	fn  atomic.Pointer[libraries] // function libraries (functions.go); nil: none
}

func newDataset(o *Options) *dataset {
	ds := &dataset{dbs: make([]*db, o.NumDBs)}
	for i := range ds.dbs {
		ds.dbs[i] = newDB(o.Stripes, o.Buckets)
	}
	return ds
}

func newDB(stripes, buckets int) *db {
	d := &db{
		stripes: make([]stripe, stripes),
		smask:   uint64(stripes - 1),
	}
	d.tabs.Store(&bucketSet{nb: uint64(buckets), t: make([]table, buckets)})
	return d
}

func keyHash(key []byte) uint64 { return xxhash.Sum64(key) }

// bucketOfHash maps a key hash to a bucket by multiplying its high 32 bits
// by the bucket count (Lemire's fast range reduction), so a loader can
// pick any bucket count: it sizes the buckets so that the tables are about
// two-thirds full after a load (see presize). The table inside the bucket
// uses the low 32 bits (hash32).
func (bs *bucketSet) bucketOfHash(h uint64) int { return int((h >> 32) * bs.nb >> 32) }

func (d *db) bucketOf(key []byte) int { return d.tabs.Load().bucketOfHash(keyHash(key)) }

// stripeOf returns the lock stripe of key: its bucket's.
func (d *db) stripeOf(key []byte) int { return d.bucketOf(key) & int(d.smask) }

// tableOf returns the table key's hash h falls in.
func (d *db) tableOf(h uint64) *table {
	bs := d.tabs.Load()
	return &bs.t[bs.bucketOfHash(h)]
}

// The methods below require the caller to hold the key's stripe lock
// (read lock for lookup, write lock for the rest).

// lookup returns the raw entry, expired or not.
func (d *db) lookup(key []byte) (obj, bool) {
	h := keyHash(key)
	if s := d.tableOf(h).find(key, h); s != nil {
		return s.o, true
	}
	return obj{}, false
}

// store puts o under key, replacing any old value (and its expire counter).
// For strings use storeString, which shares the key's allocation.
func (d *db) store(key []byte, o obj) {
	h := keyHash(key)
	t := d.tableOf(h)
	if s := t.find(key, h); s != nil {
		if s.o.exp != 0 {
			d.expires.Add(-1)
		}
		s.o = o // the existing key string is kept
	} else {
		d.keys.Add(1)
		k := string(key)
		t.insert(k, h, o)
		if d.ev != nil {
			d.ev.newKeyString(d.evDB, k)
		}
	}
	if o.exp != 0 {
		d.expires.Add(1)
	}
}

// storeKeyed is store with a key string the caller allocated (it may share
// memory with the value); it replaces the stored key string too.
func (d *db) storeKeyed(key string, o obj) {
	h := xxhash.Sum64String(key)
	t := d.tableOf(h)
	if s := t.findString(key, h); s != nil {
		if s.o.exp != 0 {
			d.expires.Add(-1)
		}
		s.key = unsafe.Pointer(unsafe.StringData(key))
		s.o = o
	} else {
		d.keys.Add(1)
		t.insert(key, h, o)
		if d.ev != nil {
			d.ev.newKeyString(d.evDB, key)
		}
	}
	if o.exp != 0 {
		d.expires.Add(1)
	}
}

// setString stores a string value with the encoding Redis would give a
// freshly set value, in one allocation shared with the key.
func (d *db) setString(key, val []byte, exp int64) {
	d.storeKeyed(newStringObj(key, val, exp))
}

// newStringObj builds a string value and its key in one buffer: key,
// value, then the value's last-access word (lruWord)
// at the next multiple of 4: the size is a multiple of 4, so even Go's
// tiny allocator returns it 4-aligned, and the word is aligned too. ptr
// points at the value's first byte (where it would be, for an empty
// value), so that lru finds the word from the obj alone.
func newStringObj(key, val []byte, exp int64) (string, obj) {
	kv := len(key) + len(val)
	buf := make([]byte, (kv+3)&^3+4)
	copy(buf, key)
	copy(buf[len(key):], val)
	k := ""
	if len(key) > 0 {
		k = unsafe.String(&buf[0], len(key))
	}
	o := obj{kind: rdbparse.KindString, enc: stringEncoding(val), n: uint32(len(val)), exp: exp}
	o.ptr = unsafe.Pointer(&buf[len(key)])
	return k, o
}

// setExpire changes the expire time of an existing key.
func (d *db) setExpire(key []byte, exp int64) bool {
	h := keyHash(key)
	s := d.tableOf(h).find(key, h)
	if s == nil {
		return false
	}
	o := s.o
	if o.kind == KindString && o.flags&flagBoxed == 0 {
		// Repack, so that the stored key string shares the new value
		// buffer (the old key+value buffer is not kept alive).
		k, no := newStringObj(key, o.bytes(), exp)
		no.enc = o.enc
		d.storeKeyed(k, no)
		return true
	}
	if o.exp != 0 {
		d.expires.Add(-1)
	}
	if exp != 0 {
		d.expires.Add(1)
	}
	s.o.exp = exp
	return true
}

// update rewrites an existing key's obj in place (same key string), keeping
// the expire counters right.
func (d *db) update(key []byte, o obj) {
	d.store(key, o)
}

// remove deletes key; it reports whether it existed.
func (d *db) remove(key []byte) bool {
	h := keyHash(key)
	t := d.tableOf(h)
	s := t.find(key, h)
	if s == nil {
		return false
	}
	if s.o.exp != 0 {
		d.expires.Add(-1)
	}
	t.remove(s)
	d.keys.Add(-1)
	return true
}

// removeKeyed is remove for a key already held as a string.
func (d *db) removeKeyed(key string) bool {
	return d.remove(unsafe.Slice(unsafe.StringData(key), len(key)))
}

// clear empties the database (FLUSHDB). Caller holds every stripe.
func (d *db) clear() {
	bs := d.tabs.Load()
	d.tabs.Store(&bucketSet{nb: bs.nb, t: make([]table, bs.nb)})
	d.keys.Store(0)
	d.expires.Store(0)
}

// swapContents exchanges the data of two databases (SWAPDB). Caller holds
// every stripe of both.
func (d *db) swapContents(e *db) {
	a, b := d.tabs.Load(), e.tabs.Load()
	d.tabs.Store(b)
	e.tabs.Store(a)
	k, x := d.keys.Load(), d.expires.Load()
	d.keys.Store(e.keys.Load())
	d.expires.Store(e.expires.Load())
	e.keys.Store(k)
	e.expires.Store(x)
}

// each calls fn for every key of bucket b until fn returns false; the
// caller holds b's stripe.
func (d *db) each(b int, fn func(s *slot) bool) bool {
	return d.tabs.Load().t[b].each(fn)
}

// numBuckets returns the bucket count.
func (d *db) numBuckets() int { return int(d.tabs.Load().nb) }

func (d *db) lockAll() {
	for i := range d.stripes {
		d.stripes[i].mu.Lock()
	}
}

func (d *db) unlockAll() {
	for i := range d.stripes {
		d.stripes[i].mu.Unlock()
	}
}

func (d *db) rlockAll() {
	for i := range d.stripes {
		d.stripes[i].mu.RLock()
	}
}

func (d *db) runlockAll() {
	for i := range d.stripes {
		d.stripes[i].mu.RUnlock()
	}
}
