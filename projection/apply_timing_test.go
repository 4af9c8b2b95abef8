package projection

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
)

// cmdStream pre-builds n commands of one kind over a keyspace of nkeys.
func cmdStream(kind string, n, nkeys int) (cmds [][][]byte, bytes int64) {
	r := rand.New(rand.NewPCG(1, 2))
	val := func() []byte {
		b := make([]byte, 16+r.IntN(112))
		for i := range b {
			b[i] = 'a' + byte(r.IntN(26))
		}
		return b
	}
	for i := 0; i < n; i++ {
		key := []byte("key:" + strconv.Itoa(r.IntN(nkeys)))
		var argv [][]byte
		switch kind {
		case "SET":
			argv = [][]byte{[]byte("SET"), key, val()}
		case "HSET":
			argv = [][]byte{[]byte("HSET"), key, []byte("f" + strconv.Itoa(r.IntN(10))), val()[:16]}
		case "ZADD":
			argv = [][]byte{[]byte("ZADD"), key, []byte(strconv.Itoa(r.IntN(1000))), []byte("m" + strconv.Itoa(r.IntN(10)))}
		case "LPUSH":
			argv = [][]byte{[]byte("LPUSH"), key, val()[:16]}
		case "SADD":
			argv = [][]byte{[]byte("SADD"), key, []byte("m" + strconv.Itoa(r.IntN(10)))}
		}
		for _, a := range argv {
			bytes += int64(len(a))
		}
		cmds = append(cmds, argv)
	}
	return cmds, bytes
}

// BenchmarkApply measures applied commands per second on one goroutine.
// keys=100000 is cache-unfriendly (every command misses in the key
// maps); keys=1000 shows the CPU cost of the apply path itself.
func BenchmarkApply(b *testing.B) {
	for _, nkeys := range []int{1000, 100_000} {
		for _, kind := range []string{"SET", "HSET", "ZADD", "LPUSH", "SADD"} {
			b.Run("keys="+strconv.Itoa(nkeys)+"/cmd="+kind, func(b *testing.B) { benchApply(b, kind, nkeys) })
		}
	}
}

func benchApply(b *testing.B, kind string, nkeys int) {
	{
		{
			cmds, nbytes := cmdStream(kind, 1<<16, nkeys)
			p, err := New(Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(nbytes / int64(len(cmds)))
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Apply(0, cmds[i&(len(cmds)-1)]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// On a shared machine wall time includes time the benchmark
			// was not scheduled; process CPU time per command does not.
			cpuNs := float64(cpuTime()-cpu0) / float64(b.N)
			b.ReportMetric(cpuNs, "cpu-ns/op")
			b.ReportMetric(1e9/cpuNs, "cmds/cpu-s")
		}
	}
}

// cpuTime returns the process's user+system CPU time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkReadUnderApply measures a GET-like View while one goroutine
// applies SETs as fast as it can.
func BenchmarkReadUnderApply(b *testing.B) {
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	cmds, _ := cmdStream("SET", 1<<16, 100_000)
	for _, c := range cmds {
		p.Apply(0, c)
	}
	var stop atomic.Bool
	done := make(chan struct{})
	var applied atomic.Int64
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			p.Apply(0, cmds[i&(len(cmds)-1)])
			applied.Add(1)
		}
	}()
	b.ReportAllocs()
	b.SetBytes(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 3))
		keys := make([][]byte, 1)
		n := 0
		for pb.Next() {
			keys[0] = cmds[r.IntN(len(cmds))][1]
			p.View(0, keys, func(v *View) { n += len(v.Get(keys[0]).Bytes()) })
		}
	})
	b.StopTimer()
	stop.Store(true)
	<-done
	b.ReportMetric(float64(applied.Load())/b.Elapsed().Seconds(), "applied/s")
}

// BenchmarkMemoryPerKey builds the mixed dataset (70% strings of 16–128
// bytes, 10% hashes of 10 fields, 10% lists of 10, 5% sets of 10, 5%
// zsets of 10) through Apply and reports live heap bytes per key.
// BENCH_KEYS sets the key count (default 1,000,000); BENCH_MIX=strings
// builds strings only.
func BenchmarkMemoryPerKey(b *testing.B) {
	n := benchKeys(b, 1_000_000)
	for i := 0; i < b.N; i++ {
		heap := heapOf(func() any { return buildMixed(b, n) })
		b.ReportMetric(heap/float64(n), "heapB/key")
		b.ReportMetric(heap/(1<<20), "heapMiB")
	}
	b.ReportAllocs()
	b.SetBytes(int64(n))
}

func buildMixed(b *testing.B, n int) *Projection {
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	str := func(lo, hi int) []byte {
		s := make([]byte, lo+r.IntN(hi-lo+1))
		for i := range s {
			s[i] = 'a' + byte(r.IntN(26))
		}
		return s
	}
	argv := make([][]byte, 0, 22)
	stringsOnly := benchStringsOnly()
	for i := 0; i < n; i++ {
		key := []byte("key:" + strconv.Itoa(i))
		x := r.IntN(100)
		if stringsOnly {
			x = 0
		}
		argv = argv[:0]
		switch {
		case x < 70:
			argv = append(argv, []byte("SET"), key, str(16, 128))
		case x < 80:
			argv = append(argv, []byte("HSET"), key)
			for f := 0; f < 10; f++ {
				argv = append(argv, []byte("field"+strconv.Itoa(f)), str(8, 24))
			}
		case x < 90:
			argv = append(argv, []byte("RPUSH"), key)
			for f := 0; f < 10; f++ {
				argv = append(argv, str(8, 24))
			}
		case x < 95:
			argv = append(argv, []byte("SADD"), key)
			for f := 0; f < 10; f++ {
				argv = append(argv, str(8, 24))
			}
		default:
			argv = append(argv, []byte("ZADD"), key)
			for f := 0; f < 10; f++ {
				argv = append(argv, []byte(strconv.Itoa(r.IntN(1000))), str(8, 24))
			}
		}
		if err := p.Apply(0, argv); err != nil {
			b.Fatal(err)
		}
	}
	return p
}
