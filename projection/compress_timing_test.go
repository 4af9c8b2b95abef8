package projection

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkCompressedGet measures what CompressValues (64) saves and
// costs on JSON-like values: the live heap per key after 20,000 SETs,
// and a GET (a View, Get and the value's bytes) of a random key.
//
//	go test -run '^$' -bench BenchmarkCompressedGet ./projection
func BenchmarkCompressedGet(b *testing.B) {
	const n = 20_000
	for _, size := range []int{256, 1024, 4096} {
		for _, over := range []int{0, 64} {
			b.Run(fmt.Sprintf("size=%d/compress=%d", size, over), func(b *testing.B) {
				r := rand.New(rand.NewPCG(9, 9))
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				p, err := New(Options{CompressValues: over})
				if err != nil {
					b.Fatal(err)
				}
				keys := make([][]byte, n)
				for i := range keys {
					keys[i] = []byte(fmt.Sprintf("doc:%08d", i))
					if err := p.Apply(0, [][]byte{[]byte("SET"), keys[i], jsonLike(r, size)}); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				heapPerKey := float64(after.HeapAlloc-before.HeapAlloc) / n
				one := make([][]byte, 1)
				total := 0
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					one[0] = keys[r.IntN(n)]
					p.View(0, one, func(v *View) { total += len(v.Get(one[0]).Bytes()) })
				}
				b.ReportMetric(heapPerKey, "heapB/key") // after the loop: ResetTimer drops metrics
				runtime.KeepAlive(keys)
			})
		}
	}
}
