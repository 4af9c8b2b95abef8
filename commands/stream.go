package commands

import (
	"math"
	"strconv"
	"strings"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Stream reads (src/t_stream.c): XRANGE, XREVRANGE, XLEN, XREAD, XINFO
// STREAM|GROUPS|CONSUMERS, XPENDING. XREADGROUP, XADD and the other
// stream writes are write commands: dispatch answers them -READONLY.
//
// XREAD BLOCK is served like a non-blocking XREAD when there is data; when
// there is none it answers an explicit "not supported" error (a replica
// would block until the primary adds an entry: vdr does not park clients
// on applied writes yet), except inside MULTI where Redis itself answers a
// null array at once.
//
// Time-dependent fields (XINFO CONSUMERS idle, XPENDING idle times,
// consumers' seen-time) are computed from the projection's clock, like a
// replica computes them from its own; the seen-time of a consumer created
// on the link is the time vdr applied it. radix-tree-keys and
// radix-tree-nodes are estimates (see projection.StreamInfo).

const (
	errStreamID      = "ERR Invalid stream ID specified as stream command argument"
	errStreamStartID = "ERR invalid start ID for the interval"
	errStreamEndID   = "ERR invalid end ID for the interval"
)

// streamIncrID / streamDecrID step an ID (src/t_stream.c streamIncrID,
// streamDecrID); false at the ends of the ID space.
func streamIncrID(id projection.StreamID) (projection.StreamID, bool) {
	switch {
	case id.Seq != ^uint64(0):
		id.Seq++
	case id.Ms != ^uint64(0):
		id.Ms, id.Seq = id.Ms+1, 0
	default:
		return projection.StreamID{}, false
	}
	return id, true
}

func streamDecrID(id projection.StreamID) (projection.StreamID, bool) {
	switch {
	case id.Seq != 0:
		id.Seq--
	case id.Ms != 0:
		id.Ms, id.Seq = id.Ms-1, ^uint64(0)
	default:
		return projection.StreamID{}, false
	}
	return id, true
}

// parseIntervalID is streamParseIntervalIDOrReply: "(" makes the bound
// exclusive (then "-" and "+" are invalid); it writes the error itself.
func (c *Ctx) parseIntervalID(b []byte, missingSeq uint64, start bool) (projection.StreamID, bool) {
	excl := len(b) > 1 && b[0] == '('
	var id projection.StreamID
	var ok bool
	if excl {
		id, ok = projection.ParseStreamID(b[1:], missingSeq, true)
	} else {
		id, ok = projection.ParseStreamID(b, missingSeq, false)
	}
	if !ok {
		c.W.Error(errStreamID)
		return id, false
	}
	if excl {
		if start {
			id, ok = streamIncrID(id)
			if !ok {
				c.W.Error(errStreamStartID)
			}
		} else {
			id, ok = streamDecrID(id)
			if !ok {
				c.W.Error(errStreamEndID)
			}
		}
	}
	return id, ok
}

// appendStreamID renders ms-seq.
func appendStreamID(b []byte, id projection.StreamID) []byte {
	b = strconv.AppendUint(b, id.Ms, 10)
	b = append(b, '-')
	return strconv.AppendUint(b, id.Seq, 10)
}

func (c *Ctx) streamID(id projection.StreamID) {
	var tmp [48]byte
	c.W.Bulk(appendStreamID(tmp[:0], id))
}

// streamEntry writes one entry: [id, [field, value, …]] (both arrays in
// RESP3 too).
func (c *Ctx) streamEntry(id projection.StreamID, fields [][]byte) {
	c.W.Array(2)
	c.streamID(id)
	c.W.Array(len(fields))
	for _, f := range fields {
		c.W.Bulk(f)
	}
}

// streamRange writes the entries in [start, end] (count ≤ 0: all) as an
// array and returns how many it wrote.
func (c *Ctx) streamRange(x projection.Value, start, end projection.StreamID, rev bool, count int) int {
	at := c.W.Defer()
	n := 0
	x.StreamRange(start, end, rev, count, func(id projection.StreamID, fields [][]byte) bool {
		c.streamEntry(id, fields)
		n++
		return true
	})
	c.W.SetArray(at, n)
	return n
}

func xrangeCommand(c *Ctx, args [][]byte)    { xrangeGeneric(c, args, false) }
func xrevrangeCommand(c *Ctx, args [][]byte) { xrangeGeneric(c, args, true) }

// xrangeGeneric: XRANGE key start end [COUNT n] / XREVRANGE key end start
// [COUNT n].
func xrangeGeneric(c *Ctx, args [][]byte, rev bool) {
	startArg, endArg := args[2], args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := c.parseIntervalID(startArg, 0, true)
	if !ok {
		return
	}
	end, ok := c.parseIntervalID(endArg, ^uint64(0), false)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(args); j++ {
		if equalFold(args[j], "count") && j+1 < len(args) {
			n, ok := parseInt(args[j+1])
			if !ok {
				c.W.Error(errNotInteger)
				return
			}
			count = max(n, 0)
			j++
			continue
		}
		c.W.Error(errSyntax)
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Array(0)
			return
		}
		if !c.checkType(x, rdbparse.KindStream) {
			return
		}
		if count == 0 {
			c.W.NullArray()
			return
		}
		c.streamRange(x, start, end, rev, int(max(count, 0)))
	})
}

func xlenCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindStream) {
			return
		}
		c.W.Int(int64(x.Len()))
	})
}

// xreadCommand: XREAD [COUNT n] [BLOCK ms] STREAMS key… id…
func xreadCommand(c *Ctx, args [][]byte) {
	count := int64(0)
	block := false
	timeoutMs := int64(0)
	streamsAt := 0
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		o := args[i]
		switch {
		case equalFold(o, "block") && more > 0:
			if c.inScript {
				c.W.Error("ERR " + string(args[0]) + " command is not allowed with BLOCK option from scripts")
				return
			}
			i++
			t, ok := parseInt(args[i])
			if !ok {
				c.W.Error("ERR timeout is not an integer or out of range")
				return
			}
			if t < 0 {
				c.W.Error("ERR timeout is negative")
				return
			}
			block, timeoutMs = true, t
		case equalFold(o, "count") && more > 0:
			i++
			n, ok := parseInt(args[i])
			if !ok {
				c.W.Error(errNotInteger)
				return
			}
			count = max(n, 0)
		case equalFold(o, "streams") && more > 0:
			streamsAt = i + 1
			if (len(args)-streamsAt)%2 != 0 {
				if c.Version().XReadUnbalancedNamed() {
					c.W.Error("ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.")
				} else {
					c.W.Error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
				}
				return
			}
			i = len(args)
		case equalFold(o, "group") && more >= 2:
			c.W.Error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
			return
		case equalFold(o, "noack"):
			c.W.Error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
			return
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	if streamsAt == 0 {
		c.W.Error(errSyntax)
		return
	}
	n := (len(args) - streamsAt) / 2
	keys := args[streamsAt : streamsAt+n]
	idArgs := args[streamsAt+n:]
	c.read(keys, func(v *projection.View) {
		ids := make([]projection.StreamID, n)
		for i, k := range keys {
			x := c.lookup(v, k)
			if !c.checkType(x, rdbparse.KindStream) {
				return
			}
			switch a := idArgs[i]; {
			case string(a) == "$":
				if info, ok := x.StreamInfo(); ok {
					ids[i] = info.LastID
				}
			case string(a) == ">":
				c.W.Error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
				return
			case string(a) == "+" && c.Version().XReadLastEntry():
				// The last entry: read after last_id - 1 (7.4's
				// xreadCommand); 0-0 on a missing key.
				if info, ok := x.StreamInfo(); ok {
					id := info.LastID
					switch {
					case id.Seq > 0:
						id.Seq--
					case id.Ms > 0:
						id.Ms, id.Seq = id.Ms-1, math.MaxUint64
					default:
						c.W.Error("ERR the stream last element ID is 0-0")
						return
					}
					ids[i] = id
				}
			default:
				id, ok := projection.ParseStreamID(a, 0, true)
				if !ok {
					c.W.Error(errStreamID)
					return
				}
				ids[i] = id
			}
		}
		served := 0
		var at Deferred
		for i, k := range keys {
			x := v.Get(k)
			if !c.retrying { // a blocked client's re-check is not counted (LOOKUP_NOSTATS)
				x = c.lookup(v, k)
			}
			info, ok := x.StreamInfo()
			if !ok || info.Length == 0 {
				continue
			}
			var last projection.StreamID
			x.StreamRange(projection.StreamID{}, projection.MaxStreamID, true, 1, func(id projection.StreamID, _ [][]byte) bool {
				last = id
				return false
			})
			if !idLess(ids[i], last) {
				continue
			}
			served++
			if served == 1 {
				at = c.W.Defer()
			}
			if c.W.Resp == 2 {
				c.W.Array(2)
			}
			c.W.Bulk(k)
			start, _ := streamIncrID(ids[i])
			c.streamRange(x, start, projection.MaxStreamID, false, int(count))
		}
		if served > 0 {
			if c.W.Resp == 2 {
				c.W.SetArray(at, served)
			} else {
				c.W.SetMap(at, served)
			}
			return
		}
		if block && c.tx == nil {
			switch {
			case c.retrying:
				// Still nothing: the client stays blocked, no reply.
			case c.Client.Wake == nil || c.Env.Blocking == nil:
				c.W.Error("ERR vdr: XREAD BLOCK with nothing to read yet is not supported on this connection")
			default:
				// Registered under the keys' read locks: an XADD to them
				// is applied, and signalled, only after this.
				c.block(args, keys, ids, streamsAt+n, timeoutMs)
			}
			return
		}
		c.W.NullArray()
	})
}

func idLess(a, b projection.StreamID) bool { return a.Ms < b.Ms || a.Ms == b.Ms && a.Seq < b.Seq }

// xinfoStreamCommand: XINFO STREAM key [FULL [COUNT n]].
func xinfoStreamCommand(c *Ctx, args [][]byte) {
	c.read1(args[2], func(v *projection.View) {
		x, ok := c.xinfoKey(v, args[2])
		if !ok {
			return
		}
		full, count := false, int64(10)
		activeTime := c.Version().StreamActiveTime()
		opts := args[3:]
		if len(opts) > 0 {
			if len(opts) != 1 && len(opts) != 3 || !equalFold(opts[0], "full") {
				c.subcommandSyntax(args)
				return
			}
			full = true
			if len(opts) == 3 {
				if !equalFold(opts[1], "count") {
					c.subcommandSyntax(args)
					return
				}
				n, ok := parseInt(opts[2])
				if !ok {
					c.W.Error(errNotInteger)
					return
				}
				if n < 0 {
					n = 10
				}
				count = n
			}
		}
		info, _ := x.StreamInfo()
		if full {
			c.W.Map(9)
		} else {
			c.W.Map(10)
		}
		c.W.BulkString("length")
		c.W.Int(int64(info.Length))
		c.W.BulkString("radix-tree-keys")
		c.W.Int(info.RadixKeys)
		c.W.BulkString("radix-tree-nodes")
		c.W.Int(info.RadixNodes)
		c.W.BulkString("last-generated-id")
		c.streamID(info.LastID)
		c.W.BulkString("max-deleted-entry-id")
		c.streamID(info.MaxDeletedID)
		c.W.BulkString("entries-added")
		c.W.Int(int64(info.EntriesAdded))
		c.W.BulkString("recorded-first-entry-id")
		c.streamID(info.FirstID)
		if !full {
			c.W.BulkString("groups")
			c.W.Int(int64(info.Groups))
			for _, rev := range []bool{false, true} {
				if rev {
					c.W.BulkString("last-entry")
				} else {
					c.W.BulkString("first-entry")
				}
				found := false
				x.StreamRange(projection.StreamID{}, projection.MaxStreamID, rev, 1, func(id projection.StreamID, fields [][]byte) bool {
					c.streamEntry(id, fields)
					found = true
					return false
				})
				if !found {
					c.W.Null()
				}
			}
			return
		}
		c.W.BulkString("entries")
		c.streamRange(x, projection.StreamID{}, projection.MaxStreamID, false, int(count))
		c.W.BulkString("groups")
		c.W.Array(info.Groups)
		x.StreamGroups(func(g projection.StreamGroupInfo) bool {
			c.W.Map(7)
			c.W.BulkString("name")
			c.W.Bulk(g.Name)
			c.W.BulkString("last-delivered-id")
			c.streamID(g.LastID)
			c.W.BulkString("entries-read")
			c.entriesRead(g)
			c.W.BulkString("lag")
			c.lag(g)
			c.W.BulkString("pel-count")
			c.W.Int(int64(g.Pending))
			c.W.BulkString("pending")
			at, n := c.W.Defer(), 0
			x.StreamPending(g.Name, nil, projection.StreamID{}, projection.MaxStreamID, func(p projection.StreamPendingEntry) bool {
				if count > 0 && int64(n) >= count {
					return false
				}
				c.W.Array(4)
				c.streamID(p.ID)
				c.W.Bulk(p.Consumer)
				c.W.Int(p.DeliveryTime)
				c.W.Int(int64(p.DeliveryCount))
				n++
				return true
			})
			c.W.SetArray(at, n)
			c.W.BulkString("consumers")
			c.W.Array(g.Consumers)
			x.StreamConsumers(g.Name, func(cs projection.StreamConsumerInfo) bool {
				if activeTime {
					c.W.Map(5)
				} else {
					c.W.Map(4)
				}
				c.W.BulkString("name")
				c.W.Bulk(cs.Name)
				c.W.BulkString("seen-time")
				c.W.Int(cs.SeenTime)
				if activeTime {
					c.W.BulkString("active-time")
					c.W.Int(cs.ActiveTime)
				}
				c.W.BulkString("pel-count")
				c.W.Int(int64(cs.Pending))
				c.W.BulkString("pending")
				at, n := c.W.Defer(), 0
				x.StreamPending(g.Name, cs.Name, projection.StreamID{}, projection.MaxStreamID, func(p projection.StreamPendingEntry) bool {
					if count > 0 && int64(n) >= count {
						return false
					}
					c.W.Array(3)
					c.streamID(p.ID)
					c.W.Int(p.DeliveryTime)
					c.W.Int(int64(p.DeliveryCount))
					n++
					return true
				})
				c.W.SetArray(at, n)
				return true
			})
			return true
		})
	})
}

// subcommandSyntax is addReplySubcommandSyntaxError.
func (c *Ctx) subcommandSyntax(args [][]byte) {
	c.W.Error("ERR unknown subcommand or wrong number of arguments for '" + string(trunc(args[1], 128)) + "'. Try " + strings.ToUpper(string(args[0])) + " HELP.")
}

// xinfoKey looks the XINFO key up: "no such key" or WRONGTYPE are written.
func (c *Ctx) xinfoKey(v *projection.View, key []byte) (projection.Value, bool) {
	x := c.lookup(v, key)
	if !x.Exists() {
		c.W.Error(errNoSuchKey)
		return x, false
	}
	return x, c.checkType(x, rdbparse.KindStream)
}

func (c *Ctx) entriesRead(g projection.StreamGroupInfo) {
	if g.EntriesRead < 0 {
		c.W.Null()
		return
	}
	c.W.Int(g.EntriesRead)
}

func (c *Ctx) lag(g projection.StreamGroupInfo) {
	if !g.LagKnown {
		c.W.Null()
		return
	}
	c.W.Int(g.Lag)
}

// xinfoGroupsCommand: XINFO GROUPS key.
func xinfoGroupsCommand(c *Ctx, args [][]byte) {
	c.read1(args[2], func(v *projection.View) {
		x, ok := c.xinfoKey(v, args[2])
		if !ok {
			return
		}
		info, _ := x.StreamInfo()
		c.W.Array(info.Groups)
		x.StreamGroups(func(g projection.StreamGroupInfo) bool {
			c.W.Map(6)
			c.W.BulkString("name")
			c.W.Bulk(g.Name)
			c.W.BulkString("consumers")
			c.W.Int(int64(g.Consumers))
			c.W.BulkString("pending")
			c.W.Int(int64(g.Pending))
			c.W.BulkString("last-delivered-id")
			c.streamID(g.LastID)
			c.W.BulkString("entries-read")
			c.entriesRead(g)
			c.W.BulkString("lag")
			c.lag(g)
			return true
		})
	})
}

func (c *Ctx) noGroup(key, group []byte, suffix string) {
	c.W.Error("NOGROUP No such " + suffix + "consumer group '" + string(group) + "' for key name '" + string(key) + "'")
}

// xinfoConsumersCommand: XINFO CONSUMERS key group.
func xinfoConsumersCommand(c *Ctx, args [][]byte) {
	c.read1(args[2], func(v *projection.View) {
		x, ok := c.xinfoKey(v, args[2])
		if !ok {
			return
		}
		g, ok := x.StreamGroup(args[3])
		if !ok {
			c.noGroup(args[2], args[3], "")
			return
		}
		now := v.Now()
		activeTime := c.Version().StreamActiveTime()
		c.W.Array(g.Consumers)
		x.StreamConsumers(args[3], func(cs projection.StreamConsumerInfo) bool {
			if !activeTime {
				c.W.Map(3)
			} else {
				c.W.Map(4)
			}
			c.W.BulkString("name")
			c.W.Bulk(cs.Name)
			c.W.BulkString("pending")
			c.W.Int(int64(cs.Pending))
			c.W.BulkString("idle")
			c.W.Int(max(now-cs.SeenTime, 0))
			if activeTime {
				// -1 for a consumer that never claimed an entry (7.2's
				// xinfoCommand CONSUMERS).
				inactive := cs.ActiveTime
				if inactive != -1 {
					inactive = now - cs.ActiveTime
				}
				c.W.BulkString("inactive")
				c.W.Int(inactive)
			}
			return true
		})
	})
}

// xpendingCommand: XPENDING key group [[IDLE ms] start end count [consumer]].
func xpendingCommand(c *Ctx, args [][]byte) {
	if len(args) != 3 && (len(args) < 6 || len(args) > 9) {
		c.W.Error(errSyntax)
		return
	}
	var start, end projection.StreamID
	var count, minIdle int64
	var consumer []byte
	if len(args) >= 6 {
		at := 3
		if equalFold(args[3], "idle") {
			n, ok := parseInt(args[4])
			if !ok {
				c.W.Error(errNotInteger)
				return
			}
			minIdle = n
			if len(args) < 8 {
				c.W.Error(errSyntax)
				return
			}
			at += 2
		}
		n, ok := parseInt(args[at+2])
		if !ok {
			c.W.Error(errNotInteger)
			return
		}
		count = max(n, 0)
		if start, ok = c.parseIntervalID(args[at], 0, true); !ok {
			return
		}
		if end, ok = c.parseIntervalID(args[at+1], ^uint64(0), false); !ok {
			return
		}
		if at+3 < len(args) {
			consumer = args[at+3]
		}
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindStream) {
			return
		}
		g, ok := x.StreamGroup(args[2])
		if !ok {
			c.W.Error("NOGROUP No such key '" + string(args[1]) + "' or consumer group '" + string(args[2]) + "'")
			return
		}
		if len(args) == 3 {
			c.W.Array(4)
			c.W.Int(int64(g.Pending))
			if g.Pending == 0 {
				c.W.Null()
				c.W.Null()
				c.W.NullArray()
				return
			}
			var first, last projection.StreamID
			n := 0
			x.StreamPending(args[2], nil, projection.StreamID{}, projection.MaxStreamID, func(p projection.StreamPendingEntry) bool {
				if n == 0 {
					first = p.ID
				}
				last = p.ID
				n++
				return true
			})
			c.streamID(first)
			c.streamID(last)
			at, m := c.W.Defer(), 0
			x.StreamConsumers(args[2], func(cs projection.StreamConsumerInfo) bool {
				if cs.Pending == 0 {
					return true
				}
				c.W.Array(2)
				c.W.Bulk(cs.Name)
				c.W.BulkInt(int64(cs.Pending))
				m++
				return true
			})
			c.W.SetArray(at, m)
			return
		}
		now := v.Now()
		at, n := c.W.Defer(), int64(0)
		if consumer != nil {
			found := false
			x.StreamConsumers(args[2], func(cs projection.StreamConsumerInfo) bool {
				found = string(cs.Name) == string(consumer)
				return !found
			})
			if !found {
				c.W.Array(0)
				return
			}
		}
		x.StreamPending(args[2], consumer, start, end, func(p projection.StreamPendingEntry) bool {
			if n >= count {
				return false
			}
			idle := now - p.DeliveryTime
			if minIdle != 0 && idle < minIdle {
				return true
			}
			c.W.Array(4)
			c.streamID(p.ID)
			c.W.Bulk(p.Consumer)
			c.W.Int(max(idle, 0))
			c.W.Int(int64(p.DeliveryCount))
			n++
			return true
		})
		c.W.SetArray(at, int(n))
	})
}

// xinfoHelpCommand: XINFO HELP (src/t_stream.c xinfoCommand's help, with
// the HELP lines addReplyHelp appends).
func xinfoHelpCommand(c *Ctx, args [][]byte) {
	lines := [...]string{
		"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CONSUMERS <key> <groupname>",
		"    Show consumers of <groupname>.",
		"GROUPS <key>",
		"    Show the stream consumer groups.",
		"STREAM <key> [FULL [COUNT <count>]",
		"    Show information about the stream.",
		"HELP",
		"    Prints this help.",
	}
	if c.Version().HelpSaysPrint() {
		lines[len(lines)-1] = "    Print this help."
	}
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Status(l)
	}
}
