package projection

import (
	"testing"

	wl "github.com/vdr-project/vdr/internal/workload"
)

func TestDifferentialSortGeo(t *testing.T) {
	forSeeds(t, 3, 3000, 20, 20000, func(t *testing.T, seed int64, ops int) { runDifferentialMix(t, seed, ops, wl.SortGeo) })
}
