package commands

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// CLIENT PAUSE, CLIENT UNPAUSE and CLIENT UNBLOCK (src/networking.c
// clientCommand, pauseClients, unpauseClients of Redis 7.0).
//
// While a pause lasts, processCommand holds back every command (ALL) or
// those that may write or replicate (WRITE: on a replica that leaves
// PUBLISH, SPUBLISH and scripts that may write, since writes are refused
// before) of every client but replicas. A held command parks its client
// (parkPause) as XREAD BLOCK does, so no loop waits; when the pause ends
// (its time, or UNPAUSE) the command runs through every check again, as
// Redis re-processes a postponed client. vdr's own link to the primary is
// never paused: it keeps applying the stream.

const (
	pauseWrite int32 = 1 // CLIENT_PAUSE_WRITE
	pauseAll   int32 = 2 // CLIENT_PAUSE_ALL
)

const (
	unblockTimeout int32 = 1 // CLIENT UNBLOCK … TIMEOUT (the default)
	unblockError   int32 = 2 // CLIENT UNBLOCK … ERROR
)

// Pause is the server's CLIENT PAUSE state. The zero value is "not
// paused"; checking it costs one atomic load.
type Pause struct {
	end  atomic.Int64 // Unix ns the pause ends; 0: not paused
	mode atomic.Int32 // pauseWrite or pauseAll

	mu      sync.Mutex
	waiting map[*Client]struct{} // parked clients, woken by UNPAUSE
}

// holds reports whether a command with flags must wait now.
func (p *Pause) holds(flags CmdFlag) bool {
	end := p.end.Load()
	if end == 0 || time.Now().UnixNano() >= end {
		return false
	}
	if p.mode.Load() == pauseAll {
		return true
	}
	return flags&(CmdWrite|CmdMayReplicate) != 0
}

// pause extends the pause to end and to the stricter mode, as pauseClients
// does when a pause is already on.
func (p *Pause) pause(end int64, mode int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur := p.end.Load(); cur == 0 || time.Now().UnixNano() >= cur {
		p.mode.Store(mode)
	} else if mode > p.mode.Load() {
		p.mode.Store(mode)
	}
	if end > p.end.Load() {
		p.end.Store(end)
	}
}

// unpause ends the pause and wakes the parked clients.
func (p *Pause) unpause() {
	p.mu.Lock()
	p.end.Store(0)
	p.mode.Store(0)
	wake := make([]*Client, 0, len(p.waiting))
	for cl := range p.waiting {
		wake = append(wake, cl)
	}
	p.mu.Unlock()
	for _, cl := range wake {
		cl.Wake()
	}
}

func (p *Pause) wait(cl *Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting == nil {
		p.waiting = map[*Client]struct{}{}
	}
	p.waiting[cl] = struct{}{}
}

func (p *Pause) forget(cl *Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, cl)
}

// holdForPause parks a command the pause holds back (see execCmd) and
// reports whether it did. A front end that cannot park (Wake nil) runs
// the command.
func (c *Ctx) holdForPause(flags CmdFlag, args [][]byte) bool {
	if !c.Env.Pause.holds(flags) || c.Client.Wake == nil || c.Client.Master {
		return false
	}
	c.park(parkPause, args, time.Unix(0, c.Env.Pause.end.Load()))
	c.Env.Pause.wait(c.Client)
	return true
}

// resumePaused runs a held command once the pause is over (it stays
// parked, with the new end, when the pause was extended meanwhile). It
// reports whether the client left the park.
func (c *Ctx) resumePaused(br *blockedRead) bool {
	if end := c.Env.Pause.end.Load(); end != 0 && time.Now().UnixNano() < end {
		br.deadline = time.Unix(0, end)
		return false
	}
	c.unblock()
	Exec(c, br.args)
	return true
}

// clientPauseCommand: CLIENT PAUSE timeout [WRITE|ALL].
func clientPauseCommand(c *Ctx, args [][]byte) {
	if len(args) > 4 {
		subcommandSyntaxError(c, args)
		return
	}
	ms, ok := timeoutArg(c, args[2])
	if !ok {
		return
	}
	mode := pauseAll
	if len(args) == 4 {
		switch {
		case equalFold(args[3], "write"):
			mode = pauseWrite
		case equalFold(args[3], "all"):
		default:
			c.W.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	end := time.Now().Add(time.Duration(ms) * time.Millisecond).UnixNano()
	if ms > math.MaxInt64/int64(time.Millisecond)-time.Now().UnixMilli() {
		end = math.MaxInt64
	}
	c.Env.Pause.pause(end, mode)
	c.W.OK()
}

// clientUnpauseCommand: CLIENT UNPAUSE.
func clientUnpauseCommand(c *Ctx, args [][]byte) {
	c.Env.Pause.unpause()
	c.W.OK()
}

// clientUnblockCommand: CLIENT UNBLOCK client-id [TIMEOUT|ERROR]. A
// client parked in XREAD BLOCK answers as if its timeout passed (a null
// array) or with -UNBLOCKED; :1 when one was, :0 otherwise.
func clientUnblockCommand(c *Ctx, args [][]byte) {
	if len(args) > 4 {
		subcommandSyntaxError(c, args)
		return
	}
	id, ok := c.intArg(args[2])
	if !ok {
		return
	}
	req := unblockTimeout
	if len(args) == 4 {
		switch {
		case equalFold(args[3], "timeout"):
		case equalFold(args[3], "error"):
			req = unblockError
		default:
			c.W.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	if c.Env.Host != nil {
		for _, cl := range c.Env.Host.Clients() {
			if cl.ID == id && cl != c.Client && cl.xreadWaiting.Load() && cl.Wake != nil {
				cl.unblockReq.Store(req)
				cl.Wake()
				c.W.Int(1)
				return
			}
		}
	}
	c.W.Int(0)
}

// subcommandSyntaxError is addReplySubcommandSyntaxError (src/networking.c).
func subcommandSyntaxError(c *Ctx, args [][]byte) {
	c.W.Error("ERR unknown subcommand or wrong number of arguments for '" + string(trunc(cstr(args[1]), 128)) + "'. Try " + upper(cstr(args[0])) + " HELP.")
}

func upper(b []byte) string {
	out := make([]byte, len(b))
	for i, ch := range b {
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		out[i] = ch
	}
	return string(out)
}

// timeoutArg parses a millisecond timeout as getTimeoutFromObjectOrReply.
func timeoutArg(c *Ctx, b []byte) (int64, bool) {
	v, ok := parseInt(b)
	if !ok {
		c.W.Error("ERR timeout is not an integer or out of range")
		return 0, false
	}
	if v < 0 {
		c.W.Error("ERR timeout is negative")
		return 0, false
	}
	return v, true
}
