package commands

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func scriptCtx(t testing.TB, env *Env) func(args ...string) string {
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	return func(args ...string) string {
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		c.W.Reset()
		Exec(c, argv)
		return string(c.W.Bytes())
	}
}

// TestScriptLimits: runaway scripts end with an error and vdr goes on —
// the time limit, SCRIPT KILL (not catchable by pcall), FUNCTION KILL of
// an EVAL, deep recursion, unpack and string.rep of huge sizes, a huge
// table under the allocation bound.
func TestScriptLimits(t *testing.T) {
	env := newTestEnv(t)
	eng := env.Scripts()
	eng.TimeLimit = 300 * time.Millisecond
	eng.MaxAllocBytes = 64 << 20
	do := scriptCtx(t, env)
	f := func(body, wantPrefix string) {
		t.Helper()
		got := do("EVAL", body, "0")
		if !strings.HasPrefix(got, wantPrefix) {
			t.Errorf("%q:\n got %q\nwant prefix %q", body, got, wantPrefix)
		}
	}
	t0 := time.Now()
	f("while true do end", "-ERR vdr: script stopped after running longer than lua-time-limit (300 ms) script: ")
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("time limit took %v", d)
	}
	f("while true do pcall(function() while true do end end) end", "-ERR vdr: script stopped after running longer than lua-time-limit")
	// The other limits must end a script before the time limit does, on
	// a loaded machine and under -race too.
	eng.TimeLimit = 20 * time.Second
	f("local function r(n) return r(n + 1) + 1 end return r(1)", "-ERR stack overflow")
	f("local function r(n) return {r(n + 1)} end return r(1)", "-ERR stack overflow")
	// Each caught error unwinds a deep stack: slow, but it ends.
	f("local function r(n) return 1 + pcall(r, n + 1) end return r(1)", "-ERR user_script:1: ")
	f("return unpack({}, 1, 1e8)", "-ERR user_script:1: too many results to unpack script: ")
	f("return string.rep('x', 2^40)", "-ERR user_script:1: not enough memory script: ")
	f("local t = {} for i = 1, 1e9 do t[i] = i end return #t", "-ERR vdr: script stopped after allocating more than 67108864 bytes script: ")
	if got := do("EVAL", "return 1", "0"); got != ":1\r\n" {
		t.Errorf("after the limits: %q", got)
	}

	// SCRIPT KILL from another connection.
	eng.TimeLimit = time.Minute
	other := scriptCtx(t, env)
	if got := other("SCRIPT", "KILL"); got != "-NOTBUSY No scripts in execution right now.\r\n" {
		t.Errorf("SCRIPT KILL idle: %q", got)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var got string
	go func() {
		defer wg.Done()
		got = do("EVAL", "local i = 0\nwhile true do pcall(function() i = i + 1 end) end", "0")
	}()
	for eng.Running() == 0 {
		time.Sleep(time.Millisecond)
	}
	if r := other("FUNCTION", "KILL"); r != "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n" {
		t.Errorf("FUNCTION KILL of an EVAL: %q", r)
	}
	if r := other("SCRIPT", "KILL"); r != "+OK\r\n" {
		t.Errorf("SCRIPT KILL: %q", r)
	}
	wg.Wait()
	if !strings.HasPrefix(got, "-ERR Script killed by user with SCRIPT KILL... script: ") || !strings.Contains(got, "on @user_script:2.") {
		t.Errorf("killed script: %q", got)
	}
	// CONFIG GET shows the limit scripts run with (the engine's, here).
	if got := other("CONFIG", "GET", "lua-time-limit"); got != "*2\r\n$14\r\nlua-time-limit\r\n$5\r\n60000\r\n" {
		t.Errorf("CONFIG GET lua-time-limit: %q", got)
	}
}

type staleRepl struct{ synced, up bool }

func (r staleRepl) ReplState() ReplState {
	return ReplState{FirstSyncDone: r.synced, LinkUp: r.up, LinkDownSince: time.Now().Add(-time.Minute)}
}

// TestScriptStaleAndLoading: on a stale replica (link down,
// replica-serve-stale-data no) only allow-stale scripts run, and inside
// them only stale-allowed commands; while loading, EVAL answers LOADING as
// Redis's does (the command has no loading flag).
func TestScriptStaleAndLoading(t *testing.T) {
	env := newTestEnv(t)
	env.Config.ServeStaleData = false
	env.Repl = staleRepl{synced: true, up: false}
	do := scriptCtx(t, env)
	want := []string{
		"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n",
		"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n",
		":1\r\n",
		"-ERR Can not execute the command on a stale replica script: ",
		"$6\r\nstring\r\n",
	}
	got := []string{
		do("EVAL", "return 1", "0"),
		do("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
		do("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"),
		do("EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('get', 'k')", "0"),
		do("EVAL", "#!lua flags=no-writes,allow-stale\nreturn type(redis.call('info', 'server'))", "0"),
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("#%d: got %q want %q", i, got[i], want[i])
		}
	}
	env.Repl = staleRepl{synced: false, up: true}
	if got := do("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"); got != "-LOADING Redis is loading the dataset in memory\r\n" {
		t.Errorf("loading: %q", got)
	}
}

// TestScriptTrackingAndStats: CLIENT TRACKING remembers the keys a script
// reads (not EVAL_RO's declared keys), and the commands a script calls
// count in INFO commandstats.
func TestScriptTrackingAndStats(t *testing.T) {
	env := newTestEnv(t)
	env.Tracking = NewTracking(0)
	env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte("read"), []byte("v")})
	tc := newTrackingClient(t, env, "3")
	if got := tc.run(t, "CLIENT", "TRACKING", "on"); got != "+OK\r\n" {
		t.Fatalf("CLIENT TRACKING on: %q", got)
	}
	hgetCalls := func() int64 { n, _, _, _ := env.observer().sums(Find("hget").stats.idx); return n }
	before := hgetCalls()
	if got := tc.run(t, "EVAL_RO", "redis.call('hget', 'h', 'f'); return redis.call('get', 'read')", "1", "declared"); got != "$1\r\nv\r\n" {
		t.Fatalf("EVAL_RO: %q", got)
	}
	if n := hgetCalls(); n != before+1 {
		t.Errorf("hget calls %d, want %d", n, before+1)
	}
	env.Tracking.Invalidate([]byte("declared"))
	env.Tracking.Invalidate([]byte("read"))
	if got, want := tc.take(), []string{invalidation("read")}; !reflect.DeepEqual(got, want) {
		t.Errorf("pushes %q, want %q", got, want)
	}
}

// TestScriptInMulti: EVAL is queued and runs inside EXEC's view; a script
// that may write is refused when queued, as on a Redis replica.
func TestScriptInMulti(t *testing.T) {
	env := newTestEnv(t)
	env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte("k"), []byte("v")})
	do := scriptCtx(t, env)
	for _, s := range [][2]string{
		{"+OK\r\n", "MULTI"},
		{"+QUEUED\r\n", "EVAL|return redis.call('get', 'k')|0"},
		{"+QUEUED\r\n", "EVAL_RO|return redis.call('get', 'k')|0"},
		{"*2\r\n$1\r\nv\r\n$1\r\nv\r\n", "EXEC"},
		{"+OK\r\n", "MULTI"},
		{"-READONLY You can't write against a read only replica.\r\n", "EVAL|#!lua\nreturn 1|0"},
		{"-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC"},
	} {
		if got := do(strings.Split(s[1], "|")...); got != s[0] {
			t.Errorf("%q: got %q want %q", s[1], got, s[0])
		}
	}
}

// TestScriptFunctionKill: FUNCTION KILL stops a running function.
func TestScriptFunctionKill(t *testing.T) {
	env := newTestEnv(t)
	if err := env.Proj.Apply(0, [][]byte{[]byte("FUNCTION"), []byte("LOAD"),
		[]byte("#!lua name=spin\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}")}); err != nil {
		t.Fatal(err)
	}
	do, other := scriptCtx(t, env), scriptCtx(t, env)
	var got string
	done := make(chan struct{})
	go func() { got = do("FCALL_RO", "spin", "0"); close(done) }()
	for env.Scripts().Running() == 0 {
		time.Sleep(time.Millisecond)
	}
	if r := other("FUNCTION", "STATS"); !strings.HasPrefix(r, "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n") {
		t.Errorf("FUNCTION STATS: %q", r)
	}
	if r := other("SCRIPT", "KILL"); r != "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n" {
		t.Errorf("SCRIPT KILL of a function: %q", r)
	}
	if r := other("FUNCTION", "KILL"); r != "+OK\r\n" {
		t.Errorf("FUNCTION KILL: %q", r)
	}
	<-done
	if !strings.HasPrefix(got, "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.") {
		t.Errorf("killed function: %q", got)
	}
}

// TestScriptParallel runs scripts and functions on several connections at
// once while writes are applied (run it with -race): each script sees one
// state — the two keys a script reads always hold the same value.
func TestScriptParallel(t *testing.T) {
	env := newTestEnv(t)
	set := func(v string) {
		env.Proj.Apply(0, [][]byte{[]byte("MSET"), []byte("a"), []byte(v), []byte("b"), []byte(v)})
	}
	set("0")
	if err := env.Proj.Apply(0, [][]byte{[]byte("FUNCTION"), []byte("LOAD"),
		[]byte("#!lua name=pair\nredis.register_function{function_name='pair', callback=function(k) return {redis.call('get', k[1]), redis.call('get', k[2])} end, flags={'no-writes'}}")}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
				set(strconv.Itoa(i))
			}
		}
	}()
	var errs sync.Map
	var readers sync.WaitGroup
	for g := 0; g < 4; g++ {
		readers.Add(1)
		go func(g int) {
			defer readers.Done()
			do := scriptCtx(t, env)
			for i := 0; i < 200; i++ {
				var r string
				if i%2 == 0 {
					r = do("EVAL_RO", "local a = redis.call('get', KEYS[1]) for i = 1, 50 do end return {a, redis.call('get', KEYS[2])}", "2", "a", "b")
				} else {
					r = do("FCALL_RO", "pair", "2", "a", "b")
				}
				parts := strings.Split(r, "\r\n")
				if len(parts) < 5 || parts[2] != parts[4] {
					errs.Store(g, r)
					return
				}
			}
		}(g)
	}
	readers.Wait()
	close(stop)
	wg.Wait()
	errs.Range(func(k, v any) bool {
		t.Errorf("goroutine %v saw two states: %q", k, v)
		return true
	})
}
