package projection

import (
	"encoding/binary"
	"unsafe"
)

// A string key and its value live in one allocation without Go pointers,
// its record, which the slot points at (the GC marks it and never scans
// it):
//
//	+-----------+-----------+-----------+-------+---------+
//	| head      | klen      | exp       | key   | value   |
//	| 1+ B      | uvarint   | 8 B, LE   | (1)   | vlen    |
//	+-----------+-----------+-----------+-------+---------+
//	(1) the key, or with the slot's tagPacked its packed form (keypack.go)
//	head = vlen<<4 | recLong | recExp | enc   klen only when recLong is
//	set (a key of 63 bytes or more: the slot's tag holds shorter ones'),
//	exp only when recExp is set
//
// The head takes one byte for the common values (putRecHead): a coded
// value (packed text, textpack.go) of up to 127 bytes, or an embstr or
// int of up to 31, with no expire time and a short key; two or more
// otherwise. The record has no alignment and no padding: its access
// time is its slot's lru word, so a record packs into its table's arena
// at any byte. A record is at least recMin bytes (a racy prefetch reads
// a word of whatever a slot points at). A key with a 72-character value
// packed to 55 bytes and no expire time costs a 1-byte head, its bytes
// and the value.
//
// Every other value (a collection, a stream, a string edited in place) is
// a box: the value's pointer, the expire time and the key. Keys of up to
// boxKeyInline bytes are held in the box itself, so the box is one
// allocation; longer ones are a string beside it.

// recExp is the head bit that says the record holds an expire time;
// recLong says it holds its key's length. The low two bits are the
// string's encoding (encEmbstr, encInt, encRaw), or encCoded: the value
// is stored as a coded form (textpack.go: packed text or an LZ4 block),
// whose codec byte has codecFlagBit set when the value's encoding is raw
// rather than embstr.
const (
	recExp      = 4
	recLong     = 8
	recLenShift = 4 // head>>recLenShift is the value's length
	encCoded    = 3
	recMin      = 8
)

// recSlot builds the record of a string key in st (a load's stage,
// arena.go; nil: an allocation of its own) and returns the slot that
// holds it (all but its hash bits), with access time lru.
func recSlot(st *stage, key, val []byte, exp int64, enc uint8, lru uint32) slot {
	head := recHeadOf(len(val), enc, exp != 0, len(key))
	long := head&recLong != 0
	hdr := recHeadLen(head)
	if long {
		hdr += uvarintLen(uint64(len(key)))
	}
	if exp != 0 {
		hdr += 8
	}
	f := formOf(key)
	buf := st.alloc(recStrSize(hdr, f.n+len(val)))
	w := putRecHead(buf, head)
	if long {
		w += binary.PutUvarint(buf[w:], uint64(len(key)))
	}
	if exp != 0 {
		binary.LittleEndian.PutUint64(buf[w:], uint64(exp))
	}
	f.put(buf[hdr:])
	copy(buf[hdr+f.n:], val)
	return slot{p: unsafe.Pointer(&buf[0]), tag: uint32(KindString) | f.tag(), lru: lru}
}

// recSize is the size of a record of n bytes: at least recMin.
func recSize(n int) int { return max(n, recMin) }

// recStrSize is the size of a string record of hdr bytes of head and kv
// of key and value: a byte more when both are empty, so that where the
// key starts is inside the record.
func recStrSize(hdr, kv int) int { return recSize(hdr + max(kv, 1)) }

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// recHeadOf is the head of a string record: a value of n bytes in
// encoding enc, with an expire time or not, for a key of klen bytes.
func recHeadOf(n int, enc uint8, exp bool, klen int) uint64 {
	head := uint64(n)<<recLenShift | uint64(enc)
	if exp {
		head |= recExp
	}
	if klen >= tagLongKey {
		head |= recLong
	}
	return head
}

// A head's first byte:
//
//	0nnnnnnn  a coded value of n bytes (0–127); no expire time, short key
//	10ennnnn  an embstr (e = 0) or int (e = 1) of n bytes (0–31); no
//	          expire time, short key
//	11hhhhhh  any head: its low 6 bits here, the rest a uvarint after
const (
	headShortCoded = 127 // the longest coded value of a one-byte head
	headShortPlain = 31  // the longest embstr or int of a one-byte head
)

// recHeadShort returns head's one-byte form, if it has one.
func recHeadShort(head uint64) (byte, bool) {
	if head&(recExp|recLong) != 0 {
		return 0, false
	}
	n := head >> recLenShift
	switch uint8(head & 3) {
	case encCoded:
		return byte(n), n <= headShortCoded
	case encEmbstr:
		return 0x80 | byte(n), n <= headShortPlain
	case encInt:
		return 0xa0 | byte(n), n <= headShortPlain
	}
	return 0, false
}

// recHeadLen is the bytes putRecHead writes for head.
func recHeadLen(head uint64) int {
	if _, ok := recHeadShort(head); ok {
		return 1
	}
	return 1 + uvarintLen(head>>6)
}

// putRecHead writes head at the start of buf and returns its width.
func putRecHead(buf []byte, head uint64) int {
	if b, ok := recHeadShort(head); ok {
		buf[0] = b
		return 1
	}
	buf[0] = 0xc0 | byte(head&0x3f)
	return 1 + binary.PutUvarint(buf[1:], head>>6)
}

// recHead decodes a record's head (putRecHead); w is its width.
func recHead(p unsafe.Pointer) (head uint64, w int) {
	b0 := *(*byte)(p)
	switch {
	case b0 < 0x80:
		return uint64(b0)<<recLenShift | encCoded, 1
	case b0 < 0xa0:
		return uint64(b0&0x1f)<<recLenShift | uint64(encEmbstr), 1
	case b0 < 0xc0:
		return uint64(b0&0x1f)<<recLenShift | uint64(encInt), 1
	}
	v, vw := uvarintAt(unsafe.Add(p, 1))
	return uint64(b0&0x3f) | v<<6, 1 + vw
}

// uvarintAt decodes the uvarint at p (a long key's length, a packed
// collection record's key length and pack length); w is its width. One
// and two bytes take the short path.
func uvarintAt(p unsafe.Pointer) (v uint64, w int) {
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
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, w
		}
	}
}

// recHdrLen is the bytes before a record's key.
func recHdrLen(p unsafe.Pointer) int {
	head, w := recHead(p)
	if head&recLong != 0 {
		_, kw := uvarintAt(unsafe.Add(p, w))
		w += kw
	}
	if head&recExp != 0 {
		w += 8
	}
	return w
}

// recLongKlen is the length of a record's key that its slot calls long.
func recLongKlen(p unsafe.Pointer) int {
	_, w := recHead(p)
	n, _ := uvarintAt(unsafe.Add(p, w))
	return int(n)
}

// recKey returns the first byte of a record's key.
func recKey(p unsafe.Pointer) *byte { return (*byte)(unsafe.Add(p, recHdrLen(p))) }

// recVal is where the value of the record p starts, off bytes in (its
// head is head); an empty value's is p itself, as off may be the end of
// the record.
func recVal(p unsafe.Pointer, off int, head uint64) unsafe.Pointer {
	if head>>recLenShift == 0 {
		return p
	}
	return unsafe.Add(p, off)
}

// recOwn is the bytes a record holds whose key takes klen bytes in it
// (arena.go, MEMORY USAGE).
func recOwn(p unsafe.Pointer, klen int) int {
	head, _ := recHead(p)
	return recStrSize(recHdrLen(p), klen+int(head>>recLenShift))
}

// recObj returns the obj of the record in s, whose key takes klen bytes in
// it.
func (s *slot) recObj(klen int) obj {
	p := s.p
	head, w := recHead(p)
	o := obj{kind: KindString, enc: uint8(head & 3), n: uint32(head >> recLenShift), lw: s.lruWord()}
	if head&recLong != 0 {
		_, kw := uvarintAt(unsafe.Add(p, w))
		w += kw
	}
	if head&recExp != 0 {
		o.exp = int64(binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(p, w)), 8)))
		w += 8
	}
	o.ptr = recVal(p, w+klen, head)
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
func boxKey(p unsafe.Pointer, klen int) *byte {
	if klen > boxKeyInline {
		return unsafe.StringData((*box)(p).key)
	}
	return (*byte)(unsafe.Add(p, unsafe.Offsetof(box16{}.k)))
}

// obj returns the value of a used slot.
func (s *slot) obj() obj {
	if s.tag&tagBox == 0 {
		if s.tag&tagFold != 0 {
			return obj{ptr: s.p, kind: Kind(s.tag & tagKind), n: uint32(s.storedLen()), flags: flagCRec, lw: s.lruWord()}
		}
		return s.recObj(s.storedLen())
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
	head, _ := recHead(s.p)
	if head&recExp == 0 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(s.p, recHdrLen(s.p)-8)), 8)))
}

// makeSlot builds what a slot holds for key and o (all but its hash
// bits): a record for an inline string (the value's bytes are copied, its
// access time starts at 0), a box for the rest.
func makeSlot(key []byte, o *obj) slot {
	if o.kind == KindString && o.flags&flagBoxed == 0 {
		return recSlot(nil, key, o.stored(), o.exp, o.recEnc(), 0)
	}
	return slot{p: newBox(key, o), tag: uint32(o.kind) | tagBox | klenTag(len(key))}
}
