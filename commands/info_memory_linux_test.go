package commands

import (
	"os"
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
