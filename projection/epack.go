package projection

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Packed elements: the elements of a list and the values of a hash are
// stored in their packs as entries of their own form, which may hold a
// value text-packed (textpack.go) instead of its bytes:
//
//	plain  +------------------+-----------------------------+
//	       | uvarint len<<1   | the value's len bytes       |
//	       +------------------+-----------------------------+
//	coded  +------------------+-----------+------------------+
//	       | k:5 | codec:2 |1 | [uvarint] | payload          |
//	       +------------------+-----------+------------------+
//
// The first byte's low bit tells them apart (a plain entry's uvarint has
// it clear). A coded entry's head byte holds the codec (codec6URL,
// codec6Std, codec4Lower or codec4Upper, less one) and k: the value has
// codedMin + k characters, or when k is 31, codedMin + 31 + the uvarint
// that follows. The payload is the codec's packing of those characters
// (packWith, without its codec byte), so its length follows from the
// count: the head replaces both the length and the codec byte a coded
// form carries elsewhere, one byte less a value (ten a hash of ten
// fields) for every value of up to codedMin + 30 characters.
//
// An entry is coded exactly when text packing is on (Options.PlainText
// unset) and packing saves entryMinSaving bytes, so a value has one
// entry: two entries are equal exactly when their values are, and LREM,
// LINSERT, LPOS compare entries without unpacking. The stored bytes
// entryNext hands out are the value itself for a plain entry and the
// whole entry, head included, for a coded one, so that comparing them
// compares values too. Members of sets and sorted sets, and hash field
// names (intern.go), stay plain pack elements (see pack.go); only text
// codecs are used here, never LZ4, as a read unpacks every element it
// touches.
//
// Readers get unpacked values in a scratch (see scratch), never a
// slice of the pack: what a read API hands out stays valid for the View.

// codedMin is the fewest characters a coded entry holds: a hex value of
// 6 is the shortest to save entryMinSaving bytes.
const codedMin = 6

// codedHead decodes the head of the coded entry at b[off]: the value's
// codec and length, and where its payload starts.
func codedHead(b []byte, off int) (codec, n, start int) {
	h := b[off]
	codec, k := int(h>>1&3)+1, int(h>>3)
	if k < 31 {
		return codec, codedMin + k, off + 1
	}
	x, w := binary.Uvarint(b[off+1:])
	return codec, codedMin + 31 + int(x), off + 1 + w
}

// entryNext decodes the entry at off: its stored bytes (see above),
// whether they are coded, and the offset of the next entry.
func entryNext(b []byte, off int) (e []byte, coded bool, next int) {
	if b[off]&1 != 0 {
		codec, n, start := codedHead(b, off)
		end := start + payloadLen(codec, n)
		return b[off:end:end], true, end
	}
	x, w := binary.Uvarint(b[off:])
	start := off + w
	end := start + int(x>>1)
	return b[start:end:end], false, end
}

// entrySkip returns the offset of the entry after the one at off.
func entrySkip(b []byte, off int) int {
	if b[off]&1 != 0 {
		codec, n, start := codedHead(b, off)
		return start + payloadLen(codec, n)
	}
	x, w := binary.Uvarint(b[off:])
	return off + w + int(x>>1)
}

// entryCodec returns the codec that codes v's entry, or 0 when its entry
// is plain: text packing on (tp), one codec's alphabet, and a saving of
// entryMinSaving bytes.
func entryCodec(v []byte, tp bool) int {
	n := len(v)
	if !tp || n < codedMin || n > maxPackedText {
		return 0
	}
	codec := textCodecOf(v)
	if codec == 0 || codedHeadLen(n)+payloadLen(codec, n) > n+uvarintLen(uint64(n)<<1)-entryMinSaving {
		return 0
	}
	return codec
}

// codedHeadLen is the size of the head of a coded entry of n characters.
func codedHeadLen(n int) int {
	k := n - codedMin
	if k < 31 {
		return 1
	}
	return 1 + uvarintLen(uint64(k-31))
}

// entryAppend appends v's entry to b, coded when tp (text packing on) and
// packing saves entryMinSaving bytes.
func entryAppend(b, v []byte, tp bool) []byte {
	if codec := entryCodec(v, tp); codec != 0 {
		k := len(v) - codedMin
		if k < 31 {
			b = append(b, byte(k)<<3|byte(codec-1)<<1|1)
		} else {
			b = append(b, 31<<3|byte(codec-1)<<1|1)
			b = binary.AppendUvarint(b, uint64(k-31))
		}
		return packPayload(b, v, codec)
	}
	b = binary.AppendUvarint(b, uint64(len(v))<<1)
	return append(b, v...)
}

// entryMinSaving is the fewest bytes coding must save for an entry to be
// coded. Every read of a coded element unpacks it; two bytes (8 to 11
// base64 characters, 4 or 5 hex digits) are not worth that: LRANGE of
// ten 8-character elements took 30% longer for it, while leaving them
// plain costs the harness's hashes and lists (values of 8 to 32
// characters) under 2 bytes a key. (Before the head folded the codec
// byte in, the same values were coded, for a byte less.)
const entryMinSaving = 3

// entrySize is the length of v's entry (see entryAppend).
func entrySize(v []byte, tp bool) int {
	n := len(v)
	if codec := entryCodec(v, tp); codec != 0 {
		return codedHeadLen(n) + payloadLen(codec, n)
	}
	return uvarintLen(uint64(n)<<1) + n
}

// entryLen is the length of the value an entry's stored bytes hold.
func entryLen(e []byte, coded bool) int {
	if coded {
		_, n, _ := codedHead(e, 0)
		return n
	}
	return len(e)
}

// appendEntry appends the value an entry's stored bytes hold to dst.
func appendEntry(dst, e []byte, coded bool) []byte {
	if !coded {
		return append(dst, e...)
	}
	codec, n, start := codedHead(e, 0)
	at := len(dst)
	dst = slices.Grow(dst, n)[:at+n]
	unpackWith(dst[at:], codec, e[start:])
	return dst
}

// entryValue returns the value of an entry's stored bytes: e itself when
// plain, else unpacked into sc (see scratch.unpack).
func entryValue(e []byte, coded bool, sc *scratch) []byte {
	if !coded {
		return e
	}
	return sc.unpack(e)
}

// entryTmp is the value of an entry's stored bytes, unpacked into buf
// when it fits there (a fresh slice when not): for a comparison, never
// handed out.
func entryTmp(buf []byte, e []byte, coded bool) []byte {
	if !coded {
		return e
	}
	codec, n, start := codedHead(e, 0)
	if n > len(buf) {
		buf = make([]byte, n)
	}
	return unpackWith(buf[:n], codec, e[start:])
}

// entryOf returns v's entry in buf (grown if need be): the form to find
// v's equal among a pack's entries.
func entryOf(buf, v []byte, tp bool) []byte {
	return entryAppend(buf[:0], v, tp)
}

// scratch is where reads unpack coded entries: an arena that only grows
// while its owner (a View, a read of a Snapshot) lives, so that every
// value handed out stays valid as long as the API says. When a block is
// full a new one is started (the values in the old one stay where they
// are); blocks grow to scratchBlock, then stay at that size, so a read of
// a long list leaves garbage of about what it unpacked. A nil *scratch
// unpacks every value into a slice of its own.
type scratch struct {
	b []byte
}

const (
	scratchMin   = 256
	scratchBlock = 64 << 10
	// scratchKeep is the largest block a pooled View keeps for the next.
	scratchKeep = 8 << 10
)

// unpack returns the value of coded entry e, in sc.
func (sc *scratch) unpack(e []byte) []byte {
	codec, n, start := codedHead(e, 0)
	if sc == nil {
		return unpackWith(make([]byte, n), codec, e[start:])
	}
	if cap(sc.b)-len(sc.b) < n {
		sc.b = make([]byte, 0, max(n, min(2*cap(sc.b), scratchBlock), scratchMin))
	}
	at := len(sc.b)
	sc.b = sc.b[:at+n]
	return unpackWith(sc.b[at:at+n:at+n], codec, e[start:])
}

// reset forgets what sc holds, for an owner whose values are used up
// (each one written out before the next is read).
func (sc *scratch) reset() {
	sc.b = sc.b[:0]
}

// recycle readies sc for its owner's next life (a pooled View): a small
// block is kept, a large one dropped.
func (sc *scratch) recycle() {
	if cap(sc.b) > scratchKeep {
		sc.b = nil
		return
	}
	sc.b = sc.b[:0]
}

// textPack reports whether list elements and hash values are stored
// text-packed (Options.PlainText unset).
func (p *Projection) textPack() bool { return !p.opts.PlainText }

// saneEntry checks that a coded entry is the one entryAppend makes of its
// value, so that entries stay canonical (one per value). A plain entry
// that could have been coded is legal here: Options.PlainText stores them
// so (the tests check the other side).
func saneEntry(e []byte, coded bool) error {
	if !coded {
		return nil
	}
	codec, n, start := codedHead(e, 0)
	if start+payloadLen(codec, n) != len(e) {
		return fmt.Errorf("coded entry %x malformed", e)
	}
	v := appendEntry(nil, e, true)
	again, acoded, _ := entryNext(entryAppend(nil, v, true), 0)
	if !acoded || string(again) != string(e) {
		return fmt.Errorf("coded entry %x of %q is not entryAppend's", e, v)
	}
	return nil
}
