package script

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Flags are a script's shebang flags (src/script.h SCRIPT_FLAG_*).
type Flags uint8

const (
	FlagNoWrites   Flags = 1 << iota // no-writes
	FlagAllowOOM                     // allow-oom
	FlagAllowStale                   // allow-stale
	FlagNoCluster                    // no-cluster
	FlagCrossSlot                    // allow-cross-slot-keys
	FlagCompat                       // no shebang: EVAL compatibility mode
)

// flagNames in the order Redis lists them (scripts_flags_def).
var flagNames = []struct {
	f    Flags
	name string
}{{FlagNoWrites, "no-writes"}, {FlagAllowOOM, "allow-oom"}, {FlagAllowStale, "allow-stale"},
	{FlagNoCluster, "no-cluster"}, {FlagCrossSlot, "allow-cross-slot-keys"}}

// Names returns the names of f's flags, in Redis's order.
func (f Flags) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// Script is one compiled EVAL script, shared by every state.
type Script struct {
	SHA   string // lower-case hex SHA1 of Body
	Body  string
	Flags Flags
	proto *lua.FunctionProto
	// setsGlobals: the code assigns a global, so it runs with the
	// read-only proxy as its environment (see directEnv).
	setsGlobals bool
}

// setsGlobals reports whether any function of proto assigns a global
// (OP_SETGLOBAL).
//
// A function whose code never does can run with the real globals table
// as its environment (directEnv): each global it reads (redis, KEYS…) is
// then one lookup instead of three through the read-only proxy, and
// nothing changes for the script: the environment is unreachable from
// Lua (no getfenv, no debug library), _G is still the proxy, closures
// inherit the environment, and reading a missing name fails as before
// (the real table's own metatable).
func setsGlobals(p *lua.FunctionProto) bool {
	for _, inst := range p.Code {
		if int(inst>>26) == lua.OP_SETGLOBAL {
			return true
		}
	}
	for _, c := range p.FunctionPrototypes {
		if setsGlobals(c) {
			return true
		}
	}
	return false
}

// Sha1Hex is the lower-case hex SHA1 of s.
func Sha1Hex(s []byte) string {
	sum := sha1.Sum(s)
	return hex.EncodeToString(sum[:])
}

// ShebangFlags reads an EVAL script's shebang as evalExtractShebangFlags
// does. It returns the flags (FlagCompat without a shebang), the length
// of the shebang line, or Redis's error text.
func ShebangFlags(body string) (Flags, int, error) {
	if !strings.HasPrefix(body, "#!") {
		return FlagCompat, 0, nil
	}
	end := strings.IndexByte(body, '\n')
	if end < 0 {
		return 0, 0, errors.New("Invalid script shebang")
	}
	parts := strings.Fields(body[:end])
	if len(parts) == 0 {
		return 0, 0, errors.New("Invalid engine in script shebang")
	}
	if parts[0] != "#!lua" {
		return 0, 0, fmt.Errorf("Unexpected engine in script shebang: %s", parts[0])
	}
	var f Flags
	for _, p := range parts[1:] {
		if !strings.HasPrefix(p, "flags=") {
			return 0, 0, fmt.Errorf("Unknown lua shebang option: %s", p)
		}
		fl, err := parseFlagList(strings.Split(p[len("flags="):], ","), "Unexpected flag in script shebang: %s")
		if err != nil {
			return 0, 0, err
		}
		f |= fl
	}
	return f, end, nil
}

func parseFlagList(names []string, errFmt string) (Flags, error) {
	var f Flags
	for _, n := range names {
		found := false
		for _, fn := range flagNames {
			if n == fn.name {
				f |= fn.f
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf(errFmt, n)
		}
	}
	return f, nil
}

// compileChunk compiles Lua source under the chunk name Redis uses
// ("user_script" for EVAL, "user_function" for libraries).
func compileChunk(src, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			near := ""
			if pe.Token != "" {
				near = " near '" + pe.Token + "'"
			}
			line := pe.Pos.Line
			if line < 1 {
				line = strings.Count(src, "\n") + 1
			}
			return nil, fmt.Errorf("%s:%d: %s%s", name, line, strings.TrimSpace(pe.Message), near)
		}
		return nil, err
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, err
	}
	// gopher-lua marks a main chunk that does not use "..." as needing
	// Lua 5.0's implicit arg table, and builds one (a table and a map of
	// 32 slots) at every call, though it declares no local that could
	// reach it. Lua 5.1's main chunk has no arg (lparser.c marks it
	// VARARG_ISVARARG only; Redis answers "nonexistent global variable
	// 'arg'"), so the flag only costs time: it was half of a short
	// script's allocations.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	return proto, nil
}

// Compile compiles an EVAL script (luaCreateFunction): the shebang is
// checked and blanked, keeping its line feed so line numbers hold. The
// error is Redis's reply text.
func Compile(body string) (*Script, error) {
	flags, shebang, err := ShebangFlags(body)
	if err != nil {
		return nil, err
	}
	proto, err := compileChunk(body[shebang:], "user_script")
	if err != nil {
		return nil, fmt.Errorf("Error compiling script (new function): %v", err)
	}
	return &Script{SHA: Sha1Hex([]byte(body)), Body: body, Flags: flags, proto: proto, setsGlobals: setsGlobals(proto)}, nil
}

// Host runs the commands a script calls. Package commands implements it
// for one run.
type Host interface {
	// Call runs argv in protocol resp and returns its RESP reply, or
	// the text of luaPushError when the command is refused before
	// running (unknown command, noscript, a write from a read-only
	// script…): "-CODE message", or a message that gets "ERR".
	Call(argv [][]byte, resp int) (reply []byte, refused string)
	// CommandExists reports whether argv names a command (for
	// redis.acl_check_cmd).
	CommandExists(argv [][]byte) bool
}

// Run is one script invocation. The caller may reuse a Run once the
// Eval or Call that used it returned.
type Run struct {
	Host       Host
	Log        *slog.Logger
	ClientResp int      // the caller's protocol
	Name       string   // the SHA1 (EVAL) or function name (FCALL) errors name
	Argv       [][]byte // the command that started the run (FUNCTION STATS)
	resp       int      // redis.setresp
}

// Errors a stopped script fails with (the causes of its context).
var (
	errKilledEval = errors.New("Script killed by user with SCRIPT KILL...")
	// Functions share the hook of EVAL (luaMaskCountHook), text included.
	errKilledFunc = errors.New("Script killed by user with SCRIPT KILL...")
	errTimeLimit  = errors.New("vdr: script stopped after lua-time-limit")
)

// Engine owns the script cache, the state pools and the running scripts
// of one server.
//
// Nothing shared is written on a script's path: the cache is read from
// an immutable snapshot (frozen), states come from a sync.Pool (one per
// P, so in effect one per event loop) and each state records its own run
// under its own mutex. Engine.mu is taken only to load a script, build a
// state, and by SCRIPT KILL, FUNCTION STATS and the watchdog. (A global
// mutex taken at each run's start and end, with a map of running scripts
// and a context per run, kept two event loops from running scripts any
// faster than one.)
type Engine struct {
	// TimeLimit is lua-time-limit (busy-reply-threshold). Redis lets a
	// script run past it and answers BUSY to every other client until
	// SCRIPT KILL. vdr never answers BUSY (a script only occupies the
	// goroutine of its connection, see package commands), but a script
	// holds a read view of the whole projection, which keeps the
	// replication applier waiting; so vdr stops a script once it has run
	// TimeLimit (errTimeLimit) instead of letting it stall replication
	// indefinitely. Zero means 5 s.
	TimeLimit time.Duration
	// Version returns the Redis version scripts see (REDIS_VERSION).
	Version func() string
	// MaxAllocBytes bounds what a script may allocate (see limits.go);
	// zero means 1 GiB.
	MaxAllocBytes int64
	limitSet      atomic.Int64 // SetTimeLimit, ns; 0: TimeLimit

	// frozen is the script cache scripts are looked up in without a
	// lock; scripts loaded since it was built wait in recent (under mu)
	// until a lookup finds one there (see Lookup).
	frozen    atomic.Pointer[map[[20]byte]*Script]
	mu        sync.Mutex
	recent    map[[20]byte]*Script
	lastMerge time.Time
	states    []*State     // every state built for runs (for KILL, STATS, the watchdog)
	gen       atomic.Int64 // bumped by Flush; states drop older functions
	watching  atomic.Bool  // the memory watchdog runs
	created   atomic.Int64 // states built (StatesBuilt)
	evals     sync.Pool
	funcs     sync.Pool
	rand      rand48
	libs      atomic.Pointer[libSet]
}

// NewEngine returns an engine with an empty script cache.
func NewEngine() *Engine {
	e := &Engine{recent: map[[20]byte]*Script{}}
	e.frozen.Store(&map[[20]byte]*Script{})
	return e
}

func (e *Engine) version() string {
	if e.Version != nil {
		return e.Version()
	}
	return "7.0.15"
}

func (e *Engine) timeLimit() time.Duration {
	if d := e.limitSet.Load(); d > 0 {
		return time.Duration(d)
	}
	if e.TimeLimit > 0 {
		return e.TimeLimit
	}
	return 5 * time.Second
}

// decodeSHA reads a 40-digit hex SHA1 in either case (the cache's dict
// compares SHAs case-insensitively).
func decodeSHA[T string | []byte](sha T) (key [20]byte, ok bool) {
	if len(sha) != 40 {
		return key, false
	}
	for i := 0; i < 20; i++ {
		hi, ok1 := unhex(sha[2*i])
		lo, ok2 := unhex(sha[2*i+1])
		if !ok1 || !ok2 {
			return key, false
		}
		key[i] = hi<<4 | lo
	}
	return key, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// SetTimeLimit changes TimeLimit while scripts may run (CONFIG SET
// lua-time-limit); 0 goes back to TimeLimit.
func (e *Engine) SetTimeLimit(d time.Duration) { e.limitSet.Store(int64(d)) }

// TimeLimitNow is the time limit scripts run with now.
func (e *Engine) TimeLimitNow() time.Duration { return e.timeLimit() }

// Lookup returns the cached script with this SHA1 (any case), or nil.
func (e *Engine) Lookup(sha string) *Script {
	key, ok := decodeSHA(sha)
	if !ok {
		return nil
	}
	return e.lookup(key)
}

// LookupBytes is Lookup of a command argument; it does not allocate.
func (e *Engine) LookupBytes(sha []byte) *Script {
	key, ok := decodeSHA(sha)
	if !ok {
		return nil
	}
	return e.lookup(key)
}

// LookupBody returns the cached script whose body is body, or nil.
func (e *Engine) LookupBody(body []byte) *Script { return e.lookup(sha1.Sum(body)) }

// mergeEvery bounds how often a lookup that finds its script only in
// recent rebuilds the snapshot when recent is small next to it: the copy
// costs the size of the cache, so loading one script at a time and
// running it at once would otherwise cost a copy per script.
const mergeEvery = time.Second

func (e *Engine) lookup(key [20]byte) *Script {
	if sc := (*e.frozen.Load())[key]; sc != nil {
		return sc
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sc := e.recent[key]
	if sc == nil {
		return (*e.frozen.Load())[key] // merged meanwhile
	}
	// A script run from recent is moved into the snapshot, so the next
	// run finds it without the lock: at once when recent has grown to an
	// eighth of the snapshot (amortized, each script is copied a bounded
	// number of times), else at most once per mergeEvery.
	if old := *e.frozen.Load(); len(e.recent)*8 >= len(old) || time.Since(e.lastMerge) > mergeEvery {
		e.mergeLocked(old)
	}
	return sc
}

func (e *Engine) mergeLocked(old map[[20]byte]*Script) {
	m := make(map[[20]byte]*Script, len(old)+len(e.recent))
	for k, v := range old {
		m[k] = v
	}
	for k, v := range e.recent {
		m[k] = v
	}
	e.frozen.Store(&m)
	clear(e.recent)
	e.lastMerge = time.Now()
}

// Load compiles body unless it is cached, and caches it (SCRIPT LOAD, EVAL).
func (e *Engine) Load(body []byte) (*Script, error) {
	key := sha1.Sum(body)
	if sc := e.lookup(key); sc != nil {
		return sc, nil
	}
	sc, err := Compile(string(body))
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.recent[key]; old != nil {
		return old, nil
	}
	if old := (*e.frozen.Load())[key]; old != nil {
		return old, nil
	}
	e.recent[key] = sc
	return sc, nil
}

// Flush empties the script cache (SCRIPT FLUSH).
func (e *Engine) Flush() {
	e.mu.Lock()
	e.recent = map[[20]byte]*Script{}
	e.frozen.Store(&map[[20]byte]*Script{})
	e.mu.Unlock()
	e.gen.Add(1)
}

// Len is the number of cached scripts.
func (e *Engine) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(*e.frozen.Load()) + len(e.recent)
}

// StatesBuilt is the number of Lua states built for runs so far: states
// are pooled, so it stays near the number of scripts that ever ran at
// once.
func (e *Engine) StatesBuilt() int64 { return e.created.Load() }

// eachState calls fn for every state built for runs, under Engine.mu.
func (e *Engine) eachState(fn func(st *State)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.states {
		fn(st)
	}
}

// Kill stops the running scripts of one kind (SCRIPT KILL for EVAL,
// FUNCTION KILL for functions). It reports whether any was running, and
// whether a script of the other kind was (Redis's slowscripterr /
// slowevalerr cases).
func (e *Engine) Kill(eval bool) (killed, otherKind bool) {
	e.eachState(func(st *State) {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.cur == nil {
			return
		}
		if st.evalMode != eval {
			otherKind = true
			return
		}
		if eval {
			st.stopLocked(errKilledEval)
		} else {
			st.stopLocked(errKilledFunc)
		}
		killed = true
	})
	return killed, otherKind
}

// RunningFunction describes one running function (FUNCTION STATS); argv
// is a copy.
func (e *Engine) RunningFunction() (name string, argv [][]byte, elapsed time.Duration, ok bool) {
	e.eachState(func(st *State) {
		st.mu.Lock()
		defer st.mu.Unlock()
		if ok || st.cur == nil || st.evalMode {
			return
		}
		name, ok = st.cur.Name, true
		if st.watched { // else start is an earlier run's
			elapsed = time.Since(st.start)
		}
		for _, a := range st.cur.Argv {
			argv = append(argv, append([]byte(nil), a...))
		}
	})
	return name, argv, elapsed, ok
}

// LibrariesToken is the token of the libraries SetLibraries loaded last.
func (e *Engine) LibrariesToken() any {
	if s := e.libs.Load(); s != nil {
		return s.token
	}
	return nil
}

// Running is the number of scripts running now.
func (e *Engine) Running() int {
	n := 0
	e.eachState(func(st *State) {
		st.mu.Lock()
		if st.cur != nil {
			n++
		}
		st.mu.Unlock()
	})
	return n
}

// getState takes a state from the pool of its kind. A state dropped by
// the pool (sync.Pool empties at GC) stays in e.states and is taken from
// there before a new one is built, so states are built only when more
// scripts run at once than ever before; owned keeps a state handed out
// once.
func (e *Engine) getState(eval bool) *State {
	p := &e.evals
	if !eval {
		p = &e.funcs
	}
	for {
		x, _ := p.Get().(*State)
		if x == nil {
			break
		}
		if x.owned.CompareAndSwap(false, true) {
			return e.refresh(x)
		}
	}
	e.mu.Lock()
	for _, x := range e.states {
		if x.evalMode == eval && x.owned.CompareAndSwap(false, true) {
			e.mu.Unlock()
			return e.refresh(x)
		}
	}
	e.mu.Unlock()
	st := newState(e, eval)
	st.gen = e.gen.Load()
	st.owned.Store(true)
	e.created.Add(1)
	e.mu.Lock()
	e.states = append(e.states, st)
	e.mu.Unlock()
	return st
}

// refresh drops a pooled state's functions after SCRIPT FLUSH and
// follows a change of personality.
func (e *Engine) refresh(x *State) *State {
	if g := e.gen.Load(); x.gen != g {
		clear(x.fns)
		x.gen = g
	}
	if v := e.version(); v != x.version {
		x.setVersion(x.redis, v)
	}
	return x
}

func (e *Engine) putState(st *State) {
	st.run = nil
	st.L.SetTop(0)
	st.owned.Store(false)
	if st.evalMode {
		e.evals.Put(st)
	} else {
		e.funcs.Put(st)
	}
}

// begin records r as st's run, for KILL, STATS and the watchdog.
func (st *State) begin(r *Run) {
	r.resp = 2
	if r.ClientResp == 0 {
		r.ClientResp = 2
	}
	st.run = r
	if !st.evalMode {
		st.slab = nil // see box.go
	}
	st.mu.Lock()
	st.cur, st.watched = r, false
	st.mu.Unlock()
	e := st.eng
	if !e.watching.Load() && e.watching.CompareAndSwap(false, true) {
		go e.watch()
	}
}

// finish ends the run and puts the state back in its pool.
func (st *State) finish() {
	st.end()
	st.eng.putState(st)
}

// end clears the run; a context that was stopped, or that coroutines
// derived contexts from, is replaced for the next run.
func (st *State) end() {
	st.mu.Lock()
	st.cur = nil
	if st.stopped || st.threads {
		st.cancel(nil)
		st.newContext()
	}
	st.mu.Unlock()
}

// newContext gives st a fresh context (under st.mu, or before st is shared).
func (st *State) newContext() {
	st.ctx, st.cancel = context.WithCancelCause(context.Background())
	st.stopped, st.threads = false, false
}

// stopLocked stops the run in progress with cause (under st.mu).
func (st *State) stopLocked(cause error) {
	if !st.stopped {
		st.stopped = true
		st.cancel(cause)
	}
}

// Eval runs sc with KEYS and ARGV and appends its reply (a RESP reply in
// r.ClientResp) to dst (luaCallFunction in EVAL mode).
func (e *Engine) Eval(dst []byte, sc *Script, r *Run, keys, args [][]byte) []byte {
	st := e.getState(true)
	if r.Name == "" {
		r.Name = sc.SHA
	}
	fn := st.fns[sc]
	if fn == nil {
		fn = st.L.NewFunctionFromProto(sc.proto)
		fn.Env = st.proxy
		if !sc.setsGlobals {
			fn.Env = st.g // see setsGlobals
		}
		st.fns[sc] = fn
	}
	// KEYS and ARGV stay set between runs: an EVAL script cannot keep a
	// reference to them past its run (globals are read-only), so the
	// tables are refilled, unless the script changed them beyond their
	// elements.
	all := joinArgs(keys, args)
	off := st.refill("KEYS", &st.keys, &st.nkeys, keys, all, 0)
	st.refill("ARGV", &st.argv, &st.nargv, args, all, off)
	st.begin(r)
	defer st.finish() // open-coded: no allocation
	return st.call(dst, r, fn, 0)
}

// call runs fn (with nargs arguments already pushed after it) under the
// run's limits and appends the reply or the wrapped error.
func (st *State) call(dst []byte, r *Run, fn *lua.LFunction, nargs int) []byte {
	L := st.L
	L.SetContext(st.ctx)
	L.Insert(fn, L.GetTop()-nargs+1)
	err := L.PCall(nargs, 1, st.errh)
	L.RemoveContext()
	if err != nil {
		return st.appendRunError(dst, r, errObject(err))
	}
	v := L.Get(-1)
	L.Pop(1)
	return Encoder{ClientResp: r.ClientResp, ScriptResp: r.resp}.Append(dst, v)
}

// appendRunError formats a failed run as luaCallFunction does:
// "-<err> script: <name>, on <source>:<line>.".
func (st *State) appendRunError(dst []byte, r *Run, obj lua.LValue) []byte {
	var msg, source, line string
	hasMsg := false
	t, ok := obj.(*lua.LTable)
	if !ok {
		if s, isStr := obj.(lua.LString); isStr {
			msg, hasMsg = "ERR "+string(s), true
		}
	} else {
		if s, isStr := t.RawGetString("err").(lua.LString); isStr {
			msg, hasMsg = string(s), true
		}
		if s, isStr := t.RawGetString("source").(lua.LString); isStr {
			source = string(s)
		}
		switch l := t.RawGetString("line").(type) {
		case lua.LNumber:
			line = strconv.FormatInt(int64(l), 10)
		case lua.LString:
			line = string(l)
		}
	}
	if cause := context.Cause(st.ctx); cause != nil && st.ctx.Err() != nil {
		msg, hasMsg = "ERR "+cause.Error(), true
		switch cause {
		case errTimeLimit:
			msg = fmt.Sprintf("ERR vdr: script stopped after running longer than lua-time-limit (%d ms)", st.eng.timeLimit().Milliseconds())
		case errMemory:
			msg = fmt.Sprintf("ERR vdr: script stopped after allocating more than %d bytes", st.eng.maxAlloc())
		}
	}
	if !hasMsg {
		msg = "ERR Error running script " + r.Name + ", execution failure"
	}
	if msg == "ERR lua callstack overflow" {
		// gopher-lua's call stack ran out (Lua's LUAI_MAXCALLS "stack
		// overflow"); the error handler could not run, so no line.
		msg = "ERR stack overflow"
	}
	final := "-" + msg
	if line != "" && source != "" {
		final += " script: " + r.Name + ", on " + source + ":" + line + "."
	}
	return appendError(dst, final)
}

// joinArgs copies the bytes of every item of a and b into one string, so
// that KEYS and ARGV cost one copy however many there are.
func joinArgs(a, b [][]byte) string {
	n := 0
	for _, x := range a {
		n += len(x)
	}
	for _, x := range b {
		n += len(x)
	}
	if n == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, x := range a {
		sb.Write(x)
	}
	for _, x := range b {
		sb.Write(x)
	}
	return sb.String()
}

// strTable returns a new table of items, whose bytes start at all[off:]
// (see joinArgs), and the offset after them.
func (st *State) strTable(items [][]byte, all string, off int) (*lua.LTable, int) {
	t := st.L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, st.str(all[off:off+len(it)]))
		off += len(it)
	}
	return t, off
}

// boxedInts are small integers as Lua values (boxing a float64 above 0
// allocates).
var boxedInts = func() (b [256]lua.LValue) {
	for i := range b {
		b[i] = lua.LNumber(i)
	}
	return b
}()

// onlyArray reports whether t holds nothing but its elements 1..n (and
// nils after them), and has no metatable: a KEYS or ARGV table the
// script did not change in shape.
func onlyArray(t *lua.LTable, n int) bool {
	if t.Metatable != lua.LNil {
		return false
	}
	var k lua.LValue = lua.LNil
	if n > 0 {
		if n >= len(boxedInts) {
			return false
		}
		k = boxedInts[n]
	}
	next, _ := t.Next(k)
	return next == lua.LNil
}

// refill sets the global name (KEYS or ARGV) to a table of items, whose
// bytes start at all[off:]: the table of the previous run, refilled, when
// the script left it as it was given (see Eval), else a new one. prev is
// the previous run's element count; it returns the new count and offset.
func (st *State) refill(name string, t **lua.LTable, prev *int, items [][]byte, all string, off int) int {
	if *t == nil || !onlyArray(*t, *prev) {
		*t, off = st.strTable(items, all, off)
		st.g.RawSetString(name, *t)
		*prev = len(items)
		return off
	}
	tb := *t
	for i, it := range items {
		tb.RawSetInt(i+1, st.str(all[off:off+len(it)]))
		off += len(it)
	}
	for i := len(items) + 1; i <= *prev; i++ {
		tb.RawSetInt(i, lua.LNil)
	}
	*prev = len(items)
	return off
}

// redisCall is luaRedisGenericCommand: redis.call raises a command's
// error, redis.pcall returns it as a table.
func (st *State) redisCall(L *lua.LState, raise bool) int {
	r := st.run
	if r == nil {
		raiseError(L, "redis.call/pcall can only be called inside a script invocation")
	}
	argv, ok := st.luaArgs(L)
	if !ok {
		if raise {
			L.Error(L.Get(-1), 0)
		}
		return 1
	}
	reply, refused := r.Host.Call(argv, r.resp)
	if refused != "" {
		t := errorTable(L, refused)
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	rp := replyParser{L: L, st: st, whole: reply}
	v, _, err := rp.parse(reply)
	if err != nil {
		raiseError(L, "vdr: could not read the reply of "+string(argv[0]))
	}
	if raise && len(reply) > 0 && reply[0] == '-' {
		L.Error(v, 0)
	}
	L.Push(v)
	return 1
}
