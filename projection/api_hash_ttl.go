package projection

import "github.com/vdr-project/vdr/rdbparse"

// ---- hash field TTLs (Redis 7.4) ----

// HashLen returns the number of fields a read sees: HGETALL's count, which
// leaves out fields whose TTL has passed. HLEN counts them (Len), as Redis
// 7.4 does (hlenCommand uses hashTypeLength(o, 0)).
func (x Value) HashLen() int {
	if !x.ok || x.o.kind != rdbparse.KindHash {
		return 0
	}
	return x.hash().liveCount(x.now)
}

// HashFieldExpire returns what HPEXPIRETIME replies for one field: the
// absolute expiry in Unix ms, -1 for a field without a TTL, -2 for a
// missing field or one whose TTL has passed (a listpackex treats a TTL
// equal to now as passed, a hashtable does not: src/t_hash.c
// httlGenericCommand). A missing key or a non-hash gives -2.
func (x Value) HashFieldExpire(field []byte) int64 {
	if !x.ok || x.o.kind != rdbparse.KindHash {
		return -2
	}
	h := x.hash()
	if !h.has(field) {
		return -2
	}
	t := h.fieldTTL(field)
	if t == 0 {
		return -1
	}
	if t < x.now || (h.lp() && t == x.now) {
		return -2
	}
	return t
}

// HashMinFieldExpire returns the earliest field TTL (Unix ms) of a hash,
// expired or not, or 0 when no field has one.
func (x Value) HashMinFieldExpire() int64 {
	if !x.ok || x.o.kind != rdbparse.KindHash || x.hash().tl() == nil {
		return 0
	}
	m := int64(0)
	for _, t := range x.hash().tl().at {
		if m == 0 || t < m {
			m = t
		}
	}
	return m
}

// HashEachWithTTL calls fn for every field, value and TTL (Unix ms, -1 for
// none), including fields whose TTL has passed, until fn returns false: for
// writers of RDB files, which keep what the primary has not deleted. Len
// is the matching count.
func (x Value) HashEachWithTTL(fn func(field, value []byte, expireMs int64) bool) {
	if !x.ok || x.o.kind != rdbparse.KindHash {
		return
	}
	h := x.hash()
	h.each(x.sc, func(f, v []byte) bool {
		t := h.fieldTTL(f)
		if t == 0 {
			t = -1
		}
		return fn(f, v, t)
	})
}
