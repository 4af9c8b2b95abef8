package commands

import (
	"strconv"
	"sync"
	"time"
)

// SLOWLOG (src/slowlog.c): the commands that ran for at least
// slowlog-log-slower-than microseconds (-1: none, 0: all), newest first,
// at most slowlog-max-len of them. recordCall pushes them.

const (
	slowlogMaxArgc   = 32  // SLOWLOG_ENTRY_MAX_ARGC
	slowlogMaxString = 128 // SLOWLOG_ENTRY_MAX_STRING
)

type slowlogEntry struct {
	id       int64
	time     int64 // Unix seconds
	duration int64 // µs
	argv     [][]byte
	peer     string
	name     string
}

type slowlog struct {
	mu      sync.Mutex
	entries []slowlogEntry // oldest first; SLOWLOG GET reads it backwards
	nextID  int64
}

// push records one command (slowlogPushEntryIfNeeded), trimming to maxLen.
func (s *slowlog) push(c *Ctx, cmd *Command, args [][]byte, us, maxLen int64) {
	e := slowlogEntry{time: time.Now().Unix(), duration: us, peer: c.Client.Addr, name: c.Client.Name()}
	args = redactArgs(cmd, args)
	n := min(len(args), slowlogMaxArgc)
	e.argv = make([][]byte, n)
	for j := 0; j < n; j++ {
		a := args[j]
		switch {
		case n != len(args) && j == n-1:
			a = []byte("... (" + strconv.Itoa(len(args)-n+1) + " more arguments)")
		case len(a) > slowlogMaxString:
			a = append(append([]byte(nil), a[:slowlogMaxString]...), "... ("+strconv.Itoa(len(a)-slowlogMaxString)+" more bytes)"...)
		default:
			a = append([]byte(nil), a...) // args is the connection's buffer
		}
		e.argv[j] = a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.id = s.nextID
	s.nextID++
	s.entries = append(s.entries, e)
	if over := int64(len(s.entries)) - maxLen; over > 0 {
		s.entries = append(s.entries[:0], s.entries[over:]...)
	}
}

// redacted is what the slow log shows for a secret (shared.redacted).
var redacted = []byte("(redacted)")

// redactArgs hides the secrets Redis 7.0 redacts before logging a command
// (redactClientCommandArgument): AUTH's arguments, HELLO's AUTH pair and
// the values of CONFIG SET's sensitive parameters. args is not changed.
func redactArgs(cmd *Command, args [][]byte) [][]byte {
	var hide []int
	switch cmd.Name {
	case "auth":
		for i := 1; i < len(args); i++ {
			hide = append(hide, i)
		}
	case "hello":
		for j := 2; j < len(args); j++ {
			more := len(args) - 1 - j
			if equalFold(args[j], "auth") && more >= 2 {
				hide = append(hide, j+1, j+2)
				j += 2
			} else if equalFold(args[j], "setname") && more >= 1 {
				j++
			}
		}
	case "config|set":
		for i := 2; i+1 < len(args); i += 2 {
			if p := findConfigParam(string(args[i])); p != nil && p.sensitive {
				hide = append(hide, i+1)
			}
		}
	}
	if len(hide) == 0 {
		return args
	}
	out := append([][]byte(nil), args...)
	for _, i := range hide {
		out[i] = redacted
	}
	return out
}

func (s *slowlog) reset() {
	s.mu.Lock()
	s.entries = nil
	s.mu.Unlock()
}

func slowlogGetCommand(c *Ctx, args [][]byte) {
	s := &c.Env.observer().slowlog
	count := int64(10)
	if len(args) == 3 {
		// getRangeLongFromObjectOrReply: one message for both errors.
		v, ok := parseInt(args[2])
		if !ok || v < -1 {
			c.W.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if count == -1 || count > int64(len(s.entries)) {
		count = int64(len(s.entries))
	}
	c.W.Array(int(count))
	for i := len(s.entries) - 1; i >= len(s.entries)-int(count); i-- {
		e := &s.entries[i]
		c.W.Array(6)
		c.W.Int(e.id)
		c.W.Int(e.time)
		c.W.Int(e.duration)
		c.W.Array(len(e.argv))
		for _, a := range e.argv {
			c.W.Bulk(a)
		}
		c.W.BulkString(e.peer)
		c.W.BulkString(e.name)
	}
}

func slowlogLenCommand(c *Ctx, args [][]byte) {
	s := &c.Env.observer().slowlog
	s.mu.Lock()
	n := len(s.entries)
	s.mu.Unlock()
	c.W.Int(int64(n))
}

func slowlogResetCommand(c *Ctx, args [][]byte) {
	c.Env.observer().slowlog.reset()
	c.W.OK()
}

func init() {
	helpTexts["slowlog"] = []string{
		"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
		"HELP",
		"    Prints this help.",
	}
}

func slowlogHelpCommand(c *Ctx, args [][]byte) { writeHelp(c, "slowlog") }
