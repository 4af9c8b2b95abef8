package projection

import (
	"testing"
)

// fnLib is a library whose function writes two keys of two types, so that
// FCALL's effects (propagated as the commands it ran, wrapped in MULTI)
// reach the projection alongside FUNCTION LOAD/DELETE/FLUSH.
const fnLib = "#!lua name=difflib\n" +
	"redis.register_function('dset', function(keys, args)\n" +
	"  redis.call('SET', keys[1], args[1])\n" +
	"  return redis.call('HSET', keys[2], 'f', args[1])\n" +
	"end)\n"

// functionExtra drives function-library commands and FCALL.
func functionExtra(w *workload) []string {
	switch w.Rand().IntN(10) {
	case 0:
		return []string{"FUNCTION", "LOAD", "REPLACE", fnLib}
	case 1:
		return []string{"FUNCTION", "DELETE", "difflib"}
	case 2:
		return []string{"FUNCTION", "FLUSH", "SYNC"}
	}
	return []string{"FCALL", "dset", "2", w.Key(), w.Key(), w.Val()}
}

// TestDifferentialFunctions runs the differential test with FUNCTION
// commands and FCALL mixed in: every propagated command must apply
// exactly (OnUnknown: Resync) and every key match a real replica.
func TestDifferentialFunctions(t *testing.T) {
	forSeeds(t, 2, 2000, 10, 20000, func(t *testing.T, seed int64, ops int) { runDifferentialMix(t, seed, ops, functionExtra) })
}
