package rdbparse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// streamCollector gathers a stream's batches into one Stream.
type streamCollector struct {
	NopHandler
	s Stream
}

func (h *streamCollector) Entry(e *Entry) error {
	for _, x := range e.Stream.Entries {
		x.Fields = append([][]byte(nil), x.Fields...)
		for i := range x.Fields {
			x.Fields[i] = bytes.Clone(x.Fields[i])
		}
		h.s.Entries = append(h.s.Entries, x)
	}
	if e.Last {
		entries := h.s.Entries
		h.s = *e.Stream
		h.s.Entries = entries
		for gi := range h.s.Groups {
			g := &h.s.Groups[gi]
			g.Name = bytes.Clone(g.Name)
			for pi := range g.PEL {
				g.PEL[pi].Consumer = bytes.Clone(g.PEL[pi].Consumer)
			}
			for ci := range g.Consumers {
				g.Consumers[ci].Name = bytes.Clone(g.Consumers[ci].Name)
				g.Consumers[ci].ActiveTime = -1
			}
		}
	}
	return nil
}

// TestAppendStreamObject encodes streams (several listpack nodes, fields
// that change between entries, IDs whose deltas are negative or huge,
// strings of every length class, groups with PELs) and decodes them back
// through DecodeDump.
func TestAppendStreamObject(t *testing.T) {
	var entries []StreamEntry
	id := StreamID{Ms: 5, Seq: 3}
	for i := 0; i < 260; i++ {
		var f [][]byte
		switch i % 4 {
		case 0, 1:
			f = [][]byte{[]byte("a"), []byte(fmt.Sprint(i)), []byte("b"), []byte("x")}
		case 2:
			f = [][]byte{[]byte("other"), []byte(strings.Repeat("y", 70+i*20))}
		default:
			f = [][]byte{[]byte("a"), []byte(strings.Repeat("z", 5000)), []byte("a"), []byte("")}
		}
		entries = append(entries, StreamEntry{ID: id, Fields: f})
		if i%3 == 0 {
			id = StreamID{Ms: id.Ms + 1 + uint64(i)*1_000_000_000, Seq: 0}
		} else {
			id.Seq += uint64(i) * 1000
		}
	}
	entries = append(entries, StreamEntry{ID: StreamID{Ms: math.MaxUint64 - 1, Seq: math.MaxUint64}, Fields: [][]byte{[]byte("k"), []byte("v")}})
	in := Stream{
		Entries: entries, Length: uint64(len(entries)),
		LastID: StreamID{Ms: math.MaxUint64, Seq: 7}, FirstID: entries[0].ID, MaxDeletedID: StreamID{Ms: 4, Seq: 1}, EntriesAdded: 1000,
		Groups: []StreamGroup{
			{Name: []byte("g1"), LastID: StreamID{Ms: 6}, EntriesRead: EntriesReadUnknown,
				PEL: []StreamPending{
					{ID: entries[0].ID, DeliveryTime: 1700000000000, DeliveryCount: 3, Consumer: []byte("alice")},
					{ID: entries[1].ID, DeliveryTime: 1700000000001, DeliveryCount: 1, Consumer: []byte("bob")},
				},
				Consumers: []StreamConsumer{
					{Name: []byte("alice"), SeenTime: 1700000000002, ActiveTime: -1, Pending: []StreamID{entries[0].ID}},
					{Name: []byte("bob"), SeenTime: 1700000000003, ActiveTime: -1, Pending: []StreamID{entries[1].ID}},
					{Name: []byte("idle"), SeenTime: 1, ActiveTime: -1},
				}},
			{Name: []byte("g2"), EntriesRead: 12},
		},
	}
	for _, s := range []Stream{in, {LastID: StreamID{Ms: 3}, Groups: []StreamGroup{{Name: []byte("g"), EntriesRead: 0}}}} {
		payload := append([]byte{TypeStreamListpacks2}, AppendStreamObject(nil, &s)...)
		payload = binary.LittleEndian.AppendUint16(payload, 10)
		payload = binary.LittleEndian.AppendUint64(payload, CRC64(payload))
		var h streamCollector
		if _, err := DecodeDump(payload, &h, nil); err != nil {
			t.Fatal(err)
		}
		if len(s.Entries) == 0 {
			s.Entries = nil
		}
		if !reflect.DeepEqual(h.s, s) {
			t.Errorf("round trip differs:\n in  %+v\n out %+v", s.Groups, h.s.Groups)
			for i := range s.Entries {
				if i >= len(h.s.Entries) || !reflect.DeepEqual(s.Entries[i], h.s.Entries[i]) {
					t.Fatalf("entry %d differs", i)
				}
			}
		}
	}
}
