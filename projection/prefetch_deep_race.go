//go:build race

package projection

// prefetchDeep does nothing in race builds (see prefetch_deep.go).
// It reports that every key may be boxed, so that stage three, which
// takes the stripe locks, still runs under the race detector.
func (t *table) prefetchDeep(h uint64) bool { return true }

// prefetchBoxed does nothing in race builds (see prefetch_deep.go).
func (t *table) prefetchBoxed(h uint64) {}
