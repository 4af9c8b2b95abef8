package commands

import (
	"strconv"
	"sync"
	"testing"

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
// goroutines (connections); ns/op is wall time per script, so on two idle
// cores goroutines=2 approaches half of goroutines=1: scripts share one
// read lock (ViewAll's hold of the applier) and nothing else. On a loaded
// machine the two come out closer.
func BenchmarkEvalshaROParallel(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run("goroutines="+strconv.Itoa(n), func(b *testing.B) {
			env, argv := benchScriptEnv(b)
			b.ReportAllocs()
			b.SetBytes(1)
			b.ResetTimer()
			var wg sync.WaitGroup
			for g := 0; g < n; g++ {
				wg.Add(1)
				go func(count int) {
					defer wg.Done()
					c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
					for i := 0; i < count; i++ {
						c.W.Reset()
						Exec(c, argv)
					}
				}(b.N / n)
			}
			wg.Wait()
		})
	}
}

// BenchmarkFcallRO3Get: FCALL_RO of a library function of three GETs, one
// connection (the library is compiled once per pooled state).
func BenchmarkFcallRO3Get(b *testing.B) {
	env, _ := benchScriptEnv(b)
	lib := "#!lua name=benchlib\nredis.register_function{function_name='get3', flags={'no-writes'}, callback=function(keys, args) " +
		"return {redis.call('get', keys[1]), redis.call('get', keys[2]), redis.call('get', keys[3])} end}"
	if err := env.Proj.Apply(0, [][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte(lib)}); err != nil {
		b.Fatal(err)
	}
	argv := [][]byte{[]byte("FCALL_RO"), []byte("get3"), []byte("3"), []byte("k0"), []byte("k1"), []byte("k2")}
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
