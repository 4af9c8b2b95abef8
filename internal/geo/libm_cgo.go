//go:build cgo

package geo

// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

// The distance formula calls the C library's sin, cos and asin, the ones
// redis-server calls, so that every distance (and so every STOREDIST
// score, every radius test at the boundary, every "%.4f" reply) is the
// same double as Redis's. Go's math package differs from glibc in the
// last bit for about a fifth of the inputs (measured over random
// latitudes), which STOREDIST would store verbatim.

func sin(x float64) float64  { return float64(C.sin(C.double(x))) }
func cos(x float64) float64  { return float64(C.cos(C.double(x))) }
func asin(x float64) float64 { return float64(C.asin(C.double(x))) }

// ExactLibm reports whether distances use the C library's trigonometry
// (true with cgo), and so match redis-server bit for bit.
const ExactLibm = true
