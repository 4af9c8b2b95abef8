//go:build !amd64

package projection

import "unsafe"

// prefetch is a no-op where vdr has no prefetch instruction wired up.
func prefetch(p unsafe.Pointer) {}
