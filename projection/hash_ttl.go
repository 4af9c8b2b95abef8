package projection

// Hash field TTLs (Redis 7.4, src/t_hash.c "hash field expiration").
//
// A field's TTL is an absolute Unix time in ms kept in hashTTL.at; a field
// without one is absent from the map. The map is allocated when a field of
// the hash first gets a TTL (HPEXPIREAT, HSETEX, an RDB v12 hash).
//
// Order: Redis keeps a small hash with TTLs as a listpack of (field, value,
// ttl) triples (OBJ_ENCODING_LISTPACK_EX) ordered by TTL: fields with a TTL
// first, ascending, then fields without one in insertion order. A field
// whose TTL changes is taken out and re-inserted before the first field
// whose TTL is ≥ the new one or that has none (listpackExAddInternal,
// cbFindInListpack); a field losing its TTL goes to the end. HGETALL shows
// that order, so the pack follows the same rules.
//
// Expiry: a replica never deletes fields itself; the primary sends HDEL
// (replication-stream.md §3.6). Commands from the link see expired fields
// as present (hashTypeGetValue: "If CLIENT_MASTER, assume valid"); client
// reads hide a field whose TTL is < now (hashTypeIsExpired), while HLEN
// still counts it (hlenCommand uses hashTypeLength(o, 0)).

import (
	"encoding/binary"
	"fmt"

	"github.com/vdr-project/vdr/rdbparse"
)

type hashTTL struct {
	at map[string]int64 // field → absolute expiry in Unix ms
}

// fieldTTL returns field f's TTL, 0 when it has none.
func (h *hashObj) fieldTTL(f []byte) int64 {
	if h.tl() == nil {
		return 0
	}
	return h.tl().at[string(f)]
}

// ensureTTL switches the hash to "may have field TTLs": for a packed hash,
// this is Redis's conversion to OBJ_ENCODING_LISTPACK_EX, which stays even
// when the last TTL goes.
func (h *hashObj) ensureTTL() {
	if h.tl() == nil {
		h.setX(h.dn(), &hashTTL{at: map[string]int64{}})
	}
}

// expiredAt reports whether field f is hidden from reads at time now.
func (h *hashObj) expiredAt(f []byte, now int64) bool {
	if h.tl() == nil || len(h.tl().at) == 0 {
		return false
	}
	t, ok := h.tl().at[string(f)]
	return ok && t < now
}

// setTTL sets an existing field's TTL (at > 0) or removes it (at == 0),
// moving the field in a pack as Redis's listpackExUpdateExpiry does.
func (h *hashObj) setTTL(f []byte, at int64) {
	h.ensureTTL()
	if at == 0 {
		delete(h.tl().at, string(f))
	} else {
		h.tl().at[string(f)] = at
	}
	if h.dn() != nil {
		if at == 0 && len(h.tl().at) == 0 {
			h.setX(h.dn(), nil) // a hashtable reports no encoding of its own for TTLs
		}
		return
	}
	off, _, end, ok := h.find(f)
	if !ok {
		return
	}
	entry := append([]byte(nil), h.pk.bytes()[off:end]...)
	h.pk.set(packCut(h.pk.bytes(), off, end))
	h.pk.set(packInsert(h.pk.bytes(), h.ttlPos(at, f), entry))
}

// ttlPos returns the pack offset at which a field with TTL at (0: none) is
// inserted: the end for no TTL, else before the first field whose TTL is
// ≥ at or that has none. self is skipped (it is not in the pack).
func (h *hashObj) ttlPos(at int64, self []byte) int {
	if at == 0 {
		return len(h.pk.bytes())
	}
	for off := 0; off < len(h.pk.bytes()); {
		f, vo := fieldNext(h.pk.bytes(), off)
		next := entrySkip(h.pk.bytes(), vo)
		if string(f) != string(self) {
			t, has := h.tl().at[string(f)]
			if !has || t >= at {
				return off
			}
		}
		off = next
	}
	return len(h.pk.bytes())
}

// clearTTL removes f's TTL, if any (HSET on a field with a TTL).
func (h *hashObj) clearTTL(f []byte) {
	if _, ok := h.tl().at[string(f)]; ok {
		h.setTTL(f, 0)
	}
}

// addWithTTL adds a new field with a TTL (at > 0) at its ordered place,
// as listpackExAddNew does when Redis loads RDB_TYPE_HASH_METADATA.
func (h *hashObj) addWithTTL(f, v []byte, at int64, ec *EncodingConfig, tp bool) {
	h.ensureTTL()
	h.set(f, v, ec, tp)
	if at != 0 {
		h.setTTL(f, at)
	}
}

// appendWithTTL adds a field at the end keeping the order it is given in
// (an RDB_TYPE_HASH_LISTPACK_EX listpack, already ordered).
func (h *hashObj) appendWithTTL(f, v []byte, at int64, ec *EncodingConfig, tp bool) {
	h.ensureTTL()
	h.set(f, v, ec, tp)
	if at != 0 {
		h.tl().at[string(f)] = at
	}
}

// liveCount is the number of fields a read sees at time now (HGETALL's
// hashTypeLength(o, 1)).
func (h *hashObj) liveCount(now int64) int {
	n := h.count()
	if h.tl() == nil {
		return n
	}
	for _, t := range h.tl().at {
		if t < now {
			n--
		}
	}
	return n
}

// eachLive is each skipping fields expired at now.
func (h *hashObj) eachLive(now int64, sc *scratch, fn func(f, v []byte) bool) {
	if h.tl() == nil || len(h.tl().at) == 0 {
		h.each(sc, fn)
		return
	}
	h.each(sc, func(f, v []byte) bool {
		if h.expiredAt(f, now) {
			return true
		}
		return fn(f, v)
	})
}

// copyTTL duplicates the TTL side structure (COPY).
func (h *hashObj) copyTTL() *hashTTL {
	if h.tl() == nil {
		return nil
	}
	n := &hashTTL{at: make(map[string]int64, len(h.tl().at))}
	for k, v := range h.tl().at {
		n.at[k] = v
	}
	return n
}

// listpackEx reports whether a packed hash is a listpackex.
func (h *hashObj) listpackEx() bool { return h.lp() && h.tl() != nil }

// hashTypeWithTTLs reports whether an RDB hash type is one that may carry
// field TTLs; Redis loads such a hash as a listpackex (or hashtable) even
// when no field has a TTL left.
func hashTypeWithTTLs(t byte) bool {
	switch t {
	case rdbparse.TypeHashMetadataPreGA, rdbparse.TypeHashListpackExPreGA,
		rdbparse.TypeHashMetadata, rdbparse.TypeHashListpackEx:
		return true
	}
	return false
}

// loadHashTTLBatch adds one RDB batch of a hash with field TTLs. Fields
// already expired are kept (hidden from reads): Redis 7.4 rdbLoadObject
// does not drop them, and a replica never expires fields itself. A
// RDB_TYPE_HASH_METADATA hash is rebuilt with listpackExAddNew's ordered
// insertion; a RDB_TYPE_HASH_LISTPACK_EX listpack is already in order.
func loadHashTTLBatch(h *hashObj, e *rdbparse.Entry, ec *EncodingConfig, tp bool) {
	ordered := e.RDBType == rdbparse.TypeHashMetadata || e.RDBType == rdbparse.TypeHashMetadataPreGA
	for _, f := range e.Fields {
		at := f.ExpireMs
		if at < 0 {
			at = 0
		} else if at == 0 {
			at = 1 // 0 is "none" here; 1 ms is just as expired
		}
		if ordered {
			h.addWithTTL(f.Field, f.Value, at, ec, tp)
		} else {
			h.appendWithTTL(f.Field, f.Value, at, ec, tp)
		}
	}
}

// RDB constants for hashes with field TTLs (src/rdb.h).
const (
	rdbTypeHashMetadata = 24 // RDB_TYPE_HASH_METADATA
	dumpRDBVerHFE       = 12 // RDB_VERSION of Redis 7.4, the first to know type 24
)

// dumpHashMetadata writes a hash with field TTLs as a DUMP payload of
// RDB_TYPE_HASH_METADATA, as Redis 7.4 writes a hashtable with TTLs
// (src/rdb.c rdbSaveObject): the minimum TTL as 8 bytes LE, the count,
// then per field its TTL minus the minimum plus one (0: none), field and
// value. RESTORE on 7.4+ rebuilds a small one as a listpackex ordered by
// TTL, so fields with equal TTLs may come back in another order than a
// listpackex dumped by Redis itself (RDB_TYPE_HASH_LISTPACK_EX).
func dumpHashMetadata(h *hashObj) []byte {
	minAt := int64(0)
	for _, t := range h.tl().at {
		if minAt == 0 || t < minAt {
			minAt = t
		}
	}
	b := []byte{rdbTypeHashMetadata}
	b = binary.LittleEndian.AppendUint64(b, uint64(minAt))
	b = appendRDBLen(b, uint64(h.count()))
	var sc scratch
	h.each(&sc, func(f, v []byte) bool {
		rel := uint64(0)
		if t := h.fieldTTL(f); t != 0 {
			rel = uint64(t-minAt) + 1
		}
		b = appendRDBLen(b, rel)
		b = appendRDBString(b, f)
		b = appendRDBString(b, v)
		sc.reset()
		return true
	})
	b = binary.LittleEndian.AppendUint16(b, dumpRDBVerHFE)
	return binary.LittleEndian.AppendUint64(b, rdbparse.CRC64(b))
}

// saneTTL checks the field TTLs: each names a field and is > 0, and in a
// listpackex the fields with a TTL come first, in ascending order.
func (h *hashObj) saneTTL() error {
	if h.tl() == nil {
		return nil
	}
	for f, t := range h.tl().at {
		if ok := h.has([]byte(f)); !ok || t <= 0 {
			return fmt.Errorf("field TTL %d for %q (present %v)", t, f, ok)
		}
	}
	if !h.lp() {
		return nil
	}
	last, tail := int64(0), false
	var err error
	h.eachField(func(f []byte) bool {
		t := h.fieldTTL(f)
		switch {
		case t == 0:
			tail = true
		case tail || t < last:
			err = fmt.Errorf("listpackex field %q (TTL %d) out of order", f, t)
			return false
		default:
			last = t
		}
		return true
	})
	return err
}
