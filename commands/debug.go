package commands

import (
	"hash/fnv"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// DEBUG (src/debug.c debugCommand) and the protected commands.
//
// Redis 7.0 refuses DEBUG and MODULE LOAD/LOADEX/UNLOAD unless
// enable-debug-command / enable-module-command allow them ("no" by
// default, "yes", or "local" for loopback and Unix-socket clients), in
// processCommand, after the arity check and before authentication.
// vdr has enable-debug-command (Config.EnableDebugCommand); modules never
// load, so enable-module-command stays "no".
//
// With DEBUG allowed, vdr serves the subcommands that are safe on a
// replica and mean something for its data: OBJECT, SLEEP (which parks
// the client instead of stopping the server: a loop never sleeps) and
// HELP. Every other subcommand answers Redis's error for an unknown one.

// protectedCommandError is the error processCommand gives a protected
// command its setting refuses, or "" when it may run.
func (c *Ctx) protectedCommandError(cmd *Command) string {
	var what, option, setting string
	switch cmd.Name {
	case "debug":
		what, option, setting = "DEBUG", "enable-debug-command", c.Env.Config.EnableDebugCommand
	case "module|load", "module|loadex", "module|unload":
		what, option, setting = "MODULE", "enable-module-command", "no"
	default:
		return ""
	}
	switch strings.ToLower(setting) {
	case "yes":
		return ""
	case "local":
		if c.Client.localClient() {
			return ""
		}
	}
	return "ERR " + what + " command not allowed. If the " + option + " option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
}

// localClient is islocalClient (src/networking.c): a Unix socket, or a
// loopback address.
func (cl *Client) localClient() bool {
	if strings.HasPrefix(cl.Addr, "/") || cl.Addr == "" {
		return true
	}
	host, _, err := net.SplitHostPort(cl.Addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// debugHelp lists what vdr's DEBUG serves, in addReplyHelp's layout.
var debugHelp = []string{
	"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
	"    (vdr holds back only the calling client; the server goes on.)",
	"HELP",
	"    Prints this help.",
}

func debugCommand(c *Ctx, args [][]byte) {
	switch {
	case len(args) == 2 && equalFold(args[1], "help"):
		replyHelp(c, debugHelp)
	case len(args) == 3 && equalFold(args[1], "object"):
		debugObject(c, args[2])
	case len(args) == 3 && equalFold(args[1], "sleep"):
		d := time.Duration(strtodPrefix(args[2]) * float64(time.Second))
		if d <= 0 || c.Client.Wake == nil || c.inScript || c.tx != nil {
			c.W.OK() // nothing to wait for (or nowhere to park: answer now)
			return
		}
		c.park(parkSleep, nil, time.Now().Add(d))
	default:
		subcommandSyntaxError(c, args)
	}
}

// lruClockMax is LRU_CLOCK_MAX: the 24-bit LRU clock in seconds.
const lruClockMax = 1<<24 - 1

// serializedLenExact bounds the values whose serializedlength is their
// DUMP's length; a bigger one is estimated (a full serialization would
// hold the loop, and its stripe, too long).
const serializedLenExact = 1 << 16

func debugObject(c *Ctx, key []byte) {
	c.read1(key, func(v *projection.View) {
		x := v.Get(key)
		if !x.Exists() {
			c.W.Error(errNoSuchKey)
			return
		}
		refcount := int64(1)
		if x.Kind() == rdbparse.KindString && x.Encoding() == "int" {
			if n, ok := parseInt(x.Bytes()); ok && n >= 0 && n < 10000 {
				refcount = 2147483647 // a shared integer (OBJ_SHARED_REFCOUNT)
			}
		}
		var serLen int64
		if x.Kind() == rdbparse.KindString || x.Len() <= serializedLenExact {
			if p, err := x.Dump(); err == nil && len(p) >= 11 {
				serLen = int64(len(p) - 11) // less the type byte, RDB version and CRC
			}
		} else {
			serLen = x.MemoryUsageSamples(key, projection.DefaultMemorySamples)
		}
		idle := x.IdleSeconds(c.Env.Proj)
		lru := (time.Now().Unix() - idle) & lruClockMax
		h := fnv.New64a()
		h.Write([]byte(strconv.Itoa(c.Client.db)))
		h.Write(key)
		b := make([]byte, 0, 160)
		b = append(b, "Value at:0x"...)
		b = strconv.AppendUint(b, h.Sum64()&0x7fffffffffff, 16)
		b = append(b, " refcount:"...)
		b = strconv.AppendInt(b, refcount, 10)
		b = append(b, " encoding:"...)
		b = append(b, x.Encoding()...)
		b = append(b, " serializedlength:"...)
		b = strconv.AppendInt(b, serLen, 10)
		b = append(b, " lru:"...)
		b = strconv.AppendInt(b, lru, 10)
		b = append(b, " lru_seconds_idle:"...)
		b = strconv.AppendInt(b, idle, 10)
		if x.Kind() == rdbparse.KindList && x.Encoding() == "quicklist" {
			b = appendQuicklistInfo(b, x)
		}
		c.W.Status(string(b))
	})
}

// appendQuicklistInfo adds the quicklist fields of DEBUG OBJECT as the
// list would be laid out by a Redis with list-max-listpack-size -2 (8 KB
// nodes) and no compression: vdr keeps a list as one sequence, so the
// nodes are counted from the elements' listpack sizes (sampled past
// serializedLenExact elements).
func appendQuicklistInfo(b []byte, x projection.Value) []byte {
	const nodeBytes = 8192
	n := x.Len()
	var bytes, seen int64
	x.ListEach(false, func(i int, elem []byte) bool {
		bytes += int64(len(elem)) + lpEntryOverhead(len(elem))
		seen++
		return seen < serializedLenExact
	})
	if seen > 0 && int64(n) > seen {
		bytes = bytes * int64(n) / seen
	}
	nodes := max((bytes+nodeBytes-1)/nodeBytes, 1)
	bytes += nodes * 7 // each listpack's header and end byte
	b = append(b, " ql_nodes:"...)
	b = strconv.AppendInt(b, nodes, 10)
	b = append(b, " ql_avg_node:"...)
	b = strconv.AppendFloat(b, float64(n)/float64(nodes), 'f', 2, 64)
	b = append(b, " ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:"...)
	return strconv.AppendInt(b, bytes, 10)
}

// lpEntryOverhead is a listpack entry's encoding and back-length bytes
// for a string of n bytes (src/listpack.c).
func lpEntryOverhead(n int) int64 {
	switch {
	case n < 64:
		return 2
	case n < 4096:
		return 2 + 2
	default:
		return 5 + 3
	}
}

// strtodPrefix parses the longest leading decimal number of b as strtod
// does (0 when there is none), for DEBUG SLEEP.
func strtodPrefix(b []byte) float64 {
	s := strings.TrimLeft(string(b[:min(len(b), 64)]), " \t\n\r\v\f")
	end := 0
	for i := len(s); i > 0; i-- {
		if _, err := strconv.ParseFloat(s[:i], 64); err == nil {
			end = i
			break
		}
	}
	v, _ := strconv.ParseFloat(s[:end], 64)
	if v != v { // NaN
		return 0
	}
	return v
}
