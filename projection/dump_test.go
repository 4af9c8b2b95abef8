package projection

import (
	"testing"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestDumpRestore dumps every kind from the projection, RESTOREs the
// payloads into a real redis-server and compares what it holds.
func TestDumpRestore(t *testing.T) {
	p := newTestProjection(t, nil)
	mustApply(t, p, 0,
		"SET s hello", "SET n 42", "RPUSH l a b c", "SADD set x 1 y", "ZADD z 1.5 a -inf b 2 c",
		"HSET h f1 v1 f2 v2", "SET ttl v PXAT 99999999999999")
	srv := redistest.Start(t)
	rc := dialRedis(t, srv.Addr())
	for _, k := range []string{"s", "n", "l", "set", "z", "h", "ttl"} {
		var payload []byte
		var exp int64
		get(p, 0, k, func(x Value) {
			var err error
			if payload, err = x.Dump(); err != nil {
				t.Fatal(err)
			}
			exp = x.ExpireMs()
		})
		ttl := "0"
		args := []string{"RESTORE", k, ttl, string(payload)}
		if exp > 0 {
			args = []string{"RESTORE", k, "99999999999999", string(payload), "ABSTTL"}
		}
		if r := rc.do(t, args...); r != "OK" {
			t.Fatalf("RESTORE %s: %v", k, r)
		}
	}
	if n := compareWithRedis(t, p, rc, []int{0}, nil); n != 7 {
		t.Errorf("%d keys compared", n)
	}
	get(p, 0, "missing", func(x Value) {
		if _, err := x.Dump(); err == nil {
			t.Error("Dump of a missing key")
		}
	})
}
