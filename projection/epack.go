package projection

import (
	"encoding/binary"
	"fmt"
)

// Packed elements: the elements of a list and the values of a hash are
// stored in their packs as entries of their own form, which may hold a
// value text-packed (textpack.go) instead of its bytes:
//
//	+-------------------+----------------------------------------+
//	| uvarint x         | x>>1 bytes                             |
//	+-------------------+----------------------------------------+
//	  x&1 = 0: the bytes are the value
//	  x&1 = 1: the bytes are a coded form (codec byte, payload) of
//	           a text codec; the value is what appendCoded gives
//
// An entry is coded exactly when text packing is on (Options.PlainText
// unset) and packText saves entryMinSaving bytes, so a value has one
// entry: two entries are equal exactly when their values are, and LREM,
// LINSERT, LPOS compare entries without unpacking. Members of sets and
// sorted sets, and hash field names (intern.go), stay plain pack
// elements (see pack.go); only text codecs are used here, never LZ4, as a
// read unpacks every element it touches.
//
// Readers get unpacked values in a scratch (see scratch), never a
// slice of the pack: what a read API hands out stays valid for the View.

// entryNext decodes the entry at off: its stored bytes, whether they are
// coded, and the offset of the next entry.
func entryNext(b []byte, off int) (e []byte, coded bool, next int) {
	x, w := binary.Uvarint(b[off:])
	start := off + w
	end := start + int(x>>1)
	return b[start:end:end], x&1 != 0, end
}

// entrySkip returns the offset of the entry after the one at off.
func entrySkip(b []byte, off int) int {
	x, w := binary.Uvarint(b[off:])
	return off + w + int(x>>1)
}

// entryAppend appends v's entry to b, coded when tp (text packing on) and
// packing saves entryMinSaving bytes.
func entryAppend(b, v []byte, tp bool) []byte {
	if tp && len(v) > entryMinSaving && len(v) <= maxPackedText {
		if codec := textCodecOf(v); codec != 0 {
			if n := packedTextLen(codec, len(v)); n <= len(v)-entryMinSaving {
				b = binary.AppendUvarint(b, uint64(n)<<1|1)
				return packWith(b, v, 0, codec)
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(v))<<1)
	return append(b, v...)
}

// entryMinSaving is the fewest bytes packing must save for an entry to be
// coded. Every read of a coded element unpacks it; one byte (8 to 11
// base64 characters, 4 or 5 hex digits) is not worth that: LRANGE of ten
// 8-character elements took 30% longer for it, while leaving them plain
// costs the harness's hashes and lists (values of 8 to 32 characters)
// under 2 bytes a key.
const entryMinSaving = 2

// entrySize is the length of v's entry (see entryAppend).
func entrySize(v []byte, tp bool) int {
	n := len(v)
	x := uint64(n) << 1
	if tp && n > entryMinSaving && n <= maxPackedText {
		if codec := textCodecOf(v); codec != 0 && packedTextLen(codec, n) <= n-entryMinSaving {
			n = packedTextLen(codec, n)
			x = uint64(n)<<1 | 1
		}
	}
	return uvarintLen(x) + n
}

// entryLen is the length of the value an entry's stored bytes hold.
func entryLen(e []byte, coded bool) int {
	if coded {
		return codedLen(e)
	}
	return len(e)
}

// appendEntry appends the value an entry's stored bytes hold to dst.
func appendEntry(dst, e []byte, coded bool) []byte {
	if coded {
		return appendCoded(dst, e)
	}
	return append(dst, e...)
}

// entryValue returns the value of an entry's stored bytes: e itself when
// plain, else unpacked into sc (see scratch.unpack).
func entryValue(e []byte, coded bool, sc *scratch) []byte {
	if !coded {
		return e
	}
	return sc.unpack(e)
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

// unpack returns the value of coded form p, in sc.
func (sc *scratch) unpack(p []byte) []byte {
	n := textLen(p)
	if n < 0 {
		return nil // malformed: the projection never writes one
	}
	if sc == nil {
		return unpackText(make([]byte, n), p)
	}
	if cap(sc.b)-len(sc.b) < n {
		sc.b = make([]byte, 0, max(n, min(2*cap(sc.b), scratchBlock), scratchMin))
	}
	at := len(sc.b)
	sc.b = sc.b[:at+n]
	return unpackText(sc.b[at:at+n:at+n], p)
}

// textLen is codedLen for the forms of entries (text codecs only, and
// well formed: the projection wrote them), on the short path.
func textLen(p []byte) int {
	if len(p) > 1 {
		codec, rem, b := p[0]>>2&31, int(p[0]&3), len(p)-1
		switch {
		case codec == codec6URL || codec == codec6Std:
			return (b-rem)/3*4 + rem
		case codec == codec4Lower || codec == codec4Upper:
			return 2*b - rem
		}
	}
	return codedLen(p)
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
	v := appendCoded(nil, e)
	if codedLen(e) != len(v) {
		return fmt.Errorf("coded entry %x malformed", e)
	}
	again, acoded, _ := entryNext(entryAppend(nil, v, true), 0)
	if !acoded || string(again) != string(e) {
		return fmt.Errorf("coded entry %x of %q is not entryAppend's", e, v)
	}
	return nil
}
