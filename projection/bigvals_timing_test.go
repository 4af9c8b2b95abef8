package projection

import (
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkBigValueMemory reports the heap bytes per element of a set, a
// hash and a sorted set of 1M elements built through Apply (members
// "member:<i>", 8–14 bytes; hash values and scores "<i>"), measured with
// runtime.MemStats after a GC: the representation's cost (B/elem), which
// includes the member bytes themselves. Run with -benchtime=1x.
func BenchmarkBigValueMemory(b *testing.B) {
	const size = 1_000_000
	for _, kind := range []string{"SADD", "HSET", "ZADD"} {
		b.Run(kind, func(b *testing.B) {
			b.ReportAllocs()
			for it := 0; it < b.N; it++ {
				p, err := New(Options{})
				if err != nil {
					b.Fatal(err)
				}
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				before := ms.HeapAlloc
				argv := [][]byte{[]byte(kind), []byte("k")}
				for i := 0; i < size; i++ {
					m := []byte("member:" + strconv.Itoa(i))
					switch kind {
					case "HSET":
						argv = append(argv, m, []byte(strconv.Itoa(i)))
					case "ZADD":
						argv = append(argv, []byte(strconv.Itoa(i)), m)
					default:
						argv = append(argv, m)
					}
					if len(argv) >= 2002 || i == size-1 {
						if err := p.Apply(0, argv); err != nil {
							b.Fatal(err)
						}
						argv = argv[:2]
					}
				}
				argv = nil
				runtime.GC()
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.HeapAlloc-before)/size, "B/elem")
				runtime.KeepAlive(p)
			}
		})
	}
}
