package hll

import (
	"strconv"
	"testing"
)

// BenchmarkAdd measures one PFADD element on an HLL that already holds n
// elements (sparse for small n, dense beyond the promotion).
func BenchmarkAdd(b *testing.B) {
	for _, n := range []int{100, 100000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			var h []byte
			for i := 0; i < n; i++ {
				h, _, _ = Add(orNew(h), []byte("seed"+strconv.Itoa(i)), DefaultSparseMaxBytes)
			}
			elems := make([][]byte, 1024)
			for i := range elems {
				elems[i] = []byte("element:" + strconv.Itoa(i))
			}
			b.SetBytes(int64(len(elems[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h, _, _ = Add(h, elems[i&1023], DefaultSparseMaxBytes)
			}
		})
	}
}

func orNew(h []byte) []byte {
	if h == nil {
		return New()
	}
	return h
}

// BenchmarkCount measures a full (uncached) cardinality estimate.
func BenchmarkCount(b *testing.B) {
	for _, n := range []int{100, 100000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			h := New()
			for i := 0; i < n; i++ {
				h, _, _ = Add(h, []byte("seed"+strconv.Itoa(i)), DefaultSparseMaxBytes)
			}
			b.SetBytes(int64(len(h)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Count(h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
