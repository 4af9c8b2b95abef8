package commands

import (
	"math"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Hash field TTL reads of Redis 7.4: HTTL HPTTL HEXPIRETIME HPEXPIRETIME
// (src/t_hash.c httlGenericCommand). Our generated table is Redis
// 7.0.15's, which lacks them, so their rows are written here from 7.4's
// src/commands/*.json.
//
// registerHashTTLCommands adds their rows and handlers; table.go's init
// calls it first, so they are indexed like the generated rows.
func registerHashTTLCommands() {
	for _, r := range []struct {
		name, summary string
		fn            HandlerFunc
	}{
		{"httl", "Returns the TTL in seconds of a hash field.", httlCommand},
		{"hpttl", "Returns the TTL in milliseconds of a hash field.", hpttlCommand},
		{"hexpiretime", "Returns the expiration time of a hash field as a Unix timestamp, in seconds.", hexpiretimeCommand},
		{"hpexpiretime", "Returns the expiration time of a hash field as a Unix timestamp, in msec.", hpexpiretimeCommand},
	} {
		extraCommands = append(extraCommands, &Command{Name: r.name, Arity: -5, Flags: CmdReadonly | CmdFast,
			First: 1, Last: 1, Step: 1, ACL: []string{"@read", "@hash", "@fast"},
			KeySpecs: []KeySpec{{Flags: []string{"RO", "access"}, BS: bsIndex, BSIndex: 1, FK: fkRange, LastKey: 0, KeyStep: 1, Limit: 0}},
			Doc: CommandDoc{Summary: r.summary, Since: "7.4.0", Group: "hash",
				Complexity: "O(N) where N is the number of specified fields",
				ArgsJSON:   `[{"name":"key","type":"key","key_spec_index":0},{"name":"fields","type":"block","token":"FIELDS","arguments":[{"name":"numfields","type":"integer"},{"name":"field","type":"string","flags":["multiple"]}]}]`}})
		dataHandlers[r.name] = r.fn
	}
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
