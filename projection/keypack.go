package projection

import (
	"encoding/binary"
	"unsafe"
)

// Packed keys. Most keyspaces name their keys with a prefix and a number
// ("user:1042", "s:000000123456", "order:2024:000187"), and the number is
// often the longer part. A record (a string's, rec.go; a packed
// collection's, crec.go) stores such a key with its trailing digits two
// to a byte:
//
//	+----------------+--------+----------------------------+
//	| prefix         | 0x80+  | nb−1 bytes, two digits each |
//	| (bytes < 0x80) | 10a+b  | (high nibble first)         |
//	+----------------+--------+----------------------------+
//	the prefix is the key up to its last 2·nb digits; the first pair
//	(a, b) is a byte of 0x80 or more, so it marks where the prefix ends
//
// when the key ends in at least minPackedDigits digits, its prefix is
// ASCII (no byte of 0x80 or more), and it is shorter than 63 bytes (its
// length, in the slot's tag, stays the key's own). nb is half the
// trailing digit run, rounded down (an odd run leaves its first digit in
// the prefix), so a key has exactly one packed form and saves nb bytes:
// 6 for a key that ends in 12 digits. Its stored length needs no byte of
// its own: the prefix ends at the first byte of 0x80 or more (packedPre),
// and the key's length gives nb. The slot's tagPacked bit says the record
// holds the packed form; a box or a folded collection always holds the
// key as it is.
//
// A lookup never packs the key it looks for: the slot's hash bits and
// length decide which slot may hold it, as before, and only there is the
// key compared with the packed form, digit by digit (packedEq). Whatever
// needs the key's bytes (SCAN, KEYS, events, a cluster's slot claims,
// rehashing a big table) gets them unpacked (slot.appendKey).

// minPackedDigits is the shortest digit run packed: three bytes of pairs,
// two saved.
const minPackedDigits = 6

// packNB returns how many bytes of digit pairs key's packed form holds,
// or 0 when the key is stored as it is.
func packNB(key []byte) int {
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
	for _, c := range key[:len(key)-r] {
		if c >= 0x80 {
			return 0
		}
	}
	return r / 2
}

// packedLen is the length of the packed form of a key of klen bytes with
// nb bytes of pairs.
func packedLen(klen, nb int) int { return klen - nb }

// packedPre is the length of the prefix of the packed form at p: where
// its first byte of 0x80 or more, the first pair, is.
func packedPre(p *byte) int {
	i := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), i)) < 0x80 {
		i++
	}
	return i
}

// packedStoredLen is the length of the packed form at p of a key of klen
// bytes.
func packedStoredLen(p *byte, klen int) int {
	pre := packedPre(p)
	return pre + (klen-pre)/2
}

// putPacked writes key's packed form (nb from packNB, > 0) into dst, which
// has room for it, and returns its length.
func putPacked(dst, key []byte, nb int) int {
	pre := len(key) - 2*nb
	copy(dst, key[:pre])
	d := key[pre:]
	dst[pre] = 0x80 + (d[0]-'0')*10 + d[1] - '0'
	for i := 1; i < nb; i++ {
		dst[pre+i] = (d[2*i]-'0')<<4 | (d[2*i+1] - '0')
	}
	return pre + nb
}

// keyForm is how a record stores a key, found with one look at its
// digits: nb bytes of pairs (0: the key as it is) and n bytes in all.
type keyForm struct {
	key   []byte
	nb, n int
}

func formOf(key []byte) keyForm {
	f := keyForm{key: key, nb: packNB(key), n: len(key)}
	if f.nb > 0 {
		f.n = packedLen(len(key), f.nb)
	}
	return f
}

// put writes the stored form into dst (room for f.n bytes) and returns
// its length.
func (f keyForm) put(dst []byte) int {
	if f.nb > 0 {
		return putPacked(dst, f.key, f.nb)
	}
	return copy(dst, f.key)
}

// tag is the slot's length field and packed bit for the key.
func (f keyForm) tag() uint32 {
	t := klenTag(len(f.key))
	if f.nb > 0 {
		t |= tagPacked
	}
	return t
}

// storedKeyLen is the length of what a record holds of key.
func storedKeyLen(key []byte) int { return formOf(key).n }

// appendUnpacked appends the key whose packed form is p to dst.
func appendUnpacked(dst, p []byte) []byte {
	pre := packedPre(&p[0])
	first := p[pre] - 0x80
	dst = append(dst, p[:pre]...)
	dst = append(dst, '0'+first/10, '0'+first%10)
	for _, b := range p[pre+1:] {
		dst = append(dst, '0'+b>>4, '0'+b&15)
	}
	return dst
}

// packedEq reports whether p is the packed form of key: the prefixes
// compared as bytes, the first pair, then the other digits eight at a
// time (unpack4), as a plain key's bytes would be.
func packedEq(p, key []byte) bool { return packedEqPre(p, packedPre(&p[0]), key) }

// packedMatch reports whether the packed form at p, of a key as long as
// key (the slot's length bits say so), is key's; n is its length. The
// prefix is scanned once, for both.
func packedMatch(p *byte, key []byte) (n int, ok bool) {
	pre := packedPre(p)
	if len(key) < pre+2 {
		return 0, false
	}
	n = pre + (len(key)-pre)/2
	return n, packedEqPre(unsafe.Slice(p, n), pre, key)
}

// packedEqPre is packedEq with p's prefix length known.
func packedEqPre(p []byte, pre int, key []byte) bool {
	nb := len(p) - pre
	if len(key) != pre+2*nb || string(p[:pre]) != string(key[:pre]) {
		return false
	}
	a, b := key[pre]-'0', key[pre+1]-'0'
	if a > 9 || b > 9 || p[pre] != 0x80+a*10+b {
		return false
	}
	bcd, d := p[pre+1:], key[pre+2:]
	for len(bcd) >= 4 && len(d) >= 8 {
		if unpack4(binary.LittleEndian.Uint32(bcd)) != binary.LittleEndian.Uint64(d) {
			return false
		}
		bcd, d = bcd[4:], d[8:]
	}
	for i, b := range bcd {
		if d[2*i] != '0'+b>>4 || d[2*i+1] != '0'+b&15 {
			return false
		}
	}
	return true
}

// unpack4 turns four bytes of digit pairs (little-endian) into the eight
// digits' characters, the first in the lowest byte: each byte is spread
// to a 16-bit lane, its high nibble to the lane's low byte.
func unpack4(b uint32) uint64 {
	x := uint64(b)
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	return (x>>4)&0x000f000f000f000f | (x&0x000f000f000f000f)<<8 | 0x3030303030303030
}
