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
// cardinality when valid, else a fresh estimate; a replica's Redis would
// also write that estimate into its copy, which vdr leaves to the
// primary's propagated PFCOUNT. Several keys answer the cardinality of
// their union, computed in scratch registers.
func pfcountCommand(c *Ctx, args [][]byte) {
	keys := args[1:]
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
}
