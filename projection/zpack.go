package projection

import "bytes"

// Packed members: a packed sorted set (zset.go) stores each member as an
// entry (epack.go) followed by its score,
//
//	+------------------------------------------+--------------+----
//	| entry: uvarint len<<1 and the member, or | packed score | …
//	| a coded head and the packed member       | (zscore)     |
//	+------------------------------------------+--------------+----
//
// coded exactly when text packing is on (Options.PlainText unset) and
// packing saves entryMinSaving bytes, as list elements and hash values.
// The pack stays sorted by (score, member bytes): coded forms do not sort
// as their members do ("a" < "B" in the base64 alphabet's numbering, the
// other way round in bytes), so members of equal score are compared
// unpacked. A lookup (ZSCORE, ZRANK, ZREM, ZADD's) compares stored forms:
// a coded form is canonical, so a coded entry holds m exactly when its
// bytes are m's coded form, and a plain one exactly when they are m. It
// packs m once, when it meets the first coded member (unpacking the
// coded members of m's length instead doubled ZSCORE's time on a set of
// members of one length), so a PlainText projection never does.

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

// zquery is a member to look for among stored entries: its bytes and,
// once a coded entry is met, what to compare coded entries with (state).
type zquery struct {
	m      []byte
	state  int8 // 0 not known yet; zqCoded, zqPlain or zqLong
	cs, ce int  // zqCoded: m's coded form is buf[cs:ce]
	buf    [zmemberTmpLen + 8]byte
}

const (
	zqCoded = 1 + iota // text packing codes m
	zqPlain            // it leaves m plain: no coded entry is m
	zqLong             // m is too long for buf: coded entries of its length are unpacked
)

// is reports whether the stored member (e, coded) is q's.
func (q *zquery) is(e []byte, coded bool) bool {
	if !coded {
		return string(e) == string(q.m)
	}
	if q.state == 0 {
		q.state = zqPlain
		if len(q.m) > zmemberTmpLen {
			q.state = zqLong
		} else if c, ok, next := entryNext(entryAppend(q.buf[:0], q.m, true), 0); ok {
			q.state, q.cs, q.ce = zqCoded, next-len(c), next
		}
	}
	switch q.state {
	case zqCoded:
		return string(e) == string(q.buf[q.cs:q.ce])
	case zqLong:
		return entryLen(e, true) == len(q.m) && string(appendEntry(nil, e, true)) == string(q.m)
	}
	return false
}

// zmemberTmp is the stored member (e, coded) unpacked into buf when it
// fits there (a fresh slice when not): for a comparison, never handed out.
func zmemberTmp(buf *[zmemberTmpLen]byte, e []byte, coded bool) []byte {
	return entryTmp(buf[:], e, coded)
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
