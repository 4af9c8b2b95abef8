package server

import (
	"regexp"
	"strings"
	"testing"
)

// TestDifferentialCommandCounts runs the same commands on a real replica
// and on vdr (pipelined, one by one, rejected, queued in MULTI, called by
// a script) and compares what each counted: CLIENT INFO's tot-cmds where
// the version has it (Valkey 8), and INFO commandstats' calls,
// rejected_calls and failed_calls of ECHO. A command counts once, when it
// runs; a rejected one never counts in tot-cmds.
func TestDifferentialCommandCounts(t *testing.T) {
	p := startObsPair(t)
	p.sync(t)
	totCmds := regexp.MustCompile(`tot-cmds=(\d+)`)
	echoStat := regexp.MustCompile(`cmdstat_echo:calls=(\d+),usec=\d+,usec_per_call=[\d.]+,rejected_calls=(\d+),failed_calls=(\d+)`)
	run := func(addr string) (counts []string) {
		c := dialRaw(t, addr)
		info := func() {
			r := c.dos("CLIENT", "INFO")
			if m := totCmds.FindStringSubmatch(r); m != nil {
				counts = append(counts, "tot-cmds="+m[1])
			}
		}
		// One pipeline: two ECHOs, one of the wrong arity, an unknown
		// command, then CLIENT INFO.
		var b []byte
		for _, args := range [][]string{{"ECHO", "a"}, {"ECHO", "b"}, {"ECHO"}, {"NOSUCHCOMMAND"}, {"CLIENT", "INFO"}} {
			b = append(b, encodeCmd(bs(args...)...)...)
		}
		c.send(b)
		for range 4 {
			c.read()
		}
		if m := totCmds.FindStringSubmatch(string(c.read())); m != nil {
			counts = append(counts, "tot-cmds="+m[1])
		}
		info()
		c.dos("ECHO", "c")
		info()
		c.dos("MULTI")
		c.dos("ECHO", "d")
		c.dos("EXEC")
		info()
		c.dos("EVAL", "redis.call('echo', 'x') return redis.call('echo', 'y')", "0")
		info()
		c.dos("EVAL", "return redis.pcall('echo')", "0")
		info()
		r := c.dos("INFO", "commandstats")
		m := echoStat.FindStringSubmatch(r)
		if m == nil {
			t.Fatalf("%s: no cmdstat_echo in %q", addr, r)
		}
		return append(counts, "echo calls="+m[1]+" rejected="+m[2]+" failed="+m[3])
	}
	want, got := run(p.replica.Addr()), run(p.node.Addr())
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("counts differ\nreplica: %q\nvdr:     %q", want, got)
	}
	t.Logf("%q", got)
}
