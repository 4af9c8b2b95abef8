package commands

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MONITOR. A monitor receives one line per command run on the server,
// formatted as src/replication.c replicationFeedMonitors formats it:
//
//	+<sec>.<usec> [<db> <client>] "arg" "arg"…\r\n
//
// where <client> is the peer address (ip:port, unix:<path> for a Unix
// socket, lua for a script's redis.call) and every argument is quoted as
// sdscatrepr quotes it. What is fed (src/server.c call() of 7.0):
//   - every command a client runs, once it ran, with the database it left
//     the client in (so "select 3" shows [3 …]); commands refused before
//     running (unknown, wrong arity, READONLY, NOAUTH…) are not;
//   - never admin commands (CONFIG, CLIENT, DEBUG…) nor those flagged
//     skip_monitor; the scripts (EVAL…, FCALL…) are fed before they run,
//     so their redis.call lines follow them;
//   - AUTH's and HELLO AUTH's credentials as "(redacted)";
//   - the commands applied from the primary's stream, in apply order, with
//     the primary's address (FeedApplied).
//
// A monitor's lines go through Client.Push, whose buffer is bounded (the
// server's OutputBufferLimit): a monitor that does not read is
// disconnected instead of holding up anyone. Redis counts a monitor in
// the "normal" client-output-buffer-limit class (getClientType), which
// has no limit by default; vdr bounds it anyway, since an unread monitor
// would otherwise grow without end on a busy replica.

// Monitors is the set of clients in MONITOR mode. The zero value is an
// empty set.
type Monitors struct {
	// MaxLine bounds the bytes of one formatted line (the server sets
	// its output buffer limit): a longer one is cut there, and Push then
	// refuses it and drops the monitors, as they would be past the
	// limit anyway, without formatting a huge argument in full (a SET of
	// 512 MB from the primary would take 2 GB quoted). 0: no bound.
	MaxLine int64

	n    atomic.Int32 // len(list), read without the lock by Active
	mu   sync.Mutex
	list []*Client
}

// Active reports whether any monitor is connected: one atomic load, the
// whole cost of feeding when there is none.
func (m *Monitors) Active() bool { return m.n.Load() > 0 }

func (m *Monitors) add(cl *Client) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.list {
		if x == cl {
			return false
		}
	}
	m.list = append(m.list, cl)
	m.n.Store(int32(len(m.list)))
	cl.monitor.Store(true)
	return true
}

func (m *Monitors) remove(cl *Client) {
	if !cl.monitor.Load() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range m.list {
		if x == cl {
			m.list = append(m.list[:i], m.list[i+1:]...)
			break
		}
	}
	m.n.Store(int32(len(m.list)))
	cl.monitor.Store(false)
}

// feed sends one formatted line to every monitor; a monitor whose Push
// refuses (its buffer limit was passed, it is being closed) is dropped.
func (m *Monitors) feed(line []byte) {
	m.mu.Lock()
	list := append([]*Client(nil), m.list...)
	m.mu.Unlock()
	for _, cl := range list {
		if cl.Push == nil || !cl.Push(line) {
			m.remove(cl)
		}
	}
}

// Feed formats one command of client src (by its peer address, or "lua")
// run in db and sends it to every monitor.
func (m *Monitors) Feed(peer string, db int, argv [][]byte) {
	if !m.Active() {
		return
	}
	m.feed(MonitorLine(nil, time.Now(), db, peer, argv, nil, m.MaxLine))
}

// FeedApplied shows a command applied from the primary's stream, as a
// Redis replica shows what its master client runs: primary is the
// primary's address (ip:port).
func (m *Monitors) FeedApplied(primary string, db int, argv [][]byte) {
	m.Feed(primary, db, argv)
}

// MonitorLine appends the monitor line of argv to b: the timestamp, the
// [db client] field and the quoted arguments, ending in CRLF. Arguments
// whose index is in redact print as (redacted). With maxLine > 0 the
// line stops growing past maxLine bytes (see Monitors.MaxLine).
func MonitorLine(b []byte, now time.Time, db int, peer string, argv [][]byte, redact []int, maxLine int64) []byte {
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1 && us < d; d /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(us), 10)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, ' ')
	b = append(b, peer...)
	b = append(b, "] "...)
	for i, a := range argv {
		if i > 0 {
			b = append(b, ' ')
		}
		if containsInt(redact, i) {
			b = append(b, "\"(redacted)\""...)
			continue
		}
		if maxLine > 0 && int64(len(b)+len(a)) > maxLine {
			// Too long for any monitor's buffer: no need to quote it all.
			return append(b, a[:min(len(a), int(maxLine)+1)]...)
		}
		b = appendRepr(b, a)
	}
	return append(b, '\r', '\n')
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// appendRepr quotes p as sdscatrepr does (src/sds.c): the usual C escapes
// for \\ \" \n \r \t \a \b, printable ASCII as is, any other byte \xHH.
func appendRepr(b, p []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range p {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch <= 0x7e {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}

// monitorPeer is the client field of c's monitor lines.
func (c *Ctx) monitorPeer() string {
	if c.inScript {
		return "lua"
	}
	if c.Env.Config.UnixSocket != "" && len(c.Client.Addr) > 0 && c.Client.Addr[0] == '/' {
		return "unix:" + c.Env.Config.UnixSocket
	}
	return c.Client.Addr
}

// monitorRedact names the arguments Redis redacts from monitors
// (redactClientCommandArgument): AUTH's, and HELLO AUTH's user and
// password.
func monitorRedact(cmd *Command, args [][]byte) []int {
	switch cmd.Name {
	case "auth":
		r := []int{1}
		if len(args) > 2 {
			r = append(r, 2)
		}
		return r
	case "hello":
		for i := 2; i+2 < len(args); i++ {
			if equalFold(args[i], "auth") {
				return []int{i + 1, i + 2}
			}
		}
	}
	return nil
}

// feedMonitors shows a command c ran to the monitors (see call).
func (c *Ctx) feedMonitors(cmd *Command, args [][]byte) {
	line := MonitorLine(nil, time.Now(), c.Client.db, c.monitorPeer(), args, monitorRedact(cmd, args), c.Env.Monitors.MaxLine)
	c.Env.Monitors.feed(line)
}

// monitorCommand: MONITOR (monitorCommand in src/replication.c). A
// client already monitoring gets no reply at all; inside MULTI it is
// refused (CLIENT_DENY_BLOCKING).
func monitorCommand(c *Ctx, args [][]byte) {
	if c.Client.inMulti || c.inScript || c.tx != nil {
		c.W.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.Client.Push == nil {
		c.W.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.Client.monitor.Load() {
		return
	}
	c.Env.Monitors.add(c.Client)
	c.W.OK()
}

// Monitoring reports whether the client is in MONITOR mode (the idle
// timeout spares it, as Redis spares its CLIENT_SLAVE monitors).
func (cl *Client) Monitoring() bool { return cl.monitor.Load() }
