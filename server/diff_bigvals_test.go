package server

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestDifferentialBigValues compares the deterministic parts of issue 16
// with a real Redis replica, exactly: intset order (small, and past the
// projection's pack size), listpack order, small-encoding SSCAN/HSCAN/ZSCAN
// (everything at once, cursor 0, whatever COUNT), SRANDMEMBER/HRANDFIELD/
// ZRANDMEMBER with a count ≥ the size (the whole value in its order),
// SCAN on an empty db and SCAN's cursor parsing, MEMORY USAGE's option
// errors.
func TestDifferentialBigValues(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0")
	redistest.WaitFor(t, 15*time.Second, "replica link up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up"
	})
	proj := newProjection(t)
	ver := asPrimary(t, proj, primary.Addr())
	f := &applyFeed{primary: dialRaw(t, primary.Addr()), proj: proj}
	r := rand.New(rand.NewPCG(16, 2))
	w := func(argv ...string) { f.write(t, 0, argv...) }
	w("SADD", "ints:small", "5", "3", "-1", "10", "2", "9223372036854775807", "-9223372036854775808")
	for _, i := range r.Perm(300) {
		w("SADD", "ints:big", strconv.Itoa(i*13-2000))
	}
	w("SREM", "ints:big", "-2000", "1899", "0")
	w("SREM", "ints:small", "3")
	w("HSET", "h:lp", "zeta", "1", "alpha", "2", "mid", "3")
	w("HSET", "h:lp", "alpha", "22", "new", "4")
	w("HDEL", "h:lp", "zeta")
	w("ZADD", "z:lp", "3", "c", "1", "a", "2", "b", "2", "aa")
	f.sync(t)
	vdr := startVDR(t, Options{Projection: proj, Compat: ver})
	rc, vc := dialRaw(t, replica.Addr()), dialRaw(t, vdr.Addr())
	cmds := [][]string{
		{"SMEMBERS", "ints:small"},
		{"SMEMBERS", "ints:big"},
		{"OBJECT", "ENCODING", "ints:big"},
		{"SSCAN", "ints:small", "0"},
		{"SSCAN", "ints:big", "0", "COUNT", "5"},
		{"SSCAN", "ints:big", "0", "MATCH", "1*", "COUNT", "1"},
		{"SSCAN", "ints:big", "77"},
		{"SRANDMEMBER", "ints:big", "1000"},
		{"SRANDMEMBER", "ints:small", "6"},
		{"HGETALL", "h:lp"},
		{"HSCAN", "h:lp", "0", "COUNT", "1"},
		{"HRANDFIELD", "h:lp", "3", "WITHVALUES"},
		{"HRANDFIELD", "h:lp", "30"},
		{"ZSCAN", "z:lp", "0", "COUNT", "1"},
		{"ZRANDMEMBER", "z:lp", "4", "WITHSCORES"},
		{"ZRANDMEMBER", "z:lp", "0"},
		{"SRANDMEMBER", "ints:big", "0"},
		{"SCAN", "0"},
		{"SELECT", "5"},
		{"SCAN", "0"},
		{"SCAN", "0", "COUNT", "1000"},
		{"SCAN", "-1"},
		{"SCAN", ""},
		{"SCAN", "+5"},
		{"SCAN", "-0"},
		{"SCAN", "-"},
		{"SCAN", " 1"},
		{"SCAN", "1 "},
		{"SCAN", "0x1"},
		{"SCAN", "18446744073709551615"},
		{"SCAN", "18446744073709551616"},
		{"SCAN", "-18446744073709551615"},
		{"SCAN", "-18446744073709551616"},
		{"SSCAN", "nokey", "-1"},
		{"SSCAN", "nokey", "x"},
		{"SELECT", "0"},
		{"MEMORY", "USAGE", "ints:big", "SAMPLES", "-1"},
		{"MEMORY", "USAGE", "ints:big", "SAMPLES", "x"},
		{"MEMORY", "USAGE", "ints:big", "SAMPLES"},
		{"MEMORY", "USAGE", "nokey", "SAMPLES", "0"},
	}
	for _, proto := range []string{"2", "3"} {
		if proto == "3" {
			rc.dos("HELLO", "3")
			vc.dos("HELLO", "3")
		}
		for _, c := range cmds {
			want, got := rc.dos(c...), vc.dos(c...)
			if c[0] == "SCAN" && c[1] == "0" && len(c) == 2 {
				// db 0 holds keys: compare that a full step came back
				// and ends the (small) scan, not Redis's order.
				want, got = scanAll(t, rc, c), scanAll(t, vc, c)
			}
			if want != got {
				t.Errorf("RESP%s %q:\n redis %.300q\n   vdr %.300q", proto, c, want, got)
			}
		}
	}
}
