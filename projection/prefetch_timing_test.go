package projection

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPipelinedGet measures what a pipeline of 16 GETs costs the
// projection per key on a keyspace much bigger than the CPU caches (1M
// string keys of 16–128 bytes, as bench/'s dataset), with and without
// the prefetching the server does for a pipeline (PrefetchKeys before
// the first lookup). Each lookup is a View of one key and a Get that
// touches the value, as GET runs.
//
//	go test -run '^$' -bench BenchmarkPipelinedGet -benchtime 2000000x ./projection
func BenchmarkPipelinedGet(b *testing.B) {
	const n = 1_000_000
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([][]byte, n)
	val := make([]byte, 128)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("s:%012d", i))
		if err := p.Apply(0, [][]byte{[]byte("SET"), keys[i], val[:16+r.IntN(113)]}); err != nil {
			b.Fatal(err)
		}
	}
	benchPipelined(b, p, keys, func(v *View, k []byte) int { return len(v.Get(k).Bytes()) })
}

// benchPipelined runs batches of 16 random keys through read, one View
// per key, without and with PrefetchKeys before each batch.
func benchPipelined(b *testing.B, p *Projection, keys [][]byte, read func(v *View, k []byte) int) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, prefetch := range []bool{false, true} {
		b.Run(fmt.Sprintf("prefetch=%v", prefetch), func(b *testing.B) {
			batch := make([][]byte, 16)
			one := make([][]byte, 1)
			total := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += len(batch) {
				for j := range batch {
					batch[j] = keys[r.IntN(len(keys))]
				}
				if prefetch {
					p.PrefetchKeys(0, batch)
				}
				for _, k := range batch {
					one[0] = k
					p.View(0, one, func(v *View) { total += read(v, k) })
				}
			}
			if total == 0 {
				b.Fatal("nothing read")
			}
		})
	}
}

// BenchmarkPipelinedLRange is BenchmarkPipelinedGet for LRANGE 0 9 over
// 500k lists of 10 elements.
//
//	go test -run '^$' -bench BenchmarkPipelinedLRange -benchtime 2000000x ./projection
func BenchmarkPipelinedLRange(b *testing.B) {
	const n = 500_000
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("l:%012d", i))
		cmd := [][]byte{[]byte("RPUSH"), keys[i]}
		for j := 0; j < 10; j++ {
			cmd = append(cmd, []byte(fmt.Sprintf("element-%d-%d", j, r.IntN(1000))))
		}
		if err := p.Apply(0, cmd); err != nil {
			b.Fatal(err)
		}
	}
	benchPipelined(b, p, keys, func(v *View, k []byte) int {
		n := 0
		v.Get(k).ListRange(0, 9, func(_ int, e []byte) bool { n += len(e); return true })
		return n
	})
}
