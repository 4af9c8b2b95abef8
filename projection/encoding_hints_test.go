package projection

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestEncodingSizeHints replays, on a real server and on a projection set
// up as that server's version, the writes whose encoding depends on a
// command's size hints rather than on the resulting value: 7.2+'s SADD and
// ZADD convert an existing small set when the number of arguments alone
// exceeds a threshold (setTypeMaybeConvert, zsetTypeMaybeConvert), even
// when duplicates leave the value small; 7.0 creates an intset from the
// first member whatever the count; Valkey 8's ZADD also converts by its
// longest member, including one that XX or NX then skips. Every key's
// value and encoding must match the server's (the random differentials
// hit these only now and then).
func TestEncodingSizeHints(t *testing.T) {
	conf := []string{"--set-max-intset-entries", "5",
		"--zset-max-listpack-entries", "6", "--zset-max-listpack-value", "10"}
	if redistest.Version(t).AtLeast(7, 2) {
		conf = append(conf, "--set-max-listpack-entries", "8") // 7.2+
	}
	srv := redistest.Start(t, conf...)
	rc := dialRedis(t, srv.Addr())
	p := newTestProjection(t, nil)
	p.SetEncodingConfig(serverEncodings(t, EncodingConfig{SetMaxIntsetEntries: 5, SetMaxListpackEntries: 8,
		ZSetMaxListpackEntries: 6, ZSetMaxListpackValue: 10}))

	rep := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, " ")
	}
	cmds := []string{
		// a new set: 7.0 decides by the first member only
		"SADD s0 1 1 1 1 1 1 1",
		"SADD s1 1 2 3 4 5 6",
		"SADD s2 a 1 1 1 1 1 1 1 1 1",
		// an existing intset, then listpack, and more arguments than the
		// threshold but few new members
		"SADD s3 1 2", "SADD s3 " + rep(6, func(int) string { return "2" }),
		"SADD s4 a b", "SADD s4 " + rep(9, func(int) string { return "b" }),
		"SADD s5 1 2", "SADD s5 3 4 5",
		// sorted sets: a new one by its pair count and first member
		"ZADD z0 " + rep(7, func(int) string { return "1 m" }),
		"ZADD z1 1 a 2 " + strings.Repeat("x", 11),
		"ZADD z2 1 " + strings.Repeat("y", 11) + " 2 a",
		// an existing listpack one by its pair count
		"ZADD z3 1 a", "ZADD z3 " + rep(7, func(int) string { return "2 a" }),
		"ZADD z4 1 a", "ZADD z4 XX " + rep(7, func(i int) string { return fmt.Sprintf("%d n%d", i, i) }),
		// and by a long member that is never added
		"ZADD z5 1 a", "ZADD z5 XX 1 " + strings.Repeat("q", 11),
		"ZADD z6 1 a", "ZADD z6 NX 1 a 2 " + strings.Repeat("q", 11),
		"ZADD z7 1 a", "ZADD z7 NX 1 " + strings.Repeat("q", 11) + " 3 c",
		// a new key that XX leaves absent
		"ZADD z8 XX " + rep(7, func(i int) string { return fmt.Sprintf("%d n%d", i, i) }),
	}
	for _, c := range cmds {
		argv := strings.Fields(c)
		if _, isErr := rc.do(t, argv...).(error); isErr {
			t.Fatalf("%s: the server refused it", c)
		}
		mustApply(t, p, 0, c)
	}
	if n := compareWithRedis(t, p, rc, []int{0}, nil); n < 14 {
		t.Errorf("compared %d keys, want at least 14", n)
	}
}
