package projection

import (
	"encoding/binary"
	"unsafe"
)

// A string key and its value live in one allocation without Go pointers,
// its record, which the slot points at (the GC marks it and never scans
// it):
//
//	+-----------+-----------+-------+---------+-----+-----------+
//	| head      | exp       | key   | value   | pad | lru       |
//	| uvarint   | 8 B, LE   | klen  | vlen    | 0–3 | 4 B       |
//	+-----------+-----------+-------+---------+-----+-----------+
//	head = vlen<<3 | recExp | enc      exp only when recExp is set
//
// The key's length is in the slot. The access-time word (lruWord) sits at
// the next multiple of 4 after the value, and the record's size is a
// multiple of 4, so even Go's tiny allocator returns it 4-aligned and the
// word is aligned too; an obj's ptr points at the value's first byte, so
// lru finds the word from the obj alone. A key with a 72-byte value and no
// expire time costs a 2-byte head, its bytes, the value, 0–3 bytes of
// padding and 4: the payload plus 6–9 bytes.
//
// Every other value (a collection, a stream, a string edited in place) is
// a box: the value's pointer, the expire time and the key. Keys of up to
// boxKeyInline bytes are held in the box itself, so the box is one
// allocation; longer ones are a string beside it.

// recExp is the head bit that says the record holds an expire time; the
// low two bits are the string's encoding (encEmbstr, encInt, encRaw), or
// encCoded: the value is stored as a coded form (textpack.go: packed text
// or an LZ4 block), whose codec byte has codecFlagBit set when the
// value's encoding is raw rather than embstr.
const (
	recExp   = 4
	encCoded = 3
)

// newRec builds the record of a string key.
func newRec(key, val []byte, exp int64, enc uint8) unsafe.Pointer {
	return newRecIn(nil, key, val, exp, enc, 0)
}

// newRecIn is newRec building the record in st (a load's stage, arena.go;
// nil: an allocation of its own) with access time lru.
func newRecIn(st *stage, key, val []byte, exp int64, enc uint8, lru uint32) unsafe.Pointer {
	head := uint64(len(val))<<3 | uint64(enc)
	if exp != 0 {
		head |= recExp
	}
	w := uvarintLen(head)
	hdr := w
	if exp != 0 {
		hdr += 8
	}
	kv := hdr + len(key) + len(val)
	buf := st.alloc((kv+3)&^3 + 4)
	binary.PutUvarint(buf, head)
	// The lruWord, 4-aligned (stage.alloc, or an allocation of a multiple
	// of 4): no reader sees the record yet, so a plain store will do.
	*(*uint32)(unsafe.Pointer(&buf[len(buf)-4])) = lru
	if exp != 0 {
		binary.LittleEndian.PutUint64(buf[w:], uint64(exp))
	}
	copy(buf[hdr:], key)
	copy(buf[hdr+len(key):], val)
	return unsafe.Pointer(&buf[0])
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// recHead decodes a record's head; w is its width. Heads of one and two
// bytes (values under 2 KB) take the short path.
func recHead(p unsafe.Pointer) (head uint64, w int) {
	b0 := *(*byte)(p)
	if b0 < 0x80 {
		return uint64(b0), 1
	}
	if b1 := *(*byte)(unsafe.Add(p, 1)); b1 < 0x80 {
		return uint64(b0&0x7f) | uint64(b1)<<7, 2
	}
	for shift := 0; ; shift += 7 {
		b := *(*byte)(unsafe.Add(p, w))
		w++
		head |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return head, w
		}
	}
}

// recHdrLen is the bytes before a record's key.
func recHdrLen(p unsafe.Pointer) int {
	head, w := recHead(p)
	if head&recExp != 0 {
		w += 8
	}
	return w
}

// recKey returns the first byte of a record's key.
func recKey(p unsafe.Pointer) *byte { return (*byte)(unsafe.Add(p, recHdrLen(p))) }

// recObj returns the obj of a record whose key is klen bytes long.
func recObj(p unsafe.Pointer, klen uint32) obj {
	head, w := recHead(p)
	o := obj{kind: KindString, enc: uint8(head & 3), n: uint32(head >> 3)}
	if head&recExp != 0 {
		o.exp = int64(binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(p, w)), 8)))
		w += 8
	}
	o.ptr = unsafe.Add(p, w+int(klen))
	if o.enc == encCoded {
		o.decoded()
	}
	return o
}

// box holds a value that is not an inline string; boxes with the key
// inline (boxK) share its first two fields.
type box struct {
	ptr unsafe.Pointer // what obj.ptr is
	exp int64
	key string // only for keys longer than boxKeyInline
}

// boxK is a box with a key of up to N bytes inline; Go has no array
// length parameters, so there is one type per size.
type (
	box16 struct {
		ptr unsafe.Pointer
		exp int64
		k   [16]byte
	}
	box32 struct {
		ptr unsafe.Pointer
		exp int64
		k   [32]byte
	}
	box48 struct {
		ptr unsafe.Pointer
		exp int64
		k   [48]byte
	}
)

// boxKeyInline is the longest key a box holds inline.
const boxKeyInline = 48

// newBox builds the box of key and o.
func newBox(key []byte, o *obj) unsafe.Pointer {
	var p unsafe.Pointer
	var k []byte
	switch n := len(key); {
	case n <= 16:
		b := &box16{}
		p, k = unsafe.Pointer(b), b.k[:]
	case n <= 32:
		b := &box32{}
		p, k = unsafe.Pointer(b), b.k[:]
	case n <= boxKeyInline:
		b := &box48{}
		p, k = unsafe.Pointer(b), b.k[:]
	default:
		b := &box{key: string(key)}
		p = unsafe.Pointer(b)
	}
	copy(k, key)
	b := (*box)(p)
	b.ptr, b.exp = o.ptr, o.exp
	return p
}

// boxKey returns the first byte of a box's key.
func boxKey(p unsafe.Pointer, klen uint32) *byte {
	if klen > boxKeyInline {
		return unsafe.StringData((*box)(p).key)
	}
	return (*byte)(unsafe.Add(p, unsafe.Offsetof(box16{}.k)))
}

// obj returns the value of a used slot.
func (s *slot) obj() obj {
	if s.tag&tagBox == 0 {
		if s.tag&tagFold != 0 {
			return obj{ptr: s.p, kind: Kind(s.tag & tagKind), n: s.klen, flags: flagCRec}
		}
		return recObj(s.p, s.klen)
	}
	return s.boxObj()
}

// boxObj is obj for a slot that holds a box.
func (s *slot) boxObj() obj {
	if s.tag&tagFold != 0 {
		return obj{ptr: s.p, kind: Kind(s.tag & tagKind), flags: flagFolded}
	}
	b := (*box)(s.p)
	o := obj{ptr: b.ptr, kind: Kind(s.tag & tagKind), exp: b.exp}
	if o.kind == KindString {
		o.flags, o.enc = flagBoxed, encRaw
	}
	return o
}

// exp returns the expire time of a used slot's value.
func (s *slot) exp() int64 {
	if s.tag&tagFold != 0 {
		return 0
	}
	if s.tag&tagBox != 0 {
		return (*box)(s.p).exp
	}
	head, w := recHead(s.p)
	if head&recExp == 0 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(s.p, w)), 8)))
}

// makeSlot builds what a slot holds for key and o (all but its hash
// bits): a record for an inline string (the value's bytes are copied, its
// access time starts at 0), a box for the rest.
func makeSlot(key []byte, o *obj) slot {
	if o.kind == KindString && o.flags&flagBoxed == 0 {
		return slot{p: newRec(key, o.stored(), o.exp, o.recEnc()), tag: uint32(KindString), klen: uint32(len(key))}
	}
	return slot{p: newBox(key, o), tag: uint32(o.kind) | tagBox, klen: uint32(len(key))}
}
