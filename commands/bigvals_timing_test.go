package commands

import (
	"strconv"
	"strings"
	"testing"
)

// BenchmarkBigValues measures the commands whose cost must not grow with
// the value (issue 16): SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, MEMORY USAGE
// and one SSCAN step, through Exec, on values of 1 000 and 1 000 000
// elements. O(count) shows as equal times for both sizes. The 1M values
// take a few seconds to build; -benchtime=100x keeps the run short.
func BenchmarkBigValues(b *testing.B) {
	for _, size := range []int{1_000, 1_000_000} {
		b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
			env := newTestEnv(b)
			for _, k := range []string{"SADD s", "HSET h", "ZADD z"} {
				argv := [][]byte{}
				for _, a := range strings.Fields(k) {
					argv = append(argv, []byte(a))
				}
				base := len(argv)
				for i := 0; i < size; i++ {
					m := []byte("member:" + strconv.Itoa(i))
					if k != "SADD s" {
						argv = append(argv, []byte(strconv.Itoa(i)))
					}
					if k == "HSET h" {
						argv[len(argv)-1], m = m, argv[len(argv)-1]
					}
					argv = append(argv, m)
					if len(argv) >= base+2000 || i == size-1 {
						if err := env.Proj.Apply(0, argv); err != nil {
							b.Fatal(err)
						}
						argv = argv[:base]
					}
				}
			}
			c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
			for _, cmd := range []string{
				"SRANDMEMBER s", "SRANDMEMBER s 10", "SRANDMEMBER s -10",
				"HRANDFIELD h", "HRANDFIELD h 10 WITHVALUES", "HRANDFIELD h -10",
				"ZRANDMEMBER z", "ZRANDMEMBER z 10 WITHSCORES", "ZRANDMEMBER z -10",
				"MEMORY USAGE s", "MEMORY USAGE h", "MEMORY USAGE z",
				"SSCAN s 0 COUNT 10",
				"SISMEMBER s member:500", "HGET h member:500", "ZSCORE z member:500",
			} {
				var argv [][]byte
				for _, a := range strings.Fields(cmd) {
					argv = append(argv, []byte(a))
				}
				b.Run(strings.ReplaceAll(cmd, " ", "_"), func(b *testing.B) {
					b.ReportAllocs()
					c.W.Reset()
					Exec(c, argv)
					if r := c.W.Bytes(); len(r) == 0 || r[0] == '-' {
						b.Fatalf("%s: %q", cmd, r)
					}
					b.SetBytes(int64(len(c.W.Bytes())))
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						c.W.Reset()
						Exec(c, argv)
					}
				})
			}
		})
	}
}
