package projection

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// bigKind builds a big value of each collection kind and says how to scan
// it, write to it and read its members.
type bigKind struct {
	name   string
	add    func(k, m string) string // a write command adding m to k
	del    func(k, m string) string
	scan   func(x Value, cursor uint64, count int, fn func(m string)) uint64
	enc    string // the encoding the big value must report
	scanOK func(x Value) bool
}

var bigKinds = []bigKind{
	{
		name: "set",
		add:  func(k, m string) string { return "SADD " + k + " " + m },
		del:  func(k, m string) string { return "SREM " + k + " " + m },
		scan: func(x Value, c uint64, n int, fn func(string)) uint64 {
			return x.SetScan(c, n, func(m []byte) { fn(string(m)) })
		},
		enc: "hashtable",
	},
	{
		name: "hash",
		add:  func(k, m string) string { return "HSET " + k + " " + m + " v" + m },
		del:  func(k, m string) string { return "HDEL " + k + " " + m },
		scan: func(x Value, c uint64, n int, fn func(string)) uint64 {
			return x.HashScan(c, n, func(f, v []byte) {
				if string(v) != "v"+string(f) {
					panic("hash value mismatch")
				}
				fn(string(f))
			})
		},
		enc: "hashtable",
	},
	{
		name: "zset",
		add:  func(k, m string) string { return "ZADD " + k + " " + strconv.Itoa(len(m)) + " " + m },
		del:  func(k, m string) string { return "ZREM " + k + " " + m },
		scan: func(x Value, c uint64, n int, fn func(string)) uint64 {
			return x.ZScan(c, n, func(m []byte, _ float64) { fn(string(m)) })
		},
		enc: "skiplist",
	},
}

// TestBigScanConcurrentWrites runs full cursor scans of big values while a
// writer adds and removes other members (and re-adds, so members move
// around the dense slice): every member present for the whole scan must
// be returned at least once (dense.scanDesc's guarantee), and each step
// returns about COUNT members.
func TestBigScanConcurrentWrites(t *testing.T) {
	seed := seedFromEnv(t, time.Now().UnixNano()%1_000_000)
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	for _, k := range bigKinds {
		t.Run(k.name, func(t *testing.T) {
			p := newTestProjection(t, nil)
			const stable, volatile = 3000, 2000
			var cmds []string
			for i := 0; i < stable; i++ {
				cmds = append(cmds, k.add("k", "s"+strconv.Itoa(i)))
			}
			for i := 0; i < volatile; i++ {
				cmds = append(cmds, k.add("k", "v"+strconv.Itoa(i)))
			}
			mustApply(t, p, 0, cmds...)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the applier: churn the volatile members
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(seed), 1))
				for {
					select {
					case <-stop:
						return
					default:
					}
					m := "v" + strconv.Itoa(r.IntN(2*volatile))
					c := k.add("k", m)
					if r.IntN(2) == 0 {
						c = k.del("k", m)
					}
					if err := p.Apply(0, args(c)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for round := 0; round < 5; round++ {
				seen := map[string]bool{}
				cursor, steps := uint64(0), 0
				for {
					var next uint64
					n := 0
					get(p, 0, "k", func(x Value) {
						if x.Encoding() != k.enc {
							t.Fatalf("encoding %s", x.Encoding())
						}
						next = k.scan(x, cursor, 50, func(m string) { seen[m] = true; n++ })
					})
					if n > 50 {
						t.Fatalf("step returned %d, COUNT 50", n)
					}
					steps++
					cursor = next
					if cursor == 0 {
						break
					}
					if steps > 1000 {
						t.Fatal("scan does not end")
					}
				}
				for i := 0; i < stable; i++ {
					if !seen["s"+strconv.Itoa(i)] {
						t.Fatalf("round %d: s%d never returned (%d steps)", round, i, steps)
					}
				}
				if steps < stable/50 {
					t.Fatalf("round %d: %d steps for ≥%d members at COUNT 50", round, steps, stable)
				}
			}
			close(stop)
			wg.Wait()
			if err := p.sane(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDenseScanDesc checks scanDesc's guarantee with every kind of change
// made between any two steps, including swap-removes of just-visited and
// not-yet-visited members and removals that shrink the slice below the
// cursor.
func TestDenseScanDesc(t *testing.T) {
	seed := seedFromEnv(t, time.Now().UnixNano()%1_000_000)
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(uint64(seed), 2))
	for trial := 0; trial < 200; trial++ {
		d := newDense[smem](0)
		stable := map[string]bool{}
		for i := 0; i < 1+r.IntN(300); i++ {
			m := "v" + strconv.Itoa(i)
			if r.IntN(3) == 0 {
				m = "s" + strconv.Itoa(i)
				stable[m] = true
			}
			d.push(smem(m))
		}
		seen := map[string]bool{}
		cursor := uint64(0)
		next := 1000
		for steps := 0; ; steps++ {
			cursor = d.scanDesc(cursor, 1+r.IntN(20), func(m *smem) { seen[string(*m)] = true })
			if cursor == 0 {
				break
			}
			for j := r.IntN(40); j > 0; j-- {
				if r.IntN(2) == 0 || d.len() == 0 {
					d.push(smem("v" + strconv.Itoa(next)))
					next++
					continue
				}
				i := r.IntN(d.len())
				if !stable[string(d.items[i])] {
					d.removeAt(i)
				}
			}
			if steps > 10000 {
				t.Fatal("scan does not end")
			}
		}
		for m := range stable {
			if !seen[m] {
				t.Fatalf("trial %d: %s never returned", trial, m)
			}
		}
		if err := saneDense(d); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStableOrder checks the iteration orders: a big hash-table set or hash
// is iterated the same way every time while unchanged; an intset (small or
// past the pack size) ascending, before and after removals; a listpack in
// insertion order.
func TestStableOrder(t *testing.T) {
	p := newTestProjection(t, nil)
	var cmds []string
	for i := 0; i < 1000; i++ {
		cmds = append(cmds, fmt.Sprintf("SADD big m%d", i), fmt.Sprintf("HSET hbig f%d %d", i, i))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, i := range r.Perm(400) { // intset: 400 ≤ set-max-intset-entries, > the pack size
		cmds = append(cmds, fmt.Sprintf("SADD ints %d", i*7-1000))
	}
	cmds = append(cmds, "SADD small 5 3 -1 10 2", "SREM ints 6", "SREM ints -993",
		"HSET lp z 1 a 2 m 3", "SADD lps b a c")
	mustApply(t, p, 0, cmds...)
	members := func(key string) []string {
		var out []string
		get(p, 0, key, func(x Value) {
			switch x.Kind() {
			case KindSet:
				x.SetEach(func(m []byte) bool { out = append(out, string(m)); return true })
			case KindHash:
				x.HashEach(func(f, _ []byte) bool { out = append(out, string(f)); return true })
			}
		})
		return out
	}
	for _, key := range []string{"big", "hbig"} {
		first := members(key)
		for i := 0; i < 5; i++ {
			if got := members(key); !slices.Equal(got, first) {
				t.Fatalf("%s: order changed between calls", key)
			}
		}
		var scanned []string
		get(p, 0, key, func(x Value) {
			c := uint64(0)
			for {
				if x.Kind() == KindSet {
					c = x.SetScan(c, 10, func(m []byte) { scanned = append(scanned, string(m)) })
				} else {
					c = x.HashScan(c, 10, func(f, _ []byte) { scanned = append(scanned, string(f)) })
				}
				if c == 0 {
					break
				}
			}
		})
		slices.Reverse(scanned)
		if !slices.Equal(scanned, first) {
			t.Fatalf("%s: a scan of the unchanged value is not its iteration order reversed", key)
		}
	}
	ascending := func(key string, wantEnc string) {
		t.Helper()
		ms := members(key)
		get(p, 0, key, func(x Value) {
			if x.Encoding() != wantEnc {
				t.Fatalf("%s: encoding %s, want %s", key, x.Encoding(), wantEnc)
			}
		})
		if !slices.IsSortedFunc(ms, func(a, b string) int {
			x, _ := strconv.Atoi(a)
			y, _ := strconv.Atoi(b)
			return x - y
		}) {
			t.Fatalf("%s: intset not ascending: %v", key, ms[:min(len(ms), 20)])
		}
	}
	ascending("small", "intset")
	ascending("ints", "intset")
	if got := members("small"); !slices.Equal(got, []string{"-1", "2", "3", "5", "10"}) {
		t.Fatalf("small intset: %v", got)
	}
	if got := members("lp"); !slices.Equal(got, []string{"z", "a", "m"}) {
		t.Fatalf("listpack hash: %v", got)
	}
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
}

// TestSampleIdxDistribution checks each count case of sampleIdx against
// its distribution with a fixed seed: picks with repetition uniform
// (count < 0), every element in order (count ≥ n), a uniform subset in
// element order (3·count > n), a uniform subset (else), by chi-square
// against generous bounds (p ≈ 1e-6 for these degrees of freedom).
func TestSampleIdxDistribution(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	const n, trials = 20, 20000
	chi2 := func(counts []int, expect float64) float64 {
		s := 0.0
		for _, c := range counts {
			d := float64(c) - expect
			s += d * d / expect
		}
		return s
	}
	const bound = 60 // chi-square, 19 degrees of freedom: p(>60) < 1e-5
	for _, count := range []int{-1, -7, 1, 3, 6, 7, 13, 19} {
		counts := make([]int, n)
		pairs := map[[2]int]int{}
		for tr := 0; tr < trials; tr++ {
			var got []int
			sampleIdx(r, n, count, func(i int) { got = append(got, i) })
			want := count
			if want < 0 {
				want = -want
			}
			if len(got) != want {
				t.Fatalf("count %d: %d picks", count, len(got))
			}
			for _, i := range got {
				counts[i]++
			}
			if count > 0 {
				sorted := slices.Clone(got)
				slices.Sort(sorted)
				if len(slices.Compact(sorted)) != count {
					t.Fatalf("count %d: repeated index in %v", count, got)
				}
				if count*3 > n && !slices.IsSorted(got) {
					t.Fatalf("count %d: case 3 not in element order: %v", count, got)
				}
				if count == 3 {
					pairs[[2]int{sorted[0], sorted[1]}]++
				}
			}
		}
		per := float64(trials) * math.Abs(float64(count)) / n
		if c := chi2(counts, per); c > bound {
			t.Errorf("count %d: chi-square %.1f over %v", count, c, counts)
		}
		if count == 3 {
			// the subset must be uniform, not only its marginals: every
			// (smallest, second) pair has probability (n-1-b)/C(n,3).
			total := float64(n * (n - 1) * (n - 2) / 6)
			s, cells := 0.0, 0
			for a := 0; a < n; a++ {
				for b := a + 1; b < n-1; b++ {
					e := float64(trials) * float64(n-1-b) / total
					d := float64(pairs[[2]int{a, b}]) - e
					s += d * d / e
					cells++
				}
			}
			if s > float64(cells)+10*math.Sqrt(2*float64(cells)) {
				t.Errorf("count 3: pair chi-square %.1f over %d cells", s, cells)
			}
		}
	}
	var all []int
	sampleIdx(r, 5, 9, func(i int) { all = append(all, i) })
	if !slices.Equal(all, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("count ≥ n: %v", all)
	}
}

// TestRandomAllEncodings samples every encoding of sets, hashes and sorted
// sets through the Value API.
func TestRandomAllEncodings(t *testing.T) {
	p := newTestProjection(t, nil)
	var cmds []string
	for i := 0; i < 300; i++ {
		cmds = append(cmds, fmt.Sprintf("SADD sbig m%d", i), fmt.Sprintf("HSET hbig f%d v%d", i, i),
			fmt.Sprintf("ZADD zbig %d m%d", i, i), fmt.Sprintf("SADD ibig %d", i))
	}
	cmds = append(cmds, "SADD s a b c", "SADD i 1 2 3", "HSET h a 1 b 2 c 3", "ZADD z 1 a 2 b 3 c")
	mustApply(t, p, 0, cmds...)
	r := rand.New(rand.NewPCG(3, 4))
	for _, key := range []string{"sbig", "hbig", "zbig", "ibig", "s", "i", "h", "z"} {
		get(p, 0, key, func(x Value) {
			n := x.Len()
			for _, count := range []int{1, 2, -5, n - 1, n, n + 5, -2 * n} {
				var got []string
				add := func(m []byte) { got = append(got, string(m)) }
				switch x.Kind() {
				case KindSet:
					x.SetRandom(r, count, add)
				case KindHash:
					x.HashRandom(r, count, func(f, v []byte) {
						if w, ok := x.HashGet(f); !ok || string(w) != string(v) {
							t.Fatalf("%s: field %s value %s", key, f, v)
						}
						add(f)
					})
				case KindZSet:
					x.ZRandom(r, count, func(m []byte, s float64) {
						if sc, ok := x.ZScore(m); !ok || sc != s {
							t.Fatalf("%s: %s score %v", key, m, s)
						}
						add(m)
					})
				}
				want := min(count, n)
				if count < 0 {
					want = -count
				}
				if len(got) != want {
					t.Fatalf("%s count %d: %d picks", key, count, len(got))
				}
				if count > 0 {
					sorted := slices.Clone(got)
					slices.Sort(sorted)
					if len(slices.Compact(sorted)) != len(got) {
						t.Fatalf("%s count %d: repeats", key, count)
					}
				}
			}
		})
	}
}

// TestMemoryUsageSamples checks that sampled MEMORY USAGE is close to the
// full count for values of uniform element sizes, and that SAMPLES 0
// looks at everything.
func TestMemoryUsageSamples(t *testing.T) {
	p := newTestProjection(t, nil)
	var cmds []string
	for i := 0; i < 2000; i++ {
		cmds = append(cmds, fmt.Sprintf("SADD s m%06d", i), fmt.Sprintf("HSET h f%06d v%06d", i, i),
			fmt.Sprintf("ZADD z %d m%06d", i, i))
	}
	mustApply(t, p, 0, cmds...)
	for _, key := range []string{"s", "h", "z"} {
		get(p, 0, key, func(x Value) {
			all := x.MemoryUsageSamples([]byte(key), 0)
			def := x.MemoryUsage([]byte(key))
			if all != def || all < 2000*30 {
				t.Fatalf("%s: SAMPLES 0 %d, default %d", key, all, def)
			}
		})
	}
}

// TestScanCountSparse checks SCAN's step size on the fixed bucket table:
// an empty db answers cursor 0 at once, a sparse db (far fewer keys than
// buckets) is not spread over calls that return nothing, and COUNT bounds
// a step to about COUNT keys (whole buckets).
func TestScanCountSparse(t *testing.T) {
	p := newTestProjection(t, nil)
	scan := func(db int, cursor uint64, count int) (uint64, int) {
		n := 0
		next, err := p.Scan(db, cursor, count, func([]byte, Value) { n++ })
		if err != nil {
			t.Fatal(err)
		}
		return next, n
	}
	if next, n := scan(0, 0, 10); next != 0 || n != 0 {
		t.Fatalf("empty db: cursor %d, %d keys", next, n)
	}
	if next, n := scan(0, math.MaxUint64, 10); next != 0 || n != 0 {
		t.Fatalf("empty db, cursor 2^64-1: cursor %d, %d keys", next, n)
	}
	mustApply(t, p, 0, "SET a 1", "SET b 1", "SET c 1", "SET d 1", "SET e 1", "SET f 1")
	if next, n := scan(0, 0, 10); next != 0 || n != 6 {
		t.Fatalf("6 keys, COUNT 10: cursor %d, %d keys, want all in one call", next, n)
	}
	var cmds []string
	for i := 0; i < 1000; i++ {
		cmds = append(cmds, "SET k"+strconv.Itoa(i)+" v")
	}
	mustApply(t, p, 1, cmds...)
	seen, calls := 0, 0
	for cursor := uint64(0); ; {
		next, n := scan(1, cursor, 20)
		if n > 20+10 { // whole buckets: a few keys over COUNT at most
			t.Fatalf("COUNT 20 step returned %d", n)
		}
		seen += n
		calls++
		if cursor = next; cursor == 0 {
			break
		}
	}
	if seen != 1000 || calls > 1000/20+5 {
		t.Fatalf("1000 keys at COUNT 20: %d keys in %d calls", seen, calls)
	}
}

// TestDenseCollisions runs a dense with its hash narrowed to 3 bits, so
// nearly every key goes through the overflow map, against a plain map
// model: random pushes, swap-removes, ordered inserts and removes, clones.
func TestDenseCollisions(t *testing.T) {
	defer func(m uint32) { denseHashMask = m }(denseHashMask)
	seed := seedFromEnv(t, time.Now().UnixNano()%1_000_000)
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(uint64(seed), 3))
	for _, mask := range []uint32{0, 7, 0xffff} {
		denseHashMask = mask
		d := newDense[smem](0)
		model := map[string]bool{}
		for op := 0; op < 5000; op++ {
			k := "k" + strconv.Itoa(r.IntN(300))
			i, ok := d.find([]byte(k))
			if ok != model[k] || (ok && string(d.items[i]) != k) {
				t.Fatalf("mask %#x op %d: find %s = %d %v, model %v", mask, op, k, i, ok, model[k])
			}
			switch {
			case !ok && r.IntN(4) == 0:
				d.insertAt(r.IntN(d.len()+1), smem(k))
				model[k] = true
			case !ok:
				d.push(smem(k))
				model[k] = true
			case r.IntN(4) == 0:
				d.removeOrdered(i)
				delete(model, k)
			default:
				d.removeAt(i)
				delete(model, k)
			}
			if op%500 == 0 {
				d = d.clone()
			}
			if op%97 == 0 {
				if err := saneDense(d); err != nil {
					t.Fatalf("mask %#x op %d: %v", mask, op, err)
				}
			}
		}
		if err := saneDense(d); err != nil {
			t.Fatal(err)
		}
	}
}

// TestListpackSetOrder72 checks a Redis 7.2 listpack set bigger than the
// projection's pack (set-max-listpack-entries raised): it iterates in
// insertion order, deletes keeping the order, as Redis's listpack does.
func TestListpackSetOrder72(t *testing.T) {
	p := newTestProjection(t, nil)
	ec := p.EncodingConfig()
	ec.Redis72, ec.SetMaxListpackEntries = true, 1000
	p.SetEncodingConfig(ec)
	var want []string
	for i := 0; i < 300; i++ {
		m := "m" + strconv.Itoa((i*7919)%1000)
		mustApply(t, p, 0, "SADD s "+m)
		want = append(want, m)
	}
	for _, i := range []int{0, 150, 299, 17} {
		mustApply(t, p, 0, "SREM s "+want[i])
	}
	want = slices.DeleteFunc(want, func(m string) bool {
		return m == "m0" || m == "m"+strconv.Itoa((150*7919)%1000) || m == "m"+strconv.Itoa((299*7919)%1000) || m == "m"+strconv.Itoa((17*7919)%1000)
	})
	var got []string
	get(p, 0, "s", func(x Value) {
		if x.Encoding() != "listpack" {
			t.Fatalf("encoding %s", x.Encoding())
		}
		x.SetEach(func(m []byte) bool { got = append(got, string(m)); return true })
		if c := x.SetScan(0, 10, func([]byte) {}); c != 0 {
			t.Fatalf("listpack SSCAN cursor %d, want the whole set at once", c)
		}
	})
	if !slices.Equal(got, want) {
		t.Fatalf("order:\n got %v\nwant %v", got[:10], want[:10])
	}
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
}
