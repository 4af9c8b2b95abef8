package projection

import (
	"fmt"
	"math"
)

// ---- bitmap commands (src/bitops.c) ----
//
// SETBIT, BITOP and BITFIELD edit a string in place: like Redis's
// lookupStringForBitCommand and dbUnshareStringValue, the value becomes a
// raw (boxed) string, grown with zero bytes up to the highest bit written.

// maxBitOffset bounds bit offsets. Redis exempts its master client from
// the proto-max-bulk-len check (getBitOffsetFromArgument), but a primary
// only propagates offsets it accepted itself, so the default limit (512 MB
// of bits) holds; larger ones are refused rather than allocated.
const maxBitOffset = uint64(maxStringBytes)*8 - 1

// bitOffset parses a bit offset; with bits > 0 a "#n" offset means n×bits
// (getBitOffsetFromArgument).
func bitOffset(b []byte, bits int64) (uint64, error) {
	hash := bits > 0 && len(b) > 0 && b[0] == '#'
	if hash {
		b = b[1:]
	}
	v, ok := parseStrictInt(b)
	if !ok {
		return 0, fmt.Errorf("bit offset is not an integer or out of range: %w", ErrOutOfRange)
	}
	if hash {
		if v != 0 && (v > math.MaxInt64/bits || v < math.MinInt64/bits) {
			return 0, fmt.Errorf("bit offset is not an integer or out of range: %w", ErrOutOfRange)
		}
		v *= bits
	}
	if v < 0 || uint64(v) > maxBitOffset {
		return 0, fmt.Errorf("bit offset is not an integer or out of range: %w", ErrOutOfRange)
	}
	return uint64(v), nil
}

// bitString returns key's string as a raw value at least maxbit/8+1 bytes
// long, creating it (zero-filled) when missing (lookupStringForBitCommand);
// dirty says it was created or grown.
func (c *ctx) bitString(key []byte, maxbit uint64) (r *rawStr, dirty bool, err error) {
	o, exists, err := c.typed(key, KindString)
	if err != nil {
		return nil, false, err
	}
	n := int(maxbit>>3) + 1
	if !exists {
		r := &rawStr{b: make([]byte, n)}
		c.d.store(key, obj{kind: KindString, enc: encRaw, flags: flagBoxed, ptr: ptrOf(r)})
		return r, true, nil
	}
	r = boxed(c.d, key, o)
	if len(r.b) < n {
		r.b = append(r.b, make([]byte, n-len(r.b))...)
		dirty = true
	}
	return r, dirty, nil
}

// setbitCommand: SETBIT key offset 0|1.
func setbitCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	off, err := bitOffset(c.argv[2], 0)
	if err != nil {
		return err
	}
	on, ok := parseStrictInt(c.argv[3])
	if !ok || on&^1 != 0 {
		return fmt.Errorf("bit is not an integer or out of range: %w", ErrOutOfRange)
	}
	r, dirty, err := c.bitString(c.argv[1], off)
	if err != nil {
		return err
	}
	bit := byte(1) << (7 - off&7)
	old := r.b[off>>3]
	if on == 1 {
		r.b[off>>3] |= bit
	} else {
		r.b[off>>3] &^= bit
	}
	if dirty || old != r.b[off>>3] {
		c.notify(NotifyString, "setbit", c.argv[1])
	}
	return nil
}

// keysBitop: BITOP op dest src… writes dest and reads the sources, which
// must be locked too.
func keysBitop(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	if len(argv) > 2 {
		keys = append(keys, argv[2:]...)
	}
	return keys, scopeKeys
}

// bitopCommand: BITOP AND|OR|XOR|NOT dest src…. Missing sources are
// empty strings, shorter ones are zero-padded to the longest; an empty
// result deletes dest, otherwise dest is set (TTL cleared) to a raw string.
func bitopCommand(c *ctx) error {
	if err := c.arity(4, true); err != nil {
		return err
	}
	op := c.argv[1]
	and, or, xor, not := eq(op, "and"), eq(op, "or"), eq(op, "xor"), eq(op, "not")
	if !and && !or && !xor && !not {
		return ErrSyntax
	}
	if not && len(c.argv) != 4 {
		return fmt.Errorf("BITOP NOT must be called with a single source key: %w", ErrSyntax)
	}
	srcs := make([][]byte, 0, len(c.argv)-3)
	maxlen := 0
	for _, k := range c.argv[3:] {
		o, exists, err := c.typed(k, KindString)
		if err != nil {
			return err
		}
		var b []byte
		if exists {
			b = o.bytes()
		}
		srcs = append(srcs, b)
		maxlen = max(maxlen, len(b))
	}
	dest := c.argv[2]
	if maxlen == 0 {
		if c.d.remove(dest) {
			c.notify(NotifyGeneric, "del", dest)
		}
		return nil
	}
	res := make([]byte, maxlen)
	at := func(b []byte, i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	for i := range res {
		v := at(srcs[0], i)
		switch {
		case not:
			v = ^v
		case and:
			for _, s := range srcs[1:] {
				v &= at(s, i)
			}
		case or:
			for _, s := range srcs[1:] {
				v |= at(s, i)
			}
		case xor:
			for _, s := range srcs[1:] {
				v ^= at(s, i)
			}
		}
		res[i] = v
	}
	c.d.store(dest, obj{kind: KindString, enc: encRaw, flags: flagBoxed, ptr: ptrOf(&rawStr{b: res})})
	c.notify(NotifyString, "set", dest)
	return nil
}

// Bitfield operations and overflow modes (src/bitops.c).
const (
	bitfieldOpGet    = iota // BITFIELDOP_GET
	bitfieldOpSet           // BITFIELDOP_SET
	bitfieldOpIncrby        // BITFIELDOP_INCRBY
)

const (
	bfOverflowWrap = iota // BFOVERFLOW_WRAP
	bfOverflowSat         // BFOVERFLOW_SAT
	bfOverflowFail        // BFOVERFLOW_FAIL
)

type bitfieldOp struct {
	opcode int
	owtype int
	signed bool
	bits   uint
	offset uint64
	i64    int64
}

// bitfieldType parses i1..i64 / u1..u63 (getBitfieldTypeFromArgument).
func bitfieldType(b []byte) (signed bool, bits uint, err error) {
	bad := fmt.Errorf("invalid bitfield type: %w", ErrSyntax)
	if len(b) == 0 {
		return false, 0, bad
	}
	switch b[0] {
	case 'i', 'I':
		signed = true
	case 'u', 'U':
	default:
		return false, 0, bad
	}
	n, ok := parseStrictInt(b[1:])
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, bad
	}
	return signed, uint(n), nil
}

// bitfieldCommand: BITFIELD key [GET t off] [SET t off v] [INCRBY t off n]
// [OVERFLOW WRAP|SAT|FAIL]…. Only commands with a write reach a replica;
// every SET/INCRBY is applied in order with the overflow mode in force
// when it was parsed, and the string first grows to cover every write,
// even one that FAIL later skips (bitfieldGeneric).
func bitfieldCommand(c *ctx) error {
	if err := c.arity(2, true); err != nil {
		return err
	}
	var ops []bitfieldOp
	owtype := bfOverflowWrap
	readonly := true
	var highest uint64
	argv := c.argv
	for j := 2; j < len(argv); j++ {
		rem := len(argv) - j - 1
		sub := argv[j]
		var opcode int
		switch {
		case eq(sub, "get") && rem >= 2:
			opcode = bitfieldOpGet
		case eq(sub, "set") && rem >= 3:
			opcode = bitfieldOpSet
		case eq(sub, "incrby") && rem >= 3:
			opcode = bitfieldOpIncrby
		case eq(sub, "overflow") && rem >= 1:
			j++
			switch t := argv[j]; {
			case eq(t, "wrap"):
				owtype = bfOverflowWrap
			case eq(t, "sat"):
				owtype = bfOverflowSat
			case eq(t, "fail"):
				owtype = bfOverflowFail
			default:
				return fmt.Errorf("invalid OVERFLOW type specified: %w", ErrSyntax)
			}
			continue
		default:
			return ErrSyntax
		}
		signed, bits, err := bitfieldType(argv[j+1])
		if err != nil {
			return err
		}
		off, err := bitOffset(argv[j+2], int64(bits))
		if err != nil {
			return err
		}
		op := bitfieldOp{opcode: opcode, owtype: owtype, signed: signed, bits: bits, offset: off}
		if opcode != bitfieldOpGet {
			readonly = false
			highest = max(highest, off+uint64(bits)-1)
			v, ok := parseStrictInt(argv[j+3])
			if !ok {
				return ErrNotInteger
			}
			op.i64 = v
			ops = append(ops, op)
			j += 3
		} else {
			j += 2
		}
	}
	if readonly {
		return nil // only GETs: changes nothing
	}
	if highest > maxBitOffset {
		return fmt.Errorf("bit offset is not an integer or out of range: %w", ErrOutOfRange)
	}
	r, dirty, err := c.bitString(argv[1], highest)
	if err != nil {
		return err
	}
	changes := false
	for _, op := range ops {
		if applyBitfieldOp(r.b, op) || dirty {
			changes = true
		}
	}
	if changes {
		c.notify(NotifyString, "setbit", argv[1])
	}
	return nil
}

// applyBitfieldOp runs one SET or INCRBY on p, which is long enough; it
// reports whether the field changed (a FAIL overflow changes nothing).
func applyBitfieldOp(p []byte, op bitfieldOp) bool {
	if op.signed {
		old := signedBitfield(p, op.offset, op.bits)
		var nv int64
		var overflow bool
		var wrapped int64
		if op.opcode == bitfieldOpIncrby {
			overflow, wrapped = signedOverflow(old, op.i64, op.bits, op.owtype)
			nv = old + op.i64
			if overflow {
				nv = wrapped
			}
		} else {
			nv = op.i64
			overflow, wrapped = signedOverflow(nv, 0, op.bits, op.owtype)
			if overflow {
				nv = wrapped
			}
		}
		if !(overflow && op.owtype == bfOverflowFail) {
			setBitfield(p, op.offset, op.bits, uint64(nv))
			return nv != old
		}
		return false
	}
	old := unsignedBitfield(p, op.offset, op.bits)
	var nv uint64
	var overflow bool
	var wrapped uint64
	if op.opcode == bitfieldOpIncrby {
		nv = old + uint64(op.i64)
		overflow, wrapped = unsignedOverflow(old, op.i64, op.bits, op.owtype)
	} else {
		nv = uint64(op.i64)
		overflow, wrapped = unsignedOverflow(nv, 0, op.bits, op.owtype)
	}
	if overflow {
		nv = wrapped
	}
	if !(overflow && op.owtype == bfOverflowFail) {
		setBitfield(p, op.offset, op.bits, nv)
		return nv != old
	}
	return false
}

// unsignedBitfield reads bits bits at offset, most significant first.
func unsignedBitfield(p []byte, offset uint64, bits uint) uint64 {
	var v uint64
	for i := uint64(0); i < uint64(bits); i++ {
		pos := offset + i
		var b uint64
		if by := pos >> 3; by < uint64(len(p)) {
			b = uint64(p[by]>>(7-pos&7)) & 1
		}
		v = v<<1 | b
	}
	return v
}

// signedBitfield is unsignedBitfield sign-extended from bit bits-1.
func signedBitfield(p []byte, offset uint64, bits uint) int64 {
	v := unsignedBitfield(p, offset, bits)
	if bits < 64 && v&(1<<(bits-1)) != 0 {
		v |= math.MaxUint64 << bits
	}
	return int64(v)
}

// setBitfield writes the low bits bits of v at offset, most significant
// first.
func setBitfield(p []byte, offset uint64, bits uint, v uint64) {
	for i := uint64(0); i < uint64(bits); i++ {
		bit := v >> (uint64(bits) - 1 - i) & 1
		pos := offset + i
		mask := byte(1) << (7 - pos&7)
		if bit != 0 {
			p[pos>>3] |= mask
		} else {
			p[pos>>3] &^= mask
		}
	}
}

// unsignedOverflow is checkUnsignedBitfieldOverflow: whether value+incr
// leaves 0..2^bits-1, and the value to store instead under WRAP or SAT.
func unsignedOverflow(value uint64, incr int64, bits uint, owtype int) (bool, uint64) {
	maxv := uint64(1)<<bits - 1
	maxincr := int64(maxv - value)
	minincr := -int64(value)
	wrap := func() (bool, uint64) {
		return true, (value + uint64(incr)) &^ (math.MaxUint64 << bits)
	}
	if value > maxv || (incr > 0 && incr > maxincr) {
		if owtype == bfOverflowWrap {
			return wrap()
		}
		return true, maxv // SAT; FAIL ignores it
	}
	if incr < 0 && incr < minincr {
		if owtype == bfOverflowWrap {
			return wrap()
		}
		return true, 0
	}
	return false, 0
}

// signedOverflow is checkSignedBitfieldOverflow for a field of bits bits.
func signedOverflow(value, incr int64, bits uint, owtype int) (bool, int64) {
	maxv := int64(math.MaxInt64)
	if bits != 64 {
		maxv = int64(1)<<(bits-1) - 1
	}
	minv := -maxv - 1
	maxincr := int64(uint64(maxv) - uint64(value)) // may wrap: used only after the range checks
	minincr := minv - value
	wrap := func() (bool, int64) {
		c := uint64(value) + uint64(incr)
		if bits < 64 {
			mask := uint64(math.MaxUint64) << bits
			if c&(1<<(bits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return true, int64(c)
	}
	if value > maxv || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
		if owtype == bfOverflowWrap {
			return wrap()
		}
		return true, maxv
	}
	if value < minv || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
		if owtype == bfOverflowWrap {
			return wrap()
		}
		return true, minv
	}
	return false, 0
}
