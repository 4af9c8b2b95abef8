package rdbparse

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// DecodeDump decodes a DUMP/RESTORE payload:
//
//	<object type byte> <object, as in an RDB file> <RDB version u16le> <CRC-64 u64le>
//
// where the CRC covers everything before it. The value is delivered to
// h.Entry (in batches for big collections) with DB 0, Key nil, ExpireMs,
// Idle and Freq -1. It returns the payload's RDB version. Only h.Entry is
// called. An empty collection is an ErrCorrupt error, as RESTORE rejects it.
func DecodeDump(payload []byte, h Handler, opts *Options) (rdbVersion int, err error) {
	if len(payload) < 11 {
		return 0, fmt.Errorf("rdbparse: DUMP payload of %d bytes: %w", len(payload), ErrCorrupt)
	}
	foot := payload[len(payload)-10:]
	ver := int(binary.LittleEndian.Uint16(foot))
	stored := binary.LittleEndian.Uint64(foot[2:])
	p := getDumpParser(h, opts)
	defer putDumpParser(p)
	if !p.opts.SkipChecksum {
		if computed := CRC64(payload[:len(payload)-8]); computed != stored {
			return ver, fmt.Errorf("rdbparse: DUMP payload CRC-64 %016x, computed %016x: %w", stored, computed, ErrChecksum)
		}
	}
	p.valkey = ver >= minValkeyVersion
	if p.valkey && ver > maxValkeyVersion || !p.valkey && ver > maxRedisVersion {
		return ver, fmt.Errorf("rdbparse: DUMP payload version %d: %w", ver, ErrUnsupportedVersion)
	}
	p.hdr = Header{Magic: "REDIS", Version: ver}
	if p.valkey {
		p.hdr.Magic = "VALKEY"
	}
	body := payload[:len(payload)-10]
	p.r = reader{win: body}
	t := body[0]
	p.r.pos = 1
	kind, ok := kindOf(t)
	if !ok {
		return ver, p.corrupt("DUMP payload: unknown object type %d", t)
	}
	p.key = nil
	p.startKey(t, kind, -1, -1, -1)
	if err := p.readObject(t); err != nil {
		return ver, err
	}
	if p.empty.Load() > 0 {
		// RESTORE rejects an empty collection ("Bad data format").
		return ver, p.corrupt("DUMP payload: empty collection")
	}
	if p.r.pos != len(p.r.win) {
		return ver, p.corrupt("DUMP payload: %d bytes after the object", len(p.r.win)-p.r.pos)
	}
	return ver, nil
}

// dumpParsers keeps the per-call scratch of DecodeDump (the Parser and its
// batch buffers) between calls: RESTORE is decoded once per command, and
// allocating the buffers every time dominated its cost.
var dumpParsers sync.Pool

// maxPooledBytes is the largest buffer a pooled parser may keep; bigger
// ones are dropped with it (as redcon drops big write buffers).
const maxPooledBytes = 256 << 10

func getDumpParser(h Handler, opts *Options) *Parser {
	p, _ := dumpParsers.Get().(*Parser)
	if p == nil {
		return newParser(h, opts)
	}
	fresh := newParser(h, opts)
	p.h, p.opts = fresh.h, fresh.opts
	p.empty.Store(0)
	p.keys.Store(0)
	p.nkeys = 0
	p.offset.Store(0)
	p.hdr, p.valkey, p.db, p.plainNodes, p.inPlace = Header{}, false, 0, 0, false
	return p
}

func putDumpParser(p *Parser) {
	if cap(p.arena) > maxPooledBytes || cap(p.blob) > maxPooledBytes || cap(p.lzfBuf) > maxPooledBytes ||
		cap(p.elems)+cap(p.fields)+cap(p.zmembers)+cap(p.sentries)+cap(p.sfields) > 16<<10 {
		return
	}
	// Drop every reference into the caller's payload and handler.
	p.h, p.r, p.e, p.key, p.stream, p.module = nil, reader{}, Entry{}, nil, Stream{}, Module{}
	clear(p.elems[:cap(p.elems)])
	clear(p.fields[:cap(p.fields)])
	clear(p.zmembers[:cap(p.zmembers)])
	clear(p.sentries[:cap(p.sentries)])
	clear(p.sfields[:cap(p.sfields)])
	clear(p.master[:cap(p.master)])
	dumpParsers.Put(p)
}
