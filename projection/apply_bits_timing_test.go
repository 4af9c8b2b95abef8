package projection

import (
	"strconv"
	"testing"
)

// BenchmarkApplyBits measures applying one bitmap or HLL command through
// Apply (lookup, locking, the edit): PFADD of one element into a sparse
// HLL (a fresh key every 64 commands keeps it sparse) and into a dense
// one, SETBIT, and a BITFIELD INCRBY.
func BenchmarkApplyBits(b *testing.B) {
	elems := make([][]byte, 4096)
	for i := range elems {
		elems[i] = []byte("element:" + strconv.Itoa(i))
	}
	for _, bc := range []struct {
		name string
		argv func(i int) [][]byte
		prep [][]byte
	}{
		{"PFADD/sparse", func(i int) [][]byte {
			return [][]byte{[]byte("PFADD"), []byte("h" + strconv.Itoa(i>>6&1023)), elems[i&4095]}
		}, nil},
		{"PFADD/dense", func(i int) [][]byte { return [][]byte{[]byte("PFADD"), []byte("d"), elems[i&4095]} },
			[][]byte{[]byte("PFDEBUG"), []byte("TODENSE"), []byte("d")}},
		{"SETBIT", func(i int) [][]byte {
			return [][]byte{[]byte("SETBIT"), []byte("b"), []byte(strconv.Itoa(i & 8191)), []byte("1")}
		}, nil},
		{"BITFIELD", func(i int) [][]byte {
			return [][]byte{[]byte("BITFIELD"), []byte("f"), []byte("INCRBY"), []byte("u8"), []byte("#" + strconv.Itoa(i&255)), []byte("3")}
		}, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := New(Options{})
			if err != nil {
				b.Fatal(err)
			}
			if bc.prep != nil {
				p.Apply(0, [][]byte{[]byte("PFADD"), []byte("d"), []byte("x")})
				if err := p.Apply(0, bc.prep); err != nil {
					b.Fatal(err)
				}
			}
			cmds := make([][][]byte, 1<<14)
			var n int64
			for i := range cmds {
				cmds[i] = bc.argv(i)
				for _, a := range cmds[i] {
					n += int64(len(a))
				}
			}
			b.SetBytes(n / int64(len(cmds)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Apply(0, cmds[i&(1<<14-1)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
