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
	buckets []map[string]obj // bucket b is guarded by stripes[b&smask]
	keys    atomic.Int64     // keys present, including logically expired ones (as DBSIZE counts)
	expires atomic.Int64     // keys with an expire time
	nb      uint64           // len(buckets); any count ≥ 1, not only powers of two (see bucketOfHash)
	smask   uint64
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
	return &db{
		stripes: make([]stripe, stripes),
		buckets: make([]map[string]obj, buckets),
		nb:      uint64(buckets),
		smask:   uint64(stripes - 1),
	}
}

func keyHash(key []byte) uint64 { return xxhash.Sum64(key) }

// bucketOfHash maps a key hash to a bucket by multiplying its high 32 bits
// by the bucket count (Lemire's fast range reduction), so a loader can
// pick any bucket count: it sizes the buckets so that Go's maps are about
// two-thirds full after a load (see Loader.ResizeDB) instead of half.
func (d *db) bucketOfHash(h uint64) int { return int((h >> 32) * d.nb >> 32) }

func (d *db) bucketOf(key []byte) int { return d.bucketOfHash(keyHash(key)) }

// stripeOf returns the lock stripe of key: its bucket's.
func (d *db) stripeOf(key []byte) int { return d.bucketOf(key) & int(d.smask) }

// The methods below require the caller to hold the key's stripe lock
// (read lock for lookup, write lock for the rest).

// lookup returns the raw entry, expired or not.
func (d *db) lookup(key []byte) (obj, bool) {
	m := d.buckets[d.bucketOf(key)]
	if m == nil {
		return obj{}, false
	}
	o, ok := m[string(key)]
	return o, ok
}

// store puts o under key, replacing any old value (and its expire counter).
// For strings use storeString, which shares the key's allocation.
func (d *db) store(key []byte, o obj) {
	b := d.bucketOf(key)
	m := d.buckets[b]
	if m == nil {
		m = make(map[string]obj)
		d.buckets[b] = m
	}
	old, ok := m[string(key)]
	if ok {
		if old.exp != 0 {
			d.expires.Add(-1)
		}
		m[string(key)] = o // the existing key string is kept
	} else {
		d.keys.Add(1)
		m[string(key)] = o
	}
	if o.exp != 0 {
		d.expires.Add(1)
	}
}

// storeKeyed is store with a key string the caller allocated (it may share
// memory with the value).
func (d *db) storeKeyed(key string, o obj) {
	b := d.bucketOfHash(xxhash.Sum64String(key))
	m := d.buckets[b]
	if m == nil {
		m = make(map[string]obj)
		d.buckets[b] = m
	}
	old, ok := m[key]
	if ok {
		if old.exp != 0 {
			d.expires.Add(-1)
		}
	} else {
		d.keys.Add(1)
	}
	m[key] = o // for string keys, assignment also replaces the stored key (it shares the new buffer)
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
	m := d.buckets[d.bucketOf(key)]
	if m == nil {
		return false
	}
	o, ok := m[string(key)]
	if !ok {
		return false
	}
	if o.kind == KindString && o.flags&flagBoxed == 0 {
		// Repack, so that the new key string shares the value's buffer
		// (assigning m[string(key)] would allocate a second key copy and
		// keep the old key+value buffer alive).
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
	o.exp = exp
	m[string(key)] = o
	return true
}

// update rewrites an existing key's obj in place (same key string), keeping
// the expire counters right.
func (d *db) update(key []byte, o obj) {
	d.store(key, o)
}

// remove deletes key; it reports whether it existed.
func (d *db) remove(key []byte) bool {
	m := d.buckets[d.bucketOf(key)]
	if m == nil {
		return false
	}
	o, ok := m[string(key)]
	if !ok {
		return false
	}
	delete(m, string(key))
	d.keys.Add(-1)
	if o.exp != 0 {
		d.expires.Add(-1)
	}
	return true
}

// removeKeyed is remove for a key already held as a string.
func (d *db) removeKeyed(key string) bool {
	m := d.buckets[d.bucketOfHash(xxhash.Sum64String(key))]
	if m == nil {
		return false
	}
	o, ok := m[key]
	if !ok {
		return false
	}
	delete(m, key)
	d.keys.Add(-1)
	if o.exp != 0 {
		d.expires.Add(-1)
	}
	return true
}

// clear empties the database (FLUSHDB). Caller holds every stripe.
func (d *db) clear() {
	for i := range d.buckets {
		d.buckets[i] = nil
	}
	d.keys.Store(0)
	d.expires.Store(0)
}

// swapContents exchanges the data of two databases (SWAPDB). Caller holds
// every stripe of both.
func (d *db) swapContents(e *db) {
	d.buckets, e.buckets = e.buckets, d.buckets
	d.nb, e.nb = e.nb, d.nb
	k, x := d.keys.Load(), d.expires.Load()
	d.keys.Store(e.keys.Load())
	d.expires.Store(e.expires.Load())
	e.keys.Store(k)
	e.expires.Store(x)
}

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
