package rdbparse

import (
	"encoding/binary"
	"math"
)

// Stream encoding for Writer and DUMP payloads, as RDB_TYPE_STREAM_LISTPACKS_2
// (what Redis 7.0 writes and every Redis from 7.0 loads; see src/rdb.c
// rdbSaveObject, stream branch):
//
//	nodes  (len)  then per node: master ID (16-byte big-endian string)
//	              and a listpack (string) of entries:
//	  +-------+---------+---------+----------------+---+-------------------------+
//	  | count | deleted | nfields | master fields… | 0 | entry entry … (each:    |
//	  |       |         |         |                |   | flags ms-δ seq-δ        |
//	  |       |         |         |                |   | [nf f…] v… lp-count)    |
//	  +-------+---------+---------+----------------+---+-------------------------+
//	length, last ID (ms, seq), first ID, max deleted ID, entries_added  (lens)
//	groups (len), each: name, last ID (2 lens), entries_read (len),
//	  PEL (len; per NACK: 16-byte ID, delivery time u64 LE, count len),
//	  consumers (len; per consumer: name, seen time u64 LE, PEL (len; IDs))
//
// Each node takes up to streamNodeMaxEntries entries; the node's first
// entry gives the master fields, and entries with the same field names are
// written with STREAM_ITEM_FLAG_SAMEFIELDS, as streamAppendItem does.

// streamNodeMaxEntries is stream-node-max-entries's default (100).
const streamNodeMaxEntries = 100

// streamNodeMaxBytes bounds a node's listpack, like stream-node-max-bytes
// (4096): a node is closed once it grows past it.
const streamNodeMaxBytes = 4096

// AppendStreamObject appends s (entries, metadata and groups, all on one
// Stream value: Entries must hold every live entry, in ID order) encoded as
// the body of an RDB_TYPE_STREAM_LISTPACKS_2 object (without the type byte)
// to b. Consumer active times are not part of this type.
func AppendStreamObject(b []byte, s *Stream) []byte {
	// Split into nodes first: the node count comes before the nodes.
	var nodes [][]StreamEntry
	for i := 0; i < len(s.Entries); {
		j, size := i, 0
		for j < len(s.Entries) && j-i < streamNodeMaxEntries && size < streamNodeMaxBytes {
			for _, f := range s.Entries[j].Fields {
				size += len(f) + 2
			}
			j++
		}
		nodes = append(nodes, s.Entries[i:j])
		i = j
	}
	b = appendLen(b, uint64(len(nodes)))
	var lp []byte
	for _, node := range nodes {
		master := node[0].ID
		var key [16]byte
		binary.BigEndian.PutUint64(key[:], master.Ms)
		binary.BigEndian.PutUint64(key[8:], master.Seq)
		b = appendRDBStr(b, key[:])
		lp = streamListpack(lp[:0], node)
		b = appendRDBStr(b, lp)
	}
	b = appendLen(b, uint64(len(s.Entries)))
	b = appendLen(b, s.LastID.Ms)
	b = appendLen(b, s.LastID.Seq)
	b = appendLen(b, s.FirstID.Ms)
	b = appendLen(b, s.FirstID.Seq)
	b = appendLen(b, s.MaxDeletedID.Ms)
	b = appendLen(b, s.MaxDeletedID.Seq)
	b = appendLen(b, s.EntriesAdded)
	b = appendLen(b, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		b = appendRDBStr(b, g.Name)
		b = appendLen(b, g.LastID.Ms)
		b = appendLen(b, g.LastID.Seq)
		b = appendLen(b, g.EntriesRead)
		b = appendLen(b, uint64(len(g.PEL)))
		for _, p := range g.PEL {
			b = binary.BigEndian.AppendUint64(b, p.ID.Ms)
			b = binary.BigEndian.AppendUint64(b, p.ID.Seq)
			b = binary.LittleEndian.AppendUint64(b, uint64(p.DeliveryTime))
			b = appendLen(b, p.DeliveryCount)
		}
		b = appendLen(b, uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			b = appendRDBStr(b, c.Name)
			b = binary.LittleEndian.AppendUint64(b, uint64(c.SeenTime))
			b = appendLen(b, uint64(len(c.Pending)))
			for _, id := range c.Pending {
				b = binary.BigEndian.AppendUint64(b, id.Ms)
				b = binary.BigEndian.AppendUint64(b, id.Seq)
			}
		}
	}
	return b
}

// streamListpack encodes one node (see src/t_stream.c streamAppendItem).
func streamListpack(lp []byte, node []StreamEntry) []byte {
	lp = append(lp, 0, 0, 0, 0, 0, 0) // total bytes, element count: set below
	n := 0
	master := node[0]
	nmaster := len(master.Fields) / 2
	lp = lpAppendInt(lp, int64(len(node)))
	lp = lpAppendInt(lp, 0)
	lp = lpAppendInt(lp, int64(nmaster))
	n += 3
	for i := 0; i < nmaster; i++ {
		lp = lpAppendStr(lp, master.Fields[2*i])
		n++
	}
	lp = lpAppendInt(lp, 0)
	n++
	for _, e := range node {
		nf := len(e.Fields) / 2
		same := nf == nmaster
		for i := 0; same && i < nf; i++ {
			same = string(e.Fields[2*i]) == string(master.Fields[2*i])
		}
		flags := int64(0)
		if same {
			flags = 2 // STREAM_ITEM_FLAG_SAMEFIELDS
		}
		lp = lpAppendInt(lp, flags)
		lp = lpAppendInt(lp, int64(e.ID.Ms-master.ID.Ms))
		lp = lpAppendInt(lp, int64(e.ID.Seq-master.ID.Seq))
		n += 3
		if !same {
			lp = lpAppendInt(lp, int64(nf))
			n++
		}
		for i := 0; i < nf; i++ {
			if !same {
				lp = lpAppendStr(lp, e.Fields[2*i])
				n++
			}
			lp = lpAppendStr(lp, e.Fields[2*i+1])
			n++
		}
		count := int64(nf) + 3
		if !same {
			count += int64(nf) + 1
		}
		lp = lpAppendInt(lp, count)
		n++
	}
	lp = append(lp, 0xff)
	binary.LittleEndian.PutUint32(lp, uint32(len(lp)))
	binary.LittleEndian.PutUint16(lp[4:], uint16(min(n, math.MaxUint16)))
	return lp
}

// lpAppendInt appends an integer listpack entry in its smallest encoding
// (see src/listpack.c lpEncodeIntegerGetType).
func lpAppendInt(lp []byte, v int64) []byte {
	start := len(lp)
	switch {
	case v >= 0 && v <= 127:
		lp = append(lp, byte(v)) // LP_ENCODING_7BIT_UINT
	case v >= -4096 && v <= 4095:
		u := uint64(v) & 0x1fff
		lp = append(lp, 0xc0|byte(u>>8), byte(u)) // LP_ENCODING_13BIT_INT
	case v >= math.MinInt16 && v <= math.MaxInt16:
		lp = append(lp, 0xf1)
		lp = binary.LittleEndian.AppendUint16(lp, uint16(v))
	case v >= -1<<23 && v < 1<<23:
		u := uint32(v)
		lp = append(lp, 0xf2, byte(u), byte(u>>8), byte(u>>16))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		lp = append(lp, 0xf3)
		lp = binary.LittleEndian.AppendUint32(lp, uint32(v))
	default:
		lp = append(lp, 0xf4)
		lp = binary.LittleEndian.AppendUint64(lp, uint64(v))
	}
	return lpAppendBacklen(lp, len(lp)-start)
}

// lpAppendStr appends a string listpack entry (6-, 12- or 32-bit length).
func lpAppendStr(lp, s []byte) []byte {
	start := len(lp)
	switch l := len(s); {
	case l < 64:
		lp = append(lp, 0x80|byte(l))
	case l < 4096:
		lp = append(lp, 0xe0|byte(l>>8), byte(l))
	default:
		lp = append(lp, 0xf0)
		lp = binary.LittleEndian.AppendUint32(lp, uint32(l))
	}
	lp = append(lp, s...)
	return lpAppendBacklen(lp, len(lp)-start)
}

// lpAppendBacklen appends an entry's length, read right to left (see
// src/listpack.c lpEncodeBacklen).
func lpAppendBacklen(lp []byte, l int) []byte {
	switch {
	case l < 128:
		return append(lp, byte(l))
	case l < 16384:
		return append(lp, byte(l>>7), byte(l&127)|128)
	case l < 2097152:
		return append(lp, byte(l>>14), byte((l>>7)&127)|128, byte(l&127)|128)
	case l < 268435456:
		return append(lp, byte(l>>21), byte((l>>14)&127)|128, byte((l>>7)&127)|128, byte(l&127)|128)
	}
	return append(lp, byte(l>>28), byte((l>>21)&127)|128, byte((l>>14)&127)|128, byte((l>>7)&127)|128, byte(l&127)|128)
}

// appendLen appends an RDB length (6-, 14-, 32- or 64-bit form).
func appendLen(b []byte, n uint64) []byte {
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

func appendRDBStr(b, s []byte) []byte { return append(appendLen(b, uint64(len(s))), s...) }

// Stream writes a stream key (RDB_TYPE_STREAM_LISTPACKS_2) whose Entries
// hold every live entry; see AppendStreamObject.
func (w *Writer) Stream(key []byte, s *Stream, expireMs int64) {
	w.keyHeader(key, expireMs, TypeStreamListpacks2)
	w.raw(AppendStreamObject(nil, s))
}
