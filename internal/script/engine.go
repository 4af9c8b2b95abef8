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
	return lua.Compile(chunk, name)
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
	return &Script{SHA: Sha1Hex([]byte(body)), Body: body, Flags: flags, proto: proto}, nil
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

// Run is one script invocation.
type Run struct {
	Host       Host
	Log        *slog.Logger
	ClientResp int      // the caller's protocol
	Name       string   // the SHA1 (EVAL) or function name (FCALL) errors name
	Argv       [][]byte // the command that started the run (FUNCTION STATS)
	eval       bool
	resp       int // redis.setresp
	eng        *Engine
	ctx        context.Context
	cancel     context.CancelCauseFunc
	start      time.Time
	// Set by the memory watchdog under Engine.mu.
	watched   bool
	allocBase uint64
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

	mu       sync.Mutex
	scripts  map[string]*Script
	gen      atomic.Int64 // bumped by Flush; states drop older functions
	running  map[*Run]struct{}
	watching bool // the memory watchdog runs
	evals    sync.Pool
	funcs    sync.Pool
	rand     rand48
	libs     atomic.Pointer[libSet]
}

// NewEngine returns an engine with an empty script cache.
func NewEngine() *Engine {
	return &Engine{scripts: map[string]*Script{}, running: map[*Run]struct{}{}}
}

func (e *Engine) version() string {
	if e.Version != nil {
		return e.Version()
	}
	return "7.0.15"
}

func (e *Engine) timeLimit() time.Duration {
	if e.TimeLimit > 0 {
		return e.TimeLimit
	}
	return 5 * time.Second
}

// Lookup returns the cached script with this SHA1 (any case), or nil.
func (e *Engine) Lookup(sha string) *Script {
	if len(sha) != 40 {
		return nil
	}
	sha = strings.ToLower(sha)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.scripts[sha]
}

// Load compiles body unless it is cached, and caches it (SCRIPT LOAD, EVAL).
func (e *Engine) Load(body []byte) (*Script, error) {
	sha := Sha1Hex(body)
	e.mu.Lock()
	sc := e.scripts[sha]
	e.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	sc, err := Compile(string(body))
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.scripts[sha]; old != nil {
		return old, nil
	}
	e.scripts[sha] = sc
	return sc, nil
}

// Flush empties the script cache (SCRIPT FLUSH).
func (e *Engine) Flush() {
	e.mu.Lock()
	e.scripts = map[string]*Script{}
	e.mu.Unlock()
	e.gen.Add(1)
}

// Len is the number of cached scripts.
func (e *Engine) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.scripts)
}

// Kill stops the running scripts of one kind (SCRIPT KILL for EVAL,
// FUNCTION KILL for functions). It reports whether any was running, and
// whether a script of the other kind was (Redis's slowscripterr /
// slowevalerr cases).
func (e *Engine) Kill(eval bool) (killed, otherKind bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for r := range e.running {
		if r.eval != eval {
			otherKind = true
			continue
		}
		if eval {
			r.cancel(errKilledEval)
		} else {
			r.cancel(errKilledFunc)
		}
		killed = true
	}
	return killed, otherKind
}

// RunningFunction describes one running function (FUNCTION STATS).
func (e *Engine) RunningFunction() (name string, argv [][]byte, elapsed time.Duration, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for r := range e.running {
		if !r.eval {
			return r.Name, r.Argv, time.Since(r.start), true
		}
	}
	return "", nil, 0, false
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
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.running)
}

func (e *Engine) getState(eval bool) *State {
	p := &e.evals
	if !eval {
		p = &e.funcs
	}
	if x, ok := p.Get().(*State); ok {
		if g := e.gen.Load(); x.gen != g {
			clear(x.fns)
			x.gen = g
		}
		if v := e.version(); v != x.version {
			x.setVersion(x.redis, v)
		}
		return x
	}
	st := newState(e, eval)
	st.gen = e.gen.Load()
	return st
}

func (e *Engine) putState(st *State, eval bool) {
	st.run = nil
	st.L.SetTop(0)
	if eval {
		e.evals.Put(st)
	} else {
		e.funcs.Put(st)
	}
}

func (e *Engine) begin(r *Run, eval bool) {
	r.eng, r.eval, r.resp, r.start = e, eval, 2, time.Now()
	if r.ClientResp == 0 {
		r.ClientResp = 2
	}
	r.ctx, r.cancel = context.WithCancelCause(context.Background())
	e.mu.Lock()
	e.running[r] = struct{}{}
	if !e.watching {
		e.watching = true
		go e.watch()
	}
	e.mu.Unlock()
}

func (e *Engine) end(r *Run) {
	e.mu.Lock()
	delete(e.running, r)
	e.mu.Unlock()
	r.cancel(nil)
}

// Eval runs sc with KEYS and ARGV and appends its reply (a RESP reply in
// r.ClientResp) to dst (luaCallFunction in EVAL mode).
func (e *Engine) Eval(dst []byte, sc *Script, r *Run, keys, args [][]byte) []byte {
	st := e.getState(true)
	defer e.putState(st, true)
	if r.Name == "" {
		r.Name = sc.SHA
	}
	e.begin(r, true)
	defer e.end(r)
	fn := st.fns[sc]
	if fn == nil {
		fn = st.L.NewFunctionFromProto(sc.proto)
		st.fns[sc] = fn
	}
	fn.Env = st.proxy
	st.g.RawSetString("KEYS", strTable(st.L, keys))
	st.g.RawSetString("ARGV", strTable(st.L, args))
	defer func() {
		st.g.RawSetString("KEYS", lua.LNil)
		st.g.RawSetString("ARGV", lua.LNil)
	}()
	return st.call(dst, r, fn, 0)
}

// call runs fn (with nargs arguments already pushed after it) under the
// run's limits and appends the reply or the wrapped error.
func (st *State) call(dst []byte, r *Run, fn *lua.LFunction, nargs int) []byte {
	L := st.L
	st.run = r
	L.SetContext(r.ctx)
	defer L.RemoveContext()
	L.Insert(fn, L.GetTop()-nargs+1)
	err := L.PCall(nargs, 1, st.errh)
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
	if cause := context.Cause(r.ctx); cause != nil && r.ctx.Err() != nil {
		msg, hasMsg = "ERR "+cause.Error(), true
		switch cause {
		case errTimeLimit:
			msg = fmt.Sprintf("ERR vdr: script stopped after running longer than lua-time-limit (%d ms)", r.eng.timeLimit().Milliseconds())
		case errMemory:
			msg = fmt.Sprintf("ERR vdr: script stopped after allocating more than %d bytes", r.eng.maxAlloc())
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

func strTable(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, lua.LString(it))
	}
	return t
}

// redisCall is luaRedisGenericCommand: redis.call raises a command's
// error, redis.pcall returns it as a table.
func (st *State) redisCall(L *lua.LState, raise bool) int {
	r := st.run
	if r == nil {
		raiseError(L, "redis.call/pcall can only be called inside a script invocation")
	}
	argv, ok := luaArgs(L)
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
	v, _, err := ReplyToLua(L, reply)
	if err != nil {
		raiseError(L, "vdr: could not read the reply of "+string(argv[0]))
	}
	if raise && len(reply) > 0 && reply[0] == '-' {
		L.Error(v, 0)
	}
	L.Push(v)
	return 1
}
