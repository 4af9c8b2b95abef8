package projection

import (
	"sync"
	"sync/atomic"
	"time"
)

// Last access times, for OBJECT IDLETIME. Redis keeps a 24-bit LRU clock
// in every object and refreshes it on each lookup of the key, reads
// included (src/db.c lookupKey), unless the lookup is a NOTOUCH one
// (EXISTS, TYPE, TTL, OBJECT, MEMORY USAGE, a CLIENT NO-TOUCH client). A
// replica refreshes it for every command the primary sends that names
// the key, and sets it from the RDB's IDLE field on load.
//
// The projection keeps the time (Unix seconds) in a collection's or a
// boxed string's struct, and for a record (a string's, a packed
// collection's: pointer-free bytes with no aligned word of their own) in
// its slot's lru word, which an obj read from the slot points at (lw).
// Whatever moves a value moves its time: a struct carries it, a record's
// slot keeps it when the record is copied (a compaction), and a value
// stored anew starts at 0, as Redis's new robj does. It is an atomic word, written
// only when it changes (at most once a second per key), so readers of a
// hot key on many cores do not keep stealing its cache line.

// lruWord is a value's last access time in Unix seconds (0: unknown).
type lruWord struct{ t atomic.Uint32 }

// lru returns the value's access-time word, or nil for a kind that has
// none.
func (o *obj) lru() *lruWord {
	if o.lw != nil || o.flags&flagCRec != 0 {
		return o.lw
	}
	switch o.kind {
	case KindString:
		if o.flags&flagBoxed != 0 {
			return &(*rawStr)(o.ptr).lru
		}
		return nil // a record's obj not read from its slot
	case KindList:
		return &o.list().lru
	case KindSet:
		return &o.set().lru
	case KindZSet:
		return &o.zset().lru
	case KindHash:
		return &o.hash().lru
	case KindStream:
		return &o.stream().lru
	}
	return nil
}

// touch sets the access time to now (Unix seconds).
func (o *obj) touch(now uint32) {
	if w := o.lru(); w != nil && w.t.Load() != now {
		w.t.Store(now)
	}
}

// coarseSeconds is a clock in Unix seconds refreshed ten times a second
// (like Redis's cached server.lruclock), so that a read pays an atomic
// load for its touch, not a clock read.
var (
	coarseSeconds atomic.Uint32
	coarseOnce    sync.Once
)

func startCoarseClock() {
	coarseSeconds.Store(uint32(time.Now().Unix()))
	go func() {
		for t := range time.Tick(100 * time.Millisecond) {
			coarseSeconds.Store(uint32(t.Unix()))
		}
	}()
}

// lruNow returns the clock access times are kept in: the coarse clock,
// or the projection's own when Options.Now was set (tests).
func (p *Projection) lruNow() uint32 {
	if p.customClock {
		return uint32(p.opts.Now() / 1000)
	}
	return coarseSeconds.Load()
}

// NoTouch makes the View's reads leave access times alone (Redis's
// LOOKUP_NOTOUCH: EXISTS, TYPE, TTL, OBJECT, MEMORY USAGE, and clients
// that sent CLIENT NO-TOUCH ON).
func (v *View) NoTouch() { v.noTouch = true }

// SetTouch turns access-time updates on or off for the View's next reads
// (a transaction's shared View serves commands of both kinds).
func (v *View) SetTouch(on bool) { v.noTouch = !on }

// IdleSeconds returns the seconds since the value was last accessed by a
// read or a write of the stream (OBJECT IDLETIME), by the projection's
// clock; 0 when unknown.
func (x Value) IdleSeconds(p *Projection) int64 {
	if !x.ok {
		return 0
	}
	w := x.o.lru()
	if w == nil {
		return 0
	}
	t := w.t.Load()
	now := p.lruNow()
	if t == 0 || now <= t {
		return 0
	}
	return int64(now - t)
}

// touchKeys refreshes the access time of the keys a command named (the
// caller holds their stripe locks).
func (d *db) touchKeys(keys [][]byte, now uint32) {
	for _, k := range keys {
		if o, ok := d.lookupR(k); ok {
			o.touch(now)
		}
	}
}
