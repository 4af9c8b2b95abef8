// Package hll implements Redis's HyperLogLog string format, byte for byte,
// so that a replica's copy of a key written by PFADD, PFMERGE, PFCOUNT and
// PFDEBUG holds exactly the bytes the primary holds (see
// src/hyperloglog.c in Redis 7.0).
//
// What it does: validate an HLL value (isHLLObjectOrReply), add elements
// with Redis's MurmurHash64A and register rules, keep the sparse encoding
// and promote it to dense exactly when Redis does, estimate cardinality
// with the estimator Redis 7 uses (Ertl's "new" estimator), read and write
// the cached cardinality, and merge registers for PFMERGE and multi-key
// PFCOUNT. What it does not do: know about keys, commands, RESP or object
// encodings; callers (projection, commands) do that.
//
// Format (all integers little endian):
//
//	+------+----------+---------+----------------------------+
//	| HYLL | encoding | 3 unused| cached cardinality (8 B)   |  16-byte header
//	+------+----------+---------+----------------------------+
//	 0..3    4 (0 dense, 1 sparse)  8..15; bit 7 of byte 15 set = cache invalid
//
//	dense:  16384 registers of 6 bits, least significant bits first,
//	        12288 bytes after the header (12304 in all).
//
//	sparse: a run-length sequence of opcodes after the header:
//	  ZERO   00xxxxxx           xxxxxx+1 registers (1..64) set to 0
//	  XZERO  01xxxxxx yyyyyyyy  xxxxxxyyyyyyyy+1 registers (1..16384) set to 0
//	  VAL    1vvvvvxx           xx+1 registers (1..4) set to vvvvv+1 (1..32)
//	The runs must cover exactly 16384 registers.
//
// Byte slices passed in are not retained unless a function says it returns
// (possibly the same) slice for the caller to keep.
package hll

import (
	"encoding/binary"
	"errors"
	"math"
)

// Constants named after src/hyperloglog.c.
const (
	P               = 14                                // HLL_P: register index bits
	Q               = 64 - P                            // HLL_Q: bits left for the run of zeroes
	Registers       = 1 << P                            // HLL_REGISTERS
	pMask           = Registers - 1                     // HLL_P_MASK
	regBits         = 6                                 // HLL_BITS
	RegisterMax     = (1 << regBits) - 1                // HLL_REGISTER_MAX
	HdrSize         = 16                                // HLL_HDR_SIZE
	DenseSize       = HdrSize + (Registers*regBits+7)/8 // HLL_DENSE_SIZE
	Dense           = 0                                 // HLL_DENSE
	Sparse          = 1                                 // HLL_SPARSE
	maxEncoding     = 1                                 // HLL_MAX_ENCODING
	sparseValMax    = 32                                // HLL_SPARSE_VAL_MAX_VALUE
	sparseValMaxLen = 4                                 // HLL_SPARSE_VAL_MAX_LEN
	sparseZeroMax   = 64                                // HLL_SPARSE_ZERO_MAX_LEN
	sparseXZeroMax  = 16384                             // HLL_SPARSE_XZERO_MAX_LEN
	alphaInf        = 0.721347520444481703680           // HLL_ALPHA_INF: 1/(2 ln 2)
	hashSeed        = 0xadc83b19                        // the seed hllPatLen gives MurmurHash64A

	// DefaultSparseMaxBytes is hll-sparse-max-bytes' default.
	DefaultSparseMaxBytes = 3000
)

// Sentinel errors.
var (
	// ErrNotHLL is a value that is not an HLL at all (Redis answers
	// "WRONGTYPE Key is not a valid HyperLogLog string value.").
	ErrNotHLL = errors.New("hll: not a valid HyperLogLog string value")
	// ErrCorrupt is a value with a valid header whose registers cannot be
	// decoded (Redis answers "INVALIDOBJ Corrupted HLL object detected").
	ErrCorrupt = errors.New("hll: corrupted HLL object")
)

// Check reports whether b passes Redis's isHLLObjectOrReply: a header with
// the magic, a known encoding, and the exact size when dense. A value
// that passes may still be corrupt (ErrCorrupt from the other functions).
func Check(b []byte) error {
	if len(b) < HdrSize || b[0] != 'H' || b[1] != 'Y' || b[2] != 'L' || b[3] != 'L' {
		return ErrNotHLL
	}
	if b[4] > maxEncoding {
		return ErrNotHLL
	}
	if b[4] == Dense && len(b) != DenseSize {
		return ErrNotHLL
	}
	return nil
}

// New returns an empty sparse HLL as createHLLObject makes it: the header
// (cache valid, cardinality 0) and one XZERO run of 16384 registers.
func New() []byte {
	b := make([]byte, HdrSize+2, HdrSize+8)
	copy(b, "HYLL")
	b[4] = Sparse
	xzeroSet(b[HdrSize:], Registers)
	return b
}

// Cached returns the cached cardinality and whether it is valid.
func Cached(b []byte) (card uint64, valid bool) {
	if len(b) < HdrSize {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[8:16]), b[15]&0x80 == 0
}

// SetCache stores card as the cached cardinality (HLL_VALID_CACHE after).
func SetCache(b []byte, card uint64) {
	binary.LittleEndian.PutUint64(b[8:16], card)
}

// InvalidateCache sets the "invalid" bit of the cache and leaves the other
// cache bytes as they were (HLL_INVALIDATE_CACHE).
func InvalidateCache(b []byte) { b[15] |= 0x80 }

// MurmurHash64A is Redis's 64-bit MurmurHash2 variant, reading 8-byte
// blocks little endian on every platform (see src/hyperloglog.c).
func MurmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ (uint64(len(key)) * m)
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		k := binary.LittleEndian.Uint64(key[i:])
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	if len(tail) > 0 {
		for i := len(tail) - 1; i >= 0; i-- {
			h ^= uint64(tail[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// PatLen returns the register an element goes to and the length of its
// "000…1" pattern, the value that register must reach (hllPatLen).
func PatLen(ele []byte) (index int, count uint8) {
	hash := MurmurHash64A(ele, hashSeed)
	index = int(hash & pMask)
	hash >>= P
	hash |= 1 << Q // the loop ends, count ≤ Q+1
	count = 1
	for bit := uint64(1); hash&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

// ---- dense registers ----

func denseGet(regs []byte, i int) uint8 {
	byt := i * regBits / 8
	fb := uint(i*regBits) & 7
	b0 := uint(regs[byt])
	var b1 uint
	if byt+1 < len(regs) {
		b1 = uint(regs[byt+1])
	}
	return uint8(((b0 >> fb) | (b1 << (8 - fb))) & RegisterMax)
}

func denseSet(regs []byte, i int, v uint8) {
	byt := i * regBits / 8
	fb := uint(i*regBits) & 7
	val := uint(v)
	regs[byt] &^= byte(RegisterMax << fb)
	regs[byt] |= byte(val << fb)
	if byt+1 < len(regs) { // the last register fits in its byte
		regs[byt+1] &^= byte(RegisterMax >> (8 - fb))
		regs[byt+1] |= byte(val >> (8 - fb))
	}
}

// denseDecode unpacks every register into out, four 6-bit registers
// from each three bytes (the values denseGet reads one by one).
func denseDecode(regs []byte, out *Regs) {
	regs = regs[:Registers*regBits/8]
	for i, j := 0, 0; j+2 < len(regs); i, j = i+4, j+3 {
		b0, b1, b2 := regs[j], regs[j+1], regs[j+2]
		out[i] = b0 & RegisterMax
		out[i+1] = (b0>>6 | b1<<2) & RegisterMax
		out[i+2] = (b1>>4 | b2<<4) & RegisterMax
		out[i+3] = b2 >> 2
	}
}

// ---- sparse opcodes ----

func isZero(c byte) bool  { return c&0xc0 == 0 }
func isXZero(c byte) bool { return c&0xc0 == 0x40 }
func isVal(c byte) bool   { return c&0x80 != 0 }
func zeroLen(c byte) int  { return int(c&0x3f) + 1 }
func valValue(c byte) int { return int(c>>2&0x1f) + 1 }
func valLen(c byte) int   { return int(c&3) + 1 }

// xzeroLen reads an XZERO opcode at p[0]. A value ending after its first
// byte reads a zero second byte: Redis reads the sds's NUL terminator
// there, and a replica must decode such a corrupt value the same way.
func xzeroLen(p []byte) int {
	var lo byte
	if len(p) > 1 {
		lo = p[1]
	}
	return (int(p[0]&0x3f)<<8 | int(lo)) + 1
}

func valByte(val, n int) byte { return byte((val-1)<<2|(n-1)) | 0x80 }
func zeroByte(n int) byte     { return byte(n - 1) }

func xzeroSet(p []byte, n int) {
	n--
	p[0] = byte(n>>8) | 0x40
	p[1] = byte(n)
}

// ---- operations ----

// Add adds ele to the HLL b (which must pass Check), promoting a sparse
// HLL to dense when Redis would (sparseMax is hll-sparse-max-bytes). It
// returns the value to keep (b itself, grown, or a new dense slice) and
// whether a register changed. It does not touch the cached cardinality:
// PFADD invalidates it when any register changed.
func Add(b, ele []byte, sparseMax int) ([]byte, bool, error) {
	idx, count := PatLen(ele)
	return Set(b, idx, count, sparseMax)
}

// Set raises register idx to count if it is lower (hllDenseSet or
// hllSparseSet), with the same result contract as Add.
func Set(b []byte, idx int, count uint8, sparseMax int) ([]byte, bool, error) {
	if err := Check(b); err != nil {
		return b, false, err
	}
	if idx < 0 || idx >= Registers {
		return b, false, ErrCorrupt
	}
	switch b[4] {
	case Dense:
		regs := b[HdrSize:]
		if count > denseGet(regs, idx) {
			denseSet(regs, idx, count)
			return b, true, nil
		}
		return b, false, nil
	case Sparse:
		return sparseSet(b, idx, count, sparseMax)
	}
	return b, false, ErrCorrupt
}

// sparseSet follows hllSparseSet step by step: locate the opcode covering
// idx, update or split it, promote when the result would be too long or
// the value too large, then merge adjacent equal VALs.
func sparseSet(b []byte, idx int, count uint8, sparseMax int) ([]byte, bool, error) {
	if count > sparseValMax {
		return promote(b, idx, count)
	}
	end := len(b)
	p := HdrSize
	first, span, prev := 0, 0, -1
	for p < end {
		oplen := 1
		switch c := b[p]; {
		case isZero(c):
			span = zeroLen(c)
		case isVal(c):
			span = valLen(c)
		default:
			span = xzeroLen(b[p:])
			oplen = 2
		}
		if idx <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return b, false, ErrCorrupt
	}
	c := b[p]
	var runlen int
	switch {
	case isZero(c):
		runlen = zeroLen(c)
	case isXZero(c):
		runlen = xzeroLen(b[p:])
	default:
		runlen = valLen(c)
	}
	if isVal(c) {
		old := valValue(c)
		if old >= int(count) {
			return b, false, nil // case A
		}
		if runlen == 1 { // case B
			b[p] = valByte(int(count), 1)
			return sparseMerge(b, prev), true, nil
		}
	}
	if isZero(c) && runlen == 1 { // case C
		b[p] = valByte(int(count), 1)
		return sparseMerge(b, prev), true, nil
	}
	// Case D: split the opcode into up to three.
	var seq [5]byte
	n := 0
	last := first + span - 1
	if isZero(c) || isXZero(c) {
		if idx != first {
			l := idx - first
			if l > sparseZeroMax {
				xzeroSet(seq[n:], l)
				n += 2
			} else {
				seq[n] = zeroByte(l)
				n++
			}
		}
		seq[n] = valByte(int(count), 1)
		n++
		if idx != last {
			l := last - idx
			if l > sparseZeroMax {
				xzeroSet(seq[n:], l)
				n += 2
			} else {
				seq[n] = zeroByte(l)
				n++
			}
		}
	} else {
		cur := valValue(c)
		if idx != first {
			seq[n] = valByte(cur, idx-first)
			n++
		}
		seq[n] = valByte(int(count), 1)
		n++
		if idx != last {
			seq[n] = valByte(cur, last-idx)
			n++
		}
	}
	oldlen := 1
	if isXZero(c) {
		oldlen = 2
	}
	delta := n - oldlen
	if delta > 0 && len(b)+delta > sparseMax {
		return promote(b, idx, count)
	}
	if p+oldlen > len(b) {
		// A cut XZERO at the very end (corrupt): Redis writes the new
		// opcodes from p and its length grows by delta, so the last byte
		// written falls beyond the end.
		nl := len(b) + delta
		b = append(b[:p], seq[:n]...)[:nl]
	} else {
		b = replace(b, p, p+oldlen, seq[:n])
	}
	return sparseMerge(b, prev), true, nil
}

// replace puts seq in place of b[i:j], growing b geometrically like an sds.
func replace(b []byte, i, j int, seq []byte) []byte {
	delta := len(seq) - (j - i)
	if delta > 0 {
		if cap(b)-len(b) < delta {
			nb := make([]byte, len(b), 2*len(b)+delta)
			copy(nb, b)
			b = nb
		}
		b = b[:len(b)+delta]
	}
	copy(b[j+delta:], b[j:len(b)-max(delta, 0)])
	if delta < 0 {
		b = b[:len(b)+delta]
	}
	copy(b[i:], seq)
	return b
}

// sparseMerge is step 4 of hllSparseSet: from the opcode before the one
// changed, look at up to five opcodes and merge adjacent VALs of the same
// value whose lengths fit one VAL.
func sparseMerge(b []byte, prev int) []byte {
	p := prev
	if p < 0 {
		p = HdrSize
	}
	for scan := 5; p < len(b) && scan > 0; {
		scan--
		c := b[p]
		if isXZero(c) {
			p += 2
			continue
		}
		if isZero(c) {
			p++
			continue
		}
		if p+1 < len(b) && isVal(b[p+1]) {
			v1, v2 := valValue(c), valValue(b[p+1])
			if v1 == v2 {
				if l := valLen(c) + valLen(b[p+1]); l <= sparseValMaxLen {
					b[p+1] = valByte(v1, l)
					copy(b[p:], b[p+1:])
					b = b[:len(b)-1]
					continue // try to merge with the next one too
				}
			}
		}
		p++
	}
	return b
}

// promote converts b to dense and sets the register (the "promote" label
// of hllSparseSet).
func promote(b []byte, idx int, count uint8) ([]byte, bool, error) {
	d, err := ToDense(b)
	if err != nil {
		return b, false, err
	}
	// Redis asserts that the register changes: a sparse register is ≤ 32
	// and count is larger, or the split was needed because it was lower.
	if count <= denseGet(d[HdrSize:], idx) {
		return d, false, nil
	}
	denseSet(d[HdrSize:], idx, count)
	return d, true, nil
}

// ToDense returns b in the dense encoding (b itself when already dense),
// keeping the header's magic and cache bytes (hllSparseToDense).
func ToDense(b []byte) ([]byte, error) {
	if err := Check(b); err != nil {
		return b, err
	}
	if b[4] == Dense {
		return b, nil
	}
	d := make([]byte, DenseSize)
	copy(d, b[:HdrSize])
	d[4] = Dense
	regs := d[HdrSize:]
	idx := 0
	err := walkSparse(b[HdrSize:], func(val, run int) bool {
		if val == 0 {
			idx += run
			return true
		}
		if idx+run > Registers {
			return false
		}
		for ; run > 0; run-- {
			denseSet(regs, idx, uint8(val))
			idx++
		}
		return true
	})
	if err != nil || idx != Registers {
		return b, ErrCorrupt
	}
	return d, nil
}

// walkSparse calls fn for each opcode as (value, run length), value 0 for
// ZERO and XZERO, until fn returns false. A truncated XZERO is ErrCorrupt.
func walkSparse(s []byte, fn func(val, run int) bool) error {
	for p := 0; p < len(s); {
		c := s[p]
		var ok bool
		switch {
		case isZero(c):
			ok = fn(0, zeroLen(c))
			p++
		case isXZero(c):
			ok = fn(0, xzeroLen(s[p:]))
			p += 2
		default:
			ok = fn(valValue(c), valLen(c))
			p++
		}
		if !ok {
			return nil
		}
	}
	return nil
}

// Regs is a plain array of register values, one byte each (Redis's
// HLL_RAW), used to merge several HLLs.
type Regs [Registers]uint8

// MergeInto raises each register of into to b's when b's is larger
// (hllMerge). b must pass Check.
func MergeInto(into *Regs, b []byte) error {
	if err := Check(b); err != nil {
		return err
	}
	if b[4] == Dense {
		var regs Regs
		denseDecode(b[HdrSize:], &regs)
		for i, v := range regs {
			if v > into[i] {
				into[i] = v
			}
		}
		return nil
	}
	i := 0
	overflow := false
	err := walkSparse(b[HdrSize:], func(val, run int) bool {
		if val == 0 {
			i += run
			return true
		}
		if i+run > Registers {
			overflow = true
			return false
		}
		for ; run > 0; run-- {
			if uint8(val) > into[i] {
				into[i] = uint8(val)
			}
			i++
		}
		return true
	})
	if err != nil || overflow || i != Registers {
		return ErrCorrupt
	}
	return nil
}

// Count estimates the cardinality of the HLL b from its registers,
// ignoring the cache (hllCount).
func Count(b []byte) (uint64, error) {
	if err := Check(b); err != nil {
		return 0, err
	}
	var histo [64]int
	if b[4] == Dense {
		var regs Regs
		denseDecode(b[HdrSize:], &regs)
		// Four histograms: consecutive registers mostly hold the same
		// value, and one counter would serialize the increments.
		var h4 [4][64]int32
		for i := 0; i < Registers; i += 4 {
			h4[0][regs[i]&63]++
			h4[1][regs[i+1]&63]++
			h4[2][regs[i+2]&63]++
			h4[3][regs[i+3]&63]++
		}
		for v := range histo {
			histo[v] = int(h4[0][v] + h4[1][v] + h4[2][v] + h4[3][v])
		}
	} else {
		idx := 0
		if err := walkSparse(b[HdrSize:], func(val, run int) bool {
			idx += run
			histo[val] += run
			return true
		}); err != nil || idx != Registers {
			return 0, ErrCorrupt
		}
	}
	return estimate(&histo), nil
}

// CountRegs estimates the cardinality of merged registers (hllCount of an
// HLL_RAW value).
func CountRegs(r *Regs) uint64 {
	var h4 [4][64]int32
	for i := 0; i < Registers; i += 4 {
		h4[0][r[i]&63]++
		h4[1][r[i+1]&63]++
		h4[2][r[i+2]&63]++
		h4[3][r[i+3]&63]++
	}
	var histo [64]int
	for v := range histo {
		histo[v] = int(h4[0][v] + h4[1][v] + h4[2][v] + h4[3][v])
	}
	return estimate(&histo)
}

// estimate is Ertl's estimator as in hllCount ("New cardinality estimation
// algorithms for HyperLogLog sketches", arXiv:1702.01284). Every product
// is converted explicitly so that no fused multiply-add changes a bit.
func estimate(histo *[64]int) uint64 {
	const m = float64(Registers)
	z := float64(m * tau(float64(m-float64(histo[Q+1]))/m))
	for j := Q; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += float64(m * sigma(float64(histo[0])/m))
	e := float64(float64(alphaInf*m)*m) / z
	return uint64(int64(math.Round(e)))
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x = float64(x * x)
		zp := z
		z += float64(x * y)
		y += y
		if zp == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := float64(1 - x)
		z -= float64(float64(d*d) * y)
		if zp == z {
			return z / 3
		}
	}
}
