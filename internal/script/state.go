package script

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Limits of one state, as Lua 5.1's where gopher-lua allows: LUAI_MAXCALLS
// is 20000 nested calls ("stack overflow" beyond) and LUAI_MAXCSTACK 8000
// stack slots for a Go function's arguments and results. The call stack
// grows on demand (MinimizeStackMemory), so a pooled state stays small
// until a script recurses deeply.
const (
	callStackSize   = 20000      // nested Lua calls
	registrySize    = 1024 * 4   // initial data stack slots
	registryMaxSize = 1024 * 256 // data stack slots a state may grow to
	maxUnpack       = 8000       // LUAI_MAXCSTACK: unpack's "too many results"
	// maxStringBytes bounds string.rep and friends: Redis's Lua would
	// try to allocate and fail with "not enough memory".
	maxStringBytes = 512 << 20
)

// errReadonly is what Redis's patched Lua raises on a write to a
// read-only table (lua_enablereadonlytable, src/script_lua.c).
const errReadonly = "Attempt to modify a readonly table"

// State is one sandboxed Lua state. A State runs one script at a time;
// Engine pools them.
type State struct {
	L        *lua.LState
	g        *lua.LTable            // the real globals
	proxy    *lua.LTable            // what scripts see as _G
	redis    *lua.LTable            // the real redis table
	libTabs  map[string]*lua.LTable // real library tables by global name
	proxyMT  *lua.LTable            // the metatable of proxy (its __index is g)
	loadG    *lua.LTable            // globals while a library loads
	libs     *libSet                // libraries loaded in fcalls
	fcalls   map[string]*lua.LFunction
	gen      int64                       // the Engine.gen fns belong to
	guarded  map[*lua.LTable]bool        // tables scripts may not modify
	real     map[*lua.LTable]*lua.LTable // proxy → the table it guards
	fns      map[*Script]*lua.LFunction
	run      *Run // the run in progress, nil between runs
	eng      *Engine
	evalMode bool        // an EVAL state (else a function state)
	owned    atomic.Bool // handed out by getState, not yet put back
	keys     *lua.LTable // KEYS, refilled by each EVAL (see refill)
	argv     *lua.LTable // ARGV
	nkeys    int         // elements of keys set by the last run
	nargv    int
	argBuf   [][]byte      // redis.call's argv, reused
	numBuf   []byte        // redis.call's numeric arguments, formatted
	numEnds  []int         // where each of them ends in numBuf
	slab     []lua.LString // string headers (see box.go)

	// mu guards what other goroutines read of the run in progress (KILL,
	// FUNCTION STATS, the watchdog).
	mu      sync.Mutex
	cur     *Run      // the run in progress
	start   time.Time // set by the watchdog (see watchOnce)
	watched bool      // the watchdog has recorded allocBase
	alloc0  uint64    // the process's allocations when the watchdog first saw the run
	// ctx stops the runs of this state: one context serves run after run
	// until one is stopped (stopped) or coroutines derived contexts from
	// it (threads), then end replaces it.
	ctx      context.Context
	cancel   context.CancelCauseFunc
	stopped  bool
	threads  bool
	version  string
	errh     *lua.LFunction
	identity *lua.LFunction // returns its argument (pcall's error function)
	pcalls   int            // pcall/xpcall nesting (Lua's nCcalls)
	// functions: set while a library's code is being loaded
	// (register_function collects into it).
	loading *libLoad
}

// newState builds a state as scriptingInit / luaRegisterRedisAPI do.
// maxArrayIndex bounds the integer keys gopher-lua keeps in a table's
// array part (its default, 2^26, fills the part up to any such key: one
// t[60000000] = 1, or a 7-byte cmsgpack payload, cost a gigabyte). Keys
// past it live in the hash part, which is what Lua 5.1 does with sparse
// keys anyway.
const maxArrayIndex = 1 << 20

func init() { lua.MaxArrayIndex = maxArrayIndex }

func newState(e *Engine, evalMode bool) *State {
	L := lua.NewState(lua.Options{
		CallStackSize:       callStackSize,
		RegistrySize:        registrySize,
		RegistryMaxSize:     registryMaxSize,
		RegistryGrowStep:    registrySize,
		MinimizeStackMemory: true,
		SkipOpenLibs:        true,
	})
	s := &State{L: L, g: L.G.Global, eng: e, evalMode: evalMode, libTabs: map[string]*lua.LTable{},
		guarded: map[*lua.LTable]bool{}, real: map[*lua.LTable]*lua.LTable{},
		fns:    map[*Script]*lua.LFunction{},
		fcalls: map[string]*lua.LFunction{}}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	openRedisLibs(L)
	s.newContext()
	g := s.g
	// Redis keeps only its allow-listed globals (luaNewIndexAllowList):
	// dofile, loadfile and print are dropped, and gopher-lua's extras.
	// Redis 7.0.15 has no getfenv, setfenv or newproxy either.
	for _, name := range []string{"dofile", "loadfile", "print", "module", "require", "_printregs", "channel", "package",
		"getfenv", "setfenv", "newproxy", "_GOPHER_LUA_VERSION"} {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 }))
	g.RawSetString("pcall", L.NewFunction(s.pcall))
	g.RawSetString("xpcall", L.NewFunction(s.xpcall))
	g.RawSetString("rawset", L.NewFunction(s.rawset))
	g.RawSetString("setmetatable", L.NewFunction(s.setmetatable))
	g.RawSetString("unpack", L.NewFunction(unpack))
	g.RawSetString("tostring", L.NewFunction(tostring))
	next := L.NewFunction(s.next)
	g.RawSetString("next", next)
	g.RawSetString("pairs", L.NewFunction(func(L *lua.LState) int {
		L.Push(next)
		L.Push(L.CheckTable(1))
		L.Push(lua.LNil)
		return 3
	}))
	g.RawSetString("rawget", L.NewFunction(func(L *lua.LState) int {
		L.Push(s.unwrap(L.CheckTable(1)).RawGet(L.CheckAny(2)))
		return 1
	}))
	if str, ok := g.RawGetString("string").(*lua.LTable); ok {
		str.RawSetString("rep", L.NewFunction(strRep))
		str.RawSetString("__index", lua.LNil) // gopher-lua's; strings get smt below
	}
	if tab, ok := g.RawGetString("table").(*lua.LTable); ok {
		tab.RawSetString("foreach", L.NewFunction(tableForeach))
		tab.RawSetString("foreachi", L.NewFunction(tableForeachi))
		tab.RawSetString("setn", L.NewFunction(func(L *lua.LState) int {
			L.CheckTable(1)
			L.RaiseError("'setn' is obsolete")
			return 0
		}))
	}
	// A coroutine's state derives a context from the state's: note it,
	// so that end gives the next run a fresh context instead of piling up
	// children in this one.
	if co, ok := g.RawGetString("coroutine").(*lua.LTable); ok {
		for _, name := range []string{"create", "wrap"} {
			if f, ok := co.RawGetString(name).(*lua.LFunction); ok && f.IsG {
				orig := f.GFunction
				co.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
					s.threads = true
					return orig(L)
				}))
			}
		}
	}
	if m, ok := g.RawGetString("math").(*lua.LTable); ok {
		m.RawSetString("random", L.NewFunction(s.mathRandom))
		m.RawSetString("randomseed", L.NewFunction(s.mathRandomseed))
		m.RawSetString("huge", lua.LNumber(math.Inf(1))) // gopher-lua has the largest finite double
	}
	s.registerRedis(e, evalMode)

	// Globals protection: the real globals error on a missing name
	// (luaSetErrorMetatable); scripts reach them through an empty proxy
	// whose writes fail (the read-only globals table).
	gmt := L.NewTable()
	gmt.RawSetString("__index", L.NewFunction(nonexistentGlobal))
	L.SetMetatable(g, gmt)
	for _, name := range []string{"redis", "string", "table", "math", "coroutine", "cjson", "cmsgpack", "bit", "struct"} {
		if t, ok := g.RawGetString(name).(*lua.LTable); ok {
			s.libTabs[name] = t
			p, _ := s.guard(t)
			g.RawSetString(name, p)
		}
	}
	// Strings index the real string table; getmetatable("") answers a
	// read-only view.
	if str := s.libTabs["string"]; str != nil {
		smt := L.NewTable()
		smt.RawSetString("__index", str)
		p, _ := s.guard(str)
		smt.RawSetString("__metatable", p)
		L.SetMetatable(lua.LString(""), smt)
	}
	if !evalMode {
		s.buildLoadGlobals(e)
	}
	s.proxy, s.proxyMT = s.guard(g)
	g.RawSetString("_G", s.proxy)
	L.G.Global = s.proxy
	L.Env = s.proxy
	s.errh = L.NewFunction(errorHandler)
	s.identity = L.NewFunction(func(L *lua.LState) int { L.SetTop(1); return 1 })
	g.RawSetString("__redis__err__handler", s.errh)
	return s
}

// guard returns an empty read-only proxy of t: reads fall through to t,
// writes raise errReadonly; getmetatable(proxy) answers a read-only view.
func (s *State) guard(t *lua.LTable) (proxy, meta *lua.LTable) {
	L := s.L
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(readonlyIndex))
	view := L.NewTable()
	vmt := L.NewTable()
	vmt.RawSetString("__index", mt)
	vmt.RawSetString("__newindex", L.NewFunction(readonlyIndex))
	view.RawSetString("__metatable", view)
	L.SetMetatable(view, vmt)
	mt.RawSetString("__metatable", view)
	L.SetMetatable(p, mt)
	for _, x := range []*lua.LTable{p, mt, view, vmt, t} {
		s.guarded[x] = true
	}
	s.real[p] = t
	s.real[view] = mt
	return p, mt
}

// buildLoadGlobals makes the globals a library's code sees while it loads
// (luaEngineInitEngine's LIBRARY_API_NAME table): only redis, holding
// register_function, log, the LOG_* levels and the version.
func (s *State) buildLoadGlobals(e *Engine) {
	L := s.L
	errMT := L.NewTable()
	errMT.RawSetString("__index", L.NewFunction(nonexistentGlobal))
	r := L.NewTable()
	r.RawSetString("register_function", L.NewFunction(s.registerFunction))
	r.RawSetString("log", L.NewFunction(s.redisLog))
	r.RawSetString("LOG_DEBUG", lua.LNumber(0))
	r.RawSetString("LOG_VERBOSE", lua.LNumber(1))
	r.RawSetString("LOG_NOTICE", lua.LNumber(2))
	r.RawSetString("LOG_WARNING", lua.LNumber(3))
	s.setVersion(r, e.version())
	L.SetMetatable(r, errMT)
	lg := L.NewTable()
	rp, _ := s.guard(r)
	lg.RawSetString("redis", rp)
	L.SetMetatable(lg, errMT)
	s.loadG = lg
}

func readonlyIndex(L *lua.LState) int {
	L.RaiseError(errReadonly)
	return 0
}

// nonexistentGlobal is luaProtectedTableError.
func nonexistentGlobal(L *lua.LState) int {
	L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
	return 0
}

// tableForeach and tableForeachi are Lua 5.1's deprecated table.foreach
// and table.foreachi (ltablib.c), which Redis's Lua still has.
func tableForeach(L *lua.LState) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	var ret lua.LValue = lua.LNil
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		L.Push(f)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		if ret = L.Get(-1); ret != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

func tableForeachi(L *lua.LState) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	n := t.Len()
	for i := 1; i <= n; i++ {
		L.Push(f)
		L.Push(lua.LNumber(i))
		L.Push(t.RawGetInt(i))
		L.Call(2, 1)
		if L.Get(-1) != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

// unwrap returns the table a read-only proxy stands for, so next, pairs
// and rawget see the library's (or the globals') fields.
func (s *State) unwrap(t *lua.LTable) *lua.LTable {
	if r := s.real[t]; r != nil {
		return r
	}
	return t
}

func (s *State) next(L *lua.LState) int {
	t := s.unwrap(L.CheckTable(1))
	k, v := t.Next(L.Get(2))
	if k == lua.LNil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(k)
	L.Push(v)
	return 2
}

// tostring formats numbers as Lua 5.1 does (LUAI_NUMFFORMAT "%.14g");
// gopher-lua's own uses Go's shortest form.
func tostring(L *lua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(formatG(float64(n), 14)))
		return 1
	}
	L.Push(L.ToStringMeta(v))
	return 1
}

// rawset refuses the protected tables as Redis's read-only tables do.
func (s *State) rawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if s.guarded[t] {
		L.Error(lua.LString(errReadonly), 0)
	}
	L.CheckAny(2)
	t.RawSet(L.Get(2), L.CheckAny(3))
	L.Push(t)
	return 1
}

func (s *State) setmetatable(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok && s.guarded[t] {
		L.Error(lua.LString(errReadonly), 0)
	}
	t := L.CheckTable(1)
	mt := L.Get(2)
	if m := L.GetMetatable(t); m != lua.LNil {
		if mm, ok := m.(*lua.LTable); ok && mm.RawGetString("__metatable") != lua.LNil {
			L.RaiseError("cannot change a protected metatable")
		}
	}
	if mt != lua.LNil {
		if _, ok := mt.(*lua.LTable); !ok {
			L.ArgError(2, "nil or table expected")
		}
	}
	L.SetMetatable(t, mt)
	L.SetTop(1)
	return 1
}

// unpack is Lua 5.1's, with its "too many results to unpack" bound.
func unpack(L *lua.LState) int {
	tb := L.CheckTable(1)
	start := L.OptInt(2, 1)
	end := L.OptInt(3, tb.Len())
	if start > end {
		return 0
	}
	n := int64(end) - int64(start) + 1
	// lua_checkstack(L, n): the arguments and the results share the
	// function's LUAI_MAXCSTACK slots.
	if n+int64(L.GetTop()) > maxUnpack {
		L.RaiseError("too many results to unpack")
	}
	for i := start; i <= end; i++ {
		L.Push(tb.RawGetInt(i))
	}
	return int(n)
}

func strRep(L *lua.LState) int {
	str := L.CheckString(1)
	n := L.CheckInt64(2)
	if n <= 0 || len(str) == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	if n > maxStringBytes || int64(len(str))*n > maxStringBytes {
		L.RaiseError("not enough memory")
	}
	b := make([]byte, 0, int64(len(str))*n)
	for i := int64(0); i < n; i++ {
		b = append(b, str...)
	}
	L.Push(lua.LString(b))
	return 1
}

// pcall is luaRedisPcall: an error table from redis.call is turned into
// its err string, as older Redis versions returned. A stopped script
// (SCRIPT KILL, time limit) cannot be caught.
func (s *State) pcall(L *lua.LState) int {
	L.CheckAny(1)
	if s.cStackFull(L) {
		return 2
	}
	defer func() { s.pcalls-- }()
	top := L.GetTop()
	// An error function, even this identity, spares gopher-lua building a
	// stack trace for every caught error (quadratic in a deep recursion of
	// pcalls).
	err := L.PCall(top-1, lua.MultRet, s.identity)
	s.rethrowIfStopped(err)
	if err != nil {
		obj := errObject(err)
		if t, ok := obj.(*lua.LTable); ok {
			if m, ok := t.RawGetString("err").(lua.LString); ok {
				obj = m
			}
		}
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

func (s *State) xpcall(L *lua.LState) int {
	fn := L.CheckFunction(1)
	errfunc := L.CheckFunction(2)
	if s.cStackFull(L) {
		return 2
	}
	defer func() { s.pcalls-- }()
	top := L.GetTop()
	L.Push(fn)
	err := L.PCall(0, lua.MultRet, errfunc)
	s.rethrowIfStopped(err)
	if err != nil {
		L.Push(lua.LFalse)
		L.Push(errObject(err))
		return 2
	}
	L.Insert(lua.LTrue, top+1)
	return L.GetTop() - top
}

// maxCCalls is LUAI_MAXCCALLS: Lua 5.1 fails the 200th nested C call
// (the script's own call counting as the first) with "C stack overflow".
// Nested pcalls are what reach it; bounding them also bounds the cost of
// unwinding a deep stack once per caught error.
const maxCCalls = 200

// cStackFull counts one more pcall level, or answers false, "C stack
// overflow" as the pcall that would exceed maxCCalls does.
func (s *State) cStackFull(L *lua.LState) bool {
	if s.pcalls+2 >= maxCCalls {
		L.Push(lua.LFalse)
		L.Push(lua.LString("C stack overflow"))
		return true
	}
	s.pcalls++
	return false
}

func errObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object
	}
	return lua.LString(err.Error())
}

// rethrowIfStopped re-raises an error caught by pcall when the run was
// stopped, as Redis's hook keeps raising after SCRIPT KILL.
func (s *State) rethrowIfStopped(err error) {
	if err == nil || s.run == nil || s.ctx.Err() == nil {
		return
	}
	s.L.Error(errObject(err), 0)
}

// errorHandler is __redis__err__handler (src/eval.c scriptingInit): it
// turns the error into a table and records where the script was, one
// level up when the error came from a Go function.
func errorHandler(L *lua.LState) int {
	e := L.Get(1)
	dbg, ok := L.GetStack(1)
	if ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.What == "G" {
			dbg, ok = L.GetStack(2)
			if ok {
				_, err = L.GetInfo("Sl", dbg, lua.LNil)
				ok = err == nil
			}
		}
	}
	t, isTable := e.(*lua.LTable)
	if !isTable {
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+lua.LVAsString(L.ToStringMeta(e))))
	}
	if ok && dbg.Source != "" {
		t.RawSetString("source", lua.LString("@"+dbg.Source))
		t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
	}
	L.Push(t)
	return 1
}

// registerRedis builds the redis table (luaRegisterRedisAPI, and
// scriptingInit's debugger entries for EVAL).
func (s *State) registerRedis(e *Engine, evalMode bool) {
	L := s.L
	r := L.NewTable()
	set := func(name string, fn lua.LGFunction) { r.RawSetString(name, L.NewFunction(fn)) }
	set("call", func(L *lua.LState) int { return s.redisCall(L, true) })
	set("pcall", func(L *lua.LState) int { return s.redisCall(L, false) })
	set("log", s.redisLog)
	r.RawSetString("LOG_DEBUG", lua.LNumber(0))
	r.RawSetString("LOG_VERBOSE", lua.LNumber(1))
	r.RawSetString("LOG_NOTICE", lua.LNumber(2))
	r.RawSetString("LOG_WARNING", lua.LNumber(3))
	s.setVersion(r, e.version())
	set("setresp", s.setresp)
	set("sha1hex", sha1hexFn)
	set("error_reply", errorReply)
	set("status_reply", statusReply)
	set("set_repl", s.setRepl)
	r.RawSetString("REPL_NONE", lua.LNumber(0))
	r.RawSetString("REPL_AOF", lua.LNumber(1))
	r.RawSetString("REPL_SLAVE", lua.LNumber(2))
	r.RawSetString("REPL_REPLICA", lua.LNumber(2))
	r.RawSetString("REPL_ALL", lua.LNumber(3))
	set("acl_check_cmd", s.aclCheckCmd)
	if evalMode {
		// No debugger session: breakpoint answers false, debug nothing.
		set("breakpoint", func(L *lua.LState) int { L.Push(lua.LFalse); return 1 })
		set("debug", func(L *lua.LState) int { return 0 })
		set("replicate_commands", func(L *lua.LState) int { L.Push(lua.LTrue); return 1 })
	}
	s.redis = r
	s.g.RawSetString("redis", r)
}

// setVersion sets REDIS_VERSION and REDIS_VERSION_NUM (luaRegisterVersion)
// for the personality vdr answers as.
func (s *State) setVersion(r *lua.LTable, v string) {
	s.version = v
	num := 0
	part, shift := 0, 16
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == '.' {
			if shift >= 0 {
				num |= (part & 0xff) << shift
			}
			part, shift = 0, shift-8
			continue
		}
		if v[i] >= '0' && v[i] <= '9' {
			part = part*10 + int(v[i]-'0')
		}
	}
	r.RawSetString("REDIS_VERSION_NUM", lua.LNumber(num))
	r.RawSetString("REDIS_VERSION", lua.LString(v))
}

func (s *State) requireRun(L *lua.LState, what string) *Run {
	if s.run == nil {
		pushError(L, what+" can only be called inside a script invocation")
		L.Error(L.Get(-1), 0)
	}
	return s.run
}

func (s *State) redisLog(L *lua.LState) int {
	argc := L.GetTop()
	if argc < 2 {
		raiseError(L, "redis.log() requires two arguments or more.")
	}
	if _, ok := L.Get(1).(lua.LNumber); !ok {
		if n, err := strconv.ParseFloat(L.ToString(1), 64); err != nil || L.Get(1).Type() != lua.LTString || math.IsNaN(n) {
			raiseError(L, "First argument must be a number (log level).")
		}
	}
	level := int(L.ToNumber(1))
	if level < 0 || level > 3 {
		raiseError(L, "Invalid debug level.")
	}
	var msg []byte
	for j := 2; j <= argc; j++ {
		v := L.Get(j)
		if v.Type() != lua.LTString && v.Type() != lua.LTNumber {
			continue
		}
		if j != 2 {
			msg = append(msg, ' ')
		}
		msg = append(msg, L.ToString(j)...)
	}
	lg := slog.Default()
	if s.run != nil && s.run.Log != nil {
		lg = s.run.Log
	}
	lv := [...]slog.Level{slog.LevelDebug, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn}[level]
	lg.Log(context.Background(), lv, string(msg), "source", "lua")
	return 0
}

func (s *State) setresp(L *lua.LState) int {
	r := s.requireRun(L, "redis.setresp")
	if L.GetTop() != 1 {
		raiseError(L, "redis.setresp() requires one argument.")
	}
	resp := int(L.ToNumber(1))
	if resp != 2 && resp != 3 {
		raiseError(L, "RESP version must be 2 or 3.")
	}
	r.resp = resp
	return 0
}

func (s *State) setRepl(L *lua.LState) int {
	s.requireRun(L, "redis.set_repl")
	if L.GetTop() != 1 {
		raiseError(L, "redis.set_repl() requires two arguments.")
	}
	flags := int(L.ToNumber(1))
	if flags&^3 != 0 {
		raiseError(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	// A replica propagates nothing: the flags are accepted and unused.
	return 0
}

func (s *State) aclCheckCmd(L *lua.LState) int {
	r := s.requireRun(L, "redis.acl_check_cmd")
	argv, ok := s.luaArgs(L)
	if !ok {
		L.Error(L.Get(-1), 0)
	}
	if !r.Host.CommandExists(argv) {
		raiseError(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	// vdr's single user may run every command.
	L.Push(lua.LTrue)
	return 1
}

func sha1hexFn(L *lua.LState) int {
	if L.GetTop() != 1 {
		raiseError(L, "wrong number of arguments")
	}
	var b []byte
	if v := L.Get(1); v.Type() == lua.LTString || v.Type() == lua.LTNumber {
		b = []byte(L.ToString(1))
	}
	sum := sha1.Sum(b)
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

func errorReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		pushError(L, "wrong number or type of arguments")
		return 1
	}
	msg := L.ToString(1)
	if len(msg) == 0 || msg[0] != '-' {
		msg = "-" + msg
	}
	pushError(L, msg)
	return 1
}

func statusReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		pushError(L, "wrong number or type of arguments")
		return 1
	}
	t := L.NewTable()
	t.RawSetString("ok", L.Get(1))
	L.Push(t)
	return 1
}

// errorTable builds the {err=…} table of luaPushErrorBuff: "-CODE msg"
// keeps its code, anything else gets "ERR"; trailing CR/LF trimmed.
func errorTable(L *lua.LState, e string) *lua.LTable {
	code, msg := "ERR", e
	if len(e) > 0 && e[0] == '-' {
		rest := e[1:]
		if i := indexByte(rest, ' '); i >= 0 {
			code, msg = rest[:i], rest[i+1:]
		} else {
			msg = rest
		}
	}
	msg = trimCRLF(msg)
	t := L.NewTable()
	t.RawSetString("err", lua.LString(code+" "+msg))
	return t
}

func pushError(L *lua.LState, e string) { L.Push(errorTable(L, e)) }

// raiseError is luaPushError + luaError.
func raiseError(L *lua.LState, e string) {
	L.Error(errorTable(L, e), 0)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// trimCRLF is sdstrim(s, "\r\n").
func trimCRLF(s string) string {
	for len(s) > 0 && (s[0] == '\r' || s[0] == '\n') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == '\r' || s[len(s)-1] == '\n') {
		s = s[:len(s)-1]
	}
	return s
}
