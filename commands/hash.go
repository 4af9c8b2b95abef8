package commands

import (
	"math"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Hash commands: HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSTRLEN
// HRANDFIELD HSCAN (src/t_hash.c).

func hgetCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Null()
			return
		}
		if !c.checkType(x, rdbparse.KindHash) {
			return
		}
		val, ok := x.HashGet(args[2])
		if !ok {
			c.W.Null()
			return
		}
		c.W.Bulk(val)
	})
}

func hmgetCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindHash) {
			return
		}
		c.W.Array(len(args) - 2)
		for _, f := range args[2:] {
			if val, ok := x.HashGet(f); ok {
				c.W.Bulk(val)
			} else {
				c.W.Null()
			}
		}
	})
}

func hashAll(c *Ctx, args [][]byte, keys, vals bool) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindHash) {
			return
		}
		n := x.HashLen() // without expired fields (hashTypeLength(o, 1))
		if keys && vals {
			c.W.Map(n)
		} else {
			c.W.Array(n)
		}
		x.HashEach(func(f, val []byte) bool {
			if keys {
				c.W.Bulk(f)
			}
			if vals {
				c.W.Bulk(val)
			}
			return true
		})
	})
}

func hgetallCommand(c *Ctx, args [][]byte) { hashAll(c, args, true, true) }
func hkeysCommand(c *Ctx, args [][]byte)   { hashAll(c, args, true, false) }
func hvalsCommand(c *Ctx, args [][]byte)   { hashAll(c, args, false, true) }

func hlenCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindHash) {
			return
		}
		c.W.Int(int64(x.Len()))
	})
}

func hexistsCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindHash) {
			return
		}
		_, ok := x.HashGet(args[2])
		c.W.Bool01(ok)
	})
}

func hstrlenCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindHash) {
			return
		}
		n, _ := x.HashValueLen(args[2]) // a packed value is not unpacked for it
		c.W.Int(int64(n))
	})
}

func hrandfieldCommand(c *Ctx, args [][]byte) {
	if len(args) >= 3 {
		l, ok := rangeArg(c, args[2], -math.MaxInt64, math.MaxInt64, "")
		if !ok {
			return
		}
		withValues := false
		if len(args) > 4 || (len(args) == 4 && !equalFold(args[3], "withvalues")) {
			c.W.Error(errSyntax)
			return
		} else if len(args) == 4 {
			withValues = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.W.Error("ERR value is out of range")
				return
			}
		}
		c.read1(args[1], func(v *projection.View) {
			x := c.lookup(v, args[1])
			if !x.Exists() {
				c.W.Array(0)
				return
			}
			if !c.checkType(x, rdbparse.KindHash) {
				return
			}
			writeRandomPairs(c, l, x.Len(), withValues, func(fn func(a, b []byte)) {
				x.HashRandom(nil, clampIndex(l), fn)
			})
		})
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Null()
			return
		}
		if !c.checkType(x, rdbparse.KindHash) {
			return
		}
		x.HashRandom(nil, 1, func(f, _ []byte) { c.W.Bulk(f) })
	})
}

// writeRandomPairs writes the reply of HRANDFIELD/ZRANDMEMBER with a count:
// an array of fields, or with values: flat in RESP2 and pairs in RESP3.
func writeRandomPairs(c *Ctx, count int64, size int, withValues bool, sample func(fn func(a, b []byte))) {
	if count == 0 {
		c.W.Array(0)
		return
	}
	n := count
	if n < 0 {
		n = -n
	} else if n > int64(size) {
		n = int64(size)
	}
	if withValues && c.W.Resp == 2 {
		c.W.Array(int(2 * n))
	} else {
		c.W.Array(int(n))
	}
	sample(func(a, b []byte) {
		if withValues && c.W.Resp > 2 {
			c.W.Array(2)
		}
		c.W.Bulk(a)
		if withValues {
			c.W.Bulk(b)
		}
	})
}

func hscanCommand(c *Ctx, args [][]byte) {
	elementScan(c, args, rdbparse.KindHash, func(x projection.Value, cursor uint64, o *scanOpts) ([][]byte, uint64) {
		var items [][]byte
		next := x.HashScan(cursor, int(o.count), func(f, val []byte) {
			if o.match(f) {
				if o.noValues {
					items = append(items, f)
				} else {
					items = append(items, f, val)
				}
			}
		})
		return items, next
	})
}
