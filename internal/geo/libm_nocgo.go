//go:build !cgo

package geo

import "math"

// Without cgo the distance formula uses Go's math package, which can
// differ from glibc (and so from redis-server) in the last bit: search
// results are the same except at an exact boundary, replies formatted to
// 4 decimals are the same, but STOREDIST scores may differ by one ulp.

func sin(x float64) float64  { return math.Sin(x) }
func cos(x float64) float64  { return math.Cos(x) }
func asin(x float64) float64 { return math.Asin(x) }

// ExactLibm reports whether distances use the C library's trigonometry
// (true with cgo), and so match redis-server bit for bit.
const ExactLibm = false
