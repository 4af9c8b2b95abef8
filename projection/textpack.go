package projection

import (
	"encoding/binary"
	"slices"
)

// Text packing: a value whose every byte is in one of a few small
// alphabets is stored at fewer bits a character — 6 for the base64
// alphabets (tokens, identifiers, alphanumeric text, UUIDs), 4 for hex
// digits (digests, numbers too long for an int) — and unpacked when read.
// It is exact (the packed form gives back the same bytes), canonical (a
// value has one packed form, so two packed values are equal exactly when
// their forms are) and cheap: a read unpacks sixteen characters a step
// with SSSE3 (textpack_amd64.s), else eight through a 12-bit table —
// about 25 ns for 72 characters.
//
// A packed form (a "coded" value, which LZ4 blocks share, compress.go) is
// a codec byte and a payload:
//
//	codec byte: flag (bit 7, its user's) | codec (bits 2–6) | rem (bits 0–1)
//	codecLZ4     payload: uvarint length, one LZ4 block
//	codec6*      payload: ceil(6n/8) bytes, 4 characters in 3; rem = n mod 4
//	codec4*      payload: ceil(n/2) bytes, 2 characters in 1; rem = n mod 2
//
// Bit 7 is left to the caller (a string record keeps there whether the
// value's encoding is raw rather than embstr).

// Codecs.
const (
	codecLZ4     = 0
	codec6URL    = 1 // A–Z a–z 0–9 - _
	codec6Std    = 2 // A–Z a–z 0–9 + /
	codec4Lower  = 3 // 0–9 a–f
	codec4Upper  = 4 // 0–9 A–F
	codecFlagBit = 0x80
)

var codecAlphabet = [...]string{
	codec6URL:   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
	codec6Std:   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	codec4Lower: "0123456789abcdef",
	codec4Upper: "0123456789ABCDEF",
}

// charClass[c] has bit 1<<codec set for every text codec whose alphabet
// holds c; charCode[codec][c] is c's number in it (the tables that
// unpack are textAlpha and textPair, below).
var (
	charClass [256]uint8
	charCode  [len(codecAlphabet)][256]uint8
)

func init() {
	for id, a := range codecAlphabet {
		for i := 0; i < len(a); i++ {
			charClass[a[i]] |= 1 << id
			charCode[id][a[i]] = uint8(i)
		}
	}
}

// textCodecOf returns the codec that packs v smallest, or 0 when none
// applies. Hex is tried before the base64 alphabets.
func textCodecOf(v []byte) int {
	cls := uint8(0xff)
	for _, c := range v {
		cls &= charClass[c]
	}
	switch {
	case cls&(1<<codec4Lower) != 0:
		return codec4Lower
	case cls&(1<<codec4Upper) != 0:
		return codec4Upper
	case cls&(1<<codec6URL) != 0:
		return codec6URL
	case cls&(1<<codec6Std) != 0:
		return codec6Std
	}
	return 0
}

// packedTextLen is the size of v's packed form with codec: the codec byte
// and the payload.
func packedTextLen(codec, n int) int {
	return 1 + payloadLen(codec, n)
}

// payloadLen is the size of n characters packed with a text codec: 2 in a
// byte for hex, 4 in 3 bytes for base64 (and one byte each for the last
// n mod 4).
func payloadLen(codec, n int) int {
	if codec >= codec4Lower {
		return (n + 1) / 2
	}
	return 3*(n/4) + n%4
}

// packText appends v's packed form to dst, with flag (0 or codecFlagBit)
// in its codec byte. ok is false, and dst is returned as it was, when no
// codec applies or packing would not save a byte.
func packText(dst, v []byte, flag byte) (out []byte, ok bool) {
	if len(v) < 4 {
		return dst, false
	}
	codec := textCodecOf(v)
	if codec == 0 || packedTextLen(codec, len(v)) >= len(v) {
		return dst, false
	}
	return packWith(dst, v, flag, codec), true
}

// packWith appends v's packed form with codec, which textCodecOf(v)
// chose, to dst: exactly packedTextLen(codec, len(v)) bytes.
func packWith(dst, v []byte, flag byte, codec int) []byte {
	rem := len(v) & 3
	if codec >= codec4Lower {
		rem = len(v) & 1
	}
	return packPayload(append(dst, flag|byte(codec)<<2|byte(rem)), v, codec)
}

// packPayload appends v's characters packed with codec to dst:
// payloadLen(codec, len(v)) bytes.
func packPayload(dst, v []byte, codec int) []byte {
	code := &charCode[codec]
	at := len(dst)
	dst = slices.Grow(dst, payloadLen(codec, len(v)))[:at+payloadLen(codec, len(v))]
	enc := dst[at:]
	if codec >= codec4Lower {
		i := 0
		for ; i+1 < len(v); i += 2 {
			enc[i/2] = code[v[i]]<<4 | code[v[i+1]]
		}
		if i < len(v) {
			enc[i/2] = code[v[i]] << 4
		}
		return dst
	}
	i, o := 0, 0
	for ; i+3 < len(v); i, o = i+4, o+3 {
		x := uint32(code[v[i]])<<18 | uint32(code[v[i+1]])<<12 | uint32(code[v[i+2]])<<6 | uint32(code[v[i+3]])
		enc[o], enc[o+1], enc[o+2] = byte(x>>16), byte(x>>8), byte(x)
	}
	if r := len(v) - i; r > 0 {
		var x uint32
		for j := 0; j < r; j++ {
			x |= uint32(code[v[i+j]]) << (18 - 6*j)
		}
		for j := 0; j < r; j++ {
			enc[o+j] = byte(x >> (16 - 8*j))
		}
	}
	return dst
}

// Lookup tables for unpacking: textAlpha[codec][c] is character c of a
// text codec; textPair[codec][x] the two characters of 12 bits x of a
// 6-bit codec, and of 8 bits x of a 4-bit one, as a little-endian
// uint16 (2 × 8 KiB and 2 × 512 bytes), so that three packed bytes
// become four characters with two lookups.
var (
	textAlpha [len(codecAlphabet)][64]byte
	textPair  [len(codecAlphabet)][]uint16
)

func init() {
	for id, a := range codecAlphabet {
		if a == "" {
			continue
		}
		copy(textAlpha[id][:], a)
		bits := 6
		if len(a) == 16 {
			bits = 4
		}
		t := make([]uint16, 1<<(2*bits))
		for x := range t {
			t[x] = uint16(a[x>>bits]) | uint16(a[x&(1<<bits-1)])<<8
		}
		textPair[id] = t
	}
}

// unpackText writes the value of coded form p, a text codec's, into dst
// (exactly its length, textLen(p)) and returns dst. It is appendCoded for
// a slice already sized, writing by index with the pair tables: a read of
// a list unpacks every element it returns.
func unpackText(dst, p []byte) []byte {
	codec := int(p[0] >> 2 & 31)
	if codec == codecLZ4 || codec >= len(textAlpha) {
		return dst[:0] // not a text codec: appendCoded handles LZ4
	}
	return unpackWith(dst, codec, p[1:])
}

// unpackWith is unpackText of a payload whose codec is known (a coded
// entry's, epack.go, has no codec byte of its own).
func unpackWith(dst []byte, codec int, src []byte) []byte {
	n := len(dst)
	pair := textPair[codec]
	if codec >= codec4Lower {
		pair = pair[:256]
		src = src[:(n+1)/2]
		j := 0
		for ; j+1 < n; j += 2 {
			binary.LittleEndian.PutUint16(dst[j:j+2], pair[src[j/2]])
		}
		if j < n {
			dst[j] = byte(pair[src[j/2]])
		}
		return dst
	}
	pt := (*[4096]uint16)(pair)
	i, j := unpack6Fast(dst[:n], src, codec)
	for ; j+8 <= n && i+8 <= len(src); i, j = i+6, j+8 {
		// 6 bytes, 8 characters: four lookups, one store
		x := binary.BigEndian.Uint64(src[i:]) >> 16
		binary.LittleEndian.PutUint64(dst[j:j+8], uint64(pt[x>>36&4095])|uint64(pt[x>>24&4095])<<16|
			uint64(pt[x>>12&4095])<<32|uint64(pt[x&4095])<<48)
	}
	for ; j+4 <= n; i, j = i+3, j+4 {
		s := src[i : i+3 : i+3]
		x := uint32(s[0])<<16 | uint32(s[1])<<8 | uint32(s[2])
		binary.LittleEndian.PutUint32(dst[j:j+4], uint32(pt[x>>12&4095])|uint32(pt[x&4095])<<16)
	}
	if r := n - j; r > 0 {
		a := &textAlpha[codec]
		var x uint32
		for k := 0; k < r; k++ {
			x |= uint32(src[i+k]) << (16 - 8*k)
		}
		for k := 0; k < r; k++ {
			dst[j+k] = a[x>>(18-6*k)&63]
		}
	}
	return dst
}

// codedLen returns the length of the value a coded form (codec byte and
// payload) holds, or -1 when the form is malformed.
func codedLen(p []byte) int {
	if len(p) == 0 {
		return -1
	}
	codec, rem, b := int(p[0]>>2&31), int(p[0]&3), len(p)-1
	switch codec {
	case codecLZ4:
		n, w := binary.Uvarint(p[1:])
		if w <= 0 {
			return -1
		}
		return int(n)
	case codec6URL, codec6Std:
		if b < rem || (b-rem)%3 != 0 {
			return -1
		}
		return (b-rem)/3*4 + rem
	case codec4Lower, codec4Upper:
		if rem > 1 || b < rem {
			return -1
		}
		return 2*b - rem
	}
	return -1
}

// appendCoded appends the value a coded form holds to dst. A malformed
// form (which the projection never writes) appends nothing.
func appendCoded(dst, p []byte) []byte {
	n := codedLen(p)
	if n < 0 {
		return dst
	}
	codec := int(p[0] >> 2 & 31)
	if codec == codecLZ4 {
		return appendLZ4(dst, p[1:], n)
	}
	at := len(dst)
	dst = slices.Grow(dst, n)[:at+n]
	unpackText(dst[at:], p)
	return dst
}
