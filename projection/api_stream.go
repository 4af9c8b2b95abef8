package projection

// Stream reads (XRANGE, XREVRANGE, XLEN, XREAD, XINFO, XPENDING), in the
// same rules as api.go: everything handed out is valid only inside the
// View callback.

import (
	"github.com/vdr-project/vdr/rdbparse"
)

// StreamInfo is a stream's metadata, as XINFO STREAM reports it.
type StreamInfo struct {
	Length       int
	LastID       StreamID // last-generated-id
	FirstID      StreamID // recorded-first-entry-id
	MaxDeletedID StreamID // max-deleted-entry-id
	EntriesAdded uint64
	Groups       int
	// RadixKeys and RadixNodes estimate radix-tree-keys and
	// radix-tree-nodes: Redis's counts depend on how its listpack nodes
	// were filled (stream-node-max-bytes/-entries, deletions, load
	// history), which the projection does not mirror exactly. RadixKeys is
	// the number of the projection's own chunks (up to 100 entries each,
	// like Redis's default nodes); RadixNodes is RadixKeys+1.
	RadixKeys, RadixNodes int64
}

// StreamGroupInfo is one consumer group, as XINFO GROUPS reports it.
type StreamGroupInfo struct {
	Name        []byte
	LastID      StreamID // last-delivered-id
	EntriesRead int64    // -1: unknown (a nil reply)
	Lag         int64
	LagKnown    bool // false: a nil reply
	Pending     int
	Consumers   int
}

// StreamConsumerInfo is one consumer of a group.
type StreamConsumerInfo struct {
	Name       []byte
	SeenTime   int64 // Unix ms, by the projection's clock when created or claimed here
	ActiveTime int64 // Unix ms (from a 7.2+ RDB); -1 when not known
	Pending    int
}

// StreamPendingEntry is one entry of a pending entries list.
type StreamPendingEntry struct {
	ID            StreamID
	Consumer      []byte
	DeliveryTime  int64 // Unix ms
	DeliveryCount uint64
}

func (x Value) streamObj() *streamObj {
	if !x.ok || x.o.kind != rdbparse.KindStream {
		return nil
	}
	return x.o.stream()
}

// StreamInfo returns the stream's metadata; false when not a stream.
func (x Value) StreamInfo() (StreamInfo, bool) {
	s := x.streamObj()
	if s == nil {
		return StreamInfo{}, false
	}
	n := s.length()
	keys := int64(s.entries.t.Len())
	nodes := keys + 1
	return StreamInfo{Length: n, LastID: s.lastID, FirstID: s.firstID, MaxDeletedID: s.maxDeleted,
		EntriesAdded: s.entriesAdded, Groups: len(s.groups), RadixKeys: keys, RadixNodes: nodes}, true
}

// StreamRange calls fn for the entries with start ≤ ID ≤ end, ascending, or
// descending when rev, at most count of them (count ≤ 0: all), until fn
// returns false. fields alternates field and value; it is reused between
// calls.
func (x Value) StreamRange(start, end StreamID, rev bool, count int, fn func(id StreamID, fields [][]byte) bool) {
	s := x.streamObj()
	if s == nil || idLess(end, start) {
		return
	}
	n := 0
	visit := func(id StreamID, fv [][]byte) bool {
		if rev && idLess(id, start) || !rev && idLess(end, id) {
			return false
		}
		n++
		return fn(id, fv) && (count <= 0 || n < count)
	}
	if rev {
		s.entries.descend(end, visit)
	} else {
		s.entries.ascend(start, visit)
	}
}

// StreamGroups calls fn for every consumer group in name order until fn
// returns false.
func (x Value) StreamGroups(fn func(g StreamGroupInfo) bool) {
	s := x.streamObj()
	if s == nil {
		return
	}
	for _, g := range s.groups {
		if !fn(groupInfo(s, g)) {
			return
		}
	}
}

func groupInfo(s *streamObj, g *sgroup) StreamGroupInfo {
	lag, ok := s.lag(g)
	return StreamGroupInfo{Name: stringBytes(g.name), LastID: g.lastID, EntriesRead: g.entriesRead,
		Lag: lag, LagKnown: ok, Pending: g.pel.Len(), Consumers: len(g.consumers)}
}

// StreamGroup returns one group; false when the stream has none of that
// name (or the value is not a stream).
func (x Value) StreamGroup(name []byte) (StreamGroupInfo, bool) {
	s := x.streamObj()
	if s == nil {
		return StreamGroupInfo{}, false
	}
	g := s.group(name)
	if g == nil {
		return StreamGroupInfo{}, false
	}
	return groupInfo(s, g), true
}

// StreamConsumers calls fn for every consumer of group in name order until
// fn returns false; it returns false when there is no such group.
func (x Value) StreamConsumers(group []byte, fn func(c StreamConsumerInfo) bool) bool {
	s := x.streamObj()
	if s == nil {
		return false
	}
	g := s.group(group)
	if g == nil {
		return false
	}
	for _, c := range g.consumers {
		if !fn(StreamConsumerInfo{Name: stringBytes(c.name), SeenTime: c.seenTime, ActiveTime: c.activeTime, Pending: c.pel.Len()}) {
			break
		}
	}
	return true
}

// StreamPending calls fn for the pending entries of group with start ≤ ID ≤
// end in ID order, of consumer only when it is not nil, until fn returns
// false. It returns false when there is no such group. An unknown consumer
// has no entries.
func (x Value) StreamPending(group []byte, consumer []byte, start, end StreamID, fn func(p StreamPendingEntry) bool) bool {
	s := x.streamObj()
	if s == nil {
		return false
	}
	g := s.group(group)
	if g == nil {
		return false
	}
	pel := g.pel
	if consumer != nil {
		c := g.consumer(consumer)
		if c == nil {
			return true
		}
		pel = c.pel
	}
	if idLess(end, start) {
		return true
	}
	pel.Ascend(&nack{id: start}, func(p *nack) bool {
		if idLess(end, p.id) {
			return false
		}
		var owner []byte
		if p.owner != nil {
			owner = stringBytes(p.owner.name)
		}
		return fn(StreamPendingEntry{ID: p.id, Consumer: owner, DeliveryTime: p.time, DeliveryCount: p.count})
	})
	return true
}

// StreamRDB returns the whole stream as rdbparse describes one (every
// entry, metadata, groups), for writing an RDB file; nil when not a
// stream. Its byte slices point into the projection.
func (x Value) StreamRDB() *rdbparse.Stream {
	s := x.streamObj()
	if s == nil {
		return nil
	}
	return s.export()
}

func (s *streamObj) export() *rdbparse.Stream {
	out := &rdbparse.Stream{Length: uint64(s.length()), LastID: s.lastID, FirstID: s.firstID,
		MaxDeletedID: s.maxDeleted, EntriesAdded: s.entriesAdded}
	out.Entries = make([]rdbparse.StreamEntry, 0, s.length())
	s.entries.ascend(StreamID{}, func(id StreamID, fv [][]byte) bool {
		out.Entries = append(out.Entries, rdbparse.StreamEntry{ID: id, Fields: append([][]byte(nil), fv...)})
		return true
	})
	for _, g := range s.groups {
		rg := rdbparse.StreamGroup{Name: stringBytes(g.name), LastID: g.lastID, EntriesRead: uint64(g.entriesRead)}
		if g.entriesRead == scgInvalidEntriesRead {
			rg.EntriesRead = rdbparse.EntriesReadUnknown
		}
		g.pel.Scan(func(p *nack) bool {
			rg.PEL = append(rg.PEL, rdbparse.StreamPending{ID: p.id, DeliveryTime: p.time, DeliveryCount: p.count, Consumer: stringBytes(p.owner.name)})
			return true
		})
		for _, c := range g.consumers {
			rc := rdbparse.StreamConsumer{Name: stringBytes(c.name), SeenTime: c.seenTime, ActiveTime: c.activeTime}
			c.pel.Scan(func(p *nack) bool { rc.Pending = append(rc.Pending, p.id); return true })
			rg.Consumers = append(rg.Consumers, rc)
		}
		out.Groups = append(out.Groups, rg)
	}
	return out
}

// ParseStreamID parses a stream ID argument as Redis does
// (streamGenericParseIDOrReply): "ms-seq", or "ms" with missingSeq as the
// sequence; "-" and "+" (the smallest and greatest IDs) unless strict.
func ParseStreamID(b []byte, missingSeq uint64, strict bool) (StreamID, bool) {
	return parseStreamID(b, missingSeq, strict, nil)
}

// MaxStreamID is the greatest stream ID, 2^64-1 - 2^64-1.
var MaxStreamID = maxStreamID
