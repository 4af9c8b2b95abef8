package commands

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
)

// Shared error replies, word for word from Redis 7.0 (src/server.c
// createSharedObjects).
const (
	errWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errSyntax        = "ERR syntax error"
	errNotInteger    = "ERR value is not an integer or out of range"
	errNotFloat      = "ERR value is not a valid float"
	errNoAuth        = "NOAUTH Authentication required."
	errReadonly      = "READONLY You can't write against a read only replica."
	errMasterDown    = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
	errLoading       = "LOADING Redis is loading the dataset in memory"
	errExecAbort     = "EXECABORT Transaction discarded because of previous errors."
	errDBIndex       = "ERR DB index is out of range"
	errWrongPass     = "WRONGPASS invalid username-password pair or user is disabled."
	errNoSuchKey     = "ERR no such key"
	errOutOfRange    = "ERR index out of range"
	errMinMaxFloat   = "ERR min or max is not a float"
	errMinMaxLex     = "ERR min or max not valid string range item"
	errPositiveCount = "ERR value is out of range, must be positive"
)

// maxCommandName is the longest command name dispatch looks up; longer
// names cannot be commands (the longest Redis 7.0 name is 17 bytes).
const maxCommandName = 32

// lowerInto lower-cases name into buf and reports false when it does not
// fit. It lets dispatch look names up in a map without allocating: Go does
// not allocate for m[string(b)].
func lowerInto(buf *[maxCommandName]byte, name []byte) (int, bool) {
	if len(name) > maxCommandName {
		return 0, false
	}
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return len(name), true
}

// Lookup returns the command (or subcommand) args names in personality
// v's table, as Redis's lookupCommand does: a container with at least two
// arguments resolves to its subcommand. unknownSub is true when args[0] is
// a container but args[1] names none of its subcommands.
func Lookup(v compat.Version, args [][]byte) (cmd *Command, unknownSub bool) {
	return tableOf(v).lookup(args)
}

// lookupCommand is Lookup in the table of c's personality.
func (c *Ctx) lookupCommand(args [][]byte) (*Command, bool) {
	t := c.commands()
	// A pipeline mostly repeats one command: the last name a connection
	// looked up, spelled the same, in the same table, is that command
	// again (commands without subcommands only).
	lc := &c.lastLookup
	if lc.t == t && int(lc.n) == len(args[0]) && string(lc.name[:lc.n]) == string(args[0]) {
		return lc.cmd, false
	}
	cmd, sub := t.lookup(args)
	if cmd != nil && cmd.subs == nil && cmd.parent == nil && len(args[0]) <= maxCommandName {
		lc.t, lc.cmd, lc.n = t, cmd, uint8(copy(lc.name[:], args[0]))
	}
	return cmd, sub
}

// lookupMemo is the last command a Ctx looked up, by its name as sent.
type lookupMemo struct {
	t    *cmdTable
	cmd  *Command
	n    uint8
	name [maxCommandName]byte
}

func (t *cmdTable) lookup(args [][]byte) (cmd *Command, unknownSub bool) {
	var buf [maxCommandName]byte
	n, ok := lowerInto(&buf, args[0])
	if !ok {
		return nil, false
	}
	cmd = t.byName[string(buf[:n])]
	if cmd == nil || cmd.subs == nil || len(args) < 2 {
		return cmd, false
	}
	n, ok = lowerInto(&buf, args[1])
	if !ok {
		return nil, true
	}
	sub := cmd.subs[string(buf[:n])]
	if sub == nil {
		return nil, true
	}
	return sub, false
}

// unknownCommandError formats Redis 7.0's unknown-command error (see
// processCommand in src/server.c): at most 128 bytes of arguments, each
// quoted and followed by a space.
func unknownCommandError(args [][]byte) string {
	var sb strings.Builder
	sb.WriteString("ERR unknown command '")
	sb.Write(trunc(cstr(args[0]), 128))
	sb.WriteString("', with args beginning with: ")
	n := 0
	for i := 1; i < len(args) && n < 128; i++ {
		a := trunc(cstr(args[i]), 128-n)
		sb.WriteByte('\'')
		sb.Write(a)
		sb.WriteString("' ")
		n += len(a) + 3
	}
	return sb.String()
}

// cstr is b as a C string: up to its first NUL byte (Redis formats
// arguments into errors with %s).
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func trunc(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// rejectCmd is reject for a known command: a refused EXEC discards the
// transaction and answers EXECABORT with the reason (rejectCommand →
// execCommandAbort in src/server.c and src/multi.c), even without MULTI.
func (c *Ctx) rejectCmd(cmd *Command, msg string) {
	c.recordReject(cmd)
	if cmd.Name != "exec" {
		c.reject(msg)
		return
	}
	c.unwatchAll()
	c.Client.resetMulti()
	// Redis's formatted rejections carry no code here (addReplyErrorFormat
	// adds "ERR" later); its shared ones (NOAUTH, READONLY…) do.
	c.W.Error("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
}

// reject writes an error for a command refused before running and, inside
// MULTI, marks the transaction dirty (rejectCommand / flagTransaction).
func (c *Ctx) reject(msg string) {
	c.Client.mu.Lock()
	c.Client.dirtyExec = c.Client.dirtyExec || c.Client.inMulti
	c.Client.mu.Unlock()
	c.W.Error(msg)
}

// redirect answers -REDIRECT host:port for a client that sent CLIENT CAPA
// REDIRECT, as Valkey 8.0's processCommand does on a replica: every read
// or write (EXEC judged by what it queued), unless the client sent
// READONLY. EXEC discards the transaction; a command inside MULTI marks
// it failed. It reports whether it answered.
func (c *Ctx) redirect(cmd *Command, flags CmdFlag) bool {
	cl := c.Client
	if !c.Version().CapaRedirect() || c.Env.Repl == nil || c.Env.Config.ClusterMode {
		return false
	}
	if flags&CmdWrite == 0 && (flags&CmdReadonly == 0 || cl.readonlyMode) {
		return false
	}
	rs := c.Env.Repl.ReplState()
	if rs.MasterHost == "" {
		return false
	}
	msg := "REDIRECT " + rs.MasterHost + ":" + itoa(int64(rs.MasterPort))
	if cmd.Name == "exec" && cl.inMulti {
		c.unwatchAll()
		cl.resetMulti()
		c.W.Error(msg)
		return true
	}
	c.reject(msg)
	return true
}

// authRequired reports whether the client must AUTH first: the default
// user has a password or is off (authRequired in src/networking.c).
func (c *Ctx) authRequired() bool {
	return !c.Client.authenticated && c.Env.Users.defaultUser().perms.Load().flags&(userNoPass|userOff) != userNoPass
}

// linkState returns (loading, stale-deny) for the current replication
// state: loading before the first full sync completes; stale when the link
// is down and either serve-stale-data is off or the link has been down
// longer than MaxStaleness.
func (c *Ctx) linkState() (loading, deny bool) {
	if c.Env.Repl == nil {
		return false, false
	}
	var synced, up bool
	var downSince int64
	if ls, ok := c.Env.Repl.(LinkStater); ok {
		synced, up, downSince = ls.LinkState()
	} else {
		st := c.Env.Repl.ReplState()
		synced, up = st.FirstSyncDone, st.LinkUp
		if !st.LinkDownSince.IsZero() {
			downSince = st.LinkDownSince.UnixNano()
		}
	}
	loading = !synced
	if !up {
		if !c.Env.serveStaleData() {
			deny = true
		} else if ms := c.Env.Config.MaxStaleness; ms > 0 && downSince != 0 && time.Since(time.Unix(0, downSince)) > ms {
			deny = true
		}
	}
	return loading, deny
}

// Exec runs one client command: lookup, arity, and the checks of Redis's
// processCommand in its order (auth, no-multi, read-only replica, pub/sub
// context, stale link, loading, MULTI queueing), then the handler.
// args and its slices may be reused by the caller after Exec returns.
func Exec(c *Ctx, args [][]byte) {
	cl := c.Client
	// CLIENT REPLY OFF|SKIP: run, then drop the reply (as
	// prepareClientToWrite refuses to queue it); SKIP covers the next
	// command only (CLIENT_REPLY_SKIP_NEXT → CLIENT_REPLY_SKIP).
	start := c.W.Len()
	c.W.Doubles72 = c.Version().Doubles72()
	execCmd(c, args)
	c.endCommandTracking(args)
	if !cl.replyOff && !cl.replySkip && !cl.replySkipNext {
		return
	}
	if cl.replyOff || cl.replySkip {
		c.W.Truncate(start)
	}
	cl.replySkip = false
	if cl.replySkipNext {
		cl.replySkip, cl.replySkipNext = true, false
	}
}

func execCmd(c *Ctx, args [][]byte) {
	if len(args) == 0 {
		return
	}
	cl := c.Client
	cl.nCmds++
	c.errPrev = len(c.W.errs)
	cmd, unknownSub := c.lookupCommand(args)
	if cmd == nil {
		if unknownSub {
			c.reject("ERR unknown subcommand '" + string(trunc(cstr(args[1]), 128)) + "'. Try " + strings.ToUpper(string(cstr(args[0]))) + " HELP.")
			return
		}
		c.reject(unknownCommandError(args))
		return
	}
	if !cmd.arityOK(len(args)) {
		c.rejectCmd(cmd, "ERR wrong number of arguments for '"+cmd.Name+"' command")
		return
	}
	if msg := c.protectedCommandError(cmd); msg != "" {
		c.rejectCmd(cmd, msg)
		return
	}
	if c.authRequired() && cmd.Flags&CmdNoAuth == 0 {
		c.rejectCmd(cmd, errNoAuth)
		return
	}
	if cl.inMulti && cmd.Flags&CmdNoMulti != 0 {
		c.rejectCmd(cmd, "ERR Command not allowed inside a transaction")
		return
	}
	if msg := c.aclCheck(cmd, args); msg != "" {
		c.rejectCmd(cmd, msg)
		return
	}
	flags := cmd.Flags
	if cmd.Name == "exec" && cl.inMulti {
		flags = c.queuedFlags()
	}
	scripted := cmd.script
	if scripted {
		flags = c.scriptCommandFlags(cmd, args)
	}
	if cl.capaRedirect && c.redirect(cmd, flags) {
		return
	}
	if flags&CmdWrite != 0 && (scripted || !(c.Env.Host != nil && c.Env.Host.ForwardEnabled() && !cl.inMulti && cmd.Name != "exec")) {
		c.rejectCmd(cmd, errReadonly)
		return
	}
	if cl.subscribed() && cl.resp == 2 && !pubsubContextAllowed(cmd) {
		c.rejectCmd(cmd, "ERR Can't execute '"+cmd.Name+"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return
	}
	loading, deny := c.linkState()
	if deny && flags&CmdStale == 0 {
		c.rejectCmd(cmd, errMasterDown)
		return
	}
	if loading && flags&CmdLoading == 0 {
		c.rejectCmd(cmd, errLoading)
		return
	}
	if c.holdForPause(flags, args) {
		return
	}
	if cl.inMulti && !multiControl(cmd) {
		q := make([][]byte, len(args))
		for i, a := range args {
			q[i] = append([]byte(nil), a...)
		}
		cl.multiQueue = append(cl.multiQueue, q)
		c.W.Status("QUEUED")
		return
	}
	c.call(cmd, args)
}

// QueuedArgs returns how many arguments the commands MULTI has queued for
// c hold: EXEC runs them all at once, and the server runs an EXEC of very
// many off its event loop, as it does a command of very many arguments.
func QueuedArgs(c *Ctx) int {
	if !c.Client.inMulti {
		return 0
	}
	n := 0
	for _, q := range c.Client.multiQueue {
		n += len(q)
	}
	return n
}

// call runs the handler of an already checked command.
func (c *Ctx) call(cmd *Command, args [][]byte) {
	if c.Client.lastCmd.Load() != cmd { // (a store is a write barrier and a locked instruction)
		c.Client.lastCmd.Store(cmd)
	}
	c.cmd = cmd
	// CLIENT NO-TOUCH spares every command but TOUCH (Redis 7.2).
	c.touchOff = cmd.noTouch || c.Client.noTouch && cmd.Name != "touch"
	// Every call is timed (monotonic clock, see callStart) for
	// commandstats, the slow log and the latency monitor (recordCall).
	t0 := c.callStart()
	c.callDepth++
	e0 := max(len(c.W.errs), c.errPrev)
	// EVAL_RO and FCALL_RO track the keys their script reads, not
	// their declared keys (call in src/server.c).
	if cmd.Flags&CmdReadonly != 0 && !cmd.script && c.Client.trk.flags.Load()&trackOn != 0 {
		c.trackRead(cmd, args)
	}
	// Scripts show before the commands they run; the rest once they ran
	// (call in src/server.c, evalGenericCommand in src/eval.c).
	mon := c.Env.Monitors.Active() && cmd.Flags&CmdAdmin == 0
	if mon && cmd.script {
		c.feedMonitors(cmd, args)
	}
	switch {
	case cmd.Flags&CmdWrite != 0:
		c.forward(args)
	case cmd.Handler != nil:
		cmd.Handler(c, args)
	default:
		// A command of the table vdr does not serve answers as a server
		// without it: unknown command, or unknown subcommand.
		if cmd.parent != nil {
			c.W.Error("ERR unknown subcommand '" + string(trunc(cstr(args[1]), 128)) + "'. Try " + strings.ToUpper(string(cstr(args[0]))) + " HELP.")
		} else {
			c.W.Error(unknownCommandError(args))
		}
	}
	if mon && cmd.Flags&CmdSkipMonitor == 0 {
		c.feedMonitors(cmd, args)
	}
	c.callDepth--
	now := nanotime()
	if c.callDepth == 0 {
		c.clockMark = now
	}
	c.recordCall(cmd, args, time.Duration(now-t0), len(c.W.errs) > max(e0, c.errPrev))
	c.errPrev = len(c.W.errs)
	// Counted once the command ran (Valkey 8's call(): commands_processed).
	c.Client.totCmds.Add(1)
}

// forward relays a write to the primary when forwarding is on.
func (c *Ctx) forward(args [][]byte) {
	if c.Env.Host == nil || !c.Env.Host.ForwardEnabled() {
		c.W.Error(errReadonly)
		return
	}
	raw, err := c.Env.Host.Forward(args)
	if err != nil {
		c.W.Error("ERR vdr: forwarding to the primary failed: " + err.Error())
		return
	}
	c.W.Raw(raw)
}

// queuedFlags is the union of the queued commands' flags, which EXEC is
// judged by (c->mstate.cmd_flags in src/multi.c).
func (c *Ctx) queuedFlags() CmdFlag {
	f := CmdLoading | CmdStale
	for _, q := range c.Client.multiQueue {
		if cmd, _ := c.lookupCommand(q); cmd != nil {
			cf := cmd.Flags
			if cmd.script {
				cf = c.scriptCommandFlags(cmd, q)
			}
			f |= cf & CmdWrite
			f &^= ^cf & (CmdLoading | CmdStale)
		}
	}
	return f
}

// multiControl lists the commands MULTI runs at once instead of queueing.
func multiControl(cmd *Command) bool {
	switch cmd.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// pubsubContextAllowed lists what a RESP2 subscriber may still send.
func pubsubContextAllowed(cmd *Command) bool {
	switch cmd.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset":
		return true
	}
	return false
}

func (cl *Client) subscribed() bool {
	return len(cl.subChannels)+len(cl.subPatterns)+len(cl.subShard) > 0
}

// ---- argument parsing helpers (Redis's getLongLongFromObject etc.) ----

// parseInt parses a signed 64-bit decimal exactly as Redis's string2ll:
// no spaces, no '+', no leading zeros.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		d := b[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v = v*10 + uint64(d-'0')
		if v < uint64(d-'0') {
			return 0, false
		}
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// intArg parses an integer argument, writing Redis's error on failure.
func (c *Ctx) intArg(b []byte) (int64, bool) {
	v, ok := parseInt(b)
	if !ok {
		c.W.Error(errNotInteger)
	}
	return v, ok
}

// parseFloat parses a double as Redis's strtold-based parsing does for
// scores: accepts inf/-inf/+inf, rejects NaN, spaces and empty input.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, false
	}
	s := string(b)
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return posInf, true
	case "-inf", "-infinity":
		return negInf, true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, true
		}
		return 0, false
	}
	if v != v {
		return 0, false
	}
	// Go accepts hex floats and underscores; strtod accepts hex but not "_".
	if strings.ContainsRune(s, '_') {
		return 0, false
	}
	return v, true
}

// PrefetchKeys appends to dst the keys of a request that will run soon,
// for Projection.PrefetchKeys (the server collects them over the pipelined
// requests it holds before running the first). Only read commands with
// fixed key positions count; ok is false for any other request, where the
// collecting should stop. It writes nothing and replies nothing.
func PrefetchKeys(c *Ctx, args [][]byte, dst [][]byte) (_ [][]byte, ok bool) {
	if len(args) < 2 || c.Env.Proj == nil {
		return dst, false
	}
	cmd, _ := c.lookupCommand(args)
	if cmd == nil || cmd.Flags&CmdReadonly == 0 || cmd.First <= 0 || cmd.Step <= 0 || !cmd.arityOK(len(args)) {
		return dst, false
	}
	last := cmd.Last
	if last < 0 {
		last += len(args)
	}
	for i := cmd.First; i <= last && i < len(args); i += cmd.Step {
		dst = append(dst, args[i])
	}
	return dst, true
}

// PrefetchRun hints the projection with keys collected by PrefetchKeys,
// in the client's database.
func PrefetchRun(c *Ctx, keys [][]byte) {
	if c.Env.Proj != nil {
		c.Env.Proj.PrefetchKeys(c.Client.db, keys)
	}
}
