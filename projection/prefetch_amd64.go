package projection

import "unsafe"

// prefetch asks the CPU to start loading the cache line at p (PREFETCHT0);
// it never faults, whatever p is, and does not wait for the line.
//
//go:noescape
func prefetch(p unsafe.Pointer)
