package rdbparse

import (
	"encoding/binary"
	"strconv"
)

// readStream reads RDB_TYPE_STREAM_LISTPACKS (v1) to _4 (see
// rdbLoadObject's stream branch in src/rdb.c, and the package doc for the
// layout). Entries are delivered in batches; metadata and consumer groups
// on the Last call.
func (p *Parser) readStream(t byte) error {
	p.stream = Stream{}
	nodes, err := p.readLength("stream listpack count")
	if err != nil {
		return err
	}
	for i := uint64(0); i < nodes; i++ {
		if err := p.readStreamListpack(); err != nil {
			return err
		}
	}
	s := &p.stream
	var v [3]uint64
	for j := range v {
		if v[j], err = p.readLength("stream metadata"); err != nil {
			return err
		}
	}
	s.Length, s.LastID = v[0], StreamID{v[1], v[2]}
	if t >= TypeStreamListpacks2 {
		var w [5]uint64
		for j := range w {
			if w[j], err = p.readLength("stream metadata"); err != nil {
				return err
			}
		}
		s.FirstID, s.MaxDeletedID, s.EntriesAdded = StreamID{w[0], w[1]}, StreamID{w[2], w[3]}, w[4]
	}
	ngroups, err := p.readLength("stream group count")
	if err != nil {
		return err
	}
	for g := uint64(0); g < ngroups; g++ {
		if err := p.readStreamGroup(t); err != nil {
			return err
		}
	}
	if t >= TypeStreamListpacks4 {
		if err := p.skipStreamIDMP(); err != nil {
			return err
		}
	}
	return p.emit(true)
}

// readStreamListpack reads one radix tree node: a 16-byte big-endian
// master ID, then a listpack of entries delta-encoded against it.
func (p *Parser) readStreamListpack() error {
	var err error
	p.lzfBuf, err = p.readString(p.lzfBuf[:0], "stream node key")
	if err != nil {
		return err
	}
	if len(p.lzfBuf) != 16 {
		return p.corrupt("stream node key of %d bytes", len(p.lzfBuf))
	}
	master := StreamID{binary.BigEndian.Uint64(p.lzfBuf), binary.BigEndian.Uint64(p.lzfBuf[8:])}
	b, err := p.readBlob("stream listpack")
	if err != nil {
		return err
	}
	it, _, ok := newListpack(b)
	if !ok {
		return p.corrupt("invalid stream listpack header")
	}
	bad := func() error { return p.corrupt("invalid stream listpack") }
	nextInt := func() (int64, bool) {
		e, done, ok := it.next()
		if !ok || done || !e.isInt {
			return 0, false
		}
		return e.v, true
	}
	live, ok1 := nextInt()
	deleted, ok2 := nextInt()
	nmaster, ok3 := nextInt()
	if !ok1 || !ok2 || !ok3 || live < 0 || deleted < 0 || nmaster < 0 || nmaster > int64(len(b)) {
		return bad()
	}
	// Master field names are kept apart from the batch arena: entries
	// flagged SAMEFIELDS copy them into the arena.
	p.masterBuf = p.masterBuf[:0]
	p.master = p.master[:0]
	for j := int64(0); j < nmaster; j++ {
		e, done, ok := it.next()
		if !ok || done {
			return bad()
		}
		start := len(p.masterBuf)
		if e.isInt {
			p.masterBuf = strconv.AppendInt(p.masterBuf, e.v, 10)
		} else {
			p.masterBuf = append(p.masterBuf, e.s...)
		}
		p.master = append(p.master, p.masterBuf[start:len(p.masterBuf):len(p.masterBuf)])
	}
	if z, ok := nextInt(); !ok || z != 0 {
		return bad()
	}
	var seenLive, seenDeleted int64
	for {
		e, done, ok := it.next()
		if !ok {
			return bad()
		}
		if done {
			break
		}
		if !e.isInt {
			return bad()
		}
		flags := e.v
		msDiff, ok1 := nextInt()
		seqDiff, ok2 := nextInt()
		if !ok1 || !ok2 {
			return bad()
		}
		nf := nmaster
		same := flags&streamItemFlagSameFields != 0
		if !same {
			if nf, ok = nextInt(); !ok || nf < 0 || nf > int64(len(b)) {
				return bad()
			}
		}
		isDeleted := flags&streamItemFlagDeleted != 0
		fstart := len(p.sfields)
		for j := int64(0); j < nf; j++ {
			if !same {
				f, done, ok := it.next()
				if !ok || done {
					return bad()
				}
				if !isDeleted {
					p.sfields = append(p.sfields, p.appendElem(f))
				}
			} else if !isDeleted {
				p.sfields = append(p.sfields, p.appendElem(elem{s: p.master[j]}))
			}
			v, done, ok := it.next()
			if !ok || done {
				return bad()
			}
			if !isDeleted {
				p.sfields = append(p.sfields, p.appendElem(v))
			}
		}
		if _, ok := nextInt(); !ok { // lp-count, for backward iteration
			return bad()
		}
		if isDeleted {
			seenDeleted++
			continue
		}
		seenLive++
		id := StreamID{master.Ms + uint64(msDiff), master.Seq + uint64(seqDiff)}
		p.sentries = append(p.sentries, StreamEntry{ID: id, Fields: p.sfields[fstart:len(p.sfields):len(p.sfields)]})
		if err := p.full(); err != nil {
			return err
		}
	}
	if seenLive != live || seenDeleted != deleted {
		return p.corrupt("stream listpack holds %d+%d entries, master entry says %d+%d", seenLive, seenDeleted, live, deleted)
	}
	if seenLive+seenDeleted == 0 {
		return p.corrupt("empty listpack inside stream")
	}
	return nil
}

// readStreamGroup reads one consumer group: name, last ID, entries_read
// (v2+), the group PEL (raw 16-byte IDs, delivery time, delivery count),
// then the consumers (name, seen time, active time (v3+), their PEL IDs).
func (p *Parser) readStreamGroup(t byte) error {
	var err error
	g := StreamGroup{EntriesRead: EntriesReadUnknown}
	start := len(p.arena)
	if p.arena, err = p.readString(p.arena, "stream group name"); err != nil {
		return err
	}
	g.Name = p.arena[start:len(p.arena):len(p.arena)]
	if g.LastID, err = p.readStreamIDLens(); err != nil {
		return err
	}
	if t >= TypeStreamListpacks2 {
		if g.EntriesRead, err = p.readLength("entries_read"); err != nil {
			return err
		}
	}
	npel, err := p.readLength("group PEL size")
	if err != nil {
		return err
	}
	index := map[StreamID]int{}
	for i := uint64(0); i < npel; i++ {
		id, err := p.readRawStreamID()
		if err != nil {
			return err
		}
		dt, err := p.r.u64le()
		if err != nil {
			return err
		}
		dc, err := p.readLength("delivery count")
		if err != nil {
			return err
		}
		if _, dup := index[id]; dup {
			return p.corrupt("duplicated PEL entry %d-%d", id.Ms, id.Seq)
		}
		index[id] = len(g.PEL)
		g.PEL = append(g.PEL, StreamPending{ID: id, DeliveryTime: int64(dt), DeliveryCount: dc})
	}
	ncons, err := p.readLength("consumer count")
	if err != nil {
		return err
	}
	for i := uint64(0); i < ncons; i++ {
		c := StreamConsumer{ActiveTime: -1}
		start := len(p.arena)
		if p.arena, err = p.readString(p.arena, "consumer name"); err != nil {
			return err
		}
		c.Name = p.arena[start:len(p.arena):len(p.arena)]
		st, err := p.r.u64le()
		if err != nil {
			return err
		}
		c.SeenTime = int64(st)
		if t >= TypeStreamListpacks3 {
			at, err := p.r.u64le()
			if err != nil {
				return err
			}
			c.ActiveTime = int64(at)
		}
		n, err := p.readLength("consumer PEL size")
		if err != nil {
			return err
		}
		for j := uint64(0); j < n; j++ {
			id, err := p.readRawStreamID()
			if err != nil {
				return err
			}
			k, ok := index[id]
			if !ok {
				return p.corrupt("consumer PEL entry %d-%d not in the group PEL", id.Ms, id.Seq)
			}
			g.PEL[k].Consumer = c.Name
			c.Pending = append(c.Pending, id)
		}
		g.Consumers = append(g.Consumers, c)
	}
	p.stream.Groups = append(p.stream.Groups, g)
	return nil
}

func (p *Parser) readStreamIDLens() (StreamID, error) {
	ms, err := p.readLength("stream ID")
	if err != nil {
		return StreamID{}, err
	}
	seq, err := p.readLength("stream ID")
	return StreamID{ms, seq}, err
}

// readRawStreamID reads a 16-byte big-endian stream ID (streamEncodeID).
func (p *Parser) readRawStreamID() (StreamID, error) {
	b, err := p.r.next(16)
	if err != nil {
		return StreamID{}, err
	}
	return StreamID{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}, nil
}

// skipStreamIDMP skips the RDB_TYPE_STREAM_LISTPACKS_4 idempotent-producer
// section: duration, max entries, producers (each: id string, entries of
// an IID string and a stream ID), then two counters. The Stream type does
// not carry it.
func (p *Parser) skipStreamIDMP() error {
	var err error
	if _, err = p.readLength("IDMP duration"); err != nil {
		return err
	}
	if _, err = p.readLength("IDMP max entries"); err != nil {
		return err
	}
	nprod, err := p.readLength("IDMP producers")
	if err != nil {
		return err
	}
	for i := uint64(0); i < nprod; i++ {
		if err := p.skipString("IDMP producer"); err != nil {
			return err
		}
		n, err := p.readLength("IDMP entries")
		if err != nil {
			return err
		}
		for j := uint64(0); j < n; j++ {
			if err := p.skipString("IDMP IID"); err != nil {
				return err
			}
			if _, err := p.readStreamIDLens(); err != nil {
				return err
			}
		}
	}
	if _, err = p.readLength("IDMP iids added"); err != nil {
		return err
	}
	_, err = p.readLength("IDMP iids duplicates")
	return err
}
