package commands

import (
	"math"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Hash field TTL reads of Redis 7.4: HTTL HPTTL HEXPIRETIME HPEXPIRETIME
// (src/t_hash.c httlGenericCommand). Their rows are 7.4's, in the
// generated table; personalities without them answer unknown command.
//
// registerHashTTLCommands adds their handlers; table.go's init calls it
// first, so they are bound like the others.
func registerHashTTLCommands() {
	dataHandlers["httl"] = httlCommand
	dataHandlers["hpttl"] = hpttlCommand
	dataHandlers["hexpiretime"] = hexpiretimeCommand
	dataHandlers["hpexpiretime"] = hpexpiretimeCommand
}

// HFE_GET_NO_FIELD and HFE_GET_NO_TTL (src/server.h).
const (
	hfeGetNoField = -2
	hfeGetNoTTL   = -1
)

func httlCommand(c *Ctx, args [][]byte)        { httlGeneric(c, args, true, true) }
func hpttlCommand(c *Ctx, args [][]byte)       { httlGeneric(c, args, true, false) }
func hexpiretimeCommand(c *Ctx, args [][]byte) { httlGeneric(c, args, false, true) }
func hpexpiretimeCommand(c *Ctx, args [][]byte) {
	httlGeneric(c, args, false, false)
}

// httlGeneric serves the four reads: relative to the View's clock or
// absolute, in seconds (rounded up, as Redis does) or milliseconds.
func httlGeneric(c *Ctx, args [][]byte, relative, seconds bool) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindHash) {
			return
		}
		if !equalFold(args[2], "fields") {
			c.W.Error("ERR Mandatory argument FIELDS is missing or not at the right position")
			return
		}
		n, ok := rangeArg(c, args[3], 1, math.MaxInt64, "Number of fields must be a positive integer")
		if !ok {
			return
		}
		if n != int64(len(args)-4) {
			c.W.Error("ERR The `numfields` parameter must match the number of arguments")
			return
		}
		base := int64(0)
		if relative {
			base = v.Now()
		}
		c.W.Array(int(n))
		for _, f := range args[4:] {
			t := x.HashFieldExpire(f)
			switch {
			case t < 0:
				c.W.Int(t)
			case seconds:
				c.W.Int((t + 999 - base) / 1000)
			default:
				c.W.Int(t - base)
			}
		}
	})
}
