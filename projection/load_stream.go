package projection

import (
	"github.com/vdr-project/vdr/rdbparse"
)

// streamBatch adds one batch of a stream key: its entries, and on the
// key's Last call the metadata and consumer groups (see src/rdb.c
// rdbLoadObject, stream branch).
func (ld *Loader) streamBatch(e *rdbparse.Entry) error {
	if e.Stream == nil {
		return nil
	}
	s := ld.cur.stream()
	for _, x := range e.Stream.Entries {
		s.entries.add(x.ID, x.Fields)
	}
	if e.Last {
		loadStreamMeta(s, e.Stream, e.RDBType >= rdbparse.TypeStreamListpacks2)
	}
	return nil
}

// loadStreamMeta sets what the RDB says beyond the entries. Before
// RDB_TYPE_STREAM_LISTPACKS_2, Redis derives entries_added from the length
// and each group's entries_read from its last ID.
func loadStreamMeta(s *streamObj, m *rdbparse.Stream, v2 bool) {
	s.lastID = m.LastID
	s.firstID = s.firstEntryID() // the stored first_id is the first live entry's
	if n := s.entries.Len(); m.Length > uint64(n) && m.Length-uint64(n) < 1<<30 {
		s.lenSkew = int(m.Length - uint64(n)) // Redis trusts the stored length
	}
	if v2 {
		s.maxDeleted, s.entriesAdded = m.MaxDeletedID, m.EntriesAdded
	} else {
		s.maxDeleted, s.entriesAdded = StreamID{}, uint64(s.length())
	}
	if s.entriesAdded < uint64(s.length()) {
		s.entriesAdded = uint64(s.length())
	}
	if idLess(s.lastID, s.lastEntryID()) {
		s.lastID = s.lastEntryID()
	}
	for _, mg := range m.Groups {
		er := int64(scgInvalidEntriesRead)
		if v2 {
			if mg.EntriesRead != rdbparse.EntriesReadUnknown {
				er = int64(mg.EntriesRead)
			}
		} else {
			er = s.distanceFromFirst(mg.LastID)
		}
		g := s.addGroup(mg.Name, mg.LastID, er)
		if g == nil {
			continue // a duplicated group name: Redis refuses the file; keep the first
		}
		owners := make(map[string]*sconsumer, len(mg.Consumers))
		for _, mc := range mg.Consumers {
			c := g.addConsumer(mc.Name, mc.SeenTime)
			if c == nil {
				continue
			}
			c.activeTime = mc.ActiveTime
			owners[c.name] = c
		}
		for _, p := range mg.PEL {
			owner := owners[string(p.Consumer)]
			if owner == nil {
				continue // a NACK no consumer owns: Redis's deep check rejects it
			}
			x := &nack{id: p.ID, time: p.DeliveryTime, count: p.DeliveryCount, owner: owner}
			g.pel.Set(x)
			owner.pel.Set(x)
		}
	}
}
