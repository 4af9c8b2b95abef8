package commands

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
)

// Connection and server commands (PING … WAIT, MULTI/EXEC). See
// src/server.c, src/networking.c and src/multi.c of Redis 7.0.

// clientCapaCommand: CLIENT CAPA option… (Valkey 8.0's clientCommand):
// REDIRECT is the one capability; others are ignored. Bound once the
// Valkey 8.0 table has the client|capa row.
func clientCapaCommand(c *Ctx, args [][]byte) {
	for _, a := range args[2:] {
		if equalFold(a, "redirect") {
			c.Client.capaRedirect = true
		}
	}
	c.W.OK()
}

func pingCommand(c *Ctx, args [][]byte) {
	if len(args) > 2 {
		c.W.Error("ERR wrong number of arguments for 'ping' command")
		return
	}
	if c.Client.subscribed() && c.Client.resp == 2 {
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(args) == 1 {
			c.W.BulkString("")
		} else {
			c.W.Bulk(args[1])
		}
		return
	}
	if len(args) == 1 {
		c.W.RawString("+PONG\r\n")
		return
	}
	c.W.Bulk(args[1])
}

func echoCommand(c *Ctx, args [][]byte) { c.W.Bulk(args[1]) }

func authCommand(c *Ctx, args [][]byte) {
	if len(args) > 3 {
		c.W.Error(errSyntax)
		return
	}
	user, pass := []byte("default"), args[len(args)-1]
	if len(args) == 2 {
		if c.Env.Users.defaultUser().perms.Load().flags&userNoPass != 0 {
			c.W.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	} else {
		user = args[1]
	}
	if !c.authenticate(user, pass, args[0]) {
		c.W.Error(errWrongPass)
		return
	}
	c.W.OK()
}

// validClientName mirrors validateClientName: only '!'..'~'.
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func helloCommand(c *Ctx, args [][]byte) {
	ver := int64(0)
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			c.W.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.W.Error("NOPROTO unsupported protocol version")
			return
		}
		ver = v
	}
	var user, pass, name []byte
	setName := false
	for j := 2; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case strings.EqualFold(string(args[j]), "AUTH") && more >= 2:
			user, pass = args[j+1], args[j+2]
			j += 2
		case strings.EqualFold(string(args[j]), "SETNAME") && more >= 1:
			name, setName = args[j+1], true
			j++
		default:
			c.W.Error("ERR Syntax error in HELLO option '" + string(args[j]) + "'")
			return
		}
	}
	if user != nil {
		if !c.authenticate(user, pass, args[0]) {
			c.W.Error(errWrongPass)
			return
		}
	}
	if c.authRequired() {
		if c.Version().HelloNoAuthProto() {
			c.W.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		} else {
			c.W.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		}
		return
	}
	if setName {
		if !validClientName(name) {
			c.W.Error("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		c.Client.mu.Lock()
		c.Client.name = string(name)
		c.Client.mu.Unlock()
	}
	if ver != 0 {
		c.Client.mu.Lock()
		c.Client.resp = int(ver)
		c.Client.mu.Unlock()
		c.W.Resp = int(ver)
	}
	w := c.W
	w.Map(7)
	v := c.Version()
	w.BulkString("server")
	w.BulkString(v.ServerName())
	w.BulkString("version")
	w.BulkString(v.Number())
	w.BulkString("proto")
	w.Int(int64(c.Client.resp))
	w.BulkString("id")
	w.Int(c.Client.ID)
	w.BulkString("mode")
	w.BulkString(serverMode(c))
	w.BulkString("role")
	w.BulkString("replica")
	w.BulkString("modules")
	w.Array(0)
}

func selectCommand(c *Ctx, args [][]byte) {
	v, ok := parseInt(args[1])
	if !ok || v < -1<<31 || v > 1<<31-1 {
		c.W.Error(errNotInteger)
		return
	}
	if c.Env.Config.ClusterMode && v != 0 {
		c.W.Error("ERR SELECT is not allowed in cluster mode")
		return
	}
	if v < 0 || v >= int64(c.Env.Config.Databases) {
		c.W.Error(errDBIndex)
		return
	}
	c.Client.mu.Lock()
	c.Client.db = int(v)
	c.Client.mu.Unlock()
	c.W.OK()
}

func quitCommand(c *Ctx, args [][]byte) {
	c.W.OK()
	c.Client.closeAfter = true
}

func resetCommand(c *Ctx, args [][]byte) {
	cl := c.Client
	c.unwatchAll()
	cl.inMulti, cl.dirtyExec, cl.multiQueue = false, false, nil
	c.trackingReset()
	c.Env.Monitors.remove(cl)
	if c.Env.PubSub != nil {
		c.Env.PubSub.UnsubscribeAll(cl)
	}
	cl.mu.Lock()
	cl.db, cl.resp, cl.name, cl.noEvict, cl.noTouch = 0, 2, "", false, false
	cl.readonlyMode = false // RESET clears READONLY, not CAPA (clearClientConnectionState)
	cl.mu.Unlock()
	c.setDefaultAuth()
	c.W.Resp = 2
	c.W.Status("RESET")
}

// ---- CLIENT ----

func clientIDCommand(c *Ctx, args [][]byte) { c.W.Int(c.Client.ID) }

func clientSetnameCommand(c *Ctx, args [][]byte) {
	if !validClientName(args[2]) {
		c.W.Error("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.Client.mu.Lock()
	c.Client.name = string(args[2])
	c.Client.mu.Unlock()
	c.W.OK()
}

func clientGetnameCommand(c *Ctx, args [][]byte) {
	if n := c.Client.Name(); n != "" {
		c.W.BulkString(n)
		return
	}
	c.W.Null()
}

// clientSetinfoCommand is CLIENT SETINFO LIB-NAME|LIB-VER value (Redis
// 7.2; accepted so that 7.2+ clients such as go-redis v9 connect cleanly).
func clientSetinfoCommand(c *Ctx, args [][]byte) {
	attr := strings.ToLower(string(args[2]))
	if attr != "lib-name" && attr != "lib-ver" {
		c.W.Error("ERR Unrecognized option '" + string(args[2]) + "'")
		return
	}
	for _, ch := range args[3] {
		if ch < '!' || ch > '~' {
			c.W.Error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
			return
		}
	}
	c.Client.mu.Lock()
	if attr == "lib-name" {
		c.Client.libName = string(args[3])
	} else {
		c.Client.libVer = string(args[3])
	}
	c.Client.mu.Unlock()
	c.W.OK()
}

// infoString renders one client line as catClientInfoString does under
// the personality v (7.0's fields; 7.2 adds lib-name/lib-ver and the T
// flag, 7.4 and Valkey 8 watch=, Valkey 8 the tot-* counters).
func (cl *Client) infoString(b []byte, v compat.Version) []byte {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	now := time.Now()
	flags := ""
	if cl.subscribed() {
		flags += "P"
	}
	if cl.inMulti {
		flags += "x"
	}
	flags = cl.trackingListFlags(flags)
	if cl.readonlyMode {
		flags += "r"
	}
	if cl.noEvict {
		flags += "e"
	}
	if cl.noTouch {
		flags += "T"
	}
	if cl.monitor.Load() {
		flags = "O" + flags
	}
	if cl.Master {
		flags = "M"
	}
	if cl.IsReplica() {
		flags = "S"
	}
	if flags == "" {
		flags = "N"
	}
	multi := -1
	if cl.inMulti {
		multi = len(cl.multiQueue)
	}
	b = append(b, "id="...)
	b = strconv.AppendInt(b, cl.ID, 10)
	b = append(b, " addr="...)
	b = append(b, cl.Addr...)
	b = append(b, " laddr="...)
	b = append(b, cl.LAddr...)
	b = append(b, " fd="...)
	b = strconv.AppendInt(b, int64(cl.FD), 10)
	b = append(b, " name="...)
	b = append(b, cl.name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, int64(now.Sub(cl.CreatedAt)/time.Second), 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, int64(now.Sub(time.Unix(0, cl.lastInteract.Load()))/time.Second), 10)
	b = append(b, " flags="...)
	b = append(b, flags...)
	b = append(b, " db="...)
	b = strconv.AppendInt(b, int64(cl.db), 10)
	b = append(b, " sub="...)
	b = strconv.AppendInt(b, int64(len(cl.subChannels)), 10)
	b = append(b, " psub="...)
	b = strconv.AppendInt(b, int64(len(cl.subPatterns)), 10)
	b = append(b, " ssub="...)
	b = strconv.AppendInt(b, int64(len(cl.subShard)), 10)
	b = append(b, " multi="...)
	b = strconv.AppendInt(b, int64(multi), 10)
	if v.ClientInfoWatch() {
		b = append(b, " watch="...)
		b = strconv.AppendInt(b, int64(cl.nWatched.Load()), 10)
	}
	b = append(b, " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd="...)
	if lc := cl.lastCmd.Load(); lc == nil {
		b = append(b, "NULL"...)
	} else {
		b = append(b, lc.Name...)
	}
	if cl.Master {
		b = append(b, " user=(superuser) redir="...)
	} else if u := cl.user.Load(); u != nil {
		b = append(b, " user="+u.name+" redir="...)
	} else {
		b = append(b, " user=default redir="...)
	}
	b = strconv.AppendInt(b, cl.trackingRedir(), 10)
	b = append(b, " resp="...)
	b = strconv.AppendInt(b, int64(cl.resp), 10)
	if v.ClientSetInfo() {
		b = append(b, " lib-name="...)
		b = append(b, cl.libName...)
		b = append(b, " lib-ver="...)
		b = append(b, cl.libVer...)
	}
	if v.ClientInfoNetTotals() {
		// Bytes are not counted per connection; commands are.
		b = append(b, " tot-net-in=0 tot-net-out=0 tot-cmds="...)
		b = strconv.AppendInt(b, cl.totCmds.Load(), 10)
	}
	return b
}

func clientInfoCommand(c *Ctx, args [][]byte) {
	b := c.Client.infoString(nil, c.Version())
	b = append(b, '\n')
	c.W.Verbatim(string(b), "txt")
}

func clientListCommand(c *Ctx, args [][]byte) {
	var typ string
	var ids map[int64]bool
	for i := 2; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "type" && i+1 < len(args):
			typ = strings.ToLower(string(args[i+1]))
			if typ == "primary" && c.Version().ClientTypePrimary() {
				typ = "master"
			}
			switch typ {
			case "normal", "pubsub", "master", "replica", "slave":
			default:
				c.W.Error("ERR Unknown client type '" + string(args[i+1]) + "'")
				return
			}
			i++
		case opt == "id" && i+1 < len(args):
			ids = map[int64]bool{}
			for i++; i < len(args); i++ {
				v, ok := parseInt(args[i])
				if !ok || v <= 0 {
					c.W.Error("ERR Invalid client ID")
					return
				}
				ids[v] = true
			}
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	var b []byte
	for _, cl := range c.clientsAndMaster() {
		if ids != nil && !ids[cl.ID] {
			continue
		}
		if cl.Master {
			if typ == "" || typ == "master" {
				b = cl.infoString(b, c.Version())
				b = append(b, '\n')
			}
			continue
		}
		if cl.IsReplica() != (typ == "replica" || typ == "slave") && typ != "" {
			continue
		}
		switch typ {
		case "master", "replica", "slave":
			if !cl.IsReplica() {
				continue
			}
		case "pubsub":
			if cl != c.Client && !cl.subscribedLocked() {
				continue
			}
			if cl == c.Client && !cl.subscribed() {
				continue
			}
		case "normal":
			if cl.subscribedLocked() {
				continue
			}
		}
		b = cl.infoString(b, c.Version())
		b = append(b, '\n')
	}
	c.W.Verbatim(string(b), "txt")
}

// subscribedLocked reads another client's subscription state; the maps
// are guarded by mu for readers on other goroutines.
func (cl *Client) subscribedLocked() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.subscribed()
}

func clientKillCommand(c *Ctx, args [][]byte) {
	if len(args) == 3 {
		// Old form: CLIENT KILL addr.
		for _, cl := range c.clientsAndMaster() {
			if cl.Addr == string(args[2]) {
				c.kill(cl)
				c.W.OK()
				return
			}
		}
		c.W.Error("ERR No such client")
		return
	}
	var id, maxAge int64
	var addr, laddr, typ, user string
	skipMe := true
	ver := c.Version()
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.W.Error(errSyntax)
			return
		}
		opt, val := strings.ToLower(string(args[i])), string(args[i+1])
		switch opt {
		case "id":
			v, ok := parseInt(args[i+1])
			if !ok || v <= 0 {
				c.W.Error("ERR client-id should be greater than 0")
				return
			}
			id = v
		case "maxage":
			if !ver.ClientKillMaxAge() {
				c.W.Error(errSyntax)
				return
			}
			v, ok := parseInt(args[i+1])
			if !ok {
				c.W.Error("ERR maxage is not an integer or out of range")
				return
			}
			if v <= 0 {
				c.W.Error("ERR maxage should be greater than 0")
				return
			}
			maxAge = v
		case "type":
			typ = strings.ToLower(val)
			if typ == "primary" && ver.ClientTypePrimary() {
				typ = "master"
			}
			switch typ {
			case "normal", "pubsub", "master", "replica", "slave":
			default:
				c.W.Error("ERR Unknown client type '" + val + "'")
				return
			}
		case "addr":
			addr = val
		case "laddr":
			laddr = val
		case "user":
			user = val
			if c.Env.Users.lookup(user) == nil {
				c.W.Error("ERR No such user '" + val + "'")
				return
			}
		case "skipme":
			switch strings.ToLower(val) {
			case "yes":
				skipMe = true
			case "no":
				skipMe = false
			default:
				c.W.Error(errSyntax)
				return
			}
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	killed := 0
	for _, cl := range c.clientsAndMaster() {
		if (id != 0 && cl.ID != id) || (addr != "" && cl.Addr != addr) || (laddr != "" && cl.LAddr != laddr) {
			continue
		}
		if cl.Killed() || user != "" && (cl.Master || c.Env.Users.nameOf(cl) != user) {
			continue
		}
		if cl.Master {
			if (typ == "" || typ == "master") && maxAge == 0 && c.kill(cl) {
				killed++
			}
			continue
		}
		// MAXAGE: only clients at least that many seconds old (7.4's
		// clientKillCommand compares whole seconds).
		if maxAge != 0 && time.Now().Unix()-cl.CreatedAt.Unix() < maxAge {
			continue
		}
		if cl.IsReplica() != (typ == "replica" || typ == "slave") && typ != "" {
			continue
		}
		switch typ {
		case "master", "replica", "slave":
			if !cl.IsReplica() {
				continue
			}
		case "pubsub":
			if !cl.subscribedLocked() && cl != c.Client || (cl == c.Client && !cl.subscribed()) {
				continue
			}
		case "normal":
			if cl != c.Client && cl.subscribedLocked() || (cl == c.Client && cl.subscribed()) {
				continue
			}
		}
		if cl == c.Client && skipMe {
			continue
		}
		c.kill(cl)
		killed++
	}
	c.W.Int(int64(killed))
}

// kill closes cl's connection; for the master client, the link (which
// reconnects). It reports whether something was killed.
func (c *Ctx) kill(cl *Client) bool {
	if cl.Master {
		ml, ok := c.Env.Repl.(MasterLink)
		return ok && ml.KillMaster()
	}
	if cl == c.Client {
		cl.closeAfter = true
		return true
	}
	cl.SetKilled()
	c.Env.Host.KillClient(cl)
	return true
}

// clientsAndMaster is Host.Clients with the master client, when the link
// streams, in its place by ID.
func (c *Ctx) clientsAndMaster() []*Client {
	cls := c.Env.Host.Clients()
	ml, ok := c.Env.Repl.(MasterLink)
	if !ok {
		return cls
	}
	m := ml.MasterClient()
	if m == nil {
		return cls
	}
	i := 0
	for i < len(cls) && cls[i].ID < m.ID {
		i++
	}
	return slices.Insert(cls, i, m)
}

func onOff(c *Ctx, b []byte) (bool, bool) {
	switch strings.ToLower(string(b)) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	c.W.Error(errSyntax)
	return false, false
}

func clientNoEvictCommand(c *Ctx, args [][]byte) {
	v, ok := onOff(c, args[2])
	if !ok {
		return
	}
	c.Client.mu.Lock()
	c.Client.noEvict = v
	c.Client.mu.Unlock()
	c.W.OK()
}

func clientNoTouchCommand(c *Ctx, args [][]byte) {
	v, ok := onOff(c, args[2])
	if !ok {
		return
	}
	c.Client.mu.Lock()
	c.Client.noTouch = v
	c.Client.mu.Unlock()
	c.W.OK()
}

func clientReplyCommand(c *Ctx, args [][]byte) {
	switch strings.ToLower(string(args[2])) {
	case "on":
		c.Client.replyOff, c.Client.replySkipNext = false, false
		c.W.OK()
	case "off":
		c.Client.replyOff = true
	case "skip":
		if !c.Client.replyOff {
			c.Client.replySkipNext = true
		}
	default:
		c.W.Error(errSyntax)
	}
}

func writeHelp(c *Ctx, name string) {
	lines := helpTextsOf[versionIndex(c.Version())][name]
	if lines == nil {
		lines = helpTexts[name] // not captured per version (SCRIPT, FUNCTION…)
	}
	replyHelp(c, lines)
}

// clientHelpCommand: CLIENT HELP and COMMAND HELP, as each version
// words them (the texts captured from each server, versions_gen.go).
func clientHelpCommand(c *Ctx, args [][]byte)  { writeHelp(c, "client") }
func commandHelpCommand(c *Ctx, args [][]byte) { writeHelp(c, "command") }

func configHelpCommand(c *Ctx, args [][]byte) { writeHelp(c, "config") }
func pubsubHelpCommand(c *Ctx, args [][]byte) { writeHelp(c, "pubsub") }
func objectHelpCommand(c *Ctx, args [][]byte) { writeHelp(c, "object") }
func memoryHelpCommand(c *Ctx, args [][]byte) { writeHelp(c, "memory") }

// ---- ROLE TIME LASTSAVE WAIT ----

func (c *Ctx) replState() ReplState {
	if c.Env.Repl == nil {
		return ReplState{MasterHost: "?", LinkUp: true, FirstSyncDone: true}
	}
	return c.Env.Repl.ReplState()
}

// roleState is the ROLE state word (replicationGetSlaveState / roleCommand).
func roleState(st ReplState) string {
	if st.State != "" {
		return st.State
	}
	switch {
	case st.LinkUp:
		return "connected"
	case st.SyncInProgress:
		return "sync"
	}
	return "connect"
}

func roleCommand(c *Ctx, args [][]byte) {
	st := c.replState()
	w := c.W
	w.Array(5)
	w.BulkString("slave")
	w.BulkString(st.MasterHost)
	w.Int(int64(st.MasterPort))
	w.BulkString(roleState(st))
	if st.LinkUp {
		w.Int(st.ApplyOffset)
	} else {
		w.Int(-1)
	}
}

func timeCommand(c *Ctx, args [][]byte) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkInt(now.Unix())
	c.W.BulkInt(int64(now.Nanosecond() / 1000))
}

// waitaofCommand: WAITAOF numlocal numreplicas timeout (Redis 7.2,
// Valkey), as a replica answers it: the arguments are checked, then the
// replica error (waitaofCommand in src/replication.c). Bound once the 7.2
// table has the waitaof row.
func waitaofCommand(c *Ctx, args [][]byte) {
	if _, ok := rangeArg(c, args[1], 0, 1, ""); !ok {
		return
	}
	if _, ok := rangeArg(c, args[2], 0, math.MaxInt64, "value is out of range, must be positive"); !ok {
		return
	}
	t, ok := parseInt(args[3])
	if !ok {
		c.W.Error("ERR timeout is not an integer or out of range")
		return
	}
	if t < 0 {
		c.W.Error("ERR timeout is negative")
		return
	}
	if t > 0 && t > math.MaxInt64-time.Now().UnixMilli() {
		c.W.Error("ERR timeout is out of range")
		return
	}
	c.W.Error("ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.")
}

func waitCommand(c *Ctx, args [][]byte) {
	if c.Version().WaitTextWithoutRedis4() {
		c.W.Error("ERR WAIT cannot be used with replica instances. Please also note that if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	c.W.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
}

// ---- MULTI / EXEC ----

func multiCommand(c *Ctx, args [][]byte) {
	if c.Client.inMulti {
		c.W.Error("ERR MULTI calls can not be nested")
		return
	}
	c.Client.mu.Lock()
	c.Client.inMulti = true
	c.Client.mu.Unlock()
	c.W.OK()
}

// resetMulti leaves MULTI state; the caller unwatches (unwatchAll) or
// takes the watched keys over.
func (cl *Client) resetMulti() {
	cl.mu.Lock()
	cl.inMulti, cl.dirtyExec, cl.multiQueue, cl.watched = false, false, nil, nil
	cl.nWatched.Store(0)
	cl.mu.Unlock()
}

// unwatchAll ends every WATCH of the client.
func (c *Ctx) unwatchAll() {
	for _, w := range c.Client.watched {
		c.Env.Proj.Unwatch(w.db, []byte(w.key))
	}
	c.Client.watched = nil
	c.Client.nWatched.Store(0)
}

// Close releases what the connection holds in shared state (its WATCHed
// keys). The front end calls it once when the connection goes away.
func (c *Ctx) Close() {
	c.unwatchAll()
	c.unblock()
	c.trackingClose()
	c.Env.Monitors.remove(c.Client)
}

func discardCommand(c *Ctx, args [][]byte) {
	if !c.Client.inMulti {
		c.W.Error("ERR DISCARD without MULTI")
		return
	}
	c.unwatchAll()
	c.Client.resetMulti()
	c.W.OK()
}

func watchCommand(c *Ctx, args [][]byte) {
	if c.Client.inMulti {
		c.W.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	keys := args[1:]
	db := c.Client.db
	c.read(keys, func(v *projection.View) {
		for _, k := range keys {
			// Registered under the key's stripe lock: no write can fall
			// between the version read and the existence check.
			ver := c.Env.Proj.Watch(db, k)
			c.Client.watched = append(c.Client.watched, watchedKey{db: db, key: string(k), version: ver, existed: v.Get(k).Exists()})
		}
		c.Client.nWatched.Store(int32(len(c.Client.watched)))
	})
	c.W.OK()
}

func unwatchCommand(c *Ctx, args [][]byte) {
	c.unwatchAll()
	c.W.OK()
}

func execCommand(c *Ctx, args [][]byte) {
	cl := c.Client
	if !cl.inMulti {
		c.W.Error("ERR EXEC without MULTI")
		return
	}
	if cl.dirtyExec {
		c.unwatchAll()
		cl.resetMulti()
		c.W.Error(errExecAbort)
		return
	}
	queue, watched := cl.multiQueue, cl.watched
	cl.resetMulti() // the watched keys are released below, after the check
	defer func() {
		for _, w := range watched {
			c.Env.Proj.Unwatch(w.db, []byte(w.key))
		}
	}()
	c.atomically(func() {
		if c.watchedChanged(watched) {
			c.W.NullArray()
			return
		}
		c.W.Array(len(queue))
		for _, q := range queue {
			cmd, _ := c.lookupCommand(q)
			if cmd == nil {
				c.W.Error(unknownCommandError(q))
				continue
			}
			if msg := c.aclExecCheck(cmd, q); msg != "" {
				c.W.Error(msg)
				continue
			}
			c.call(cmd, q)
		}
	})
}

// watchedKey is one WATCHed key: its modification version then
// (projection.Watch), and whether it existed.
type watchedKey struct {
	db      int
	key     string
	version uint64
	existed bool
}

// watchedChanged reports whether any watched key changed since WATCH
// (Redis's CLIENT_DIRTY_CAS): written by the stream (any applied write
// naming it, FLUSHDB/FLUSHALL/SWAPDB, a full sync swap), or expired
// meanwhile (src/multi.c isWatchedKeyExpired: a key that existed at WATCH
// and is logically expired now aborts too).
func (c *Ctx) watchedChanged(watched []watchedKey) bool {
	for _, w := range watched {
		k := []byte(w.key)
		changed := true
		check := func(v *projection.View) {
			v.NoTouch() // like Redis's keyIsExpired, not a lookup
			changed = v.KeyVersion(k) != w.version || w.existed && !v.Get(k).Exists()
		}
		if c.tx != nil {
			if c.tx.Select(w.db) != nil {
				return true
			}
			check(c.tx)
		} else if c.Env.Proj.View(w.db, [][]byte{k}, check) != nil {
			return true
		}
		if changed {
			return true
		}
	}
	return false
}

// equalFold is a non-allocating case-insensitive compare against a
// lower-case ASCII literal.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		ch := b[i]
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

var _ = bytes.Equal
