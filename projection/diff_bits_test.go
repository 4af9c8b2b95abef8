package projection

import (
	"testing"

	wl "github.com/vdr-project/vdr/internal/workload"
)

// TestDifferentialBits is the differential test with bitmap and
// HyperLogLog commands mixed in; odd seeds run with a small
// hll-sparse-max-bytes (see runDifferentialMix) so sparse HLLs are
// promoted often.
func TestDifferentialBits(t *testing.T) {
	forSeeds(t, 4, 3000, 20, 20000, func(t *testing.T, seed int64, ops int) { runDifferentialMix(t, seed, ops, wl.Bits) })
}
