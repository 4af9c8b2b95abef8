package projection

import (
	"fmt"
	"sync"
	"testing"
)

// TestPrefetchDuringWrites hints keys (PrefetchKeys, both stages, and
// multi-key Views) while the applier churns the same tables: keys come
// and go, so tables grow, shrink to nothing and come back, and SWAPDB and
// FLUSHDB replace whole bucket sets. The hints take no lock; they must
// never fault and never change what a read returns. Stable keys, never
// written during the churn, are read back through the same path and must
// keep their values. (The second stage, which reads slots without a lock,
// runs only in builds without -race; `make test` runs this test both ways.)
func TestPrefetchDuringWrites(t *testing.T) {
	p := newTestProjection(t, nil)
	const stable = 200
	for i := 0; i < stable; i++ {
		mustApply(t, p, 0, fmt.Sprintf("SET stable:%d v%d", i, i))
		mustApply(t, p, 2, fmt.Sprintf("SET stable:%d w%d", i, i))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	apply := func(db int, cmd string) {
		if err := p.Apply(db, args(cmd)); err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
	}
	go func() {
		defer wg.Done()
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			for i := 0; i < 300; i++ {
				apply(1, fmt.Sprintf("SET churn:%d x", i))
				apply(1, fmt.Sprintf("RPUSH list:%d a b c", i))
			}
			for i := 0; i < 300; i++ {
				apply(1, fmt.Sprintf("DEL churn:%d list:%d", i, i))
			}
			if round%5 == 0 {
				apply(3, "SET x 1")
				apply(3, "FLUSHDB")
				apply(1, "SWAPDB 1 3")
			}
		}
	}()
	keys := make([][]byte, 0, 64)
	for iter := 0; iter < 3000; iter++ {
		keys = keys[:0]
		for j := 0; j < 16; j++ {
			i := (iter*16 + j) % 300
			keys = append(keys, []byte(fmt.Sprintf("churn:%d", i)), []byte(fmt.Sprintf("list:%d", i)))
		}
		keys = append(keys, []byte(fmt.Sprintf("stable:%d", iter%stable)))
		for db := -1; db <= 4; db++ {
			p.PrefetchKeys(db, keys) // db -1 and 4 (with 16 dbs, 4 is empty) cost nothing
			p.Prefetch(db, keys[0])
		}
		i := iter % stable
		k := []byte(fmt.Sprintf("stable:%d", i))
		for db, want := range map[int]string{0: fmt.Sprintf("v%d", i), 2: fmt.Sprintf("w%d", i)} {
			err := p.View(db, [][]byte{keys[0], keys[1], k}, func(v *View) {
				if got := string(v.Get(k).Bytes()); got != want {
					t.Errorf("db %d %s = %q, want %q", db, k, got, want)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
}
