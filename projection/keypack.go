package projection

import (
	"encoding/binary"
	"unsafe"
)

// Packed keys. Most keyspaces name their keys with a prefix and a number
// ("user:1042", "s:000000123456", "order:2024:000187"), and the number is
// often the longer part, often zero-padded to a fixed width (the form
// redis-benchmark writes, key:000000012345). A record (a string's,
// rec.go; a packed collection's, crec.go) stores such a key with its
// trailing digits as one binary number:
//
//	+----------------+-----------+------------------------+
//	| prefix         | 1 L vvvv  | L bytes: the rest of v |
//	| (bytes < 0x80) | mark byte | (most significant first)|
//	+----------------+-----------+------------------------+
//	the prefix is the key up to its last d digits; v is their value;
//	the mark byte is 0x80 | L<<4 | v's top 4 bits, so it ends the
//	prefix and says how many bytes follow (L = 0–7, the fewest that
//	hold v: 4 + 8·L bits)
//
// when the key ends in at least minPackedDigits digits, its prefix is
// ASCII (no byte of 0x80 or more), and it is shorter than 63 bytes (its
// length, in the slot's tag, stays the key's own). d is the whole digit
// run, or its last maxPackedDigits (the rest stay in the prefix), so a
// key has exactly one packed form. The key's length gives d, so leading
// zeros cost nothing: "s:000000123456" takes 2 + 3 bytes, where its 12
// digits two to a byte took 2 + 6; a run of d digits with no leading
// zeros takes 1 + ⌈(3.33·d − 4)/8⌉ bytes, never more than two to a
// byte would. The stored length needs no byte of its own: the prefix
// ends at the mark (packedPre), which gives L. The slot's tagPacked bit
// says the record holds the packed form; a box or a folded collection
// always holds the key as it is.
//
// A lookup never packs the key it looks for: the slot's hash bits and
// length decide which slot may hold it, as before, and only there is the
// key compared with the packed form: the prefixes as bytes, then the
// key's digits read as a number (eight at a time, digits8) against v
// (packedMatch). Whatever needs the key's bytes (SCAN, KEYS, events, a
// cluster's slot claims, rehashing a big table) gets them unpacked
// (slot.appendKey), v written back out to d digits.

// minPackedDigits is the shortest digit run packed: at most three bytes
// for six digits, three saved. maxPackedDigits is the most digits one
// number holds: 10^18 − 1 < 2^60, the most a mark and seven bytes hold.
const (
	minPackedDigits = 6
	maxPackedDigits = 18
)

// packDigits returns how many trailing digits key's packed form holds as
// its number, or 0 when the key is stored as it is.
func packDigits(key []byte) int {
	if len(key) >= tagLongKey {
		return 0
	}
	r := 0
	for i := len(key) - 1; i >= 0 && key[i]-'0' <= 9; i-- {
		r++
	}
	if r < minPackedDigits {
		return 0
	}
	r = min(r, maxPackedDigits)
	for _, c := range key[:len(key)-r] {
		if c >= 0x80 {
			return 0
		}
	}
	return r
}

// numBytes is L for a number v: the bytes that follow the mark.
func numBytes(v uint64) int {
	l := 0
	for v >= 1<<(4+8*l) {
		l++
	}
	return l
}

// parseDigits returns the value of the ASCII digits in b (at most 19),
// and false if any byte of b is not a digit.
func parseDigits(b []byte) (uint64, bool) {
	var v uint64
	for len(b) >= 8 {
		x, ok := digits8(binary.LittleEndian.Uint64(b))
		if !ok {
			return 0, false
		}
		v = v*1e8 + x
		b = b[8:]
	}
	for _, c := range b {
		if c-'0' > 9 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// digits8 returns the value of the eight ASCII digits in x, the first
// (most significant) in its lowest byte, and whether all eight are
// digits. A byte is a digit when its high nibble is 3 and its low nibble
// plus 6 does not carry into it. The digits are then combined in lanes
// that double in width: pairs (a·10 + b) in 16 bits, fours (p·100 + q)
// in 32, and the eight (f·10⁴ + g), none of which overflows its lane.
func digits8(x uint64) (uint64, bool) {
	const hi, six = 0xf0f0f0f0f0f0f0f0, 0x0606060606060606
	if x&hi != 0x3030303030303030 || (x+six)&hi != 0x3030303030303030 {
		return 0, false
	}
	x &^= hi
	x = (x*10 + x>>8) & 0x00ff00ff00ff00ff
	x = (x*100 + x>>16) & 0x0000ffff0000ffff
	return (x*10000 + x>>32) & 0xffffffff, true
}

// packedPre is the length of the prefix of the packed form at p: where
// its first byte of 0x80 or more, the mark, is.
func packedPre(p *byte) int {
	i := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), i)) < 0x80 {
		i++
	}
	return i
}

// packedStoredLen is the length of the packed form at p: the mark says
// it.
func packedStoredLen(p *byte) int { return packedLenAt(p, packedPre(p)) }

// packedLenAt is packedStoredLen with the prefix's length known: the
// prefix, the mark and the L bytes it counts.
func packedLenAt(p *byte, pre int) int {
	return pre + 1 + int(*(*byte)(unsafe.Add(unsafe.Pointer(p), pre))>>4&7)
}

// packedNum returns the number of the packed form at p, whose mark is at
// pre.
func packedNum(p *byte, pre int) uint64 {
	m := *(*byte)(unsafe.Add(unsafe.Pointer(p), pre))
	v := uint64(m & 15)
	for i := 1; i <= int(m>>4&7); i++ {
		v = v<<8 | uint64(*(*byte)(unsafe.Add(unsafe.Pointer(p), pre+i)))
	}
	return v
}

// keyForm is how a record stores a key, found with one look at its
// digits: d of them as its number v, which takes l bytes after the mark
// (d = 0: the key as it is), and n bytes in all.
type keyForm struct {
	key  []byte
	v    uint64
	d, l int
	n    int
}

func formOf(key []byte) keyForm {
	f := keyForm{key: key, d: packDigits(key), n: len(key)}
	if f.d > 0 {
		f.v, _ = parseDigits(key[len(key)-f.d:])
		f.l = numBytes(f.v)
		f.n = len(key) - f.d + 1 + f.l
	}
	return f
}

// put writes the stored form into dst (room for f.n bytes) and returns
// its length: the key, or its prefix, the mark and the rest of v.
func (f keyForm) put(dst []byte) int {
	if f.d == 0 {
		return copy(dst, f.key)
	}
	pre := copy(dst, f.key[:len(f.key)-f.d])
	dst[pre] = 0x80 | byte(f.l)<<4 | byte(f.v>>(8*f.l))
	for i := 1; i <= f.l; i++ {
		dst[pre+i] = byte(f.v >> (8 * (f.l - i)))
	}
	return f.n
}

// tag is the slot's length field and packed bit for the key.
func (f keyForm) tag() uint32 {
	t := klenTag(len(f.key))
	if f.d > 0 {
		t |= tagPacked
	}
	return t
}

// storedKeyLen is the length of what a record holds of key.
func storedKeyLen(key []byte) int { return formOf(key).n }

// appendUnpacked appends the key of klen bytes whose packed form is at p
// to dst: its prefix, then its number in klen − prefix digits, eight at
// a time (chars8).
func appendUnpacked(dst []byte, p *byte, klen int) []byte {
	pre := packedPre(p)
	v, d := packedNum(p, pre), klen-pre
	dst = append(dst, unsafe.Slice(p, pre)...)
	var b [24]byte
	binary.LittleEndian.PutUint64(b[16:], chars8(v%1e8))
	if d > 8 {
		v /= 1e8
		binary.LittleEndian.PutUint64(b[8:], chars8(v%1e8))
		if d > 16 {
			binary.LittleEndian.PutUint64(b[:8], chars8(v/1e8))
		}
	}
	return append(dst, b[24-d:]...)
}

// chars8 is digits8 the other way: the eight ASCII digits of x (under
// 10^8, zero-padded), the first in the lowest byte. x is split in lanes
// that halve in width — two of 4 digits in 32 bits, four of 2 in 16,
// eight of 1 in 8 — each step's quotient found by a multiply and a shift
// (x·10486 >> 20 is x/100 for x < 10^4, x·103 >> 10 is x/10 for x < 100).
func chars8(x uint64) uint64 {
	x = x/10000 | x%10000<<32
	q := x * 10486 >> 20 & 0x0000007f0000007f
	x = q | (x-q*100)<<16
	q = x * 103 >> 10 & 0x000f000f000f000f
	x = q | (x-q*10)<<8
	return x | 0x3030303030303030
}

// packedMatch reports whether the packed form at p, of a key as long as
// key (the slot's length bits say so), is key's; n is its length. The
// prefix is scanned once, for both.
func packedMatch(p *byte, key []byte) (n int, ok bool) {
	pre := packedPre(p)
	d := len(key) - pre
	if d < minPackedDigits || d > maxPackedDigits || string(unsafe.Slice(p, pre)) != string(key[:pre]) {
		return 0, false
	}
	v, ok := parseDigits(key[pre:])
	if !ok || v != packedNum(p, pre) {
		return 0, false
	}
	return packedLenAt(p, pre), true
}
