package projection

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestHashTTLRandom applies random HSET/HDEL/HINCRBY/HPEXPIREAT/HPERSIST/
// HSETEX sequences (small and hashtable encodings) and checks after each
// the values and TTLs against a plain map model and the sane() invariants
// (listpackex order). Prints its seed; SEED= reproduces.
func TestHashTTLRandom(t *testing.T) {
	seed := seedFromEnv(t, time.Now().UnixNano()%1_000_000)
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	for round := 0; round < 20; round++ {
		now := int64(1_000_000)
		p := newTestProjection(t, &now)
		p.opts.OnUnknown = Resync // any command not applied fails the test
		ec := p.EncodingConfig()
		ec.HashMaxListpackEntries = 1 + r.IntN(12)
		ec.HashMaxListpackValue = 3 + r.IntN(8)
		p.SetEncodingConfig(ec)
		vals, ttls := map[string]string{}, map[string]int64{}
		field := func() string { return "f" + strconv.Itoa(r.IntN(10)) }
		for step := 0; step < 300; step++ {
			var cmd []string
			switch r.IntN(7) {
			case 0, 1:
				f, v := field(), strconv.Itoa(r.IntN(1<<uint(r.IntN(30))))
				cmd = []string{"HSET", "h", f, v}
				vals[f] = v
				delete(ttls, f)
			case 2:
				f := field()
				cmd = []string{"HDEL", "h", f}
				delete(vals, f)
				delete(ttls, f)
			case 3:
				f := field()
				n, err := strconv.ParseInt(vals[f], 10, 64)
				if _, ok := vals[f]; ok && (err != nil || n > 1<<40 || n < -(1<<40)) {
					continue
				}
				if _, ok := vals[f]; !ok {
					n = 0
				}
				cmd = []string{"HINCRBY", "h", f, "3"}
				vals[f] = strconv.FormatInt(n+3, 10)
			case 4:
				at := now + int64(r.IntN(50))
				f1, f2 := field(), field()
				cond := []string{"", "NX", "XX", "GT", "LT"}[r.IntN(5)]
				cmd = []string{"HPEXPIREAT", "h", strconv.FormatInt(at, 10)}
				if cond != "" {
					cmd = append(cmd, cond)
				}
				cmd = append(cmd, "FIELDS", "2", f1, f2)
				if len(vals) == 0 {
					continue
				}
				for _, f := range []string{f1, f2} {
					if _, ok := vals[f]; !ok {
						continue
					}
					prev := ttls[f]
					switch {
					case prev == 0 && (cond == "XX" || cond == "GT"):
					case prev != 0 && (cond == "NX" || cond == "GT" && prev >= at || cond == "LT" && prev <= at):
					default:
						ttls[f] = at
					}
				}
			case 5:
				f := field()
				cmd = []string{"HPERSIST", "h", "FIELDS", "1", f}
				if len(vals) == 0 {
					continue
				}
				if t := ttls[f]; t != 0 && t >= now {
					delete(ttls, f)
				}
			case 6:
				f, v := field(), "x"+strconv.Itoa(r.IntN(100))
				at := now + int64(r.IntN(50))
				cmd = []string{"HSETEX", "h", "PXAT", strconv.FormatInt(at, 10), "FIELDS", "1", f, v}
				vals[f], ttls[f] = v, at
			}
			if err := p.Apply(0, args2(cmd)); err != nil {
				t.Fatalf("seed %d round %d: %v: %v", seed, round, cmd, err)
			}
			now += int64(r.IntN(3))
			get(p, 0, "h", func(x Value) {
				if x.Exists() {
					if err := x.o.hash().sane(); err != nil {
						t.Fatalf("seed %d round %d after %v: %v", seed, round, cmd, err)
					}
				}
				if x.Len() != len(vals) {
					t.Fatalf("seed %d after %v: Len %d, model %d", seed, cmd, x.Len(), len(vals))
				}
				h := x.o.hash()
				for f, v := range vals {
					got, ok := h.get([]byte(f), nil)
					if !ok || string(got) != v || h.fieldTTL([]byte(f)) != ttls[f] {
						t.Fatalf("seed %d after %v: %s = %q ttl %d, model %q ttl %d", seed, cmd, f, got, h.fieldTTL([]byte(f)), v, ttls[f])
					}
				}
			})
		}
	}
}

func args2(a []string) [][]byte {
	out := make([][]byte, len(a))
	for i, s := range a {
		out[i] = []byte(s)
	}
	return out
}
