package projection

import (
	"encoding/binary"
	"unsafe"
)

// A pack is vdr's listpack: elements stored back to back in one []byte,
// each as a uvarint length followed by its bytes.
//
//	+--------+---------+--------+---------+----
//	| len0   | bytes0  | len1   | bytes1  | …
//	+--------+---------+--------+---------+----
//
// Small lists, sets, hashes (field, value, field, value…) and sorted sets
// (member, score, …) live in one pack, as Redis keeps them in one
// listpack, instead of a slice of slices or a map: a 10-field hash is one
// allocation of ~200 bytes instead of eleven. This is the element of sets
// and sorted sets; hash fields have their own (intern.go), and list
// elements and hash values are entries, whose length also says whether
// the bytes are text-packed (epack.go).

// packNext decodes the element at off and returns it and the offset of
// the next element.
func packNext(b []byte, off int) ([]byte, int) {
	n, w := binary.Uvarint(b[off:])
	start := off + w
	end := start + int(n)
	return b[start:end:end], end
}

// packAppend appends one element.
func packAppend(b []byte, e []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(e)))
	return append(b, e...)
}

// packSize is the encoded size of e.
func packSize(e []byte) int {
	n := len(e)
	w := 1
	for x := uint64(n); x >= 0x80; x >>= 7 {
		w++
	}
	return w + n
}

// packInsert inserts the encoded elements enc at off.
func packInsert(b []byte, off int, enc []byte) []byte {
	n := len(b)
	if cap(b)-n < len(enc) {
		nb := make([]byte, n+len(enc), growCap(n+len(enc)))
		copy(nb, b[:off])
		copy(nb[off+len(enc):], b[off:])
		copy(nb[off:], enc)
		return nb
	}
	b = b[:n+len(enc)]
	copy(b[off+len(enc):], b[off:n])
	copy(b[off:], enc)
	return b
}

// packCut removes bytes [from, to).
func packCut(b []byte, from, to int) []byte {
	n := copy(b[from:], b[to:])
	b = b[:from+n]
	return shrink(b)
}

// shrink gives back memory when a pack uses less than a quarter of its
// capacity.
func shrink(b []byte) []byte {
	if cap(b) > 64 && len(b) < cap(b)/4 {
		nb := make([]byte, len(b), growCap(len(b)))
		copy(nb, b)
		return nb
	}
	return b
}

func growCap(n int) int {
	if n < 32 {
		return n + 8
	}
	return n + n/4
}

// stringBytes returns s's bytes without copying; the result must not be
// modified.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
