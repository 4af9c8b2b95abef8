package hll

// The effects of the HLL commands on values, as src/hyperloglog.c applies
// them (pfaddCommand, pfmergeCommand, pfcountCommand, pfdebugCommand).
// Key lookup, creation, object encodings and replies are the caller's.

// PFAdd adds elems to b (nil: the key is missing and a new HLL is created)
// and returns the value to keep and whether it changed (a new key always
// changes). When a register changed the cache is invalidated. On error
// the returned slice holds whatever was done before the error, as in
// Redis, and the caller should keep it (Redis keeps it too).
func PFAdd(b []byte, elems [][]byte, sparseMax int) ([]byte, bool, error) {
	updated := false
	if b == nil {
		b = New()
		updated = true
	} else if err := Check(b); err != nil {
		return b, false, err
	}
	for _, e := range elems {
		nb, changed, err := Add(b, e, sparseMax)
		b = nb
		if err != nil {
			return b, updated, err
		}
		updated = updated || changed
	}
	if updated {
		InvalidateCache(b)
	}
	return b, updated, nil
}

// PFMerge merges srcs (the values of every existing key named, the
// destination included when it exists) into dest (nil: missing, created)
// and returns the new destination value. Like Redis, the destination
// becomes dense when any source is dense, registers are then raised one
// by one (so a sparse destination may still be promoted), and the cache is
// invalidated.
func PFMerge(dest []byte, srcs [][]byte, sparseMax int) ([]byte, error) {
	var regs Regs
	dense := false
	for _, s := range srcs {
		if err := Check(s); err != nil {
			return dest, err
		}
		if s[4] == Dense {
			dense = true
		}
		if err := MergeInto(&regs, s); err != nil {
			return dest, err
		}
	}
	if dest == nil {
		dest = New()
	}
	if dense {
		d, err := ToDense(dest)
		if err != nil {
			return dest, err
		}
		dest = d
	}
	for j, v := range regs {
		if v == 0 {
			continue
		}
		d, _, err := Set(dest, j, v, sparseMax)
		if err != nil {
			return d, err
		}
		dest = d
	}
	InvalidateCache(dest)
	return dest, nil
}

// PFCount is a single-key PFCOUNT: the cached cardinality when valid,
// else a fresh count written into the cache (refreshed reports that b
// changed, which is when Redis propagates the PFCOUNT).
func PFCount(b []byte) (card uint64, refreshed bool, err error) {
	if err := Check(b); err != nil {
		return 0, false, err
	}
	if c, ok := Cached(b); ok {
		return c, false, nil
	}
	c, err := Count(b)
	if err != nil {
		return 0, false, err
	}
	SetCache(b, c)
	return c, true, nil
}

// PFCountMulti is a PFCOUNT of several keys: the cardinality of their
// union, computed in a scratch register array; nothing is written. Missing
// keys are left out of vals.
func PFCountMulti(vals [][]byte) (uint64, error) {
	var regs Regs
	for _, v := range vals {
		if err := MergeInto(&regs, v); err != nil {
			return 0, err
		}
	}
	return CountRegs(&regs), nil
}
