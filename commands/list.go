package commands

import (
	"math"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// List commands: LLEN LINDEX LRANGE LPOS (src/t_list.c).

func llenCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindList) {
			return
		}
		c.W.Int(int64(x.Len()))
	})
}

func lindexCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Null()
			return
		}
		if !c.checkType(x, rdbparse.KindList) {
			return
		}
		i, ok := c.intArg(args[2])
		if !ok {
			return
		}
		if i < math.MinInt32*4 || i > math.MaxInt32*4 {
			c.W.Null()
			return
		}
		e, ok := x.ListIndex(int(i))
		if !ok {
			c.W.Null()
			return
		}
		c.W.Bulk(e)
	})
}

// clampIndex keeps huge indexes meaningful in int on every platform.
func clampIndex(v int64) int {
	const lim = 1 << 40
	if v > lim {
		return lim
	}
	if v < -lim {
		return -lim
	}
	return int(v)
}

func lrangeCommand(c *Ctx, args [][]byte) {
	start, ok := c.intArg(args[2])
	if !ok {
		return
	}
	end, ok := c.intArg(args[3])
	if !ok {
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Array(0)
			return
		}
		if !c.checkType(x, rdbparse.KindList) {
			return
		}
		at := c.W.Defer()
		n := 0
		x.ListRange(clampIndex(start), clampIndex(end), func(_ int, e []byte) bool {
			c.W.Bulk(e)
			n++
			return true
		})
		c.W.SetArray(at, n)
	})
}

// rangeArg mirrors getRangeLongFromObjectOrReply.
func rangeArg(c *Ctx, b []byte, lo, hi int64, msg string) (int64, bool) {
	v, ok := parseInt(b)
	if !ok {
		if msg != "" {
			c.W.Error("ERR " + msg)
		} else {
			c.W.Error(errNotInteger)
		}
		return 0, false
	}
	if v < lo || v > hi {
		if msg != "" {
			c.W.Error("ERR " + msg)
		} else {
			c.W.Error("ERR value is out of range, value must between " + itoa(lo) + " and " + itoa(hi))
		}
		return 0, false
	}
	return v, true
}

func lposCommand(c *Ctx, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		var ok bool
		switch {
		case equalFold(args[j], "rank") && more > 0:
			j++
			// Redis 7.0 takes any long here; LONG_MIN survives the
			// negation below as a negative rank that every match meets.
			// 7.2 limits it to ±LONG_MAX.
			if c.Version().LposRankRange() {
				if rank, ok = rangeArg(c, args[j], -math.MaxInt64, math.MaxInt64, ""); !ok {
					return
				}
			} else if rank, ok = c.intArg(args[j]); !ok {
				return
			}
			if rank == math.MinInt64 && c.Version().LposRankRange() {
				// 7.2: getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)
				c.W.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
				return
			}
			if rank == 0 {
				c.W.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
		case equalFold(args[j], "count") && more > 0:
			j++
			if count, ok = rangeArg(c, args[j], 0, math.MaxInt64, "COUNT can't be negative"); !ok {
				return
			}
		case equalFold(args[j], "maxlen") && more > 0:
			j++
			if maxlen, ok = rangeArg(c, args[j], 0, math.MaxInt64, "MAXLEN can't be negative"); !ok {
				return
			}
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	reverse := false
	if rank < 0 {
		rank, reverse = -rank, true
	}
	anyMatch := rank < 0 // -LONG_MIN overflowed
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			if count != -1 {
				c.W.Array(0)
			} else {
				c.W.Null()
			}
			return
		}
		if !c.checkType(x, rdbparse.KindList) {
			return
		}
		llen := int64(x.Len())
		var at Deferred
		if count != -1 {
			at = c.W.Defer()
		}
		ele := args[2]
		var matches, arrayLen, index int64
		found := false
		x.ListEachMatch(ele, reverse, func(i int, match bool) bool {
			if maxlen != 0 && index >= maxlen {
				return false
			}
			if match {
				matches++
				if anyMatch || matches >= rank {
					pos := index
					if reverse {
						pos = llen - 1 - index
					}
					if count != -1 {
						arrayLen++
						c.W.Int(pos)
						if count != 0 && !anyMatch && matches-rank+1 >= count {
							return false
						}
					} else {
						c.W.Int(pos)
						found = true
						return false
					}
				}
			}
			index++
			return true
		})
		if count != -1 {
			c.W.SetArray(at, int(arrayLen))
		} else if !found {
			c.W.Null()
		}
	})
}
