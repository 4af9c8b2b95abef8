package projection

import (
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkStreamXADD applies XADDs (explicit IDs, two short fields, as a
// primary propagates them) to 16 streams and reports the heap each entry
// costs once applied (heapB/entry).
func BenchmarkStreamXADD(b *testing.B) {
	b.ReportAllocs()
	cmds := make([][][]byte, 0, 4096)
	var size int64
	for i := 0; i < 4096; i++ {
		argv := [][]byte{[]byte("XADD"), []byte("s" + strconv.Itoa(i%16)), nil,
			[]byte("sensor"), []byte(strconv.Itoa(i % 97)), []byte("value"), []byte(strconv.Itoa(i * 7))}
		for _, a := range argv {
			size += int64(len(a))
		}
		cmds = append(cmds, argv)
	}
	b.SetBytes(size / int64(len(cmds)))
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		argv := cmds[i%len(cmds)]
		argv[2] = []byte(strconv.Itoa(1000+i) + "-0")
		if err := p.Apply(0, argv); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/float64(b.N), "heapB/entry")
	runtime.KeepAlive(p)
}
