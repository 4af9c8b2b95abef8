package commands

import (
	"math"
	"sort"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Set commands: SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SINTER
// SINTERCARD SUNION SDIFF SSCAN (src/t_set.c).

func scardCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindSet) {
			return
		}
		c.W.Int(int64(x.Len()))
	})
}

func sismemberCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindSet) {
			return
		}
		c.W.Bool01(x.SetContains(args[2]))
	})
}

func smismemberCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindSet) {
			return
		}
		c.W.Array(len(args) - 2)
		for _, m := range args[2:] {
			c.W.Bool01(x.SetContains(m))
		}
	})
}

func smembersCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Set(0)
			return
		}
		if !c.checkType(x, rdbparse.KindSet) {
			return
		}
		c.W.Set(x.Len())
		x.SetEach(func(m []byte) bool { c.W.Bulk(m); return true })
	})
}

func srandmemberCommand(c *Ctx, args [][]byte) {
	if len(args) > 3 {
		c.W.Error(errSyntax)
		return
	}
	if len(args) == 3 {
		l, ok := rangeArg(c, args[2], -math.MaxInt64, math.MaxInt64, "")
		if !ok {
			return
		}
		c.read1(args[1], func(v *projection.View) {
			x := c.lookup(v, args[1])
			if !x.Exists() {
				c.W.Array(0)
				return
			}
			if !c.checkType(x, rdbparse.KindSet) {
				return
			}
			writeRandomPairs(c, l, x.Len(), false, func(fn func(a, b []byte)) {
				x.SetRandom(nil, clampIndex(l), func(m []byte) { fn(m, nil) })
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
		if !c.checkType(x, rdbparse.KindSet) {
			return
		}
		x.SetRandom(nil, 1, func(m []byte) { c.W.Bulk(m) })
	})
}

// sinterGeneric implements SINTER and SINTERCARD (sinterGenericCommand):
// every key's type is checked first; any missing key makes the result
// empty.
func sinterGeneric(c *Ctx, keys [][]byte, cardOnly bool, limit int64) {
	c.read(keys, func(v *projection.View) {
		sets := make([]projection.Value, 0, len(keys))
		empty := false
		for _, k := range keys {
			x := c.lookup(v, k)
			if !x.Exists() {
				empty = true
				continue
			}
			if !c.checkType(x, rdbparse.KindSet) {
				return
			}
			sets = append(sets, x)
		}
		if empty {
			if cardOnly {
				c.W.Int(0)
			} else {
				c.W.Set(0)
			}
			return
		}
		sort.SliceStable(sets, func(i, j int) bool { return sets[i].Len() < sets[j].Len() })
		var at Deferred
		if !cardOnly {
			at = c.W.Defer()
		}
		n := int64(0)
		sets[0].SetEach(func(m []byte) bool {
			for _, s := range sets[1:] {
				if !s.SetContains(m) {
					return true
				}
			}
			n++
			if !cardOnly {
				c.W.Bulk(m)
			} else if limit != 0 && n >= limit {
				return false
			}
			return true
		})
		if cardOnly {
			c.W.Int(n)
			return
		}
		c.W.SetSet(at, int(n))
	})
}

func sinterCommand(c *Ctx, args [][]byte) { sinterGeneric(c, args[1:], false, 0) }

func sintercardCommand(c *Ctx, args [][]byte) {
	numkeys, ok := rangeArg(c, args[1], 1, math.MaxInt64, "numkeys should be greater than 0")
	if !ok {
		return
	}
	if numkeys > int64(len(args)-2) {
		c.W.Error("ERR Number of keys can't be greater than number of args")
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(args); j++ {
		more := len(args) - 1 - j
		if equalFold(args[j], "limit") && more > 0 {
			j++
			if limit, ok = rangeArg(c, args[j], 0, math.MaxInt64, "LIMIT can't be negative"); !ok {
				return
			}
			continue
		}
		c.W.Error(errSyntax)
		return
	}
	sinterGeneric(c, args[2:2+numkeys], true, limit)
}

// sunionDiff implements SUNION and SDIFF (sunionDiffGenericCommand).
func sunionDiff(c *Ctx, keys [][]byte, diff bool) {
	c.read(keys, func(v *projection.View) {
		sets := make([]projection.Value, len(keys))
		for i, k := range keys {
			x := c.lookup(v, k)
			if !c.checkType(x, rdbparse.KindSet) {
				return
			}
			sets[i] = x
		}
		seen := map[string]struct{}{}
		var out [][]byte
		add := func(m []byte) {
			if _, dup := seen[string(m)]; !dup {
				seen[string(m)] = struct{}{}
				out = append(out, m)
			}
		}
		if !diff {
			for _, s := range sets {
				s.SetEach(func(m []byte) bool { add(m); return true })
			}
		} else {
			sets[0].SetEach(func(m []byte) bool {
				for _, s := range sets[1:] {
					if s.SetContains(m) {
						return true
					}
				}
				add(m)
				return true
			})
		}
		c.W.Set(len(out))
		for _, m := range out {
			c.W.Bulk(m)
		}
	})
}

func sunionCommand(c *Ctx, args [][]byte) { sunionDiff(c, args[1:], false) }
func sdiffCommand(c *Ctx, args [][]byte)  { sunionDiff(c, args[1:], true) }

func sscanCommand(c *Ctx, args [][]byte) {
	elementScan(c, args, rdbparse.KindSet, func(x projection.Value, cursor uint64, o *scanOpts) ([][]byte, uint64) {
		var items [][]byte
		next := x.SetScan(cursor, int(o.count), func(m []byte) {
			if o.match(m) {
				items = append(items, m)
			}
		})
		return items, next
	})
}
