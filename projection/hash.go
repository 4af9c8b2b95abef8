package projection

// hashObj is a hash. While Redis would keep it as a listpack (lp: at most
// hash-max-listpack-entries fields, none longer than
// hash-max-listpack-value) it lives in one pack of field, value, field,
// value… in insertion order, so HGETALL returns Redis's order; past that
// it is a map, and like Redis it never goes back (src/t_hash.c).
//
// Field TTLs (Redis 7.4) live in ttl, allocated only when a field first
// gets one, so a hash without them costs no more than before (n is an
// int32 to keep the struct at 48 bytes). A packed hash with ttl != nil is
// Redis's OBJ_ENCODING_LISTPACK_EX; see hash_ttl.go.
type hashObj struct {
	pack []byte
	m    map[string]string
	ttl  *hashTTL
	n    int32
	lru  lruWord // beside n: the struct stays 48 bytes
}

func newHash() *hashObj { return &hashObj{} }

// lp reports whether Redis would keep the hash as a listpack: while it is
// packed here (no map), which is exactly when it has never crossed
// hash-max-listpack-entries/-value (Redis never converts back).
func (h *hashObj) lp() bool { return h.m == nil }

func (h *hashObj) count() int {
	if h.m != nil {
		return len(h.m)
	}
	return int(h.n)
}

// find returns the offsets of field's entry: [off, voff) the field,
// [voff, end) the value.
func (h *hashObj) find(f []byte) (off, voff, end int, ok bool) {
	for off < len(h.pack) {
		e, vo := packNext(h.pack, off)
		_, next := packNext(h.pack, vo)
		if string(e) == string(f) {
			return off, vo, next, true
		}
		off = next
	}
	return 0, 0, 0, false
}

func (h *hashObj) get(f []byte) ([]byte, bool) {
	if h.m != nil {
		v, ok := h.m[string(f)]
		if !ok {
			return nil, false
		}
		return stringBytes(v), true
	}
	_, vo, _, ok := h.find(f)
	if !ok {
		return nil, false
	}
	v, _ := packNext(h.pack, vo)
	return v, true
}

func (h *hashObj) convert() {
	m := make(map[string]string, int(h.n)+1)
	h.each(func(f, v []byte) bool { m[string(f)] = string(v); return true })
	h.m, h.pack, h.n = m, nil, 0
}

// set sets field to value and reports whether the field is new. Like
// HSET it removes the field's TTL (src/t_hash.c hashTypeSet).
func (h *hashObj) set(f, v []byte, ec *EncodingConfig) bool {
	isNew := h.setKeepTTL(f, v, ec)
	if !isNew && h.ttl != nil {
		h.clearTTL(f)
	}
	return isNew
}

// setKeepTTL is set keeping the field's TTL (HASH_SET_KEEP_TTL: HINCRBY).
func (h *hashObj) setKeepTTL(f, v []byte, ec *EncodingConfig) bool {
	if h.m == nil && (len(f) > ec.HashMaxListpackValue || len(v) > ec.HashMaxListpackValue) {
		h.convert()
	}
	if h.m != nil {
		_, ok := h.m[string(f)]
		h.m[string(f)] = string(v)
		return !ok
	}
	_, vo, end, ok := h.find(f)
	if ok {
		var tmp [72]byte
		enc := packAppend(tmp[:0], v)
		if len(enc) == end-vo {
			copy(h.pack[vo:end], enc) // same size: overwrite in place
			return false
		}
		h.pack = packCut(h.pack, vo, end)
		h.pack = packInsert(h.pack, vo, enc)
		return false
	}
	h.pack = packAppend(h.pack, f)
	h.pack = packAppend(h.pack, v)
	h.n++
	if int(h.n) > ec.HashMaxListpackEntries {
		h.convert()
	}
	return true
}

func (h *hashObj) del(f []byte) bool {
	if h.ttl != nil {
		delete(h.ttl.at, string(f))
	}
	if h.m != nil {
		if _, ok := h.m[string(f)]; !ok {
			return false
		}
		delete(h.m, string(f))
		return true
	}
	off, _, end, ok := h.find(f)
	if !ok {
		return false
	}
	h.pack = packCut(h.pack, off, end)
	h.n--
	return true
}

func (h *hashObj) each(fn func(f, v []byte) bool) {
	if h.m != nil {
		for f, v := range h.m {
			if !fn(stringBytes(f), stringBytes(v)) {
				return
			}
		}
		return
	}
	for off := 0; off < len(h.pack); {
		var f, v []byte
		f, off = packNext(h.pack, off)
		v, off = packNext(h.pack, off)
		if !fn(f, v) {
			return
		}
	}
}

func (h *hashObj) bytes() int {
	if h.ttl != nil { // field TTLs: map header plus one slot per field with one
		return h.bytesNoTTL() + 48 + len(h.ttl.at)*32
	}
	return h.bytesNoTTL()
}

func (h *hashObj) bytesNoTTL() int {
	if h.m != nil {
		n := 48 + len(h.m)*48
		for f, v := range h.m {
			n += len(f) + len(v)
		}
		return n
	}
	return 48 + cap(h.pack)
}
