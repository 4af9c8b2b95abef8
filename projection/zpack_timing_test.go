package projection

import (
	"strconv"
	"testing"
)

// BenchmarkZPackedReads reads a sorted set of 10 members of the compare
// harness's kind (18 alphanumeric characters, packed to 15 bytes) the
// way a reply does (copying each member out), from a projection that
// packs them and from one with Options.PlainText: the cost of unpacking
// members, and of packing the member a lookup asks for.
//
//	go test -run '^$' -bench ZPackedReads -benchtime 200ms -count 3 ./projection
func BenchmarkZPackedReads(b *testing.B) {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	member := func(i int) []byte {
		m := make([]byte, 18)
		for j := range m {
			m[j] = alnum[(i*31+j*17+i*j)%len(alnum)]
		}
		return m
	}
	for _, plain := range []bool{false, true} {
		p, err := New(Options{PlainText: plain})
		if err != nil {
			b.Fatal(err)
		}
		zadd := args("ZADD z")
		for i := 0; i < 10; i++ {
			zadd = append(zadd, []byte(strconv.Itoa(i*37)), member(i))
		}
		if err := p.Apply(0, zadd); err != nil {
			b.Fatal(err)
		}
		name := "packed"
		if plain {
			name = "plain"
		}
		out := make([]byte, 0, 1024)
		key, m7 := args("z"), member(7)
		for _, bc := range []struct {
			name  string
			bytes int64
			read  func(x Value)
		}{
			{"ZRANGE_10", 180, func(x Value) {
				x.ZRangeByRank(0, -1, false, func(m []byte, s float64) bool { out = append(out, m...); return true })
			}},
			{"ZREVRANGE_10", 180, func(x Value) {
				x.ZRangeByRank(0, -1, true, func(m []byte, s float64) bool { out = append(out, m...); return true })
			}},
			{"ZSCORE", 18, func(x Value) {
				if _, ok := x.ZScore(m7); !ok {
					b.Fatal("no member 7")
				}
			}},
			{"ZRANK", 18, func(x Value) {
				if _, _, ok := x.ZRank(m7, false); !ok {
					b.Fatal("no member 7")
				}
			}},
		} {
			b.Run(bc.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(bc.bytes)
				for i := 0; i < b.N; i++ {
					p.View(0, key, func(v *View) {
						out = out[:0]
						bc.read(v.Get(key[0]))
					})
				}
			})
		}
	}
}
