package projection

import (
	"time"

	"github.com/vdr-project/vdr/internal/hll"
)

// ---- PFCOUNT's write on a replica ----
//
// A single-key PFCOUNT is a read that writes (src/hyperloglog.c
// pfcountCommand): it unshares the string (dbUnshareStringValue, so an
// embstr becomes raw), and when the cached cardinality is invalid it
// counts the registers and stores the count in header bytes 8–15, which
// also clears the "invalid" bit. A Redis replica does this to its own
// copy for its own clients (nothing is propagated from a replica), so
// GET, DUMP and the next PFADD from the primary see those bytes there.
//
// Readers share read locks, and a ViewAll (MULTI/EXEC, scripts) reads
// with none, so the header cannot be written under a View: PFCountWrite
// takes what the applier takes (hold, then the key's stripe), which
// excludes every reader of those bytes for the few microseconds of the
// count. The common case (a raw value with a valid cache) never gets
// here: it is answered under the read View.

// PFCountNeedsWrite reports whether a single-key PFCOUNT of x would
// change the value on a Redis replica: an HLL whose cache is invalid, or
// one not held as a raw string (an embstr loaded from an RDB file). x
// must have passed hll.Check.
func (x Value) PFCountNeedsWrite() bool {
	if !x.ok || x.o.kind != KindString {
		return false
	}
	if x.o.flags&flagBoxed == 0 && x.o.enc != encRaw {
		return true
	}
	_, valid := hll.Cached(x.o.bytes())
	return !valid
}

// PFCountWrite runs a single-key PFCOUNT of key in db as a Redis replica
// does, writing the value's cache: it returns the cardinality, whether
// the key exists (and is not logically expired), whether the cache was
// refreshed (Redis then signals the key modified), and ErrWrongType for a
// key of another kind or an hll error (hll.ErrNotHLL, hll.ErrCorrupt) for
// a string that is no valid HLL. WATCHed versions of the key move when
// the cache was refreshed (signalModifiedKey). It must not be called inside a
// View; it waits for the applier's batch and for running
// transactions/scripts (ViewAll) to end, as the applier does.
func (p *Projection) PFCountWrite(db int, key []byte) (card uint64, exists, refreshed bool, err error) {
	p.hold.Lock()
	defer p.hold.Unlock()
	return p.pfCountWriteLocked(db, key)
}

// PFCountTryWrite is PFCountWrite that waits at most wait for the hold:
// a snapshot being written or a long script keeps it for seconds, and an
// event loop must not wait that long. done is false when the hold could
// not be had (nothing was written; see PFCountWrite for the rest).
func (p *Projection) PFCountTryWrite(db int, key []byte, wait time.Duration) (card uint64, exists, refreshed, done bool, err error) {
	deadline := time.Now().Add(wait)
	for !p.hold.TryLock() {
		if time.Now().After(deadline) {
			return 0, false, false, false, nil
		}
		time.Sleep(20 * time.Microsecond)
	}
	defer p.hold.Unlock()
	card, exists, refreshed, err = p.pfCountWriteLocked(db, key)
	return card, exists, refreshed, true, err
}

func (p *Projection) pfCountWriteLocked(db int, key []byte) (card uint64, exists, refreshed bool, err error) {
	ds := p.cur.Load()
	if db < 0 || db >= len(ds.dbs) {
		return 0, false, false, ErrDBIndex
	}
	d := ds.dbs[db]
	if cw := p.cow.Load(); cw != nil {
		cw.beforeKeys(ds, db, [][]byte{key}) // the pre-image first (cow.go)
	}
	mu := &d.stripes[d.stripeOf(key)].mu
	mu.Lock()
	defer mu.Unlock()
	o, ok := d.lookupR(key)
	if !ok || (o.exp != 0 && o.exp <= p.opts.Now()) {
		return 0, false, false, nil
	}
	if o.kind != KindString {
		return 0, true, false, ErrWrongType
	}
	if err := hll.Check(o.bytes()); err != nil {
		return 0, true, false, err
	}
	r := boxed(d, key, o) // a new object when unshared: accessed now
	r.lru.t.Store(p.lruNow())
	card, refreshed, err = hll.PFCount(r.b)
	if err != nil {
		return 0, true, false, err
	}
	// Only a refreshed cache signals the key (unsharing alone does not).
	if refreshed && p.watch.n.Load() > 0 {
		p.watch.touch(db, [][]byte{key}, scopeKeys)
	}
	return card, true, refreshed, nil
}
