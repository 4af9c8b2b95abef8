//go:build race

package projection

// prefetchDeep does nothing in race builds (see prefetch_deep.go).
func (t *table) prefetchDeep(h uint64) bool { return false }

// prefetchBoxed does nothing in race builds (see prefetch_deep.go).
func (t *table) prefetchBoxed(h uint64) {}
