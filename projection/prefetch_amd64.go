package projection

// prefetch asks the CPU to start loading the cache line at addr
// (PREFETCHT0); it never faults, whatever addr is, and does not wait for
// the line. addr is a uintptr, not a pointer: the addresses prefetched
// may be computed past an object's end (see table.prefetchSlot), and a
// uintptr is never taken for a pointer by the garbage collector.
//
//go:noescape
func prefetch(addr uintptr)
