package commands

import (
	"sync/atomic"
	"testing"
)

// BenchmarkMonitorFeed: GET through Exec with no monitor (the feed is one
// atomic load) and with one monitor whose Push takes every line.
func BenchmarkMonitorFeed(b *testing.B) {
	env := newTestEnv(b)
	env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte("k"), []byte("v")})
	argv := [][]byte{[]byte("GET"), []byte("k")}
	for _, monitors := range []int{0, 1} {
		b.Run("monitors="+string(rune('0'+monitors)), func(b *testing.B) {
			var pushed atomic.Int64
			if monitors > 0 {
				m := NewClient(env.NewClientID(), "127.0.0.1:9", "127.0.0.1:10")
				m.Push = func(p []byte) bool { pushed.Add(int64(len(p))); return true }
				env.Monitors.add(m)
				defer env.Monitors.remove(m)
			}
			c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
			b.ReportAllocs()
			b.SetBytes(5)
			for i := 0; i < b.N; i++ {
				c.W.Reset()
				Exec(c, argv)
			}
			if monitors > 0 && pushed.Load() == 0 {
				b.Fatal("the monitor got nothing")
			}
		})
	}
}
