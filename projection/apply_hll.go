package projection

import (
	"fmt"

	"github.com/vdr-project/vdr/internal/hll"
)

// ---- HyperLogLog commands (src/hyperloglog.c) ----
//
// An HLL is a string; internal/hll edits its bytes exactly as Redis does.
// Every command that changes one first unshares it (dbUnshareStringValue),
// so the value is a raw (boxed) string afterwards, as on a replica.

// hllValue returns key's HLL, unshared for an in-place edit, or nil when
// the key is missing. A value that is not an HLL is an error (the primary
// refused the command, so it should never have arrived).
func (c *ctx) hllValue(key []byte) (*rawStr, error) {
	o, exists, err := c.typed(key, KindString)
	if err != nil || !exists {
		return nil, err
	}
	if err := hll.Check(o.bytes()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongType, err)
	}
	return boxed(c.d, key, o), nil
}

func (c *ctx) storeHLL(key, b []byte) {
	c.d.store(key, obj{kind: KindString, enc: encRaw, flags: flagBoxed, ptr: ptrOf(&rawStr{b: b})})
}

// pfaddCommand: PFADD key [element…].
func pfaddCommand(c *ctx) error {
	if err := c.arity(2, true); err != nil {
		return err
	}
	key := c.argv[1]
	r, err := c.hllValue(key)
	if err != nil {
		return err
	}
	if r == nil {
		b, _, err := hll.PFAdd(nil, c.argv[2:], c.ec.HLLSparseMaxBytes)
		if err != nil {
			return err
		}
		c.storeHLL(key, b)
		c.notify(NotifyString, "pfadd", key)
		return nil
	}
	b, updated, err := hll.PFAdd(r.b, c.argv[2:], c.ec.HLLSparseMaxBytes)
	r.b = b // partial work stays, as in Redis; the error invalidates the key
	if err == nil && updated {
		c.notify(NotifyString, "pfadd", key)
	}
	return err
}

// pfmergeCommand: PFMERGE dest [src…]. The destination is read as a
// source too.
func pfmergeCommand(c *ctx) error {
	if err := c.arity(2, true); err != nil {
		return err
	}
	srcs := make([][]byte, 0, len(c.argv)-1)
	for _, k := range c.argv[1:] {
		o, exists, err := c.typed(k, KindString)
		if err != nil {
			return err
		}
		if !exists {
			continue
		}
		if err := hll.Check(o.bytes()); err != nil {
			return fmt.Errorf("%w: %w", ErrWrongType, err)
		}
		srcs = append(srcs, o.bytes())
	}
	key := c.argv[1]
	r, err := c.hllValue(key)
	if err != nil {
		return err
	}
	if r == nil {
		b, err := hll.PFMerge(nil, srcs, c.ec.HLLSparseMaxBytes)
		if err != nil {
			return err
		}
		c.storeHLL(key, b)
		c.notify(NotifyString, "pfadd", key)
		return nil
	}
	b, err := hll.PFMerge(r.b, srcs, c.ec.HLLSparseMaxBytes)
	r.b = b
	if err == nil {
		c.notify(NotifyString, "pfadd", key) // pfmergeCommand says "pfadd"
	}
	return err
}

// pfcountCommand: a PFCOUNT on the link is a single-key count that
// refreshed the cached cardinality; it writes the same cache bytes. A
// multi-key PFCOUNT writes nothing.
func pfcountCommand(c *ctx) error {
	if err := c.arity(2, true); err != nil {
		return err
	}
	if len(c.argv) > 2 {
		return nil
	}
	r, err := c.hllValue(c.argv[1])
	if err != nil || r == nil {
		return err
	}
	_, _, err = hll.PFCount(r.b)
	return err
}

// pfdebugCommand: PFDEBUG TODENSE|GETREG key convert a sparse HLL to dense
// (and are then propagated); the other subcommands change nothing that is
// propagated.
func pfdebugCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	sub := c.argv[1]
	if !eq(sub, "todense") && !eq(sub, "getreg") {
		return nil
	}
	r, err := c.hllValue(c.argv[2])
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("the specified key does not exist: %w", ErrNoSuchKey)
	}
	b, err := hll.ToDense(r.b)
	if err != nil {
		return err
	}
	r.b = b
	return nil
}
