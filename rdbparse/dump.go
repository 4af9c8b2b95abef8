package rdbparse

import (
	"encoding/binary"
	"fmt"
)

// DecodeDump decodes a DUMP/RESTORE payload:
//
//	<object type byte> <object, as in an RDB file> <RDB version u16le> <CRC-64 u64le>
//
// where the CRC covers everything before it. The value is delivered to
// h.Entry (in batches for big collections) with DB 0, Key nil, ExpireMs,
// Idle and Freq -1. It returns the payload's RDB version. Only h.Entry is
// called. An empty collection is not delivered (as Redis 7 rejects it).
func DecodeDump(payload []byte, h Handler, opts *Options) (rdbVersion int, err error) {
	if len(payload) < 11 {
		return 0, fmt.Errorf("rdbparse: DUMP payload of %d bytes: %w", len(payload), ErrCorrupt)
	}
	foot := payload[len(payload)-10:]
	ver := int(binary.LittleEndian.Uint16(foot))
	stored := binary.LittleEndian.Uint64(foot[2:])
	p := newParser(h, opts)
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
	if p.r.pos != len(p.r.win) {
		return ver, p.corrupt("DUMP payload: %d bytes after the object", len(p.r.win)-p.r.pos)
	}
	return ver, nil
}
