package rdbparse

import (
	"encoding/binary"
)

// This file walks the packed encodings that arrive as one RDB string:
// ziplist, listpack, intset and zipmap. Each iterator checks every offset
// against the blob's length, so a corrupt blob yields ok=false, never a
// panic or an out-of-range read.

// elem is one packed element: a string, or an integer (isInt).
type elem struct {
	s     []byte
	v     int64
	isInt bool
}

// ---------------------------------------------------------------- ziplist

// ziplist layout (src/ziplist.c):
//
//	<zlbytes u32le><zltail u32le><zllen u16le> <entry>… <0xff>
//	entry: <prevlen: 1 byte < 254, or 0xfe + u32le> <encoding> <data>
type ziplistIter struct {
	b   []byte
	pos int
}

// newZiplist checks the header and returns an iterator and the header's
// element count (65535 means "count it").
func newZiplist(b []byte) (ziplistIter, int, bool) {
	if len(b) < 11 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return ziplistIter{}, 0, false
	}
	if int(binary.LittleEndian.Uint32(b[4:])) > len(b)-1 {
		return ziplistIter{}, 0, false
	}
	return ziplistIter{b: b[:len(b)-1], pos: 10}, int(binary.LittleEndian.Uint16(b[8:])), true
}

// next returns the next element; done at the end marker.
func (it *ziplistIter) next() (e elem, done, ok bool) {
	b := it.b
	if it.pos >= len(b) {
		return e, true, true
	}
	p := it.pos
	if b[p] == 0xff {
		return e, false, false // an end marker before the end
	}
	if b[p] == 0xfe {
		p += 5
	} else {
		p++
	}
	if p >= len(b) {
		return e, false, false
	}
	enc := b[p]
	p++
	n := 0
	switch enc >> 6 {
	case 0:
		n = int(enc & 0x3f)
	case 1:
		if p+1 > len(b) {
			return e, false, false
		}
		n = int(enc&0x3f)<<8 | int(b[p])
		p++
	case 2:
		if p+4 > len(b) {
			return e, false, false
		}
		n = int(binary.BigEndian.Uint32(b[p:]))
		p += 4
	default:
		e.isInt = true
		switch enc {
		case 0xc0:
			n = 2
		case 0xd0:
			n = 4
		case 0xe0:
			n = 8
		case 0xf0:
			n = 3
		case 0xfe:
			n = 1
		default:
			if enc >= 0xf1 && enc <= 0xfd {
				e.v = int64(enc&0x0f) - 1
				it.pos = p
				return e, false, true
			}
			return e, false, false
		}
	}
	if n < 0 || p+n > len(b) {
		return e, false, false
	}
	d := b[p : p+n]
	if e.isInt {
		switch n {
		case 1:
			e.v = int64(int8(d[0]))
		case 2:
			e.v = int64(int16(binary.LittleEndian.Uint16(d)))
		case 3:
			e.v = int64(int32(uint32(d[0])<<8|uint32(d[1])<<16|uint32(d[2])<<24)) >> 8
		case 4:
			e.v = int64(int32(binary.LittleEndian.Uint32(d)))
		case 8:
			e.v = int64(binary.LittleEndian.Uint64(d))
		}
	} else {
		e.s = d
	}
	it.pos = p + n
	return e, false, true
}

// --------------------------------------------------------------- listpack

// listpack layout (src/listpack.c):
//
//	<total bytes u32le><count u16le> <entry>… <0xff>
//	entry: <encoding+data> <backlen: 1–5 bytes, the size of encoding+data>
type listpackIter struct {
	b   []byte
	pos int
}

// newListpack checks the header and returns an iterator and the header's
// element count (65535 means "count it").
func newListpack(b []byte) (listpackIter, int, bool) {
	if len(b) < 7 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return listpackIter{}, 0, false
	}
	return listpackIter{b: b[:len(b)-1], pos: 6}, int(binary.LittleEndian.Uint16(b[4:])), true
}

// backlenSize is the number of bytes lpEncodeBacklen uses for an entry of
// l bytes.
func backlenSize(l int) int {
	switch {
	case l < 128:
		return 1
	case l < 16384:
		return 2
	case l < 2097152:
		return 3
	case l < 268435456:
		return 4
	}
	return 5
}

func (it *listpackIter) next() (e elem, done, ok bool) {
	b := it.b
	p := it.pos
	if p >= len(b) {
		return e, true, true
	}
	enc := b[p]
	hdr, n := 1, 0
	switch {
	case enc&0x80 == 0: // 0xxxxxxx: 7-bit uint
		e.isInt, e.v = true, int64(enc)
	case enc&0xc0 == 0x80: // 10xxxxxx: 6-bit string length
		n = int(enc & 0x3f)
	case enc&0xe0 == 0xc0: // 110xxxxx yyyyyyyy: 13-bit int
		if p+2 > len(b) {
			return e, false, false
		}
		v := int64(enc&0x1f)<<8 | int64(b[p+1])
		if v >= 1<<12 {
			v -= 1 << 13
		}
		e.isInt, e.v, hdr = true, v, 2
	case enc&0xf0 == 0xe0: // 1110xxxx yyyyyyyy: 12-bit string length
		if p+2 > len(b) {
			return e, false, false
		}
		n, hdr = int(enc&0x0f)<<8|int(b[p+1]), 2
	default:
		switch enc {
		case 0xf0: // 32-bit string length
			if p+5 > len(b) {
				return e, false, false
			}
			n, hdr = int(binary.LittleEndian.Uint32(b[p+1:])), 5
		case 0xf1, 0xf2, 0xf3, 0xf4:
			size := [...]int{2, 3, 4, 8}[enc-0xf1]
			if p+1+size > len(b) {
				return e, false, false
			}
			d := b[p+1 : p+1+size]
			switch size {
			case 2:
				e.v = int64(int16(binary.LittleEndian.Uint16(d)))
			case 3:
				e.v = int64(int32(uint32(d[0])<<8|uint32(d[1])<<16|uint32(d[2])<<24)) >> 8
			case 4:
				e.v = int64(int32(binary.LittleEndian.Uint32(d)))
			case 8:
				e.v = int64(binary.LittleEndian.Uint64(d))
			}
			e.isInt, hdr = true, 1+size
		default:
			return e, false, false
		}
	}
	if n < 0 || n > len(b) || p+hdr+n > len(b) {
		return e, false, false
	}
	if !e.isInt {
		e.s = b[p+hdr : p+hdr+n]
	}
	l := hdr + n
	p += l + backlenSize(l)
	if p > len(b) {
		return e, false, false
	}
	it.pos = p
	return e, false, true
}

// ----------------------------------------------------------------- intset

// intset layout (src/intset.c): <encoding u32le: 2, 4 or 8><length u32le>
// <length little-endian signed integers of that size>.
type intsetIter struct {
	b    []byte
	size int
	i, n int
}

func newIntset(b []byte) (intsetIter, bool) {
	if len(b) < 8 {
		return intsetIter{}, false
	}
	size := int(binary.LittleEndian.Uint32(b))
	n := uint64(binary.LittleEndian.Uint32(b[4:]))
	if size != 2 && size != 4 && size != 8 || uint64(len(b)-8) != n*uint64(size) {
		return intsetIter{}, false
	}
	return intsetIter{b: b[8:], size: size, n: int(n)}, true
}

func (it *intsetIter) next() (v int64, done bool) {
	if it.i >= it.n {
		return 0, true
	}
	d := it.b[it.i*it.size:]
	it.i++
	switch it.size {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(d))), false
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(d))), false
	}
	return int64(binary.LittleEndian.Uint64(d)), false
}

// ----------------------------------------------------------------- zipmap

// zipmap layout (src/zipmap.c):
//
//	<zmlen: 1 byte, 254 = unknown> (<len><key><len><free><value><free bytes>)… <0xff>
//	len: 1 byte < 254, or 254 + u32le
type zipmapIter struct {
	b   []byte
	pos int
}

func (it *zipmapIter) readLen() (int, bool) {
	b := it.b
	if it.pos >= len(b) {
		return 0, false
	}
	c := b[it.pos]
	switch {
	case c < 254:
		it.pos++
		return int(c), true
	case c == 254:
		if it.pos+5 > len(b) {
			return 0, false
		}
		n := binary.LittleEndian.Uint32(b[it.pos+1:])
		it.pos += 5
		if uint64(n) > uint64(len(b)) {
			return 0, false
		}
		return int(n), true
	}
	return 0, false
}

// next returns the next field and value; done at the end marker.
func (it *zipmapIter) next() (k, v []byte, done, ok bool) {
	b := it.b
	if it.pos >= len(b) {
		return nil, nil, false, false
	}
	if b[it.pos] == 0xff {
		return nil, nil, true, it.pos == len(b)-1
	}
	kl, ok := it.readLen()
	if !ok || it.pos+kl > len(b) {
		return nil, nil, false, false
	}
	k = b[it.pos : it.pos+kl]
	it.pos += kl
	vl, ok := it.readLen()
	if !ok || it.pos+1 > len(b) {
		return nil, nil, false, false
	}
	free := int(b[it.pos])
	it.pos++
	if it.pos+vl+free > len(b) {
		return nil, nil, false, false
	}
	v = b[it.pos : it.pos+vl]
	it.pos += vl + free
	return k, v, false, true
}
