package pqsort

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

type ints []int

func (s ints) Len() int      { return len(s) }
func (s ints) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s ints) Cmp(i, j int) int {
	switch {
	case s[i] < s[j]:
		return -1
	case s[i] > s[j]:
		return 1
	}
	return 0
}

// TestSortRange checks the contract: places lo..hi hold what a full sort
// puts there, and the rest of the elements are a permutation of the rest.
// (That equal elements come out in Redis's order is checked against
// redis-server by the SORT and GEOSEARCH differential tests.)
func TestSortRange(t *testing.T) {
	seed := uint64(time.Now().UnixNano() % 1_000_000)
	if s := os.Getenv("SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 3))
	for range 3000 {
		n := r.IntN(120)
		a := make(ints, n)
		for i := range a {
			a[i] = r.IntN(1 + r.IntN(200)) // often many ties
		}
		want := slices.Clone(a)
		slices.Sort(want)
		lo, hi := 0, n-1
		if n > 0 {
			lo = r.IntN(n)
			hi = lo + r.IntN(n-lo)
		}
		got := slices.Clone(a)
		Sort(got, lo, hi)
		if n > 0 && !slices.Equal(got[lo:hi+1], want[lo:hi+1]) {
			t.Fatalf("n=%d lo=%d hi=%d: places %v, want %v (input %v)", n, lo, hi, got[lo:hi+1], want[lo:hi+1], a)
		}
		all := slices.Clone(got)
		slices.Sort(all)
		if !slices.Equal(all, want) {
			t.Fatalf("not a permutation: %v from %v", got, a)
		}
	}
}
