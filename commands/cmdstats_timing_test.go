package commands

import (
	"testing"
	"time"
)

// BenchmarkRecordCall measures what call() adds to every command for
// INFO commandstats/latencystats, the slow log and the latency monitor:
// one clock read and recordCall (three atomic adds with the defaults).
func BenchmarkRecordCall(b *testing.B) {
	env := newTestEnv(b)
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	cmd := Find("get")
	args := [][]byte{[]byte("GET"), []byte("k")}
	b.ReportAllocs()
	t0 := nanotime()
	for i := 0; i < b.N; i++ {
		now := nanotime()
		c.recordCall(cmd, args, time.Duration(now-t0), false)
		t0 = now
	}
}
