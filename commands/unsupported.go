package commands

import (
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Reads vdr does not serve yet. Each answers as Redis would for a key of
// another type (WRONGTYPE) where the type is known, else an explicit
// "ERR vdr: <cmd> is not supported yet". Geo commands read sorted sets,
// PFCOUNT reads strings.

func notSupported(c *Ctx) {
	c.W.Error("ERR vdr: " + c.cmd.Name + " is not supported yet")
}

// unsupportedTyped answers WRONGTYPE when key exists with another kind than
// want (0: any kind is wrong), else the not-supported error.
func unsupportedTyped(c *Ctx, key []byte, want rdbparse.Kind) {
	c.read1(key, func(v *projection.View) {
		x := v.Get(key)
		if x.Exists() && (want == 0 || x.Kind() != want) {
			c.W.Error(errWrongType)
			return
		}
		notSupported(c)
	})
}

func unsupportedZSetCommand(c *Ctx, args [][]byte) { unsupportedTyped(c, args[1], rdbparse.KindZSet) }
func unsupportedStringCommand(c *Ctx, args [][]byte) {
	unsupportedTyped(c, args[1], rdbparse.KindString)
}
func unsupportedAnyCommand(c *Ctx, args [][]byte) { notSupported(c) }
