package projection

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vdr-project/vdr/rdbparse"
)

// TestSwapDBBucketSets runs reads while SWAPDB exchanges two databases
// whose bucket sets differ in size (a load sizes each db's buckets from
// its RESIZEDB hint). A reader picks its stripes from the bucket count it
// saw; after a swap the same keys map to other stripes, so a View must
// notice and pick again, and a SCAN cursor may lie beyond the new bucket
// count. Under -race a read under the wrong stripe is reported; a read
// must also always see one whole side of the swap, and SCAN must not go
// out of bounds.
func TestSwapDBBucketSets(t *testing.T) {
	p := newTestProjection(t, nil)
	ld := p.BeginLoad(LoadOptions{})
	ld.ResizeDB(0, 300_000) // about 900 buckets
	ld.ResizeDB(1, 10)      // the minimum
	const n = 500
	for db, side := range []string{"big", "small"} {
		for i := range n {
			e := rdbparse.Entry{DB: db, Key: []byte(fmt.Sprintf("k%d", i)), Kind: rdbparse.KindString,
				String: []byte(side), ExpireMs: -1, Last: true}
			if err := ld.Entry(&e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ld.Commit(); err != nil {
		t.Fatal(err)
	}
	nb0, nb1 := p.cur.Load().dbs[0].numBuckets(), p.cur.Load().dbs[1].numBuckets()
	if nb0 <= 2*nb1 {
		t.Fatalf("the two dbs' bucket counts are too close to test anything: %d and %d", nb0, nb1)
	}

	var stop atomic.Bool
	var swaps atomic.Int64
	swapperDone := make(chan struct{})
	go func() {
		defer close(swapperDone)
		for !stop.Load() {
			mustApply(t, p, 0, "SWAPDB 0 1")
			swaps.Add(1)
		}
	}()
	var wg sync.WaitGroup
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys := make([][]byte, 8)
			for it := 0; it < 4000; it++ {
				db := (it + r) % 2
				for j := range keys {
					keys[j] = []byte(fmt.Sprintf("k%d", (it*8+j)%n))
				}
				p.PrefetchKeys(db, keys)
				err := p.View(db, keys, func(v *View) {
					first := string(v.Get(keys[0]).Bytes())
					if first != "big" && first != "small" {
						t.Errorf("db %d %s = %q", db, keys[0], first)
					}
					for _, k := range keys[1:] {
						if got := string(v.Get(k).Bytes()); got != first {
							t.Errorf("db %d: %s = %q but %s = %q in the same View", db, keys[0], first, k, got)
						}
					}
				})
				if err != nil {
					t.Error(err)
					return
				}
				if it%50 == 0 {
					// A whole SCAN; its cursors may outlive a swap.
					var cur uint64
					for {
						next, err := p.Scan(db, cur, 100, func([]byte, Value) {})
						if err != nil {
							t.Error(err)
							return
						}
						if next == 0 {
							break
						}
						cur = next
					}
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	<-swapperDone
	if swaps.Load() < 10 {
		t.Errorf("only %d swaps ran during the reads", swaps.Load())
	}
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
}
