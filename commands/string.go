package commands

import (
	"math/bits"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// String commands: GET MGET STRLEN GETRANGE SUBSTR GETBIT BITCOUNT BITPOS
// BITFIELD_RO LCS (src/t_string.c, src/bitops.c).

const emptyBulk = "$0\r\n\r\n"

func getCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Null()
			return
		}
		if !c.checkType(x, rdbparse.KindString) {
			return
		}
		c.W.BulkValue(x)
	})
}

func mgetCommand(c *Ctx, args [][]byte) {
	c.read(args[1:], func(v *projection.View) {
		c.W.Array(len(args) - 1)
		for _, k := range args[1:] {
			x := c.lookup(v, k)
			if x.Kind() != rdbparse.KindString {
				c.W.Null()
				continue
			}
			c.W.BulkValue(x)
		}
	})
}

func strlenCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindString) {
			return
		}
		c.W.Int(int64(x.Len()))
	})
}

func getrangeCommand(c *Ctx, args [][]byte) {
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
			c.W.RawString(emptyBulk)
			return
		}
		if !c.checkType(x, rdbparse.KindString) {
			return
		}
		s := x.Bytes()
		n := int64(len(s))
		if start < 0 && end < 0 && start > end {
			c.W.RawString(emptyBulk)
			return
		}
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		if start < 0 {
			start = 0
		}
		if end < 0 {
			end = 0
		}
		if end >= n {
			end = n - 1
		}
		if start > end || n == 0 {
			c.W.RawString(emptyBulk)
			return
		}
		c.W.Bulk(s[start : end+1])
	})
}

// maxBitOffset is 512 MB × 8, Redis's proto-max-bulk-len default in bits.
const maxBitOffset = 512 << 20 << 3

func (c *Ctx) bitOffsetArg(b []byte, hash bool, nbits int64) (int64, bool) {
	use := false
	if hash && len(b) > 0 && b[0] == '#' {
		b, use = b[1:], true
	}
	off, ok := parseInt(b)
	if ok && use {
		hi, lo := bits.Mul64(uint64(abs64(off)), uint64(nbits))
		if hi != 0 || lo > 1<<62 {
			ok = false
		}
		off *= nbits
	}
	if !ok || off < 0 || off >= maxBitOffset {
		c.W.Error("ERR bit offset is not an integer or out of range")
		return 0, false
	}
	return off, true
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func getbitCommand(c *Ctx, args [][]byte) {
	off, ok := c.bitOffsetArg(args[2], false, 0)
	if !ok {
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindString) {
			return
		}
		s := x.Bytes()
		by := off >> 3
		bit := 7 - uint(off&7)
		if by < int64(len(s)) && s[by]&(1<<bit) != 0 {
			c.W.Int(1)
			return
		}
		c.W.Int(0)
	})
}

func popcount(b []byte) int64 {
	n := 0
	for len(b) >= 8 {
		n += bits.OnesCount64(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56)
		b = b[8:]
	}
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return int64(n)
}

// byteBitArg parses the optional BYTE|BIT unit.
func byteBitArg(c *Ctx, b []byte) (isBit, ok bool) {
	switch {
	case equalFold(b, "bit"):
		return true, true
	case equalFold(b, "byte"):
		return false, true
	}
	c.W.Error(errSyntax)
	return false, false
}

func bitcountCommand(c *Ctx, args [][]byte) {
	if ver := c.Version(); ver.BitArgsBeforeLookup() {
		bitcountArgsFirst(c, args, ver.BitcountStartOnly())
		return
	}
	// Redis 7.0 and 7.2 look the key up before parsing the range.
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Int(0)
			return
		}
		if !c.checkType(x, rdbparse.KindString) {
			return
		}
		p := x.Bytes()
		switch len(args) {
		case 4, 5:
			start, ok := c.intArg(args[2])
			if !ok {
				return
			}
			end, ok := c.intArg(args[3])
			if !ok {
				return
			}
			if start < 0 && end < 0 && start > end {
				c.W.Int(0)
				return
			}
			isBit := false
			if len(args) == 5 {
				if isBit, ok = byteBitArg(c, args[4]); !ok {
					return
				}
			}
			c.W.Int(countBits(p, start, end, isBit))
		case 2:
			c.W.Int(countBits(p, 0, int64(len(p))-1, false))
		default:
			c.W.Error(errSyntax)
		}
	})
}

// bitcountArgsFirst is BITCOUNT as Redis 7.4 and Valkey 8.0 run it: the
// arguments are checked before the key is looked up. startOnly (Valkey
// 8.0) takes "BITCOUNT key start" and parses BIT|BYTE before end.
func bitcountArgsFirst(c *Ctx, args [][]byte, startOnly bool) {
	var start, end int64
	isBit, ranged, hasEnd := false, false, false
	var ok bool
	switch n := len(args); {
	case n == 4 || n == 5 || n == 3 && startOnly:
		ranged = true
		if start, ok = c.intArg(args[2]); !ok {
			return
		}
		if !startOnly {
			if end, ok = c.intArg(args[3]); !ok {
				return
			}
			hasEnd = true
		}
		if n == 5 {
			if isBit, ok = byteBitArg(c, args[4]); !ok {
				return
			}
		}
		if startOnly && n >= 4 {
			if end, ok = c.intArg(args[3]); !ok {
				return
			}
			hasEnd = true
		}
	case n == 2:
	default:
		c.W.Error(errSyntax)
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if x.Exists() && !c.checkType(x, rdbparse.KindString) {
			return
		}
		p := x.Bytes()
		if !ranged {
			start, end = 0, int64(len(p))-1
		} else if !hasEnd {
			end = int64(len(p)) - 1
		}
		if ranged && start < 0 && end < 0 && start > end || !x.Exists() {
			c.W.Int(0)
			return
		}
		if !ranged {
			c.W.Int(countBits(p, start, end, false))
			return
		}
		c.W.Int(countBits(p, start, end, isBit))
	})
}

// countBits counts the set bits of p in [start, end], in bytes or bits
// (negative indexes from the end, clamped as bitcountCommand does).
func countBits(p []byte, start, end int64, isBit bool) int64 {
	var firstMask, lastMask byte
	tot := int64(len(p))
	if isBit {
		tot <<= 3
	}
	start, end = clampRange(start, end, tot)
	if isBit && start <= end {
		firstMask = ^byte((1 << (8 - uint(start&7))) - 1)
		lastMask = byte((1 << (7 - uint(end&7))) - 1)
		start >>= 3
		end >>= 3
	}
	if start > end {
		return 0
	}
	n := popcount(p[start : end+1])
	if firstMask != 0 || lastMask != 0 {
		fl := []byte{0, 0}
		if firstMask != 0 {
			fl[0] = p[start] & firstMask
		}
		if lastMask != 0 {
			fl[1] = p[end] & lastMask
		}
		n -= popcount(fl)
	}
	return n
}

// bitposArgs is BITPOS's optional range as given: start [end [BIT|BYTE]].
type bitposArgs struct {
	start, end              int64
	ranged, isBit, endGiven bool
}

// parse reads the range in bitposCommand's order (start, the unit, end),
// replying with the first error.
func (a *bitposArgs) parse(c *Ctx, args [][]byte) bool {
	var ok bool
	switch len(args) {
	case 4, 5, 6:
		a.ranged = true
		if a.start, ok = c.intArg(args[3]); !ok {
			return false
		}
		if len(args) == 6 {
			if a.isBit, ok = byteBitArg(c, args[5]); !ok {
				return false
			}
		}
		if len(args) >= 5 {
			if a.end, ok = c.intArg(args[4]); !ok {
				return false
			}
			a.endGiven = true
		}
	case 3:
	default:
		c.W.Error(errSyntax)
		return false
	}
	return true
}

func bitposCommand(c *Ctx, args [][]byte) {
	bit, ok := c.intArg(args[2])
	if !ok {
		return
	}
	if bit != 0 && bit != 1 {
		c.W.Error("ERR The bit argument must be 1 or 0.")
		return
	}
	// Redis 7.4 and Valkey 8.0 check the range before looking the key up;
	// 7.0 and 7.2 after.
	argsFirst := c.Version().BitArgsBeforeLookup()
	var a bitposArgs
	if argsFirst && !a.parse(c, args) {
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if x.Exists() && !c.checkType(x, rdbparse.KindString) {
			return
		}
		if x.Exists() && !argsFirst && !a.parse(c, args) {
			return
		}
		if !x.Exists() {
			if bit == 1 {
				c.W.Int(-1)
			} else {
				c.W.Int(0)
			}
			return
		}
		p := x.Bytes()
		start, end, isBit, endGiven := a.start, a.end, a.isBit, a.endGiven
		if a.ranged {
			tot := int64(len(p))
			if !endGiven {
				if isBit {
					end = tot<<3 + 7
				} else {
					end = tot - 1
				}
			}
			if isBit {
				tot <<= 3
			}
			start, end = clampRange(start, end, tot)
		} else {
			start, end = 0, int64(len(p))-1
		}
		if start > end {
			c.W.Int(-1)
			return
		}
		// Work in bits: [sb, eb] inclusive.
		sb, eb := start, end
		if !isBit {
			sb, eb = start*8, end*8+7
		}
		want := byte(bit)
		for i := sb; i <= eb; {
			by := p[i>>3]
			if i&7 == 0 && i+7 <= eb && ((want == 1 && by == 0) || (want == 0 && by == 0xff)) {
				i += 8
				continue
			}
			if (by>>(7-uint(i&7)))&1 == want {
				c.W.Int(i)
				return
			}
			i++
		}
		if bit == 1 || endGiven {
			c.W.Int(-1)
			return
		}
		c.W.Int(eb + 1)
	})
}

// bitfieldType parses i1..i64 / u1..u63 (getBitfieldTypeFromArgument).
func bitfieldType(c *Ctx, b []byte) (signed bool, nbits int64, ok bool) {
	const msg = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	if len(b) == 0 {
		c.W.Error(msg)
		return
	}
	switch b[0] {
	case 'i', 'I':
		signed = true
	case 'u', 'U':
	default:
		c.W.Error(msg)
		return
	}
	n, good := parseInt(b[1:])
	if !good || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		c.W.Error(msg)
		return
	}
	return signed, n, true
}

type bitfieldOp struct {
	signed bool
	nbits  int64
	off    int64
}

func bitfieldRoCommand(c *Ctx, args [][]byte) {
	var ops []bitfieldOp
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		switch {
		case equalFold(args[j], "get") && rem >= 2:
		case (equalFold(args[j], "set") || equalFold(args[j], "incrby")) && rem >= 3:
			// Parsed for errors as Redis does, then refused below.
			if _, _, ok := bitfieldType(c, args[j+1]); !ok {
				return
			}
			c.W.Error("ERR BITFIELD_RO only supports the GET subcommand")
			return
		case equalFold(args[j], "overflow") && rem >= 1:
			o := args[j+1]
			if !equalFold(o, "wrap") && !equalFold(o, "sat") && !equalFold(o, "fail") {
				c.W.Error("ERR Invalid OVERFLOW type specified")
				return
			}
			j++
			continue
		default:
			c.W.Error(errSyntax)
			return
		}
		signed, nbits, ok := bitfieldType(c, args[j+1])
		if !ok {
			return
		}
		off, ok := c.bitOffsetArg(args[j+2], true, nbits)
		if !ok {
			return
		}
		ops = append(ops, bitfieldOp{signed, nbits, off})
		j += 2
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindString) {
			return
		}
		p := x.Bytes()
		c.W.Array(len(ops))
		for _, op := range ops {
			var u uint64
			for i := int64(0); i < op.nbits; i++ {
				pos := op.off + i
				by := pos >> 3
				var b uint64
				if by < int64(len(p)) {
					b = uint64(p[by]>>(7-uint(pos&7))) & 1
				}
				u = u<<1 | b
			}
			if op.signed {
				if op.nbits < 64 && u&(1<<(op.nbits-1)) != 0 {
					u |= ^uint64(0) << op.nbits
				}
				c.W.Int(int64(u))
			} else {
				c.W.Int(int64(u))
			}
		}
	})
}

// lcsMaxCells bounds the LCS table (4 bytes a cell) so a huge request
// fails instead of exhausting memory.
const lcsMaxCells = 128 << 20

func lcsCommand(c *Ctx, args [][]byte) {
	c.read(args[1:3], func(v *projection.View) {
		xa, xb := c.lookup(v, args[1]), c.lookup(v, args[2])
		if (xa.Exists() && xa.Kind() != rdbparse.KindString) || (xb.Exists() && xb.Kind() != rdbparse.KindString) {
			c.W.Error("ERR The specified keys must contain string values")
			return
		}
		a, b := xa.Bytes(), xb.Bytes()
		getIdx, getLen, withLen := false, false, false
		var minLen int64
		for j := 3; j < len(args); j++ {
			more := len(args) - 1 - j
			switch {
			case equalFold(args[j], "idx"):
				getIdx = true
			case equalFold(args[j], "len"):
				getLen = true
			case equalFold(args[j], "withmatchlen"):
				withLen = true
			case equalFold(args[j], "minmatchlen") && more > 0:
				n, ok := c.intArg(args[j+1])
				if !ok {
					return
				}
				if n < 0 {
					n = 0
				}
				minLen = n
				j++
			default:
				c.W.Error(errSyntax)
				return
			}
		}
		if getIdx && getLen {
			c.W.Error("ERR If you want both the length and indexes, please just use IDX.")
			return
		}
		alen, blen := len(a), len(b)
		if int64(alen+1)*int64(blen+1) > lcsMaxCells {
			c.W.Error("ERR Insufficient memory, failed allocating transient memory for LCS")
			return
		}
		w := blen + 1
		dp := make([]uint32, (alen+1)*w)
		for i := 1; i <= alen; i++ {
			for j := 1; j <= blen; j++ {
				if a[i-1] == b[j-1] {
					dp[i*w+j] = dp[(i-1)*w+j-1] + 1
				} else {
					l1, l2 := dp[(i-1)*w+j], dp[i*w+j-1]
					if l1 > l2 {
						dp[i*w+j] = l1
					} else {
						dp[i*w+j] = l2
					}
				}
			}
		}
		total := dp[alen*w+blen]
		idx := total
		computeLCS := getIdx || !getLen
		var result []byte
		if computeLCS {
			result = make([]byte, idx)
		}
		var at Deferred
		if getIdx {
			c.W.Map(2)
			c.W.BulkString("matches")
			at = c.W.Defer()
		}
		arrayLen := 0
		aStart, aEnd, bStart, bEnd := alen, 0, 0, 0
		i, j := alen, blen
		for computeLCS && i > 0 && j > 0 {
			emit := false
			if a[i-1] == b[j-1] {
				result[idx-1] = a[i-1]
				if aStart == alen {
					aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
				} else if aStart == i && bStart == j {
					aStart--
					bStart--
				} else {
					emit = true
				}
				if aStart == 0 || bStart == 0 {
					emit = true
				}
				idx--
				i--
				j--
			} else {
				if dp[(i-1)*w+j] > dp[i*w+j-1] {
					i--
				} else {
					j--
				}
				if aStart != alen {
					emit = true
				}
			}
			matchLen := aEnd - aStart + 1
			if emit {
				if (minLen == 0 || int64(matchLen) >= minLen) && getIdx {
					if withLen {
						c.W.Array(3)
					} else {
						c.W.Array(2)
					}
					c.W.Array(2)
					c.W.Int(int64(aStart))
					c.W.Int(int64(aEnd))
					c.W.Array(2)
					c.W.Int(int64(bStart))
					c.W.Int(int64(bEnd))
					if withLen {
						c.W.Int(int64(matchLen))
					}
					arrayLen++
				}
				aStart = alen
			}
		}
		switch {
		case getIdx:
			c.W.BulkString("len")
			c.W.Int(int64(total))
			c.W.SetArray(at, arrayLen)
		case getLen:
			c.W.Int(int64(total))
		default:
			c.W.Bulk(result)
		}
	})
}

// clampRange maps start and end, negative ones counted from the end, into
// [0, tot-1] the way BITCOUNT and BITPOS do (see src/bitops.c); the range
// comes out empty (start > end) when nothing of it lies in the value.
func clampRange(start, end, tot int64) (int64, int64) {
	if start < 0 {
		start += tot
	}
	if end < 0 {
		end += tot
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= tot {
		end = tot - 1
	}
	return start, end
}
