package commands

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestInfoMemoryTrue: INFO memory reports the process's resident set as
// used_memory_rss (Redis reads /proc; the Go runtime's Sys, which it
// reported before, counts reserved address space that is not resident),
// and the fragmentation ratio follows from it and used_memory as Redis
// computes it. The test process is the server here, so its VmRSS must be
// close to what INFO said.
func TestInfoMemoryTrue(t *testing.T) {
	env := newTestEnv(t)
	do := scriptCtx(t, env)
	reply := do("INFO", "memory")
	fields := map[string]string{}
	for _, line := range strings.Split(reply, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = v
		}
	}
	num := func(k string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(strings.TrimSuffix(fields[k], "%"), 64)
		if err != nil {
			t.Fatalf("%s = %q", k, fields[k])
		}
		return v
	}
	rss, used := num("used_memory_rss"), num("used_memory")
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var vmRSS float64
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			vmRSS = kb * 1024
		}
	}
	if vmRSS == 0 || rss < vmRSS*0.8 || rss > vmRSS*1.25 {
		t.Errorf("used_memory_rss %.0f, the process's VmRSS %.0f", rss, vmRSS)
	}
	if want := strconv.FormatFloat(rss/used, 'f', 2, 64); fields["mem_fragmentation_ratio"] != want {
		t.Errorf("mem_fragmentation_ratio %s, want rss/used = %s", fields["mem_fragmentation_ratio"], want)
	}
	if num("used_memory_peak") < used || num("total_system_memory") < rss {
		t.Errorf("used_memory_peak %s, total_system_memory %s, used %s, rss %s", fields["used_memory_peak"],
			fields["total_system_memory"], fields["used_memory"], fields["used_memory_rss"])
	}
}

// TestInfoMemoryIsTheProjection: used_memory is what the keyspace holds.
// After a collection, what used_memory grew by as the keys were written
// is within a tenth of the sum of every key's MEMORY USAGE (the layout's
// own arithmetic), MEMORY STATS agrees with INFO, and its index overhead is
// the tables' real size: more than 16 bytes a key (a slot each, with the
// free slots a table keeps), less than 32. Before the layout rework
// used_memory was HeapAlloc, garbage included, and a key's index cost
// was a Go map's guess.
func TestInfoMemoryIsTheProjection(t *testing.T) {
	env := newTestEnv(t)
	do := scriptCtx(t, env)
	const n = 200_000
	runtime.GC()
	before := atoi64(t, fieldsOf(do("INFO", "memory"))["used_memory"])
	r := rand.New(rand.NewPCG(1, 1))
	val := make([]byte, 128)
	for i := 0; i < n; i++ {
		key := []byte("key:" + strconv.Itoa(i))
		argv := [][]byte{[]byte("SET"), key, val[:16+r.IntN(113)]}
		if i%10 == 0 {
			argv = [][]byte{[]byte("HSET"), key, []byte("f"), val[:10], []byte("g"), val[:20]}
		}
		if err := env.Proj.Apply(0, argv); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	info := fieldsOf(do("INFO", "memory"))
	used := atoi64(t, info["used_memory"])
	var sum int64
	for i := 0; i < n; i++ {
		sum += atoi64(t, strings.TrimPrefix(strings.TrimSpace(do("MEMORY", "USAGE", "key:"+strconv.Itoa(i))), ":"))
	}
	if net := used - before; float64(net) < float64(sum)*0.9 || float64(net) > float64(sum)*1.1 {
		t.Errorf("used_memory went from %d to %d (+%d); the keys' MEMORY USAGE sums to %d (%.2f×)", before, used, net, sum, float64(net)/float64(sum))
	}
	stats := do("MEMORY", "STATS")
	overhead := statsField(t, stats, "overhead.hashtable.main")
	if overhead < 16*n || overhead > 32*n {
		t.Errorf("overhead.hashtable.main %d for %d keys", overhead, n)
	}
	if total := statsField(t, stats, "total.allocated"); total < used*9/10 || total > used*11/10 {
		t.Errorf("MEMORY STATS total.allocated %d, INFO used_memory %d", total, used)
	}
}

func fieldsOf(info string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(info, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

func atoi64(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return v
}

// statsField finds name's integer in a MEMORY STATS reply (RESP2: the
// name as a bulk string, then ":<n>").
func statsField(t *testing.T, reply, name string) int64 {
	t.Helper()
	_, rest, ok := strings.Cut(reply, "$"+strconv.Itoa(len(name))+"\r\n"+name+"\r\n:")
	if !ok {
		t.Fatalf("MEMORY STATS has no %s", name)
	}
	v, _, _ := strings.Cut(rest, "\r\n")
	return atoi64(t, v)
}
