package commands

import (
	"sync"
	"sync/atomic"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/script"
)

// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO
// and FUNCTION STATS/KILL/DUMP (src/eval.c, src/functions.c), on the Lua
// sandbox of internal/script.
//
// A script runs as a replica runs it: the whole script inside one
// c.atomically (one projection view of every database, so no write applied
// from the link becomes visible halfway); redis.call goes through the
// command table and the handlers into a scratch Writer, and its reply is
// parsed back into Lua, so every reply is the command's own. Writes are
// refused as on a read-only replica: -READONLY from a script that may
// write (Redis's processCommand judges EVAL by its shebang flags),
// "Write commands are not allowed from read-only scripts." from _RO and
// no-writes scripts.
//
// Scripts do not make the server BUSY: a script runs on the goroutine of
// its connection — its epoll event loop, or its own goroutine with
// EventLoopsDisabled — so connections of the other event loops keep being
// served meanwhile and scripts on different loops run in parallel;
// connections sharing the script's event loop wait for it, as every
// command of a loop runs in turn. There is no BUSY reply: answering BUSY
// from every loop would stall all clients, where Redis has no choice
// (one thread). A script holds a read view of the whole projection,
// which makes the replication applier wait, so instead of letting it run
// past lua-time-limit (5 s) as Redis does, vdr stops it then with an
// error; SCRIPT KILL / FUNCTION KILL stop the running scripts at any time.

func init() {
	for name, h := range map[string]HandlerFunc{
		"eval":           evalCommand,
		"evalsha":        evalCommand,
		"eval_ro":        evalCommand,
		"evalsha_ro":     evalCommand,
		"fcall":          fcallCommand,
		"fcall_ro":       fcallCommand,
		"script|load":    scriptLoadCommand,
		"script|exists":  scriptExistsCommand,
		"script|flush":   scriptFlushCommand,
		"script|kill":    scriptKillCommand,
		"script|help":    func(c *Ctx, args [][]byte) { writeHelp(c, "script") },
		"script|debug":   scriptDebugCommand,
		"function|stats": functionStatsCommand,
		"function|kill":  functionKillCommand,
		"function|dump":  functionDumpCommand,
		"function|help":  func(c *Ctx, args [][]byte) { writeHelp(c, "function") },
	} {
		dataHandlers[name] = h
	}
}

// Scripts returns the server's script engine (one script cache and one
// set of Lua state pools per server), created on first use.
func (e *Env) Scripts() *script.Engine {
	if eng := e.scripts.Load(); eng != nil {
		return eng
	}
	eng := script.NewEngine()
	type named struct {
		v    compat.Version
		name string
	}
	var last atomic.Pointer[named]
	eng.Version = func() string {
		v := e.Version.Load()
		if n := last.Load(); n != nil && n.v == v {
			return n.name
		}
		n := &named{v, v.RedisVersion()}
		last.Store(n)
		return n.name
	}
	if !e.scripts.CompareAndSwap(nil, eng) {
		return e.scripts.Load()
	}
	return eng
}

// isScriptCommand names the commands whose flags depend on the script
// they run (evalGetCommandFlags, fcallGetCommandFlags).
func isScriptCommand(name string) bool {
	switch name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

// scriptCommandFlags is getCommandFlags for the script commands: a script
// with a shebang (or a function) replaces the command's write, deny-oom
// and stale flags with what its flags declare (scriptFlagsToCmdFlags).
func (c *Ctx) scriptCommandFlags(cmd *Command, args [][]byte) CmdFlag {
	flags := cmd.Flags
	if len(args) < 2 {
		return flags
	}
	eng := c.Env.Scripts()
	var sf script.Flags
	switch cmd.Name {
	case "eval", "eval_ro":
		if sc := eng.LookupBody(args[1]); sc != nil {
			sf = sc.Flags
		} else {
			f, _, err := script.ShebangFlags(string(args[1]))
			if err != nil {
				return flags
			}
			sf = f
		}
	case "evalsha", "evalsha_ro":
		sc := eng.LookupBytes(args[1])
		if sc == nil {
			return flags
		}
		sf = sc.Flags
	default:
		c.syncLibraries()
		f := eng.LookupFunctionBytes(args[1])
		if f == nil {
			return flags
		}
		sf = f.Flags
	}
	if sf&script.FlagCompat != 0 {
		return flags
	}
	flags &^= CmdStale | CmdDenyoom | CmdWrite | CmdMayReplicate
	if sf&(script.FlagAllowOOM|script.FlagNoWrites) == 0 {
		flags |= CmdDenyoom
	}
	if sf&script.FlagNoWrites == 0 {
		flags |= CmdWrite
	}
	if sf&script.FlagAllowStale != 0 {
		flags |= CmdStale
	}
	return flags
}

// scriptNumKeys parses numkeys as evalGenericCommand does (FCALL has its
// own error for a non-number).
func (c *Ctx) scriptNumKeys(args [][]byte, notNumber string) (int, bool) {
	n, ok := parseInt(args[2])
	if !ok {
		c.W.Error(notNumber)
		return 0, false
	}
	if n > int64(len(args)-3) {
		c.W.Error("ERR Number of keys can't be greater than number of args")
		return 0, false
	}
	if n < 0 {
		c.W.Error("ERR Number of keys can't be negative")
		return 0, false
	}
	return int(n), true
}

func evalCommand(c *Ctx, args [][]byte) {
	name := c.cmd.Name
	evalsha := name == "evalsha" || name == "evalsha_ro"
	ro := name == "eval_ro" || name == "evalsha_ro"
	eng := c.Env.Scripts()
	if evalsha && len(args[1]) != 40 {
		c.W.Error("NOSCRIPT No matching script. Please use EVAL.")
		return
	}
	numkeys, ok := c.scriptNumKeys(args, errNotInteger)
	if !ok {
		return
	}
	var sc *script.Script
	if evalsha {
		if sc = eng.LookupBytes(args[1]); sc == nil {
			c.W.Error("NOSCRIPT No matching script. Please use EVAL.")
			return
		}
	} else {
		var err error
		if sc, err = eng.Load(args[1]); err != nil {
			c.W.Error("ERR " + err.Error())
			return
		}
	}
	if !c.scriptPrepare(sc.Flags, ro) {
		return
	}
	h := c.scriptHost(args, ro || sc.Flags&(script.FlagCompat|script.FlagNoWrites) == script.FlagNoWrites)
	h.sc, h.keys, h.args = sc, args[3:3+numkeys], args[3+numkeys:]
	c.runScript(h)
}

// scriptPrepare is scriptPrepareForRun's checks, as they fall on a
// read-only replica with cluster mode off.
func (c *Ctx) scriptPrepare(sf script.Flags, ro bool) bool {
	_, stale := c.linkState()
	if sf&script.FlagCompat != 0 {
		if stale {
			c.W.Error(errMasterDown)
			return false
		}
		return true
	}
	if stale && sf&script.FlagAllowStale == 0 {
		c.W.Error("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.")
		return false
	}
	if sf&script.FlagNoWrites == 0 {
		c.W.Error("READONLY Can not run script with write flag on readonly replica")
		return false
	}
	return true
}

// scriptHosts pools the per-run state of the script commands (the host,
// its Run and the scratch Writer redis.call's replies go through), so a
// run allocates none of them.
var scriptHosts = sync.Pool{New: func() any { return new(scriptHost) }}

// maxPooledScratch drops a scratch Writer grown past it (a big reply)
// rather than pool it.
const maxPooledScratch = 64 << 10

// scriptHost takes a host for one run of c's command args.
func (c *Ctx) scriptHost(args [][]byte, readOnly bool) *scriptHost {
	h := scriptHosts.Get().(*scriptHost)
	h.c, h.readOnly = c, readOnly
	h.run = script.Run{Host: h, ClientResp: c.W.Resp, Argv: args, Log: c.Env.Logger}
	return h
}

// runScript runs h's script (h.sc, or the function h.fn) inside one
// consistent view, then puts h back in the pool.
func (c *Ctx) runScript(h *scriptHost) {
	db := c.Client.DB()
	self := c.cmd
	c.atomically(h.runInView)
	// SELECT inside a script changes the script's database only.
	c.Client.mu.Lock()
	c.Client.db = db
	c.Client.mu.Unlock()
	c.cmd = self
	c.Client.lastCmd.Store(self)
	if cap(h.w.b) > maxPooledScratch {
		h.w.b = nil
	}
	*h = scriptHost{w: h.w}
	scriptHosts.Put(h)
}

// runInView runs the script and appends its reply to the client's Writer.
func (h *scriptHost) runInView() {
	c := h.c
	eng := c.Env.Scripts()
	if h.fn != nil {
		c.W.b = eng.Call(c.W.b, h.fn, &h.run, h.keys, h.args)
	} else {
		c.W.b = eng.Eval(c.W.b, h.sc, &h.run, h.keys, h.args)
	}
}

// scriptHost runs redis.call's commands for one script (scriptCall in
// src/script.c).
type scriptHost struct {
	c          *Ctx
	readOnly   bool
	w          Writer
	sub        Ctx
	run        script.Run
	sc         *script.Script   // the EVAL script, or
	fn         *script.Function // the function to run
	keys, args [][]byte
}

// Call implements script.Host.
func (h *scriptHost) Call(argv [][]byte, resp int) ([]byte, string) {
	c := h.c
	cmd, _ := c.lookupCommand(argv)
	if cmd == nil {
		return nil, "Unknown Redis command called from script"
	}
	if msg := h.refusal(cmd, argv); msg != "" {
		// A known command the script may not run counts as rejected
		// (scriptCall's error path in src/script.c).
		c.recordReject(cmd)
		return nil, msg
	}
	h.w.Reset()
	h.w.Resp = resp
	h.sub = Ctx{W: &h.w, Client: c.Client, Env: c.Env, tx: c.tx, inScript: true}
	c.Client.nCmds++
	h.sub.call(cmd, argv)
	return h.w.b, ""
}

// refusal returns why the script may not run cmd, or "".
func (h *scriptHost) refusal(cmd *Command, argv [][]byte) string {
	c := h.c
	if !cmd.arityOK(len(argv)) {
		return "Wrong number of args calling Redis command from script"
	}
	if cmd.Flags&CmdNoscript != 0 {
		return "This Redis command is not allowed from script"
	}
	if _, stale := c.linkState(); stale && cmd.Flags&CmdStale == 0 {
		return "Can not execute the command on a stale replica"
	}
	if msg := c.aclScriptCheck(cmd, argv); msg != "" {
		return msg
	}
	if h.readOnly && cmd.Flags&(CmdWrite|CmdMayReplicate) != 0 {
		return "Write commands are not allowed from read-only scripts."
	}
	if cmd.Flags&CmdWrite != 0 {
		return "-" + errReadonly
	}
	return ""
}

// CommandExists implements script.Host.
func (h *scriptHost) CommandExists(argv [][]byte) bool {
	cmd, _ := h.c.lookupCommand(argv)
	return cmd != nil
}

// ---- SCRIPT ----

func scriptLoadCommand(c *Ctx, args [][]byte) {
	if len(args) != 3 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'load'. Try SCRIPT HELP.")
		return
	}
	sc, err := c.Env.Scripts().Load(args[2])
	if err != nil {
		c.W.Error("ERR " + err.Error())
		return
	}
	c.W.BulkString(sc.SHA)
}

func scriptExistsCommand(c *Ctx, args [][]byte) {
	eng := c.Env.Scripts()
	c.W.Array(len(args) - 2)
	for _, a := range args[2:] {
		// The cache's dict compares SHAs case-insensitively.
		if eng.LookupBytes(a) != nil {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func scriptFlushCommand(c *Ctx, args [][]byte) {
	switch {
	case len(args) == 2:
	case len(args) == 3 && (equalFold(args[2], "sync") || equalFold(args[2], "async")):
	default:
		c.W.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	c.Env.Scripts().Flush()
	c.W.OK()
}

func scriptKillCommand(c *Ctx, args [][]byte) {
	if len(args) != 2 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'kill'. Try SCRIPT HELP.")
		return
	}
	killScripts(c, true)
}

func functionKillCommand(c *Ctx, args [][]byte) { killScripts(c, false) }

// killScripts is scriptKill: vdr runs scripts in parallel, so it stops
// every running script of the kind named.
func killScripts(c *Ctx, eval bool) {
	killed, other := c.Env.Scripts().Kill(eval)
	switch {
	case killed:
		c.W.OK()
	case other && eval:
		c.W.Error("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
	case other:
		c.W.Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
	default:
		c.W.Error("NOTBUSY No scripts in execution right now.")
	}
}

func scriptDebugCommand(c *Ctx, args [][]byte) {
	if len(args) != 3 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'debug'. Try SCRIPT HELP.")
		return
	}
	switch {
	case equalFold(args[2], "no"):
		c.W.OK()
	case equalFold(args[2], "yes"), equalFold(args[2], "sync"):
		c.W.Error("ERR vdr: SCRIPT DEBUG (the Lua debugger) is not supported")
	default:
		c.W.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
	}
}

// ---- FCALL / FUNCTION ----

// syncLibraries loads the projection's function libraries into the
// script engine when they changed since the last call.
func (c *Ctx) syncLibraries() bool {
	eng := c.Env.Scripts()
	if c.Env.Proj == nil {
		return true
	}
	tok := c.Env.Proj.LibrariesToken()
	if eng.LibrariesToken() == tok {
		return true
	}
	libs, err := c.Env.Proj.Libraries()
	if err != nil {
		return false
	}
	codes := make([]script.LibCode, len(libs))
	for i, l := range libs {
		codes[i] = script.LibCode{Name: l.Name, Code: l.Code}
	}
	eng.SetLibraries(tok, codes)
	return true
}

func fcallCommand(c *Ctx, args [][]byte) {
	ro := c.cmd.Name == "fcall_ro"
	eng := c.Env.Scripts()
	if !c.syncLibraries() {
		c.W.Error("ERR vdr: a function library sent by the primary could not be read")
		return
	}
	f := eng.LookupFunctionBytes(args[1])
	if f == nil {
		c.W.Error("ERR Function not found")
		return
	}
	n, ok := parseInt(args[2])
	if !ok {
		// getLongLongFromObject accepts what string2ll does.
		c.W.Error("ERR Bad number of keys provided")
		return
	}
	if n > int64(len(args)-3) {
		c.W.Error("ERR Number of keys can't be greater than number of args")
		return
	}
	if n < 0 {
		c.W.Error("ERR Number of keys can't be negative")
		return
	}
	numkeys := int(n)
	if !c.scriptPrepare(f.Flags, ro) {
		return
	}
	h := c.scriptHost(args, ro || f.Flags&script.FlagNoWrites != 0)
	h.fn, h.keys, h.args = f, args[3:3+numkeys], args[3+numkeys:]
	c.runScript(h)
}

// functionStatsCommand is FUNCTION STATS. Scripts do not make vdr busy,
// so it never answers BUSY; running_script shows one running function.
func functionStatsCommand(c *Ctx, args [][]byte) {
	if !c.syncLibraries() {
		c.W.Error("ERR vdr: a function library sent by the primary could not be read")
		return
	}
	eng := c.Env.Scripts()
	c.W.Map(2)
	c.W.BulkString("running_script")
	if name, argv, dur, ok := eng.RunningFunction(); ok {
		c.W.Map(3)
		c.W.BulkString("name")
		c.W.BulkString(name)
		c.W.BulkString("command")
		c.W.Array(len(argv))
		for _, a := range argv {
			c.W.Bulk(a)
		}
		c.W.BulkString("duration_ms")
		c.W.Int(dur.Milliseconds())
	} else {
		c.W.Null()
	}
	nLibs, nFuncs := 0, 0
	for _, l := range eng.Libraries() {
		nLibs++
		nFuncs += len(l.Functions)
	}
	c.W.BulkString("engines")
	c.W.Map(1)
	c.W.BulkString("LUA")
	c.W.Map(2)
	c.W.BulkString("libraries_count")
	c.W.Int(int64(nLibs))
	c.W.BulkString("functions_count")
	c.W.Int(int64(nFuncs))
}
