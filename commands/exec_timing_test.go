package commands

import (
	"strconv"
	"testing"
)

// BenchmarkExec measures dispatch + handler + reply for single commands,
// without any network.
func BenchmarkExec(b *testing.B) {
	env := newTestEnv(b)
	for i := 0; i < 100; i++ {
		env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte("key:" + strconv.Itoa(i)), []byte("xxx")})
		env.Proj.Apply(0, [][]byte{[]byte("ZADD"), []byte("z"), []byte(strconv.Itoa(i)), []byte("m" + strconv.Itoa(i))})
		// text of the compare harness's kind: 72 alphanumeric characters
		env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte("text:" + strconv.Itoa(i)), []byte(text72[i%8:] + text72[:i%8])})
	}
	for i := 0; i < 10; i++ {
		si := strconv.Itoa(i)
		env.Proj.Apply(0, [][]byte{[]byte("ZADD"), []byte("z10"), []byte(si), []byte("member" + si)})
		env.Proj.Apply(0, [][]byte{[]byte("RPUSH"), []byte("l10"), []byte("element" + si)})
		env.Proj.Apply(0, [][]byte{[]byte("HSET"), []byte("h10"), []byte("field" + si), []byte("value" + si)})
		env.Proj.Apply(0, [][]byte{[]byte("SADD"), []byte("s10"), []byte("member" + si)})
	}
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"GET", []string{"GET", "key:7"}},
		{"GET_text72", []string{"GET", "text:7"}},
		{"MGET_text72_10", []string{"MGET", "text:1", "text:2", "text:3", "text:4", "text:5", "text:6", "text:7", "text:8", "text:9", "text:10"}},
		{"PING", []string{"PING"}},
		{"ZRANGE_10", []string{"ZRANGE", "z", "0", "9", "WITHSCORES"}},
		{"MGET_10", []string{"MGET", "key:1", "key:2", "key:3", "key:4", "key:5", "key:6", "key:7", "key:8", "key:9", "key:10"}},
		{"LRANGE_0_9", []string{"LRANGE", "l10", "0", "9"}},
		{"HGETALL_10", []string{"HGETALL", "h10"}},
		{"SMEMBERS_10", []string{"SMEMBERS", "s10"}},
		{"ZRANGE_all_of_10", []string{"ZRANGE", "z10", "0", "-1", "WITHSCORES"}},
		{"SET_readonly", []string{"SET", "a", "b"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			argv := make([][]byte, len(bc.args))
			n := 0
			for i, a := range bc.args {
				argv[i] = []byte(a)
				n += len(a)
			}
			c := NewCtx(env, NewClient(1, "a", "b"))
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				c.W.Reset()
				Exec(c, argv)
			}
		})
	}
}

const text72 = "q7Hk2LmZp9Xa4BcRt0VwYe3NfGs8JdKu1MiOo5PlQr6SxTz2AbCdEfGhIjKlMnOpQrStUvWx"
