package server

import (
	"testing"
)

func TestSmoke(t *testing.T) {
	p := newProjection(t)
	for _, cmd := range [][]string{{"SET", "k", "v"}, {"RPUSH", "l", "a", "b", "c"}, {"HSET", "h", "f", "1"}, {"ZADD", "z", "1", "a", "2.5", "b"}, {"SADD", "s", "x"}} {
		if err := p.Apply(0, bs(cmd...)); err != nil {
			t.Fatal(err)
		}
	}
	s := startVDR(t, Options{Projection: p})
	c := dialRaw(t, s.Addr())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"GET", "k"}, "$1\r\nv\r\n"},
		{[]string{"GET", "nope"}, "$-1\r\n"},
		{[]string{"LRANGE", "l", "0", "-1"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{[]string{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"},
		{[]string{"SET", "k", "v2"}, "-READONLY You can't write against a read only replica.\r\n"},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
		{[]string{"foo", "a", "b"}, "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"},
		{[]string{"HGET", "l", "x"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	} {
		if got := c.dos(tc.args...); got != tc.want {
			t.Errorf("%v: got %q want %q", tc.args, got, tc.want)
		}
	}
}
