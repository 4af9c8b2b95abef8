//go:build !amd64

package projection

// prefetch is a no-op where vdr has no prefetch instruction wired up.
func prefetch(addr uintptr) {}
