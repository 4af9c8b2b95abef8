package commands

import (
	"errors"
	"sync"
	"time"

	"github.com/vdr-project/vdr/internal/hll"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// HyperLogLog reads: PFCOUNT (src/hyperloglog.c pfcountCommand).

// Error replies of src/hyperloglog.c, word for word.
const (
	errNotHLL     = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errInvalidHLL = "INVALIDOBJ Corrupted HLL object detected"
)

// hllError writes the reply for an internal/hll error.
func hllError(c *Ctx, err error) {
	if errors.Is(err, hll.ErrNotHLL) {
		c.W.Error(errNotHLL)
		return
	}
	c.W.Error(errInvalidHLL)
}

// pfcountCommand: PFCOUNT key [key…]. One key answers its cached
// cardinality when valid, else a fresh estimate, and — as on a Redis
// replica — writes that estimate into the value's header (and makes an
// embstr raw): see projection.PFCountWrite. Several keys answer the
// cardinality of their union, computed in scratch registers; nothing is
// written then, as in Redis.
func pfcountCommand(c *Ctx, args [][]byte) {
	keys := args[1:]
	write := false
	var count int64
	c.read(keys, func(v *projection.View) {
		if len(keys) == 1 {
			x := c.lookup(v, keys[0])
			if !x.Exists() {
				c.W.Int(0)
				return
			}
			if !c.checkType(x, rdbparse.KindString) {
				return
			}
			b := x.Bytes()
			if err := hll.Check(b); err != nil {
				hllError(c, err)
				return
			}
			n, ok := hll.Cached(b)
			if !ok {
				var err error
				if n, err = hll.Count(b); err != nil {
					hllError(c, err)
					return
				}
			}
			if x.PFCountNeedsWrite() {
				if c.tx == nil {
					write, count = true, int64(n) // answered once the read locks are gone
					return
				}
				// A transaction's or script's view is shared: answer now,
				// write the same count once the view ends.
				c.pfWrites = append(c.pfWrites, pfWrite{db: c.Client.db, key: append([]byte(nil), keys[0]...)})
			}
			c.W.Int(int64(n))
			return
		}
		regs := new(hll.Regs)
		for _, k := range keys {
			x := c.lookup(v, k)
			if !x.Exists() {
				continue
			}
			if !c.checkType(x, rdbparse.KindString) {
				return
			}
			if err := hll.MergeInto(regs, x.Bytes()); err != nil {
				hllError(c, err)
				return
			}
		}
		c.W.Int(int64(hll.CountRegs(regs)))
	})
	if !write {
		return
	}
	n, exists, refreshed, done, err := c.Env.Proj.PFCountTryWrite(c.Client.db, keys[0], pfWriteWait)
	if !done {
		// A snapshot or a long script holds the projection: answer what
		// was read and write when it ends, off the event loop.
		c.W.Int(count)
		c.pfWriteLater(c.Client.db, keys[0])
		return
	}
	if refreshed {
		pfInvalidate(c.Env, keys[0])
		// The caller read the key too: Redis remembers it after the
		// invalidation (call() tracks a read once it ran).
		if c.cmd != nil && c.Client.trk.flags.Load()&trackOn != 0 {
			c.trackRead(c.cmd, args)
		}
	}
	switch {
	case errors.Is(err, projection.ErrDBIndex):
		c.W.Error(errDBIndex)
	case errors.Is(err, projection.ErrWrongType):
		c.W.Error(errWrongType) // the key changed type meanwhile
	case err != nil:
		hllError(c, err)
	case !exists:
		c.W.Int(0)
	default:
		c.W.Int(int64(n))
	}
}

// pfWriteWait is how long a PFCOUNT waits for the projection's hold
// (behind the applier's batch or a short transaction) before it leaves
// the cache write to the background writer.
const pfWriteWait = time.Millisecond

// pfWriteLater queues a cache write for the background writer, which
// retries until it gets the hold (for up to a minute). A full queue drops
// it: the value keeps its old header until the next PFCOUNT writes it.
func (c *Ctx) pfWriteLater(db int, key []byte) {
	pfLaterOnce.Do(func() {
		pfLater = make(chan func(), 1024)
		go func() {
			for fn := range pfLater {
				fn()
			}
		}()
	})
	env, key := c.Env, append([]byte(nil), key...)
	select {
	case pfLater <- func() {
		// Polls rather than waits in Lock: a waiting writer would hold
		// back every new transaction or script (RWMutex favours it) until
		// the snapshot ends. Gives up after a minute.
		for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if _, _, refreshed, done, _ := env.Proj.PFCountTryWrite(db, key, 0); done {
				if refreshed {
					pfInvalidate(env, key)
				}
				return
			}
		}
	}:
	default:
	}
}

var (
	pfLater     chan func()
	pfLaterOnce sync.Once
)

// pfWrite is a single-key PFCOUNT's cache write left for after a shared
// view (EXEC, a script).
type pfWrite struct {
	db  int
	key []byte
}

// flushPFWrites makes the cache writes of the PFCOUNTs a transaction or
// script ran, once its view has ended. Were the value written in between
// by the primary, the write counts the new registers (Redis would have
// written before them).
func (c *Ctx) flushPFWrites() {
	for i, w := range c.pfWrites {
		// The reply was given; what is left is the write and its signal.
		_, _, refreshed, done, _ := c.Env.Proj.PFCountTryWrite(w.db, w.key, pfWriteWait)
		if !done {
			c.pfWriteLater(w.db, w.key)
		} else if refreshed {
			pfInvalidate(c.Env, w.key)
		}
		c.pfWrites[i] = pfWrite{}
	}
	c.pfWrites = c.pfWrites[:0]
}

// pfInvalidate tells CLIENT TRACKING that a PFCOUNT changed key, as
// signalModifiedKey does on a Redis replica (trackingInvalidateKey):
// clients that read it get an invalidation, the caller included (vdr
// does not single out a NOLOOP caller here), and BCAST prefixes get it at
// once rather than with the stream's next batch.
func pfInvalidate(env *Env, key []byte) {
	if t := env.Tracking; t != nil {
		t.Invalidate(key)
		t.Broadcast()
	}
}
