package projection

import "github.com/vdr-project/vdr/rdbparse"

// hashObj is a hash. While Redis would keep it as a listpack (lp: at most
// hash-max-listpack-entries fields, none longer than
// hash-max-listpack-value) it lives in one pack of field, value, field,
// value… in insertion order, so HGETALL returns Redis's order; past that
// it is a dense (dense.go: fields and values in a slice, a field→index
// map), whose order stays the same while the hash does not change, and
// like Redis it never goes back (src/t_hash.c).
//
// A packed hash's values are entries (epack.go): text of one small
// alphabet is stored packed and unpacked when read (get, each); the
// listpack limits are judged on the values' own lengths, as Redis's.
// A dense hash's values are plain strings.
//
// Field TTLs (Redis 7.4) live in x.ttl, allocated only when a field first
// gets one. A packed hash without them is 32 bytes and its pack (x nil);
// a packed hash with TTLs is Redis's OBJ_ENCODING_LISTPACK_EX; see
// hash_ttl.go.
type hashObj struct {
	pk  pbuf
	x   *hashX // nil: packed, no field TTLs
	n   int32  // fields of the pack
	lru lruWord
}

// hashX is what most hashes lack: the dense of a big hash, the field TTLs.
type hashX struct {
	d   *dense[hfield]
	ttl *hashTTL
}

func newHash() *hashObj { return &hashObj{} }

// dn returns the dense of a big hash, nil for a packed one.
func (h *hashObj) dn() *dense[hfield] {
	if h.x == nil {
		return nil
	}
	return h.x.d
}

// tl returns the field TTLs, nil when none were set.
func (h *hashObj) tl() *hashTTL {
	if h.x == nil {
		return nil
	}
	return h.x.ttl
}

// setX sets the dense and the TTLs, dropping x when both are nil.
func (h *hashObj) setX(d *dense[hfield], ttl *hashTTL) {
	if d == nil && ttl == nil {
		h.x = nil
		return
	}
	h.x = &hashX{d: d, ttl: ttl}
}

// lp reports whether Redis would keep the hash as a listpack: while it is
// packed here (no dense), which is exactly when it has never crossed
// hash-max-listpack-entries/-value (Redis never converts back).
func (h *hashObj) lp() bool { return h.dn() == nil }

func (h *hashObj) count() int {
	if h.dn() != nil {
		return h.dn().len()
	}
	return int(h.n)
}

// find returns the offsets of field's entry: [off, voff) the field,
// [voff, end) the value.
func (h *hashObj) find(f []byte) (off, voff, end int, ok bool) {
	pack := h.pk.bytes()
	for off < len(pack) {
		e, vo := fieldNext(pack, off)
		next := entrySkip(pack, vo)
		if string(e) == string(f) {
			return off, vo, next, true
		}
		off = next
	}
	return 0, 0, 0, false
}

// get returns field f's value, unpacked into sc if it is stored coded
// (a nil sc: into a slice of its own).
func (h *hashObj) get(f []byte, sc *scratch) ([]byte, bool) {
	if h.dn() != nil {
		i, ok := h.dn().find(f)
		if !ok {
			return nil, false
		}
		return stringBytes(h.dn().items[i].v), true
	}
	_, vo, _, ok := h.find(f)
	if !ok {
		return nil, false
	}
	v, coded, _ := entryNext(h.pk.bytes(), vo)
	return entryValue(v, coded, sc), true
}

// has reports whether field f is present (expired or not).
func (h *hashObj) has(f []byte) bool {
	if h.dn() != nil {
		_, ok := h.dn().find(f)
		return ok
	}
	_, _, _, ok := h.find(f)
	return ok
}

// valueLen returns the length of field f's value (HSTRLEN) without
// unpacking it.
func (h *hashObj) valueLen(f []byte) (int, bool) {
	if h.dn() != nil {
		i, ok := h.dn().find(f)
		if !ok {
			return 0, false
		}
		return len(h.dn().items[i].v), true
	}
	_, vo, _, ok := h.find(f)
	if !ok {
		return 0, false
	}
	v, coded, _ := entryNext(h.pk.bytes(), vo)
	return entryLen(v, coded), true
}

func (h *hashObj) convert() {
	d := newDense[hfield](int(h.n) + 1)
	var sc scratch
	h.each(&sc, func(f, v []byte) bool {
		d.push(hfield{string(f), string(v)})
		sc.reset()
		return true
	})
	h.setX(d, h.tl())
	h.pk.set(nil)
	h.n = 0
}

// loadFields fills an empty packed hash with fs in one pass when no field
// comes twice and all are within the listpack limits (a hash as an RDB
// saves it): no search per field, field numbers through fc, and a pack of
// exactly its size. buf is scratch space, returned for reuse. ok is
// false, and nothing done, otherwise (set them one by one).
func (h *hashObj) loadFields(fs []rdbparse.HashField, buf []byte, fc *fieldCache, ec *EncodingConfig, tp bool) ([]byte, bool) {
	if h.x != nil || h.n != 0 || len(fs) == 0 || len(fs) > ec.HashMaxListpackEntries {
		return buf, false
	}
	for i := range fs {
		if len(fs[i].Field) > ec.HashMaxListpackValue || len(fs[i].Value) > ec.HashMaxListpackValue {
			return buf, false
		}
	}
	if seenTwice(len(fs), func(i int) []byte { return fs[i].Field }) {
		return buf, false
	}
	buf = buf[:0]
	for j := range fs {
		id, ok := fc.id(j, fs[j].Field)
		buf = entryAppend(fieldAppendID(buf, fs[j].Field, id, ok), fs[j].Value, tp)
	}
	h.pk.set(buf[:len(buf):len(buf)]) // the loader's: it copies the pack out (Loader.unalias)
	h.n = int32(len(fs))
	return buf, true
}

// reserve sizes a packed hash's pack for the field, value… pairs fv
// (HSET) when it stays packed with them, so that the new ones are added
// without regrowing it.
func (h *hashObj) reserve(fv [][]byte, ec *EncodingConfig, tp bool) {
	if h.x != nil || int(h.n)+len(fv)/2 > ec.HashMaxListpackEntries || len(fv) < 4 {
		return
	}
	extra := 0
	for i := 0; i+1 < len(fv); i += 2 {
		if len(fv[i]) > ec.HashMaxListpackValue || len(fv[i+1]) > ec.HashMaxListpackValue {
			return
		}
		if _, _, _, ok := h.find(fv[i]); !ok {
			extra += fieldSize(fv[i]) + entrySize(fv[i+1], tp)
		}
	}
	h.pk.reserve(extra)
}

// set sets field to value and reports whether the field is new. Like
// HSET it removes the field's TTL (src/t_hash.c hashTypeSet). A packed
// hash stores the value packed when tp (text packing on) and that saves;
// the listpack limits are on its own length, as Redis's.
func (h *hashObj) set(f, v []byte, ec *EncodingConfig, tp bool) bool {
	isNew := h.setKeepTTL(f, v, ec, tp)
	if !isNew && h.tl() != nil {
		h.clearTTL(f)
	}
	return isNew
}

// setKeepTTL is set keeping the field's TTL (HASH_SET_KEEP_TTL: HINCRBY).
func (h *hashObj) setKeepTTL(f, v []byte, ec *EncodingConfig, tp bool) bool {
	if h.dn() == nil && (len(f) > ec.HashMaxListpackValue || len(v) > ec.HashMaxListpackValue) {
		h.convert()
	}
	if h.dn() != nil {
		if i, ok := h.dn().find(f); ok {
			h.dn().items[i].v = string(v)
			return false
		}
		h.dn().push(hfield{string(f), string(v)})
		return true
	}
	_, vo, end, ok := h.find(f)
	if ok {
		var tmp [72]byte
		enc := entryAppend(tmp[:0], v, tp)
		if len(enc) == end-vo {
			copy(h.pk.bytes()[vo:end], enc) // same size: overwrite in place
			return false
		}
		h.pk.set(packInsert(packCut(h.pk.bytes(), vo, end), vo, enc))
		return false
	}
	h.pk.set(entryAppend(fieldAppend(h.pk.bytes(), f), v, tp))
	h.n++
	if int(h.n) > ec.HashMaxListpackEntries {
		h.convert()
	}
	return true
}

func (h *hashObj) del(f []byte) bool {
	if h.tl() != nil {
		delete(h.tl().at, string(f))
	}
	if h.dn() != nil {
		i, ok := h.dn().find(f)
		if !ok {
			return false
		}
		h.dn().removeAt(i)
		return true
	}
	off, _, end, ok := h.find(f)
	if !ok {
		return false
	}
	h.pk.set(packCut(h.pk.bytes(), off, end))
	h.n--
	return true
}

// each calls fn for every field and value until fn returns false;
// coded values are unpacked into sc (nil: each into a slice of its own).
func (h *hashObj) each(sc *scratch, fn func(f, v []byte) bool) {
	if h.dn() != nil {
		for _, x := range h.dn().items {
			if !fn(stringBytes(x.f), stringBytes(x.v)) {
				return
			}
		}
		return
	}
	pack := h.pk.bytes()
	for off := 0; off < len(pack); {
		var f, v []byte
		var coded bool
		f, off = fieldNext(pack, off)
		v, coded, off = entryNext(pack, off)
		if coded {
			v = sc.unpack(v)
		}
		if !fn(f, v) {
			return
		}
	}
}

// eachField calls fn for every field until fn returns false.
func (h *hashObj) eachField(fn func(f []byte) bool) {
	if h.dn() != nil {
		for _, x := range h.dn().items {
			if !fn(stringBytes(x.f)) {
				return
			}
		}
		return
	}
	pack := h.pk.bytes()
	for off := 0; off < len(pack); {
		var f []byte
		f, off = fieldNext(pack, off)
		off = entrySkip(pack, off)
		if !fn(f) {
			return
		}
	}
}

// bytes estimates the hash's memory from at most samples fields (0: all),
// like objectComputeSize (src/object.c).
func (h *hashObj) bytes(samples int) int {
	if h.tl() != nil { // field TTLs: map header plus one slot per field with one
		return h.bytesNoTTL(samples) + 48 + len(h.tl().at)*32
	}
	return h.bytesNoTTL(samples)
}

// denseHashElem is the memory of one field of a dense hash besides its
// bytes: a slice item (32) and an index slot (8, plus a control byte and
// load slack: about 12).
const denseHashElem = 32 + 12

func (h *hashObj) bytesNoTTL(samples int) int {
	if h.dn() != nil {
		n := h.dn().len()
		if samples <= 0 || samples > n {
			samples = n
		}
		sum := 0
		for _, x := range h.dn().items[:samples] {
			sum += len(x.f) + len(x.v)
		}
		est := 48 + 48 + cap(h.dn().items)*32 + n*(denseHashElem-32)
		if samples > 0 {
			est += int(float64(sum) / float64(samples) * float64(n))
		}
		return est
	}
	return 32 + h.pk.capacity()
}

// clone returns a deep copy (COPY).
func (h *hashObj) clone() *hashObj {
	nh := &hashObj{n: h.n, pk: h.pk.clone()}
	var d *dense[hfield]
	if h.dn() != nil {
		d = h.dn().clone()
	}
	nh.setX(d, h.copyTTL())
	return nh
}

// at returns the field and value of index i of the iteration order, with
// small the decoded pack (field, value, …; nil for a dense hash).
func (h *hashObj) at(i int, small [][]byte) ([]byte, []byte) {
	if h.dn() != nil {
		x := &h.dn().items[i]
		return stringBytes(x.f), stringBytes(x.v)
	}
	return small[2*i], small[2*i+1]
}
