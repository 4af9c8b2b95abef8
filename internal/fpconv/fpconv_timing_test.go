package fpconv

import (
	"strconv"
	"testing"
)

func BenchmarkD2String(b *testing.B) {
	for _, bc := range []struct {
		name string
		d    float64
	}{{"int", 42}, {"short", 1.1}, {"long", 0.1234567890123456}, {"exp", 1.5e-300}} {
		b.Run("fpconv/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf [32]byte
			b.SetBytes(int64(len(AppendD2String(buf[:0], bc.d))))
			for i := 0; i < b.N; i++ {
				AppendD2String(buf[:0], bc.d)
			}
		})
		b.Run("strconv-g17/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf [32]byte
			b.SetBytes(int64(len(strconv.AppendFloat(buf[:0], bc.d, 'g', 17, 64))))
			for i := 0; i < b.N; i++ {
				strconv.AppendFloat(buf[:0], bc.d, 'g', 17, 64)
			}
		})
	}
}
