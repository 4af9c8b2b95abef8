package projection

import "bytes"

// Packed members: a packed sorted set (zset.go) stores each member as an
// entry (epack.go) followed by its score,
//
//	+-----------------------+---------------------+--------------+----
//	| uvarint len<<1|coded  | member or its coded | packed score | …
//	|                       | form (textpack.go)  | (zscore)     |
//	+-----------------------+---------------------+--------------+----
//
// coded exactly when text packing is on (Options.PlainText unset) and
// packing saves entryMinSaving bytes, as list elements and hash values.
// The pack stays sorted by (score, member bytes): coded forms do not sort
// as their members do ("a" < "B" in the base64 alphabet's numbering, the
// other way round in bytes), so members of equal score are compared
// unpacked. Lookups compare stored forms: a member's coded form is
// canonical, so a coded entry holds m exactly when its bytes are m's
// coded form, and a plain one exactly when they are m.

// zpackNext decodes the stored member and score at off.
func zpackNext(b []byte, off int) (e []byte, coded bool, score float64, next int) {
	e, coded, off = entryNext(b, off)
	score, next = zscoreNext(b, off)
	return e, coded, score, next
}

// zskip returns the offset of the member after the one at off.
func zskip(b []byte, off int) int {
	return zscoreSkip(b, entrySkip(b, off))
}

// zquery is a member to look for among stored entries: its bytes, and its
// coded form when text packing would store it so.
type zquery struct {
	m, c []byte
}

// newZQuery makes m's zquery, its coded form in buf when it fits there.
func newZQuery(m, buf []byte) zquery {
	q := zquery{m: m}
	if ent := entryAppend(buf[:0], m, true); len(ent) > 0 {
		if e, coded, _ := entryNext(ent, 0); coded {
			q.c = e
		}
	}
	return q
}

// is reports whether the stored member (e, coded) is q's.
func (q *zquery) is(e []byte, coded bool) bool {
	if coded {
		return q.c != nil && string(e) == string(q.c)
	}
	return string(e) == string(q.m)
}

// zmemberTmp is the stored member (e, coded) unpacked into buf when it
// fits there (a fresh slice when not): for a comparison, never handed out.
func zmemberTmp(buf *[zmemberTmpLen]byte, e []byte, coded bool) []byte {
	if !coded {
		return e
	}
	if n := textLen(e); n >= 0 && n <= len(buf) {
		return unpackText(buf[:n], e)
	}
	return appendCoded(nil, e)
}

// zmemberTmpLen holds every member under the default
// zset-max-listpack-value (64).
const zmemberTmpLen = 128

// zcmpStored compares the stored member (e, coded) with m, as bytes.
func zcmpStored(e []byte, coded bool, m []byte) int {
	if !coded {
		return bytes.Compare(e, m)
	}
	var buf [zmemberTmpLen]byte
	return bytes.Compare(zmemberTmp(&buf, e, coded), m)
}

// zwalkScratch runs walk, whose fn copies what it keeps, with a scratch
// reset after every member (the applier's reads of sorted sets).
func zwalkScratch(walk func(sc *scratch, fn func(m []byte, s float64) bool), fn func(m []byte, s float64) bool) {
	var sc scratch
	walk(&sc, func(m []byte, s float64) bool {
		ok := fn(m, s)
		sc.reset()
		return ok
	})
}
