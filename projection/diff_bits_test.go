package projection

import (
	"strconv"
	"testing"
)

// bitsExtra generates bitmap and HyperLogLog commands for the
// differential test: on their own keys (b*, h*) and on the workload's
// keys, where they collide with other types (the primary answers
// WRONGTYPE and propagates nothing) and with each other (SETBIT or
// SETRANGE over an HLL leaves a corrupt one that later PFADDs refuse).
func bitsExtra(w *workload) []string {
	key := func(prefix string) string {
		if w.r.IntN(4) == 0 {
			return w.key()
		}
		return prefix + strconv.Itoa(w.r.IntN(4))
	}
	off := func() string {
		if w.r.IntN(10) == 0 {
			return strconv.Itoa(w.r.IntN(5000))
		}
		return strconv.Itoa(w.r.IntN(200))
	}
	elem := func() string {
		if w.r.IntN(2) == 0 {
			return strconv.Itoa(w.r.IntN(1000))
		}
		return w.val()
	}
	switch n := w.r.IntN(20); {
	case n < 3:
		return []string{"SETBIT", key("b"), off(), strconv.Itoa(w.r.IntN(2))}
	case n < 5:
		ops := []string{"AND", "OR", "XOR", "NOT"}
		op := ops[w.r.IntN(4)]
		c := []string{"BITOP", op, key("b")}
		srcs := 1
		if op != "NOT" {
			srcs += w.r.IntN(3)
		}
		for i := 0; i < srcs; i++ {
			c = append(c, key("b"))
		}
		return c
	case n < 8:
		c := []string{"BITFIELD", key("b")}
		for i := 1 + w.r.IntN(4); i > 0; i-- {
			typ := "u" + strconv.Itoa(1+w.r.IntN(63))
			if w.r.IntN(2) == 0 {
				typ = "i" + strconv.Itoa(1+w.r.IntN(64))
			}
			o := off()
			if w.r.IntN(4) == 0 {
				o = "#" + strconv.Itoa(w.r.IntN(20))
			}
			var v string
			switch w.r.IntN(4) {
			case 0:
				v = strconv.FormatInt(int64(w.r.Uint64()), 10)
			case 1:
				v = strconv.Itoa(w.r.IntN(600) - 300)
			default:
				v = strconv.Itoa(w.r.IntN(20) - 10)
			}
			switch w.r.IntN(5) {
			case 0:
				c = append(c, "GET", typ, o)
			case 1:
				c = append(c, "OVERFLOW", []string{"WRAP", "SAT", "FAIL"}[w.r.IntN(3)])
				fallthrough
			case 2:
				c = append(c, "SET", typ, o, v)
			default:
				c = append(c, "INCRBY", typ, o, v)
			}
		}
		return c
	case n < 9:
		return []string{"SETRANGE", key("b"), off(), w.val()}
	case n < 10:
		return []string{"APPEND", key("b"), w.val()}
	case n < 11:
		return []string{"GETRANGE", key("b"), "0", "-1"}
	case n < 15:
		c := []string{"PFADD", key("h")}
		cnt := w.r.IntN(6)
		if w.r.IntN(10) == 0 {
			cnt = 20 + w.r.IntN(200)
		}
		for i := 0; i < cnt; i++ {
			c = append(c, elem())
		}
		return c
	case n < 16:
		c := []string{"PFMERGE", key("h")}
		for i := w.r.IntN(3); i > 0; i-- {
			c = append(c, key("h"))
		}
		return c
	case n < 19:
		c := []string{"PFCOUNT", key("h")}
		if w.r.IntN(3) == 0 {
			c = append(c, key("h"))
		}
		return c
	default:
		return []string{"PFDEBUG", "TODENSE", key("h")}
	}
}

// TestDifferentialBits is the differential test with bitmap and
// HyperLogLog commands mixed in; odd seeds run with a small
// hll-sparse-max-bytes (see runDifferentialMix) so sparse HLLs are
// promoted often.
func TestDifferentialBits(t *testing.T) {
	forSeeds(t, 4, 3000, 20, 20000, func(t *testing.T, seed int64, ops int) { runDifferentialMix(t, seed, ops, bitsExtra) })
}
