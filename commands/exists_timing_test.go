package commands

import (
	"strconv"
	"testing"
)

// BenchmarkExistsHuge: EXISTS with a million keys (a View of many keys
// takes every stripe instead of one per key).
func BenchmarkExistsHuge(b *testing.B) {
	env := newTestEnv(b)
	argv := [][]byte{[]byte("EXISTS")}
	for i := 0; i < 1_000_000; i++ {
		argv = append(argv, []byte("key:"+strconv.Itoa(i)))
	}
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.W.Reset()
		Exec(c, argv)
	}
}
