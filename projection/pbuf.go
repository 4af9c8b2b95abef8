package projection

import "unsafe"

// pbuf is a pack's bytes held in 16 bytes instead of a []byte's 24: its
// first byte, length and capacity (a capacity below 2 GiB; the top bit of
// c is a flag the owner may use). It keeps the structs of the collection
// types at 32 bytes, a Go size class, where a slice header made them 48.
type pbuf struct {
	p *byte
	n uint32
	c uint32
}

const pbufFlag = 1 << 31

// bytes returns the pack as a slice (nil when it has no array).
func (b *pbuf) bytes() []byte {
	if b.p == nil {
		return nil
	}
	return unsafe.Slice(b.p, b.c&^pbufFlag)[:b.n]
}

// set makes s the pack, keeping the flag. A capacity past 2 GiB is
// forgotten down to the length (the bytes beyond stay unused); a pack is
// never that long (Redis converts a listpack long before 1 GiB, and a
// list's chunk is at most one element past 8 KiB).
func (b *pbuf) set(s []byte) {
	f := b.c & pbufFlag
	if cap(s) == 0 {
		b.p, b.n, b.c = nil, 0, f
		return
	}
	if cap(s) >= pbufFlag {
		s = s[:len(s):len(s)]
	}
	b.p, b.n, b.c = unsafe.SliceData(s), uint32(len(s)), uint32(cap(s))|f
}

// size is the pack's length.
func (b *pbuf) size() int { return int(b.n) }

// capacity is the bytes its array holds.
func (b *pbuf) capacity() int { return int(b.c &^ pbufFlag) }

func (b *pbuf) flag() bool { return b.c&pbufFlag != 0 }

func (b *pbuf) setFlag(on bool) {
	if on {
		b.c |= pbufFlag
	} else {
		b.c &^= pbufFlag
	}
}

// reserve makes room for extra more bytes in one step, to the byte: a
// write of several elements (HSET, RPUSH, SADD, ZADD of many) grows the
// pack once to its size instead of doubling it element by element, which
// left up to half of it unused.
func (b *pbuf) reserve(extra int) {
	if b.capacity()-b.size() >= extra {
		return
	}
	nb := make([]byte, b.size(), b.size()+extra)
	copy(nb, b.bytes())
	b.set(nb)
}

// clone returns a pbuf of a copy of the bytes (COPY), flag included.
func (b *pbuf) clone() pbuf {
	var nb pbuf
	nb.c = b.c & pbufFlag
	if b.n > 0 {
		nb.set(append([]byte(nil), b.bytes()...))
	}
	return nb
}

// firstPack returns the first packed bytes of a collection (a list's
// first chunk, a packed set, sorted set or hash), where reads of small
// collections start (prefetchData); nil for other values.
func (o *obj) firstPack() []byte {
	if o.flags&flagCRec != 0 {
		_, _, pack := crecRead(o.ptr, int(o.n))
		return pack
	}
	switch o.kind {
	case KindList:
		if l := o.list(); l.n > 0 {
			return l.chunk(0).b
		}
	case KindSet:
		return o.set().pk.bytes()
	case KindZSet:
		return o.zset().pk.bytes()
	case KindHash:
		return o.hash().pk.bytes()
	default:
		// a string's bytes are prefetched with its slot; a stream has no packed data.
	}
	return nil
}

// seenTwice reports whether two of key(0), …, key(n-1) are equal: a
// loaded collection's elements must be distinct to be packed in one pass.
// O(n²), for the few elements of a listpack (most pairs differ in length).
func seenTwice(n int, key func(i int) []byte) bool {
	for i := 1; i < n; i++ {
		ki := key(i)
		for j := 0; j < i; j++ {
			if kj := key(j); len(kj) == len(ki) && string(kj) == string(ki) {
				return true
			}
		}
	}
	return false
}
