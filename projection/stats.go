package projection

import (
	"maps"
	"runtime/metrics"
	"sync"
	"sync/atomic"
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
	// Applied counts applied commands by lower-case name (control commands
	// included).
	Applied map[string]uint64
	// Unknown counts commands that could not be applied exactly (unknown
	// names and known-but-unsupported ones such as SETBIT or XADD).
	Unknown map[string]uint64
	// Failed counts known commands that failed on the projection although
	// the primary applied them (a divergence: their keys were invalidated).
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
		st.DBs[i] = DBStats{Keys: d.keys.Load(), Expires: d.expires.Load()}
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
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		st.HeapBytes = sample[0].Value.Uint64()
	}
	return st
}

// memUsage estimates the bytes a value takes (MEMORY USAGE).
func memUsage(o *obj, samples int) int64 {
	const slot = 48 // map slot + control byte + load-factor slack
	switch o.kind {
	case KindString:
		if o.flags&flagBoxed != 0 {
			return slot + 32 + int64(cap((*rawStr)(o.ptr).b))
		}
		return slot + int64(o.n)
	case KindList:
		return slot + int64(o.list().bytes())
	case KindSet:
		return slot + int64(o.set().bytes(samples))
	case KindZSet:
		return slot + int64(o.zset().bytes(samples))
	case KindHash:
		return slot + int64(o.hash().bytes(samples))
	case KindStream:
		return slot + int64(o.stream().bytes())
	}
	return slot
}
