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
	flagBoxed  uint8 = 1 << iota // string: ptr is *rawStr (growable), not inline bytes
	flagCoded                    // inline string stored as a coded form (rec.go encCoded): bytes() decodes
	flagFolded                   // collection read from a folded slot (fold.go): no box
	flagCRec                     // collection read from a packed record (crec.go): ptr is the record, n the key's length
)

// obj is one key's value, as the code that reads and writes values
// handles it: 24 bytes, no Go interface. It is decoded from the key's
// slot (slot.obj) and written back with store; what a slot keeps is the
// compact form of rec.go (a string's record, or a box). An inline
// string's ptr points at its bytes in the record; a string modified in
// place (APPEND, SETRANGE, SETBIT…) is "boxed": ptr points at a rawStr
// whose slice grows geometrically like an sds.
type obj struct {
	ptr   unsafe.Pointer // string: first value byte or *rawStr; list: *listObj; set: *setObj; zset: *zsetObj; hash: *hashObj
	n     uint32         // inline string: length
	kind  Kind
	enc   uint8 // string: encEmbstr/encInt/encRaw
	flags uint8
	exp   int64    // absolute Unix ms; 0 means no expiry
	lw    *lruWord // a record's access time: its slot's (nil: the value holds its own)
}

// rawStr is a growable string value.
type rawStr struct {
	b   []byte
	lru lruWord
}

// bytes returns a string's value: the stored bytes, or for a coded one
// (flagCoded) a new slice of them decoded.
func (o *obj) bytes() []byte {
	if o.flags&flagBoxed != 0 {
		return (*rawStr)(o.ptr).b
	}
	if o.flags&flagCoded != 0 {
		return appendCoded(make([]byte, 0, codedLen(o.stored())), o.stored())
	}
	return o.stored()
}

// appendBytes appends a string's value to dst, decoding a coded one in
// place (no allocation of its own).
func (o *obj) appendBytes(dst []byte) []byte {
	if o.flags&(flagCoded|flagBoxed) == flagCoded {
		return appendCoded(dst, o.stored())
	}
	return append(dst, o.bytes()...)
}

// strLen is a string's length, decoded.
func (o *obj) strLen() int {
	switch {
	case o.flags&flagBoxed != 0:
		return len((*rawStr)(o.ptr).b)
	case o.flags&flagCoded != 0:
		return codedLen(o.stored())
	}
	return int(o.n)
}

// decoded completes an obj read from a record whose head says encCoded:
// its encoding is in the codec byte.
func (o *obj) decoded() {
	o.enc, o.flags = encEmbstr, flagCoded
	if *(*byte)(o.ptr)&codecFlagBit != 0 {
		o.enc = encRaw
	}
}

// stored returns an inline string's bytes as its record holds them
// (a coded form when flagCoded is set).
func (o *obj) stored() []byte {
	if o.n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(o.ptr), int(o.n))
}

// recEnc is the encoding an inline string's record head holds.
func (o *obj) recEnc() uint8 {
	if o.flags&flagCoded != 0 {
		return encCoded
	}
	return o.enc
}

// list, set, zset and hash return the value's struct; for a packed
// record (flagCRec), a read-only view of it on the heap (crec.go).
func (o *obj) list() *listObj { return (*listObj)(o.structPtr()) }
func (o *obj) set() *setObj   { return (*setObj)(o.structPtr()) }
func (o *obj) zset() *zsetObj { return (*zsetObj)(o.structPtr()) }
func (o *obj) hash() *hashObj { return (*hashObj)(o.structPtr()) }

func (o *obj) structPtr() unsafe.Pointer {
	if o.flags&flagCRec != 0 {
		return o.view()
	}
	return o.ptr
}

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
	smask   uint64
	// compressOver is Options.CompressValues: string values longer are
	// stored LZ4-compressed when that saves bytes (0: never).
	compressOver int
	// plainText is Options.PlainText: string values are never packed.
	plainText bool
	// ev hears the keys store creates ("new" events, notify.go); set by
	// the applier only while it applies with the 'n' class on.
	ev   *applier
	evDB int
	// loadPieces is where a load's presize put the tables' arrays, for
	// fitTables; nil otherwise.
	loadPieces *pieces
	// aq is where retire queues a table whose arena wants compacting
	// (arena.go): the dataset's queue; nil for a scratch db.
	aq *arenaQueue
	// empty is the dataset's shared empty bucket set (bucketSet.shared);
	// nil for a scratch db.
	empty *bucketSet

	// The counters change with every key added or removed, so they have
	// cache lines of their own: beside tabs and stripes, which every
	// reader reads, each write of a new key took the line from the
	// readers' cores (and, in a load, from the parser's, reading
	// compressOver for every string: a tenth of a strings load).
	_       [64]byte
	keys    atomic.Int64 // keys present, including logically expired ones (as DBSIZE counts)
	expires atomic.Int64 // keys with an expire time
	_       [64]byte
}

// dataset is one complete keyspace; a full sync builds a new one.
type dataset struct {
	dbs []*db
	fn  atomic.Pointer[libraries] // function libraries (functions.go); nil: none
	aq  arenaQueue                // tables to compact after the command (arena.go)
}

func newDataset(o *Options) *dataset {
	ds := &dataset{dbs: make([]*db, o.NumDBs)}
	empty := &bucketSet{nb: uint64(o.Buckets), t: make([]table, o.Buckets), shared: true}
	for i := range ds.dbs {
		ds.dbs[i] = newDBSet(o.Stripes, empty)
		ds.dbs[i].empty = empty
		ds.dbs[i].compressOver = o.CompressValues
		ds.dbs[i].plainText = o.PlainText
		ds.dbs[i].aq = &ds.aq
	}
	return ds
}

func newDB(stripes, buckets int) *db {
	return newDBSet(stripes, &bucketSet{nb: uint64(buckets), t: make([]table, buckets)})
}

func newDBSet(stripes int, bs *bucketSet) *db {
	d := &db{
		stripes: make([]stripe, stripes),
		smask:   uint64(stripes - 1),
	}
	d.tabs.Store(bs)
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

// lookup returns the raw entry, expired or not, for a writer: a packed
// collection record is first turned back into a struct the write can
// change (crec.go expand). The caller holds the write lock.
func (d *db) lookup(key []byte) (obj, bool) {
	h := keyHash(key)
	t := d.tableOf(h)
	o, ok := t.findObj(key, h)
	if ok && o.flags&flagCRec != 0 {
		s := t.find(key, h)
		d.retire(t, s)
		o = s.expand()
	}
	return o, ok
}

// lookupR is lookup for a reader: a packed record stays one (its obj has
// flagCRec). The caller holds the read or the write lock.
func (d *db) lookupR(key []byte) (obj, bool) {
	h := keyHash(key)
	return d.tableOf(h).findObj(key, h)
}

// store puts o under key, replacing any old value (and its expire
// counter). An inline string is copied into a new record (its access
// time starts over); any other value keeps the key's box when it has
// one.
func (d *db) store(key []byte, o obj) {
	h := keyHash(key)
	t := d.tableOf(h)
	s := t.find(key, h)
	if s != nil && s.tag&(tagBox|tagFold) == tagBox && !(o.kind == KindString && o.flags&flagBoxed == 0) {
		b := (*box)(s.p)
		if b.exp != 0 {
			d.expires.Add(-1)
		}
		b.ptr, b.exp = o.ptr, o.exp
		s.tag = s.tag&tagKey | uint32(o.kind) | tagBox
		if o.exp != 0 {
			d.expires.Add(1)
		}
		return
	}
	d.put(t, s, h, makeSlot(key, &o))
}

// put stores ns (a record or box with its key) in t, in place of s (the
// key's slot from find; nil: a new key).
func (d *db) put(t *table, s *slot, h uint64, ns slot) {
	if s != nil {
		if s.exp() != 0 {
			d.expires.Add(-1)
		}
		d.retire(t, s)
		s.p, s.tag, s.lru = ns.p, s.tag&tagKey|ns.tag&^tagKey, ns.lru
	} else {
		if d.tabs.Load().shared {
			t = d.ownTable(h)
		}
		d.keys.Add(1)
		s = t.insert(h, ns)
		if d.ev != nil {
			d.ev.newKeyString(d.evDB, s.keyString())
		}
	}
	if s.exp() != 0 {
		d.expires.Add(1)
	}
}

// ownTable returns the table of hash h, after giving the db a bucket set
// of its own if it still holds the dataset's shared empty one. The
// caller holds h's stripe for writing, and only that one may be held: a
// reader of another stripe that loaded the shared set reads empty tables
// that stay empty, which is what the db held before this write, and its
// stripe keeps this writer out of the new set's bucket it reads.
func (d *db) ownTable(h uint64) *table {
	bs := d.tabs.Load()
	if bs.shared {
		bs = &bucketSet{nb: bs.nb, t: make([]table, bs.nb)}
		d.tabs.Store(bs)
	}
	return &bs.t[bs.bucketOfHash(h)]
}

// putSlot stores ns, which holds its key (a loaded key, a folded one).
func (d *db) putSlot(ns slot) {
	var buf [tagLongKey]byte
	key := ns.appendKey(buf[:0])
	h := keyHash(key)
	t := d.tableOf(h)
	d.put(t, t.find(key, h), h, ns)
}

// setString stores a string value with the encoding Redis would give a
// freshly set value, in one record with the key.
func (d *db) setString(key, val []byte, exp int64) {
	d.setStringEnc(key, val, exp, stringEncoding(val))
}

// setStringEnc is setString with the encoding given.
func (d *db) setStringEnc(key, val []byte, exp int64, enc uint8) {
	h := keyHash(key)
	t := d.tableOf(h)
	d.put(t, t.find(key, h), h, d.stringSlot(key, val, exp, enc))
}

// stringSlot builds the record of a string key, packing the value
// (textpack.go) when it is text of a small alphabet, or compressing it
// when the database is set to and that saves more.
func (d *db) stringSlot(key, val []byte, exp int64, enc uint8) slot {
	return d.stringSlotIn(nil, key, val, exp, enc, 0)
}

// stringSlotIn is stringSlot building the record in st (a load's stage,
// arena.go; nil: an allocation of its own) with access time lru.
func (d *db) stringSlotIn(st *stage, key, val []byte, exp int64, enc uint8, lru uint32) slot {
	if enc != encInt && len(val) >= 4 {
		flag := byte(0)
		if enc == encRaw {
			flag = codecFlagBit
		}
		var coded []byte
		var buf [160]byte
		if !d.plainText && len(val) <= maxPackedText {
			if c, ok := packText(buf[:0], val, flag); ok {
				coded = c
			}
		}
		if d.compressOver > 0 && len(val) > d.compressOver {
			z := compressors.Get().(*compressor)
			defer compressors.Put(z) // after recSlot has copied the bytes
			if c, ok := z.compress(val, flag); ok && (coded == nil || len(c) < len(coded)) {
				coded = c
			}
		}
		if coded != nil {
			val, enc = coded, encCoded
		}
	}
	return recSlot(st, key, val, exp, enc, lru)
}

// maxPackedText is the longest string value text packing is tried on:
// longer ones are rare as text of one small alphabet, and a read would
// spend its time unpacking them.
const maxPackedText = 4096

// setExpire changes the expire time of an existing key.
func (d *db) setExpire(key []byte, exp int64) bool {
	h := keyHash(key)
	t := d.tableOf(h)
	s := t.find(key, h)
	if s == nil {
		return false
	}
	if isCRec(s.tag) {
		if exp == 0 {
			return true
		}
		d.retire(t, s)
		s.expand() // folded (or boxed): the branches below give it its box
	}
	if s.tag&tagBox == 0 {
		// A record holds its expire time: build it again (its access
		// time starts over, as the applier touches the key anyway).
		o := s.obj()
		d.put(t, s, h, recSlot(nil, key, o.stored(), exp, o.recEnc(), 0))
		return true
	}
	if s.tag&tagFold != 0 {
		if exp != 0 {
			s.unfold(exp)
			d.expires.Add(1)
		}
		return true
	}
	b := (*box)(s.p)
	if b.exp != 0 {
		d.expires.Add(-1)
	}
	if exp != 0 {
		d.expires.Add(1)
	}
	b.exp = exp
	return true
}

// update rewrites an existing key's value in place (same key), keeping
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
	if s.exp() != 0 {
		d.expires.Add(-1)
	}
	d.retire(t, s)
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
	// A new set, never the shared empty one: a snapshot running (cow.go)
	// tells the sets it noted at its cut by identity, and the shared one
	// may be among them.
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
