package commands

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLatHistBuckets: every value falls in the bucket whose bounds hold
// it, buckets are contiguous, and powers of two start a bucket (LATENCY
// HISTOGRAM's boundaries).
func TestLatHistBuckets(t *testing.T) {
	prevHi := int64(-1)
	for i := 0; i < latBuckets; i++ {
		lo, hi := latBounds(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d [%d, %d] after %d", i, lo, hi, prevHi)
		}
		prevHi = hi
		for _, v := range []int64{lo, hi, (lo + hi) / 2} {
			if v >= 1 && v <= latMaxValue && latIndex(v) != i {
				t.Fatalf("value %d in bucket %d, want %d", v, latIndex(v), i)
			}
		}
	}
	if prevHi < latMaxValue {
		t.Fatalf("last bucket ends at %d", prevHi)
	}
	for m := 4; m < 30; m++ {
		if lo, _ := latBounds(latIndex(1 << m)); lo != 1<<m {
			t.Errorf("2^%d starts no bucket (bucket from %d)", m, lo)
		}
	}
	// Resolution: the highest value of a bucket is within 12.5% of any
	// value in it.
	r := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 10000; k++ {
		v := r.Int64N(latMaxValue) + 1
		_, hi := latBounds(latIndex(v))
		if float64(hi-v) > float64(v)/8 {
			t.Fatalf("value %d reported as %d", v, hi)
		}
	}
}

// TestPercentile: percentiles of known distributions (hdr's rule: the
// value whose cumulative count reaches p% of the total, rounded).
func TestPercentile(t *testing.T) {
	var h latHist
	for i := 1; i <= 100; i++ {
		h.record(int64(i) * 1000) // 1 µs … 100 µs
	}
	counts, total := h.snapshot()
	f := func(p float64, lo, hi int64) {
		t.Helper()
		v := percentile(&counts, total, p)
		if v < lo || v > hi {
			t.Errorf("p%v = %d, want in [%d, %d]", p, v, lo, hi)
		}
	}
	f(50, 50000, 50000*9/8)
	f(99, 99000, 99000*9/8)
	f(100, 100000, 100000*9/8)
	f(0, 1000, 1000*9/8)
	if got := formatPercentile(99.9); got != "99.9" {
		t.Errorf("formatPercentile(99.9) = %q", got)
	}
	if got := formatPercentile(50); got != "50" {
		t.Errorf("formatPercentile(50) = %q", got)
	}
}

// TestCommandStatsCounts: calls, failed and rejected calls as Redis
// counts them, EXEC's queued commands counted each, EXEC not failed by
// them; CONFIG RESETSTAT clears them.
func TestCommandStatsCounts(t *testing.T) {
	env := newTestEnv(t)
	env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte("k"), []byte("v")})
	run := scriptCtx(t, env)
	run("GET", "k")
	run("HGET", "k", "f") // WRONGTYPE
	run("GET")            // arity
	run("SET", "a", "b")  // READONLY
	run("MULTI")
	run("HGET", "k", "f")
	run("GET", "k")
	if r := run("EXEC"); !strings.HasPrefix(r, "*2\r\n-WRONGTYPE") {
		t.Fatalf("EXEC: %q", r)
	}
	want := map[string]CommandStat{
		"get":   {Calls: 2, Rejected: 1},
		"hget":  {Calls: 2, Failed: 2},
		"set":   {Rejected: 1},
		"multi": {Calls: 1},
		"exec":  {Calls: 1},
	}
	got := map[string]CommandStat{}
	for _, st := range env.CommandStats() {
		got[st.Name] = CommandStat{Calls: st.Calls, Rejected: st.Rejected, Failed: st.Failed}
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %+v, want %+v", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("stats for %v, want %v", got, want)
	}
	info := run("INFO", "commandstats")
	if !strings.Contains(info, "cmdstat_hget:calls=2,usec=") || !strings.Contains(info, ",rejected_calls=0,failed_calls=2\r\n") {
		t.Errorf("INFO commandstats: %q", info)
	}
	if r := run("CONFIG", "RESETSTAT"); r != "+OK\r\n" {
		t.Fatalf("RESETSTAT: %q", r)
	}
	st := env.CommandStats()
	if len(st) != 1 || st[0].Name != "config|resetstat" || st[0].Calls != 1 {
		t.Errorf("after RESETSTAT: %+v", st)
	}
}

// TestSlowlogEntry: the argument rules of slowlogCreateEntry (32
// arguments, the last saying how many more; 128 bytes per argument) and
// the redaction of secrets.
func TestSlowlogEntry(t *testing.T) {
	env := newTestEnv(t)
	run := scriptCtx(t, env)
	run("CONFIG", "SET", "slowlog-log-slower-than", "0")
	run("SLOWLOG", "RESET")
	args := []string{"MGET"}
	for i := 0; i < 39; i++ {
		args = append(args, "k"+strconv.Itoa(i))
	}
	run(args...)
	run("GET", strings.Repeat("a", 130))
	run("CONFIG", "SET", "requirepass", "secret")
	s := &env.observer().slowlog
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) != 4 {
		t.Fatalf("%d entries", len(s.entries))
	}
	mget := s.entries[1].argv
	if len(mget) != 32 || string(mget[31]) != "... (9 more arguments)" || string(mget[30]) != "k29" {
		t.Errorf("MGET entry: %d args, last %q", len(mget), mget[len(mget)-1])
	}
	get := s.entries[2].argv
	if string(get[1]) != strings.Repeat("a", 128)+"... (2 more bytes)" {
		t.Errorf("GET entry arg %q", get[1])
	}
	cs := s.entries[3].argv
	if string(cs[3]) != "(redacted)" || s.entries[3].peer != "127.0.0.1:1" {
		t.Errorf("CONFIG SET entry %q from %q", cs, s.entries[3].peer)
	}
	for i := 1; i < len(s.entries); i++ {
		if s.entries[i].id != s.entries[i-1].id+1 {
			t.Errorf("ids %d then %d", s.entries[i-1].id, s.entries[i].id)
		}
	}
}

// TestConfigSetAtomic: a CONFIG SET with one bad value changes nothing.
func TestConfigSetAtomic(t *testing.T) {
	env := newTestEnv(t)
	run := scriptCtx(t, env)
	r := run("CONFIG", "SET", "slowlog-max-len", "5", "latency-tracking", "maybe")
	if r != "-ERR CONFIG SET failed (possibly related to argument 'latency-tracking') - argument must be 'yes' or 'no'\r\n" {
		t.Errorf("reply %q", r)
	}
	if v := env.observer().slowlogMaxLen.Load(); v != 128 {
		t.Errorf("slowlog-max-len %d after a failed CONFIG SET", v)
	}
	if r := run("CONFIG", "SET", "slowlog-max-len", "5", "latency-tracking", "no"); r != "+OK\r\n" {
		t.Errorf("reply %q", r)
	}
	if env.observer().slowlogMaxLen.Load() != 5 || env.observer().latTracking.Load() {
		t.Errorf("not applied")
	}
	if r := run("CONFIG", "GET", "slowlog-max-len"); r != "*2\r\n$15\r\nslowlog-max-len\r\n$1\r\n5\r\n" {
		t.Errorf("CONFIG GET %q", r)
	}
}

// TestLatencyEvents: vdr's own events reach the monitor only past the
// threshold, one sample per second keeping the worst, with the all-time
// maximum; LATENCY LATEST and RESET see them.
func TestLatencyEvents(t *testing.T) {
	env := newTestEnv(t)
	run := scriptCtx(t, env)
	env.AddLatencySample("apply-batch", 50*time.Millisecond)
	if got := env.observer().latency.sortedEvents(); len(got) != 0 {
		t.Fatalf("events %q with the monitor off", got)
	}
	run("CONFIG", "SET", "latency-monitor-threshold", "10")
	begin := time.Now().Unix()
	// Within one second (tried again if a second boundary fell between).
	for {
		sec := time.Now().Unix()
		env.AddLatencySample("apply-batch", 5*time.Millisecond)
		env.AddLatencySample("apply-batch", 20*time.Millisecond)
		env.AddLatencySample("apply-batch", 30*time.Millisecond)
		if time.Now().Unix() == sec {
			break
		}
		env.observer().latency.reset("apply-batch", false)
	}
	env.AddLatencySample("fullsync-swap", 15*time.Millisecond)
	if got := env.observer().latency.sortedEvents(); strings.Join(got, ",") != "apply-batch,fullsync-swap" {
		t.Fatalf("events %q", got)
	}
	r := run("LATENCY", "LATEST")
	now := time.Now().Unix()
	head, rest, _ := strings.Cut(strings.TrimPrefix(r, "*2\r\n*4\r\n$11\r\napply-batch\r\n:"), "\r\n")
	if ts, err := strconv.ParseInt(head, 10, 64); err != nil || ts < begin || ts > now || !strings.HasPrefix(rest, ":30\r\n:30\r\n") {
		t.Errorf("LATENCY LATEST %q", r)
	}
	if r := run("LATENCY", "HISTORY", "apply-batch"); !strings.HasPrefix(r, "*1\r\n*2\r\n:") || !strings.HasSuffix(r, ":30\r\n") {
		t.Errorf("LATENCY HISTORY %q (one second, the worst sample)", r)
	}
	g := run("LATENCY", "GRAPH", "apply-batch")
	if !strings.Contains(g, "apply-batch - high 30 ms, low 30 ms (all time high 30 ms)\n"+strings.Repeat("-", 80)+"\n \n \n \n_\n \n") {
		t.Errorf("LATENCY GRAPH %q (one sample: min = max, drawn at the bottom)", g)
	}
	if r := run("LATENCY", "RESET", "APPLY-BATCH"); r != ":1\r\n" {
		t.Errorf("LATENCY RESET %q", r)
	}
}

// TestSparkline: a rising series drawn as Redis draws it.
func TestSparkline(t *testing.T) {
	var sb strings.Builder
	renderSparkline(&sb, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, []string{"a", "", "bc", "", "", "", "", "", "", "", "", "z"}, 80, 4)
	want := "         _o#\n      _o#|||\n   _o#||||||\n_o#|||||||||\n            \na b        z\n  c         \n"
	if sb.String() != want {
		t.Errorf("got\n%s\nwant\n%s", sb.String(), want)
	}
}

// TestConfigSetLuaTimeLimit: CONFIG SET lua-time-limit (an alias of
// busy-reply-threshold) changes when vdr stops a running script.
func TestConfigSetLuaTimeLimit(t *testing.T) {
	env := newTestEnv(t)
	run := scriptCtx(t, env)
	if r := run("CONFIG", "GET", "busy-reply-threshold"); r != "*2\r\n$20\r\nbusy-reply-threshold\r\n$4\r\n5000\r\n" {
		t.Errorf("default: %q", r)
	}
	if r := run("CONFIG", "SET", "lua-time-limit", "150"); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", r)
	}
	start := time.Now()
	r := run("EVAL", "while true do end", "0")
	if !strings.HasPrefix(r, "-ERR vdr: script stopped after running longer than lua-time-limit (150 ms)") {
		t.Errorf("EVAL: %q", r)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 30*time.Second {
		t.Errorf("stopped after %v", d)
	}
	if r := run("CONFIG", "GET", "busy-reply-threshold"); r != "*2\r\n$20\r\nbusy-reply-threshold\r\n$3\r\n150\r\n" {
		t.Errorf("after: %q", r)
	}
}
