package projection

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkMemoryPerKeyByType reports the Go heap a key of each
// collection type takes, built by Apply with the compare harness's
// single-type shapes (internal/dataset): 10 fields "field0".."field9"
// of 8–32-byte values, 10 elements of 8–32 bytes, 10 members of 8–24
// bytes and "-j", 10 members with scores of two decimals. The heap counts
// every byte the projection holds (table slots, keys, structs, packs), not
// the process's RSS.
//
//	BENCH_KEYS=200000 go test -run '^$' -bench MemoryPerKeyByType -benchtime 1x ./projection
func BenchmarkMemoryPerKeyByType(b *testing.B) {
	n := benchKeys(b, 200_000)
	for _, kind := range []string{"hashes", "lists", "sets", "zsets"} {
		b.Run(kind, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				heap := heapOf(func() any { return buildType(b, kind, n) })
				b.ReportMetric(heap/float64(n), "heapB/key")
			}
		})
	}
}

// buildType applies n keys of one collection type of the harness's
// shapes to a new projection.
func buildType(b *testing.B, kind string, n int) *Projection {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	text := func(lo, hi int) []byte {
		s := make([]byte, lo+r.IntN(hi-lo+1))
		for i := range s {
			s[i] = alnum[r.IntN(len(alnum))]
		}
		return s
	}
	argv := make([][]byte, 0, 22)
	for k := 0; k < n; k++ {
		argv = argv[:0]
		switch kind {
		case "hashes":
			argv = append(argv, []byte("HSET"), fmt.Appendf(nil, "h:%012d", k))
			for j := 0; j < 10; j++ {
				argv = append(argv, fmt.Appendf(nil, "field%d", j), text(8, 32))
			}
		case "lists":
			argv = append(argv, []byte("RPUSH"), fmt.Appendf(nil, "l:%012d", k))
			for j := 0; j < 10; j++ {
				argv = append(argv, text(8, 32))
			}
		case "sets":
			argv = append(argv, []byte("SADD"), fmt.Appendf(nil, "set:%012d", k))
			for j := 0; j < 10; j++ {
				argv = append(argv, fmt.Appendf(text(8, 24), "-%d", j))
			}
		default:
			argv = append(argv, []byte("ZADD"), fmt.Appendf(nil, "z:%012d", k))
			for j := 0; j < 10; j++ {
				argv = append(argv, strconv.AppendFloat(nil, float64(r.IntN(1000000))/100, 'f', -1, 64),
					fmt.Appendf(text(8, 24), "-%d", j))
			}
		}
		if err := p.Apply(0, argv); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// benchKeys is BENCH_KEYS, or def.
func benchKeys(b *testing.B, def int) int {
	s := os.Getenv("BENCH_KEYS")
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// heapOf returns the live heap bytes what build returns holds.
func heapOf(build func() any) float64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}

// BenchmarkReadByType reads whole small collections of the harness's
// shapes as the read cases of bench/ do (HGETALL, LRANGE 0 9, SMEMBERS,
// ZRANGE 0 -1 WITHSCORES), over 100,000 keys at random: the projection's
// side of those reads, without the network. cpu-ns/op is the process's
// CPU time per read.
func BenchmarkReadByType(b *testing.B) {
	const n = 100_000
	prefix := map[string]string{"hashes": "h:", "lists": "l:", "sets": "set:", "zsets": "z:"}
	for _, kind := range []string{"hashes", "lists", "sets", "zsets"} {
		b.Run(kind, func(b *testing.B) {
			p := buildType(b, kind, n)
			r := rand.New(rand.NewPCG(2, 2))
			keys := make([][]byte, 4096)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "%s%012d", prefix[kind], r.IntN(n))
			}
			sum := 0
			read := map[string]func(x Value){
				"hashes": func(x Value) { x.HashEach(func(f, v []byte) bool { sum += len(f) + len(v); return true }) },
				"lists":  func(x Value) { x.ListRange(0, 9, func(_ int, e []byte) bool { sum += len(e); return true }) },
				"sets":   func(x Value) { x.SetEach(func(m []byte) bool { sum += len(m); return true }) },
				"zsets": func(x Value) {
					x.ZRangeByRank(0, -1, false, func(m []byte, s float64) bool { sum += len(m) + int(s); return true })
				},
			}[kind]
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := keys[i&(len(keys)-1)]
				p.View(0, [][]byte{k}, func(v *View) { read(v.Get(k)) })
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			if sum == 0 {
				b.Fatal("read nothing")
			}
		})
	}
}
