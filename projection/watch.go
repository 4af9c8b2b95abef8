package projection

import (
	"sync"
	"sync/atomic"
)

// watchReg tracks the keys clients WATCH, like Redis's per-db
// watched_keys dict (src/multi.c): every applied write that names a
// watched key bumps that key's version, and EXEC aborts when a version it
// saw at WATCH time has moved. Writes pay one atomic load when nothing is
// watched.
type watchReg struct {
	n  atomic.Int64 // number of watched (db, key) entries
	mu sync.Mutex   // leaf lock (see LOCKING.md)
	m  map[int]map[string]*watchEntry
}

type watchEntry struct {
	refs    int
	version atomic.Uint64
}

// Watch starts tracking modifications of key in db (WATCH) and returns the
// key's current modification version. Pair every Watch with an Unwatch.
// Inside a View, View.KeyVersion returns the version now; if it differs
// from what Watch returned, the key was written since (EXEC must abort).
// Every write naming the key counts, as do FLUSHDB/FLUSHALL/SWAPDB, a
// command that could not be applied exactly, and a full-sync swap.
func (p *Projection) Watch(db int, key []byte) uint64 {
	w := &p.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[int]map[string]*watchEntry{}
	}
	keys := w.m[db]
	if keys == nil {
		keys = map[string]*watchEntry{}
		w.m[db] = keys
	}
	e := keys[string(key)]
	if e == nil {
		e = &watchEntry{}
		// Start from the global sequence so that a key unwatched and watched
		// again never shows an old version.
		e.version.Store(w.seqLocked())
		keys[string(key)] = e
		w.n.Add(1)
	}
	e.refs++
	return e.version.Load()
}

// watchSeq is a process-wide sequence mixed into fresh entries.
var watchSeq atomic.Uint64

func (w *watchReg) seqLocked() uint64 { return watchSeq.Add(1) << 20 }

// WatchedKeys returns how many (db, key) pairs are watched now.
func (p *Projection) WatchedKeys() int64 { return p.watch.n.Load() }

// Unwatch ends one Watch of key in db (UNWATCH, EXEC, DISCARD, or the
// client going away).
func (p *Projection) Unwatch(db int, key []byte) {
	w := &p.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	keys := w.m[db]
	e := keys[string(key)]
	if e == nil {
		return
	}
	if e.refs--; e.refs == 0 {
		delete(keys, string(key))
		w.n.Add(-1)
	}
}

// KeyVersion returns the modification version of a watched key of the
// View's database (0 when nobody watches it). Compare it with the value
// Watch returned.
func (v *View) KeyVersion(key []byte) uint64 {
	w := &v.p.watch
	if w.n.Load() == 0 {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.m[v.db][string(key)]; e != nil {
		return e.version.Load()
	}
	return 0
}

// touch bumps the watched keys a command wrote (the caller holds their
// stripe locks).
func (w *watchReg) touch(db int, keys [][]byte, sc scope) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch sc {
	case scopeKeys:
		m := w.m[db]
		for _, k := range keys {
			if e := m[string(k)]; e != nil {
				e.version.Add(1)
			}
		}
	case scopeDB:
		for _, e := range w.m[db] {
			e.version.Add(1)
		}
	case scopeAll:
		w.touchAllLocked()
	}
}

func (w *watchReg) touchAll() {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.touchAllLocked()
}

func (w *watchReg) touchAllLocked() {
	for _, keys := range w.m {
		for _, e := range keys {
			e.version.Add(1)
		}
	}
}
