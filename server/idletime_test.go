package server

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/redistest"
)

// TestObjectIdletime compares OBJECT IDLETIME on vdr and on a real replica
// of the same primary: after a full sync whose RDB carries the keys' idle
// times (the primary runs an LRU policy, so it saves them), after reads
// that refresh the access time (GET), reads that must not (TYPE, EXISTS,
// TTL, OBJECT), a write from the stream, and a RESTORE … IDLETIME. Both
// count whole seconds off a clock refreshed every 100 ms, so they may
// differ by one.
func TestObjectIdletime(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--maxmemory-policy", "allkeys-lru")
	for _, c := range [][]string{
		{"SET", "s:get", "1"}, {"SET", "s:type", "v"}, {"SET", "s:exists", "x"}, {"SET", "s:ttl", "abc"},
		{"SET", "s:write", "1"}, {"RPUSH", "l", "a", "b"}, {"HSET", "h", "f", "v"},
		{"SADD", "set", "m"}, {"ZADD", "z", "1", "m"}, {"SET", "s:src", "payload"},
		{"XADD", "x", "1-1", "f", "v"}, {"XADD", "x:read", "1-1", "f", "v"},
	} {
		if r := primary.Do(t, c...); strings.HasPrefix(r, "-") {
			t.Fatalf("%v: %q", c, r)
		}
	}
	time.Sleep(2200 * time.Millisecond)

	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--maxmemory-policy", "allkeys-lru")
	node := startNode(t, primary.Addr(), replicaOptions{})
	caughtUp := func() {
		off := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
		redistest.WaitFor(t, 15*time.Second, "both replicas caught up", func() bool {
			return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up" &&
				redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up" &&
				redistest.InfoField(replica.Addr(), "replication", "slave_repl_offset") == off &&
				redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == off
		})
	}
	caughtUp()

	idle := func(addr, key string) int {
		r, err := redistest.Do(addr, "OBJECT", "IDLETIME", key)
		if err != nil || !strings.HasPrefix(r, ":") {
			t.Fatalf("OBJECT IDLETIME %s on %s: %q %v", key, addr, r, err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(r[1:]))
		return n
	}
	both := func(args ...string) {
		for _, a := range []string{replica.Addr(), node.Addr()} {
			if _, err := redistest.Do(a, args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	// slack is how far apart the two may be, in whole seconds.
	compare := func(stage string, slack int, keys ...string) map[string]int {
		got := map[string]int{}
		for _, k := range keys {
			want, have := idle(replica.Addr(), k), idle(node.Addr(), k)
			if d := want - have; d < -slack || d > slack {
				t.Errorf("%s: OBJECT IDLETIME %s: redis %d, vdr %d", stage, k, want, have)
			}
			got[k] = have
		}
		return got
	}
	keys := []string{"s:get", "s:type", "s:exists", "s:ttl", "s:write", "l", "h", "set", "z", "x", "x:read"}
	after := compare("after the full sync", 1, keys...)
	if after["s:get"] < 1 {
		t.Errorf("idle times from the RDB were not kept: %v", after)
	}

	// Reads, then a write from the stream and a RESTORE with IDLETIME.
	// The bounds below are relative to the clock, not fixed: on a loaded
	// machine catching up can take seconds.
	touched := time.Now()
	both("GET", "s:get")
	both("LRANGE", "l", "0", "-1")
	both("XRANGE", "x:read", "-", "+")
	both("TYPE", "s:type")
	both("EXISTS", "s:exists")
	both("TTL", "s:ttl")
	written := time.Now()
	primary.Do(t, "EXPIRE", "s:write", "1000")
	payload := primary.Do(t, "DUMP", "s:src")
	if !strings.HasPrefix(payload, "$") {
		t.Fatalf("DUMP: %q", payload)
	}
	body := payload[strings.Index(payload, "\r\n")+2 : len(payload)-2]
	primary.Do(t, "RESTORE", "s:restored", "0", body, "IDLETIME", "100")
	caughtUp()
	// Each replica stamps a written key when it applies the write, at any
	// moment until both had caught up: on a loaded machine they may be
	// seconds apart.
	applySpread := 1 + int(time.Since(written)/time.Second)
	time.Sleep(1100 * time.Millisecond)
	later := compare("after reads", 1, slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "s:write" })...)
	for k, v := range compare("after writes", applySpread, "s:write", "s:restored") {
		later[k] = v
	}
	// A refreshed key is at most as idle as the time since the reads (plus
	// one for the coarse clock); an untouched one is at least as idle as
	// that plus the 2.2 s the keys sat before the replicas attached.
	since := int(time.Since(touched) / time.Second)
	for _, k := range []string{"s:get", "l", "s:write", "x:read"} {
		if later[k] > since+1 {
			t.Errorf("%s was not refreshed: idle %d, %d s after the reads (all: %v)", k, later[k], since, later)
		}
	}
	if later["x"] < later["x:read"]+1 {
		t.Errorf("a stream's access time did not move apart from a read one's: %v", later)
	}
	if later["s:type"] < later["s:get"]+1 {
		t.Errorf("TYPE refreshed the access time: %v", later)
	}
	if r := later["s:restored"]; r < 99 || r > 100+since+1 {
		t.Errorf("RESTORE IDLETIME 100: vdr says %d", r)
	}
	// CLIENT NO-TOUCH ON (7.2) is vdr-side only: a GET from such a client
	// leaves the time, TOUCH refreshes it. The primary is 7.0, which has
	// no NO-TOUCH: answer as 7.2 from here on.
	node.srv.env.Version.Store(compat.Redis72)
	c := dialRaw(t, node.Addr())
	c.dos("CLIENT", "NO-TOUCH", "ON")
	c.dos("GET", "s:type")
	if n := idle(node.Addr(), "s:type"); n < 2 {
		t.Errorf("GET from a NO-TOUCH client refreshed the access time: idle %d", n)
	}
	c.dos("TOUCH", "s:type")
	if n := idle(node.Addr(), "s:type"); n > 1 {
		t.Errorf("TOUCH from a NO-TOUCH client did not refresh the access time: idle %d", n)
	}
}
