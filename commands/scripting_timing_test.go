package commands

import (
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/script"
)

const bench3Get = "return {redis.call('get', KEYS[1]), redis.call('get', KEYS[2]), redis.call('get', KEYS[3])}"

func benchScriptEnv(b *testing.B) (*Env, [][]byte) {
	env := newTestEnv(b)
	for i := 0; i < 3; i++ {
		k := "k" + strconv.Itoa(i)
		env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte(k), []byte("value-" + k)})
	}
	if _, err := env.Scripts().Load([]byte(bench3Get)); err != nil {
		b.Fatal(err)
	}
	sha := script.Sha1Hex([]byte(bench3Get))
	return env, [][]byte{[]byte("EVALSHA_RO"), []byte(sha), []byte("3"), []byte("k0"), []byte("k1"), []byte("k2")}
}

// BenchmarkEvalshaRO3Get: EVALSHA_RO of a script of three GETs, one
// connection (compiled once, pooled states: no compile per call).
func BenchmarkEvalshaRO3Get(b *testing.B) {
	env, argv := benchScriptEnv(b)
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	Exec(c, argv)
	b.SetBytes(int64(c.W.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.W.Reset()
		Exec(c, argv)
	}
}

// BenchmarkEvalshaROParallel runs the same script on one and on two
// goroutines (connections, as on two event loops); ns/op is wall time per
// script, so on two idle cores goroutines=2 approaches half of
// goroutines=1. Scripts share nothing they write but the projection's
// hold (a read lock) and the commands' call counters. Two more metrics
// stand up to a busy machine: cpu-ns/op, the process's CPU time per
// script (it grows with contention: cache lines bouncing, a lock
// spinning), and cpus, CPU time over wall time (how many cores the
// scripts kept busy: at most 1 when something serializes them, up to 2
// when nothing does and the machine has two cores free).
func BenchmarkEvalshaROParallel(b *testing.B) {
	benchParallel(b, func(b *testing.B) (*Env, [][]byte) { return benchScriptEnv(b) })
}

// BenchmarkFcallROParallel is BenchmarkEvalshaROParallel for FCALL_RO.
func BenchmarkFcallROParallel(b *testing.B) {
	benchParallel(b, benchFcallEnv)
}

func benchParallel(b *testing.B, setup func(b *testing.B) (*Env, [][]byte)) {
	for _, n := range []int{1, 2} {
		b.Run("goroutines="+strconv.Itoa(n), func(b *testing.B) {
			env, argv := setup(b)
			ctxs := make([]*Ctx, n)
			for g := range ctxs {
				ctxs[g] = NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
				Exec(ctxs[g], argv) // a pooled state for each
				if ctxs[g].W.Bytes()[0] != '*' {
					b.Fatalf("%s: %q", argv[0], ctxs[g].W.Bytes())
				}
			}
			b.ReportAllocs()
			b.SetBytes(1)
			cpu0 := cpuTime(b)
			b.ResetTimer()
			t0 := time.Now()
			var wg sync.WaitGroup
			for g := 0; g < n; g++ {
				wg.Add(1)
				go func(c *Ctx, count int) {
					defer wg.Done()
					for i := 0; i < count; i++ {
						c.W.Reset()
						Exec(c, argv)
					}
				}(ctxs[g], b.N/n)
			}
			wg.Wait()
			wall := time.Since(t0)
			b.StopTimer()
			cpu := cpuTime(b) - cpu0
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpus")
		})
	}
}

// cpuTime is the CPU time (user and system) the process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchFcallEnv(b *testing.B) (*Env, [][]byte) {
	env, _ := benchScriptEnv(b)
	lib := "#!lua name=benchlib\nredis.register_function{function_name='get3', flags={'no-writes'}, callback=function(keys, args) " +
		"return {redis.call('get', keys[1]), redis.call('get', keys[2]), redis.call('get', keys[3])} end}"
	if err := env.Proj.Apply(0, [][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte(lib)}); err != nil {
		b.Fatal(err)
	}
	return env, [][]byte{[]byte("FCALL_RO"), []byte("get3"), []byte("3"), []byte("k0"), []byte("k1"), []byte("k2")}
}

// BenchmarkFcallRO3Get: FCALL_RO of a library function of three GETs, one
// connection (the library is compiled once per pooled state).
func BenchmarkFcallRO3Get(b *testing.B) {
	env, argv := benchFcallEnv(b)
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	Exec(c, argv)
	if c.W.Bytes()[0] != '*' {
		b.Fatalf("FCALL_RO: %q", c.W.Bytes())
	}
	b.SetBytes(int64(c.W.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.W.Reset()
		Exec(c, argv)
	}
}
