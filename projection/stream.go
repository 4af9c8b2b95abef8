package projection

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tidwall/btree"
	"github.com/vdr-project/vdr/rdbparse"
)

// StreamID is a stream entry ID (ms-seq); it is rdbparse's type so that
// loaded entries and projected values speak the same names.
type StreamID = rdbparse.StreamID

// KindStream is the Kind of a stream value.
const KindStream = rdbparse.KindStream

// streamObj is a stream (see src/stream.h struct stream). Redis keeps the
// entries in a radix tree of listpacks; here they sit in delta-encoded
// chunks indexed by a B-tree (entryLog). Consumer groups are few per
// stream: a slice sorted by name (rax order) is enough.
type streamObj struct {
	entries      *entryLog
	lastID       StreamID // last_id: the greatest ID ever added or set (XSETID)
	firstID      StreamID // first_id: the first live entry's ID, 0-0 when empty
	maxDeleted   StreamID // max_deleted_entry_id: greatest ID removed by XDEL
	entriesAdded uint64   // entries_added: all entries ever added
	groups       []*sgroup
	lenSkew      int // stored length minus live entries, from an RDB that disagrees (Redis keeps the stored length)
	lru          lruWord
}

// sgroup is a consumer group (src/stream.h streamCG).
type sgroup struct {
	name        string
	lastID      StreamID
	entriesRead int64 // -1: unknown (SCG_INVALID_ENTRIES_READ)
	pel         *btree.BTreeG[*nack]
	consumers   []*sconsumer // sorted by name
}

// nack is one pending entry (streamNACK), shared by the group PEL and its
// consumer's PEL.
type nack struct {
	id    StreamID
	time  int64 // delivery_time, Unix ms
	count uint64
	owner *sconsumer
}

// sconsumer is a consumer (streamConsumer).
type sconsumer struct {
	name       string
	seenTime   int64
	activeTime int64 // 7.2+ (RDB stream type 21); -1 when not known
	pel        *btree.BTreeG[*nack]
}

// scgInvalidEntriesRead is SCG_INVALID_ENTRIES_READ.
const scgInvalidEntriesRead = -1

func idLess(a, b StreamID) bool { return a.Ms < b.Ms || a.Ms == b.Ms && a.Seq < b.Seq }

func idCmp(a, b StreamID) int {
	switch {
	case idLess(a, b):
		return -1
	case idLess(b, a):
		return 1
	}
	return 0
}

func idZero(a StreamID) bool { return a.Ms == 0 && a.Seq == 0 }

var maxStreamID = StreamID{Ms: math.MaxUint64, Seq: math.MaxUint64}

func newPELTree() *btree.BTreeG[*nack] {
	return btree.NewBTreeGOptions(func(a, b *nack) bool { return idLess(a.id, b.id) }, btree.Options{NoLocks: true})
}

func newStream() *streamObj { return &streamObj{entries: newEntryLog()} }

func (s *streamObj) length() int { return s.entries.Len() + s.lenSkew }

// firstEntryID returns the smallest live ID (streamGetEdgeID first, skipping
// tombstones), 0-0 when empty.
func (s *streamObj) firstEntryID() StreamID {
	id, _ := s.entries.minID()
	return id
}

// lastEntryID returns the greatest live ID (streamLastValidID).
func (s *streamObj) lastEntryID() StreamID {
	id, _ := s.entries.maxID()
	return id
}

// trimMaxLen removes the oldest entries until at most maxlen remain, and
// trimMinID the entries below minid: the exact trims a replica applies
// (the primary rewrites "~" trims into exact ones, see src/t_stream.c
// streamRewriteTrimArgument). They return the number removed.
func (s *streamObj) trimMaxLen(maxlen uint64) int {
	n := 0
	if l := uint64(s.length()); l > maxlen {
		n = int(min(l-maxlen, uint64(s.entries.Len())))
		s.entries.dropFront(n)
	}
	s.afterTrim(n)
	return n
}

func (s *streamObj) trimMinID(minid StreamID) int {
	n := s.entries.dropBefore(minid)
	s.afterTrim(n)
	return n
}

func (s *streamObj) afterTrim(deleted int) {
	if s.length() == 0 {
		s.firstID = StreamID{}
	} else if deleted > 0 {
		s.firstID = s.firstEntryID()
	}
}

// group returns the consumer group named name.
func (s *streamObj) group(name []byte) *sgroup {
	i, ok := slices.BinarySearchFunc(s.groups, name, func(g *sgroup, n []byte) int { return strings.Compare(g.name, string(n)) })
	if !ok {
		return nil
	}
	return s.groups[i]
}

// addGroup creates a group; nil when one of that name exists.
func (s *streamObj) addGroup(name []byte, last StreamID, entriesRead int64) *sgroup {
	i, ok := slices.BinarySearchFunc(s.groups, name, func(g *sgroup, n []byte) int { return strings.Compare(g.name, string(n)) })
	if ok {
		return nil
	}
	g := &sgroup{name: string(name), lastID: last, entriesRead: entriesRead, pel: newPELTree()}
	s.groups = slices.Insert(s.groups, i, g)
	return g
}

func (s *streamObj) delGroup(name []byte) bool {
	i, ok := slices.BinarySearchFunc(s.groups, name, func(g *sgroup, n []byte) int { return strings.Compare(g.name, string(n)) })
	if !ok {
		return false
	}
	s.groups = slices.Delete(s.groups, i, i+1)
	return true
}

func (g *sgroup) consumerIdx(name []byte) (int, bool) {
	return slices.BinarySearchFunc(g.consumers, name, func(c *sconsumer, n []byte) int { return strings.Compare(c.name, string(n)) })
}

// consumer looks a consumer up (streamLookupConsumer without refresh).
func (g *sgroup) consumer(name []byte) *sconsumer {
	if i, ok := g.consumerIdx(name); ok {
		return g.consumers[i]
	}
	return nil
}

// addConsumer creates a consumer seen at now; nil when it exists.
func (g *sgroup) addConsumer(name []byte, now int64) *sconsumer {
	i, ok := g.consumerIdx(name)
	if ok {
		return nil
	}
	c := &sconsumer{name: string(name), seenTime: now, activeTime: -1, pel: newPELTree()}
	g.consumers = slices.Insert(g.consumers, i, c)
	return c
}

// delConsumer removes a consumer and its pending entries from the group
// PEL (streamDelConsumer); it returns how many it owned.
func (g *sgroup) delConsumer(name []byte) int {
	i, ok := g.consumerIdx(name)
	if !ok {
		return 0
	}
	c := g.consumers[i]
	n := c.pel.Len()
	c.pel.Scan(func(x *nack) bool { g.pel.Delete(x); return true })
	g.consumers = slices.Delete(g.consumers, i, i+1)
	return n
}

// pending returns the group's NACK for id.
func (g *sgroup) pending(id StreamID) *nack {
	x, ok := g.pel.Get(&nack{id: id})
	if !ok {
		return nil
	}
	return x
}

// dropNACK removes a NACK from the group and its owner.
func (g *sgroup) dropNACK(x *nack) {
	g.pel.Delete(x)
	if x.owner != nil {
		x.owner.pel.Delete(x)
	}
}

// rangeHasTombstones is streamRangeHasTombstones (end nil: to the top).
func (s *streamObj) rangeHasTombstones(start StreamID, end *StreamID) bool {
	if s.length() == 0 || idZero(s.maxDeleted) {
		return false
	}
	if idLess(s.maxDeleted, s.firstID) {
		return false
	}
	e := maxStreamID
	if end != nil {
		e = *end
	}
	return !idLess(s.maxDeleted, start) && !idLess(e, s.maxDeleted)
}

// distanceFromFirst is streamEstimateDistanceFromFirstEverEntry: the
// logical read counter of id, or -1 when it cannot be known.
func (s *streamObj) distanceFromFirst(id StreamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length() == 0 && idCmp(id, s.lastID) < 1 {
		return int64(s.entriesAdded)
	}
	switch idCmp(id, s.lastID) {
	case 0:
		return int64(s.entriesAdded)
	case 1:
		return scgInvalidEntriesRead
	}
	if idZero(s.maxDeleted) || idLess(s.maxDeleted, s.firstID) {
		switch idCmp(id, s.firstID) {
		case -1:
			return int64(s.entriesAdded) - int64(s.length())
		case 0:
			return int64(s.entriesAdded) - int64(s.length()) + 1
		}
	}
	return scgInvalidEntriesRead
}

// lag is streamReplyWithCGLag: the group's lag, or ok false (a nil reply).
func (s *streamObj) lag(g *sgroup) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.entriesRead != scgInvalidEntriesRead && !s.rangeHasTombstones(g.lastID, nil) {
		return int64(s.entriesAdded) - g.entriesRead, true
	}
	if r := s.distanceFromFirst(g.lastID); r != scgInvalidEntriesRead {
		return int64(s.entriesAdded) - r, true
	}
	return 0, false
}

// copy duplicates a stream for COPY.
func (s *streamObj) copy() *streamObj {
	n := &streamObj{entries: s.entries.copy(), lastID: s.lastID, firstID: s.firstID,
		maxDeleted: s.maxDeleted, entriesAdded: s.entriesAdded, lenSkew: s.lenSkew}
	for _, g := range s.groups {
		ng := &sgroup{name: g.name, lastID: g.lastID, entriesRead: g.entriesRead, pel: newPELTree()}
		owners := map[*sconsumer]*sconsumer{}
		for _, c := range g.consumers {
			nc := &sconsumer{name: c.name, seenTime: c.seenTime, activeTime: c.activeTime, pel: newPELTree()}
			owners[c] = nc
			ng.consumers = append(ng.consumers, nc)
		}
		g.pel.Scan(func(x *nack) bool {
			nx := &nack{id: x.id, time: x.time, count: x.count, owner: owners[x.owner]}
			ng.pel.Set(nx)
			if nx.owner != nil {
				nx.owner.pel.Set(nx)
			}
			return true
		})
		n.groups = append(n.groups, ng)
	}
	return n
}

// bytes estimates the memory a stream takes (MEMORY USAGE).
func (s *streamObj) bytes() int {
	n := 96 + s.entries.bytes()
	for _, g := range s.groups {
		n += 96 + len(g.name) + 48*g.pel.Len()
		for _, c := range g.consumers {
			n += 64 + len(c.name) + 16*c.pel.Len()
		}
	}
	return n
}

// sane checks the stream's invariants.
func (s *streamObj) sane() error {
	if err := s.entries.sane(); err != nil {
		return err
	}
	n := s.entries.Len()
	if n > 0 {
		if s.firstID != s.firstEntryID() {
			return fmt.Errorf("stream first_id %v, first entry %v", s.firstID, s.firstEntryID())
		}
		if idLess(s.lastID, s.lastEntryID()) {
			return fmt.Errorf("stream last_id %v below its last entry %v", s.lastID, s.lastEntryID())
		}
	} else if !idZero(s.firstID) {
		return fmt.Errorf("empty stream with first_id %v", s.firstID)
	}
	if s.entriesAdded < uint64(n) {
		return fmt.Errorf("stream entries_added %d < length %d", s.entriesAdded, n)
	}
	for i, g := range s.groups {
		if i > 0 && s.groups[i-1].name >= g.name {
			return fmt.Errorf("stream groups out of order at %q", g.name)
		}
		owned := 0
		for j, c := range g.consumers {
			if j > 0 && g.consumers[j-1].name >= c.name {
				return fmt.Errorf("group %q consumers out of order at %q", g.name, c.name)
			}
			var err error
			c.pel.Scan(func(x *nack) bool {
				if x.owner != c {
					err = fmt.Errorf("group %q consumer %q holds %v owned by another", g.name, c.name, x.id)
				} else if y, ok := g.pel.Get(x); !ok || y != x {
					err = fmt.Errorf("group %q consumer %q holds %v not in the group PEL", g.name, c.name, x.id)
				}
				return err == nil
			})
			if err != nil {
				return err
			}
			owned += c.pel.Len()
		}
		if owned != g.pel.Len() {
			return fmt.Errorf("group %q PEL holds %d, consumers own %d", g.name, g.pel.Len(), owned)
		}
	}
	return nil
}

// parseStreamID parses an ID as streamGenericParseIDOrReply does: "ms" or
// "ms-seq" (missing seq → missingSeq); strict rejects "-" and "+"; when
// seqGiven is not nil, "ms-*" is accepted and reported.
func parseStreamID(b []byte, missingSeq uint64, strict bool, seqGiven *bool) (StreamID, bool) {
	if len(b) > 127 {
		return StreamID{}, false
	}
	if seqGiven != nil {
		*seqGiven = true
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return StreamID{}, false
		}
		if b[0] == '-' {
			return StreamID{}, true
		}
		return maxStreamID, true
	}
	ms, rest, dash := b, []byte(nil), false
	for i, c := range b {
		if c == '-' {
			ms, rest, dash = b[:i], b[i+1:], true
			break
		}
	}
	m, ok := parseU64(ms)
	if !ok {
		return StreamID{}, false
	}
	if !dash {
		return StreamID{Ms: m, Seq: missingSeq}, true
	}
	if seqGiven != nil && len(rest) == 1 && rest[0] == '*' {
		*seqGiven = false
		return StreamID{Ms: m}, true
	}
	q, ok := parseU64(rest)
	if !ok {
		return StreamID{}, false
	}
	return StreamID{Ms: m, Seq: q}, true
}

// parseU64 is string2ull (src/util.c): a strict int64 first (negative
// values rejected), else strtoull's rules: leading spaces, an optional
// sign ("-" wraps around, as in C), decimal digits, no overflow.
func parseU64(b []byte) (uint64, bool) {
	if v, ok := parseStrictInt(b); ok {
		if v < 0 {
			return 0, false
		}
		return uint64(v), true
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// FormatStreamID renders an ID as "ms-seq".
func FormatStreamID(id StreamID) string {
	return fmt.Sprintf("%d-%d", id.Ms, id.Seq)
}

func (o *obj) stream() *streamObj { return (*streamObj)(o.ptr) }
