package commands

import (
	"errors"

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
			if x.PFCountNeedsWrite() {
				if c.tx == nil {
					write = true // after the read locks are gone
					return
				}
				// A transaction's or script's view is shared: answer now,
				// write the same count once the view ends.
				c.pfWrites = append(c.pfWrites, pfWrite{db: c.Client.db, key: append([]byte(nil), keys[0]...)})
			}
			if n, ok := hll.Cached(b); ok {
				c.W.Int(int64(n))
				return
			}
			n, err := hll.Count(b)
			if err != nil {
				hllError(c, err)
				return
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
	if write {
		n, exists, refreshed, err := c.Env.Proj.PFCountWrite(c.Client.db, keys[0])
		if refreshed {
			c.pfInvalidate(keys[0])
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
}

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
		if _, _, refreshed, _ := c.Env.Proj.PFCountWrite(w.db, w.key); refreshed {
			c.pfInvalidate(w.key)
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
func (c *Ctx) pfInvalidate(key []byte) {
	if t := c.Env.Tracking; t != nil {
		t.Invalidate(key)
		t.Broadcast()
	}
}
