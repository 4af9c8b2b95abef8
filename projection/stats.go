package projection

import (
	"maps"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"unsafe"
)

// statsState holds the counters Stats reports.
type statsState struct {
	mu      sync.Mutex
	unknown map[string]uint64 // commands not applied exactly, by lower-case name
	failed  map[string]uint64 // known commands that failed on the projection, by name
	logged  map[string]bool

	invalidatedKeys   atomic.Uint64
	flushedForUnknown atomic.Uint64
	resyncsRequested  atomic.Uint64
	loads             atomic.Uint64
	loadedKeys        atomic.Uint64
}

func (s *statsState) init() {
	s.unknown = map[string]uint64{}
	s.failed = map[string]uint64{}
	s.logged = map[string]bool{}
}

// DBStats is one database's counts.
type DBStats struct {
	Keys    int64 // keys present, including logically expired ones
	Expires int64 // keys with an expire time
	// IndexBytes is what the database's key index takes: its tables'
	// slot arrays (16 bytes a slot) and the bucket headers. The keys and
	// values (records, boxes, collections) are not in it.
	IndexBytes int64
}

// Stats is a snapshot of the projection's counters, for INFO and metrics.
type Stats struct {
	// Policy is the OnUnknown policy in force ("invalidate" or "resync").
	Policy string
	// DBs holds per-database key and expire counts.
	DBs []DBStats
	// HeapBytes is the Go heap in use by live objects (the whole process;
	// the projection is nearly all of it), from runtime/metrics.
	HeapBytes uint64
	// LiveHeapBytes is the heap the last garbage collection found live
	// (/gc/heap/live:bytes): the projection and the rest of the process's
	// reachable data, without the garbage HeapBytes still counts until
	// the next collection frees it. 0 before the first collection.
	LiveHeapBytes uint64
	// Applied counts applied commands by lower-case name (control commands
	// included).
	Applied map[string]uint64
	// Unknown counts commands that could not be applied exactly (unknown
	// names and known-but-unsupported ones such as SETBIT or XADD).
	Unknown map[string]uint64
	// Failed counts known commands that failed on the projection although
	// the primary applied them (a divergence: their keys were invalidated,
	// but for a command whose source key is missing, which a Redis replica
	// rejects too and vdr skips as it does).
	Failed map[string]uint64
	// InvalidatedKeys counts keys removed because a command naming them
	// could not be applied exactly.
	InvalidatedKeys uint64
	// FlushedForUnknown counts databases flushed because a command with
	// unknown key positions arrived under the Invalidate policy.
	FlushedForUnknown uint64
	// ResyncsRequested counts ErrNeedResync returns.
	ResyncsRequested uint64
	// Loads counts committed full-sync loads; LoadedKeys the keys they held.
	Loads, LoadedKeys uint64
}

// Stats returns a snapshot of the counters.
func (p *Projection) Stats() Stats {
	ds := p.cur.Load()
	st := Stats{
		Policy:            p.opts.OnUnknown.String(),
		DBs:               make([]DBStats, len(ds.dbs)),
		Applied:           map[string]uint64{},
		InvalidatedKeys:   p.st.invalidatedKeys.Load(),
		FlushedForUnknown: p.st.flushedForUnknown.Load(),
		ResyncsRequested:  p.st.resyncsRequested.Load(),
		Loads:             p.st.loads.Load(),
		LoadedKeys:        p.st.loadedKeys.Load(),
	}
	for i, d := range ds.dbs {
		st.DBs[i] = DBStats{Keys: d.keys.Load(), Expires: d.expires.Load(), IndexBytes: d.indexBytes()}
	}
	for name, c := range p.ap.table {
		if n := c.count.Load(); n > 0 {
			st.Applied[name] = n
		}
	}
	p.st.mu.Lock()
	st.Unknown = maps.Clone(p.st.unknown)
	st.Failed = maps.Clone(p.st.failed)
	p.st.mu.Unlock()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		st.HeapBytes = sample[0].Value.Uint64()
	}
	if sample[1].Value.Kind() == metrics.KindUint64 {
		st.LiveHeapBytes = sample[1].Value.Uint64()
	}
	return st
}

// indexBytes is the memory of d's key index: each table's slot array and
// the bucket headers. It reads only the tables' atomic words (no lock): a
// table growing meanwhile is counted at either size.
func (d *db) indexBytes() int64 {
	bs := d.tabs.Load()
	n := int64(len(bs.t)) * int64(unsafe.Sizeof(table{}))
	for i := range bs.t {
		if bs.t[i].first.Load() != nil {
			n += int64(bs.t[i].size.Load()) * int64(unsafe.Sizeof(slot{}))
		}
	}
	return n
}

// memUsage estimates the bytes a value and its key take (MEMORY USAGE),
// by the layout of table.go and rec.go: the key's share of its table
// (slotShare), then a string's record, or a box and what it points at,
// each rounded up to the size class the Go allocator gives it.
func memUsage(o *obj, key []byte, samples int, slotShare int64, inArena bool) int64 {
	klen := len(key)
	if o.flags&(flagBoxed|flagFolded) == 0 && (o.kind == KindString || o.flags&flagCRec != 0) {
		klen = storedKeyLen(key) // a record holds a key packed (keypack.go)
	}
	u := slotShare
	size := allocSize
	if inArena {
		size = func(n int) int64 { return int64(n) } // no size class (arena.go)
	}
	if o.kind == KindString && o.flags&flagBoxed == 0 {
		w := recHeadLen(recHeadOf(int(o.n), o.recEnc(), o.exp != 0, klen))
		if klen >= tagLongKey {
			w += uvarintLen(uint64(klen))
		}
		if o.exp != 0 {
			w += 8
		}
		return u + size(recStrSize(w, klen+int(o.n)))
	}
	switch {
	case o.flags&flagCRec != 0:
		return u + size(crecBytes(o.ptr, klen))
	case o.flags&flagFolded != 0:
		u += foldedSize(klen) - foldOffset // the struct is counted below
	case klen <= 16:
		u += int64(unsafe.Sizeof(box16{}))
	case klen <= 32:
		u += int64(unsafe.Sizeof(box32{}))
	case klen <= boxKeyInline:
		u += int64(unsafe.Sizeof(box48{}))
	default:
		u += int64(unsafe.Sizeof(box{})) + allocSize(klen)
	}
	switch o.kind {
	case KindString:
		return u + 32 + allocSize(cap((*rawStr)(o.ptr).b))
	case KindList:
		return u + int64(o.list().bytes())
	case KindSet:
		return u + int64(o.set().bytes(samples))
	case KindZSet:
		return u + int64(o.zset().bytes(samples))
	case KindHash:
		return u + int64(o.hash().bytes(samples))
	case KindStream:
		return u + int64(o.stream().bytes())
	}
	return u
}

// allocSize is the bytes the Go allocator hands out for an n-byte
// pointer-free object: n rounded up to its size class. append grows a
// slice to exactly the size class of what it needs, so the runtime
// itself tells; sizes up to allocSizeTable are asked once and kept.
func allocSize(n int) int64 {
	if n <= 0 {
		return 0
	}
	if n > allocSizeTable {
		return int64(cap(append([]byte(nil), make([]byte, n)...)))
	}
	allocSizesOnce.Do(func() {
		for i := range allocSizes {
			allocSizes[i] = uint16(cap(append([]byte(nil), make([]byte, i+1)...)))
		}
	})
	return int64(allocSizes[n-1])
}

const allocSizeTable = 1024

// defaultSlotShare is a key's share of its table when the table is not
// known: a 16-byte slot at the two-thirds load a table holds on average.
const defaultSlotShare = 24

var (
	allocSizes     [allocSizeTable]uint16
	allocSizesOnce sync.Once
)
