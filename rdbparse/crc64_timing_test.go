package rdbparse

import (
	"fmt"
	"testing"
)

func BenchmarkCRC64(b *testing.B) {
	for _, size := range []int{64, 64 << 10} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			p := make([]byte, size)
			for i := range p {
				p[i] = byte(i * 7)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for range b.N {
				crc64Update(0, p)
			}
		})
	}
}
