package projection

import (
	"encoding/binary"
	"math"

	"github.com/vdr-project/vdr/rdbparse"
)

// DUMP payloads (see src/cluster.c createDumpPayload):
//
//	+------+------------------+-------------------+-----------------+
//	| type | object (RDB enc) | RDB version (2 LE)| CRC-64 (8 LE)   |
//	+------+------------------+-------------------+-----------------+
//
// The object uses the plain RDB encodings every Redis since 2.x loads
// (RDB_TYPE_STRING, _LIST, _SET, _ZSET_2, _HASH); the target converts them
// to its compact encodings on RESTORE. The CRC covers everything before it.

// RDB type bytes used by Dump (src/rdb.h).
const (
	rdbTypeString = 0 // RDB_TYPE_STRING
	rdbTypeList   = 1 // RDB_TYPE_LIST
	rdbTypeSet    = 2 // RDB_TYPE_SET
	rdbTypeHash   = 4 // RDB_TYPE_HASH
	rdbTypeZSet2  = 5 // RDB_TYPE_ZSET_2
	dumpRDBVer    = 10
)

func appendRDBLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, 0x40|byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		b = append(b, 0x80)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	}
	b = append(b, 0x81)
	return binary.BigEndian.AppendUint64(b, n)
}

func appendRDBString(b, s []byte) []byte {
	return append(appendRDBLen(b, uint64(len(s))), s...)
}

// dump serializes one value as a DUMP payload.
func dump(o *obj) []byte {
	var b []byte
	switch o.kind {
	case KindString:
		b = append(b, rdbTypeString)
		b = appendRDBString(b, o.bytes())
	case KindList:
		l := o.list()
		b = append(b, rdbTypeList)
		b = appendRDBLen(b, uint64(l.size()))
		if l.size() > 0 {
			l.walkEntries(0, l.size()-1, false, func(_ int, e []byte, coded bool) bool {
				b = appendRDBLen(b, uint64(entryLen(e, coded)))
				b = appendEntry(b, e, coded) // unpacked straight into the payload
				return true
			})
		}
	case KindSet:
		s := o.set()
		b = append(b, rdbTypeSet)
		b = appendRDBLen(b, uint64(s.card()))
		s.each(func(m []byte) bool { b = appendRDBString(b, m); return true })
	case KindZSet:
		z := o.zset()
		b = append(b, rdbTypeZSet2)
		b = appendRDBLen(b, uint64(z.card()))
		if n := z.card(); n > 0 {
			var sc scratch
			z.walkRank(0, n-1, false, &sc, func(m []byte, s float64) bool {
				b = appendRDBString(b, m)
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s))
				sc.reset()
				return true
			})
		}
	case KindHash:
		h := o.hash()
		if h.tl() != nil && len(h.tl().at) > 0 {
			return dumpHashMetadata(h)
		}
		b = append(b, rdbTypeHash)
		b = appendRDBLen(b, uint64(h.count()))
		var sc scratch
		h.each(&sc, func(f, v []byte) bool {
			b = appendRDBString(b, f)
			b = appendRDBString(b, v)
			sc.reset()
			return true
		})
	case KindStream:
		b = append(b, rdbparse.TypeStreamListpacks2)
		b = rdbparse.AppendStreamObject(b, o.stream().export())
	default:
		return nil
	}
	b = binary.LittleEndian.AppendUint16(b, dumpRDBVer)
	return binary.LittleEndian.AppendUint64(b, rdbparse.CRC64(b))
}
