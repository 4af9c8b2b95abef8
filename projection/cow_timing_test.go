package projection

import (
	"fmt"
	"testing"
)

// BenchmarkApplySnapshot: SETs over 200k string keys with no snapshot
// running, and while one runs that no walker advances (every bucket a
// SET reaches first is written by the applier): what a cut costs the
// applier per command, and per key it writes (emit-ns/key).
func BenchmarkApplySnapshot(b *testing.B) {
	const nkeys = 200_000
	for _, mode := range []string{"none", "cut"} {
		b.Run(mode, func(b *testing.B) {
			p := newTestProjection(b, nil)
			for i := range nkeys {
				if err := p.Apply(0, [][]byte{[]byte("SET"), []byte(fmt.Sprintf("key:%d", i)), []byte("some value of a few dozen bytes")}); err != nil {
					b.Fatal(err)
				}
			}
			cmds, _ := cmdStream("SET", 1<<16, nkeys)
			var s *Snapshot
			if mode == "cut" {
				var err error
				if s, err = p.BeginSnapshot(func(int, []byte) {}); err != nil {
					b.Fatal(err)
				}
				defer s.Close()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Apply(0, cmds[i&(1<<16-1)]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if s != nil {
				st := s.Stats()
				if st.Keys > 0 {
					b.ReportMetric(float64(st.ApplierTime.Nanoseconds())/float64(st.Keys), "emit-ns/key")
				}
				b.ReportMetric(float64(st.Keys), "keys-emitted")
			}
		})
	}
}
