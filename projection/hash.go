package projection

// hashObj is a hash. While Redis would keep it as a listpack (lp: at most
// hash-max-listpack-entries fields, none longer than
// hash-max-listpack-value) it lives in one pack of field, value, field,
// value… in insertion order, so HGETALL returns Redis's order; past that
// it is a dense (dense.go: fields and values in a slice, a field→index
// map), whose order stays the same while the hash does not change, and
// like Redis it never goes back (src/t_hash.c).
//
// Field TTLs (Redis 7.4) live in ttl, allocated only when a field first
// gets one, so a hash without them costs no more than before (n is an
// int32 to keep the struct at 48 bytes). A packed hash with ttl != nil is
// Redis's OBJ_ENCODING_LISTPACK_EX; see hash_ttl.go.
type hashObj struct {
	pack []byte
	d    *dense[hfield]
	ttl  *hashTTL
	n    int32
	lru  lruWord // beside n: the struct stays 48 bytes
}

func newHash() *hashObj { return &hashObj{} }

// lp reports whether Redis would keep the hash as a listpack: while it is
// packed here (no dense), which is exactly when it has never crossed
// hash-max-listpack-entries/-value (Redis never converts back).
func (h *hashObj) lp() bool { return h.d == nil }

func (h *hashObj) count() int {
	if h.d != nil {
		return h.d.len()
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
	if h.d != nil {
		i, ok := h.d.find(f)
		if !ok {
			return nil, false
		}
		return stringBytes(h.d.items[i].v), true
	}
	_, vo, _, ok := h.find(f)
	if !ok {
		return nil, false
	}
	v, _ := packNext(h.pack, vo)
	return v, true
}

func (h *hashObj) convert() {
	d := newDense[hfield](int(h.n) + 1)
	h.each(func(f, v []byte) bool { d.push(hfield{string(f), string(v)}); return true })
	h.d, h.pack, h.n = d, nil, 0
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
	if h.d == nil && (len(f) > ec.HashMaxListpackValue || len(v) > ec.HashMaxListpackValue) {
		h.convert()
	}
	if h.d != nil {
		if i, ok := h.d.find(f); ok {
			h.d.items[i].v = string(v)
			return false
		}
		h.d.push(hfield{string(f), string(v)})
		return true
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
	if h.d != nil {
		i, ok := h.d.find(f)
		if !ok {
			return false
		}
		h.d.removeAt(i)
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
	if h.d != nil {
		for _, x := range h.d.items {
			if !fn(stringBytes(x.f), stringBytes(x.v)) {
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

// bytes estimates the hash's memory from at most samples fields (0: all),
// like objectComputeSize (src/object.c).
func (h *hashObj) bytes(samples int) int {
	if h.ttl != nil { // field TTLs: map header plus one slot per field with one
		return h.bytesNoTTL(samples) + 48 + len(h.ttl.at)*32
	}
	return h.bytesNoTTL(samples)
}

// denseHashElem is the memory of one field of a dense hash besides its
// bytes: a slice item (32) and an index slot (8, plus a control byte and
// load slack: about 12).
const denseHashElem = 32 + 12

func (h *hashObj) bytesNoTTL(samples int) int {
	if h.d != nil {
		n := h.d.len()
		if samples <= 0 || samples > n {
			samples = n
		}
		sum := 0
		for _, x := range h.d.items[:samples] {
			sum += len(x.f) + len(x.v)
		}
		est := 48 + 48 + cap(h.d.items)*32 + n*(denseHashElem-32)
		if samples > 0 {
			est += int(float64(sum) / float64(samples) * float64(n))
		}
		return est
	}
	return 48 + cap(h.pack)
}

// clone returns a deep copy (COPY).
func (h *hashObj) clone() *hashObj {
	nh := &hashObj{n: h.n, pack: append([]byte(nil), h.pack...), ttl: h.copyTTL()}
	if h.d != nil {
		nh.d = h.d.clone()
	}
	return nh
}

// at returns the field and value of index i of the iteration order, with
// small the decoded pack (field, value, …; nil for a dense hash).
func (h *hashObj) at(i int, small [][]byte) ([]byte, []byte) {
	if h.d != nil {
		x := &h.d.items[i]
		return stringBytes(x.f), stringBytes(x.v)
	}
	return small[2*i], small[2*i+1]
}
