package projection

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vdr-project/vdr/rdbparse"
)

// A packed score gives back the exact bits it was given, and the
// dataset's kind of score (two decimals, below 10000) takes 3 or 4 bytes,
// not 8.
func TestZScorePackRoundTrip(t *testing.T) {
	scores := []float64{0, math.Copysign(0, -1), 1, -1, 7, 42, 1234.56, -1234.5678, 0.1, 0.3, 1.0 / 3,
		1e-7, 1e300, -1e-300, math.Inf(1), math.Inf(-1), 1 << 53, 1<<53 + 2, -(1 << 52), math.MaxFloat64,
		math.SmallestNonzeroFloat64, 9999.99, 123456.789012}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		scores = append(scores, float64(r.IntN(1000000))/100, r.NormFloat64()*1e6, math.Float64frombits(r.Uint64()))
	}
	for _, s := range scores {
		if math.IsNaN(s) {
			continue
		}
		b := zscoreAppend([]byte{0xAA}, s)
		got, next := zscoreNext(b, 1)
		if math.Float64bits(got) != math.Float64bits(s) || next != len(b) || zscoreSize(s) != len(b)-1 {
			t.Fatalf("score %v (%x): decoded %v (%x), next %d of %d", s, math.Float64bits(s), got, math.Float64bits(got), next, len(b))
		}
	}
	for s, want := range map[float64]int{1234.56: 3, 42: 2, 1: 1, 1.0 / 3: 9, 9999.99: 4, 1310.71: 3} {
		if n := zscoreSize(s); n != want {
			t.Errorf("zscoreSize(%v) = %d, want %d", s, n, want)
		}
	}
}

// loadSorted builds the same pack as adding the members one by one, from
// members in ascending or descending order, and declines anything else.
func TestZSetLoadSorted(t *testing.T) {
	ec := EncodingConfig{}
	ec.ensureDefaults()
	mk := func(pairs ...any) []rdbparse.ZMember {
		var ms []rdbparse.ZMember
		for i := 0; i < len(pairs); i += 2 {
			ms = append(ms, rdbparse.ZMember{Score: pairs[i].(float64), Member: []byte(pairs[i+1].(string))})
		}
		return ms
	}
	// with members text-packed (zpack.go) or not; "0000aaaaffff" and
	// "ZZZZZZZZZZZZ" are coded, and sort otherwise than their forms
	asc := mk(1.5, "a", 2.0, "0000aaaaffff", 2.0, "ZZZZZZZZZZZZ", 2.0, "b", 2.0, "c", 1234.56, "x", math.Inf(1), "z")
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	for _, tp := range []bool{false, true} {
		want := &zsetObj{}
		for _, m := range asc {
			want.set(m.Member, m.Score, &ec, tp)
		}
		for _, ms := range [][]rdbparse.ZMember{asc, desc} {
			z := &zsetObj{}
			if _, ok := z.loadSorted(ms, nil, &ec, tp); !ok {
				t.Fatalf("loadSorted declined %v", ms)
			}
			if string(z.pk.bytes()) != string(want.pk.bytes()) || z.n != want.n || z.sane() != nil {
				t.Fatalf("tp %v: loadSorted %v: pack %x n %d, want %x n %d", tp, ms, z.pk.bytes(), z.n, want.pk.bytes(), want.n)
			}
		}
	}
	for _, ms := range [][]rdbparse.ZMember{
		mk(1.0, "a", 2.0, "a"),           // a member twice
		mk(1.0, "a", 3.0, "c", 2.0, "b"), // out of order
		mk(1.0, "a", 1.0, "a"),
	} {
		if _, ok := (&zsetObj{}).loadSorted(ms, nil, &ec, true); ok {
			t.Errorf("loadSorted took %v", ms)
		}
	}
}
