package projection

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vdr-project/vdr/rdbparse"
)

// twoKeysInDifferentStripes returns two keys whose stripes differ, so that
// a MULTI over them needs two locks.
func twoKeysInDifferentStripes(p *Projection) (string, string) {
	d := p.cur.Load().dbs[0]
	a := "a"
	for i := 0; ; i++ {
		b := "b" + strconv.Itoa(i)
		if d.stripeOf([]byte(a)) != d.stripeOf([]byte(b)) {
			return a, b
		}
	}
}

// TestMultiExecAtomic: readers never observe half of a MULTI/EXEC, within
// one db (View over both keys) or across dbs (ViewAll).
func TestMultiExecAtomic(t *testing.T) {
	p := newTestProjection(t, nil)
	a, b := twoKeysInDifferentStripes(p)
	const rounds = 3000
	var stop atomic.Bool
	var wg sync.WaitGroup
	var torn atomic.Int64
	var views atomic.Int64
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			for !stop.Load() {
				if r == 0 {
					p.ViewAll(func(v *View) {
						x := string(v.Get([]byte(a)).Bytes())
						v.Select(1)
						y := string(v.Get([]byte(a)).Bytes())
						if x != y {
							torn.Add(1)
						}
					})
				} else {
					p.View(0, [][]byte{[]byte(a), []byte(b)}, func(v *View) {
						if string(v.Get([]byte(a)).Bytes()) != string(v.Get([]byte(b)).Bytes()) {
							torn.Add(1)
						}
					})
				}
				views.Add(1)
			}
		}(r)
	}
	lk := p.NewLink()
	for i := 0; i < rounds; i++ {
		n := strconv.Itoa(i)
		for _, c := range []string{"SELECT 0", "MULTI", "SET " + a + " " + n, "SET " + b + " " + n, "SELECT 1", "SET " + a + " " + n, "EXEC"} {
			if err := lk.Feed(args(c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if torn.Load() != 0 {
		t.Fatalf("%d of %d views saw half a transaction", torn.Load(), views.Load())
	}
	t.Logf("%d views, none torn", views.Load())
}

// TestLoadSwapAtomic: a full sync builds a new keyspace while the old one
// serves, and Commit swaps it in one step: a reader sees one generation.
func TestLoadSwapAtomic(t *testing.T) {
	p := newTestProjection(t, nil)
	const n = 200
	for i := 0; i < n; i++ {
		mustApply(t, p, 0, fmt.Sprintf("SET k%d gen0", i))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mixed, views atomic.Int64
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				p.ViewDB(0, func(v *View) {
					gens := map[string]int{}
					v.Keys(func(k []byte, x Value) bool { gens[string(x.Bytes())]++; return true })
					if len(gens) > 1 {
						mixed.Add(1)
					}
				})
				views.Add(1)
			}
		}()
	}
	for g := 1; g <= 20; g++ {
		ld := p.BeginLoad(LoadOptions{})
		gen := []byte("gen" + strconv.Itoa(g))
		for i := 0; i < n; i++ {
			e := rdbparse.Entry{Key: []byte("k" + strconv.Itoa(i)), Kind: rdbparse.KindString, String: gen, ExpireMs: -1, Last: true}
			if err := ld.Entry(&e); err != nil {
				t.Fatal(err)
			}
		}
		if g%5 == 0 {
			ld.Abort()
			continue
		}
		if err := ld.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if mixed.Load() != 0 {
		t.Fatalf("%d of %d views saw two generations", mixed.Load(), views.Load())
	}
	get(p, 0, "k7", func(x Value) {
		if string(x.Bytes()) != "gen19" {
			t.Errorf("after loads: %q", x.Bytes())
		}
	})
	if st := p.Stats(); st.Loads != 16 || st.LoadedKeys != 16*n {
		t.Errorf("loads %d keys %d", st.Loads, st.LoadedKeys)
	}
}

// TestScanUnderWrites: every key present for the whole scan is returned
// exactly once, whatever the applier does meanwhile.
func TestScanUnderWrites(t *testing.T) {
	seed := seedFromEnv(t, time.Now().UnixNano())
	t.Logf("SEED=%d", seed)
	p := newTestProjection(t, nil)
	const stable = 300
	for i := 0; i < stable; i++ {
		mustApply(t, p, 0, "SET s"+strconv.Itoa(i)+" v")
	}
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := rand.New(rand.NewPCG(uint64(seed), 1))
		for !stop.Load() {
			k := "t" + strconv.Itoa(r.IntN(2000))
			var err error
			switch r.IntN(3) {
			case 0:
				err = p.Apply(0, args("DEL "+k))
			case 1:
				err = p.Apply(0, args("SADD "+k+" x y"))
			default:
				err = p.Apply(0, args("SET "+k+" v"))
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for round := 0; round < 20; round++ {
		seen := map[string]int{}
		cursor := uint64(0)
		for {
			next, err := p.Scan(0, cursor, 1+round, func(k []byte, _ Value) { seen[string(k)]++ })
			if err != nil {
				t.Fatal(err)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		for i := 0; i < stable; i++ {
			if c := seen["s"+strconv.Itoa(i)]; c != 1 {
				t.Fatalf("round %d: stable key s%d returned %d times", round, i, c)
			}
		}
	}
	stop.Store(true)
	<-done
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
}

// TestReadersDuringApply hammers reads of every type while the applier
// writes, for the race detector.
func TestReadersDuringApply(t *testing.T) {
	seed := seedFromEnv(t, time.Now().UnixNano())
	t.Logf("SEED=%d", seed)
	p := newTestProjection(t, nil)
	var stop atomic.Bool
	var wg sync.WaitGroup
	keys := [][]byte{[]byte("l"), []byte("s"), []byte("z"), []byte("h"), []byte("str")}
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				p.View(0, keys, func(v *View) {
					v.Get(keys[0]).ListRange(0, -1, func(int, []byte) bool { return true })
					v.Get(keys[1]).SetEach(func([]byte) bool { return true })
					v.Get(keys[2]).ZRangeByRank(0, -1, true, func([]byte, float64) bool { return true })
					v.Get(keys[3]).HashEach(func(f, x []byte) bool { return true })
					_ = v.Get(keys[4]).Bytes()
				})
				p.Scan(0, 0, 100, func([]byte, Value) {})
			}
		}()
	}
	r := rand.New(rand.NewPCG(uint64(seed), 2))
	for i := 0; i < 20000; i++ {
		var c string
		n := strconv.Itoa(r.IntN(300))
		switch r.IntN(8) {
		case 0:
			c = "RPUSH l " + n
		case 1:
			c = "LPOP l 2"
		case 2:
			c = "SADD s " + n
		case 3:
			c = "SREM s " + n
		case 4:
			c = "ZADD z " + n + " m" + n
		case 5:
			c = "ZPOPMIN z"
		case 6:
			c = "HSET h f" + n + " " + n
		default:
			c = "APPEND str " + n
		}
		if err := p.Apply(0, args(c)); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
}
