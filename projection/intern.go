package projection

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// Field names of packed hashes are interned: the hashes of one
// application mostly share their field names ("name", "email",
// "field0"…), and a pack then holds a one- or two-byte number where it
// held the name. A field entry of a hash's pack is a uvarint x: x&1 = 0,
// the name follows, x>>1 bytes long; x&1 = 1, the name is interned
// number x>>1. Values are plain pack elements.
//
// The table is process-wide and append-only, for names of
// internMinLen..internMaxLen bytes, until it holds internCap names; then
// new names are stored in full (a workload of ever new field names costs
// the table's ~200 KiB and nothing more). A name's slot is written before
// any pack refers to it, under the writer's lock, and packs are published
// to readers through the stripe locks (or a load's Commit), so a reader
// that finds a number in a pack reads a slot written before: names needs
// no lock. The lookup map is copy-on-write, so the writers' common case,
// a name already interned, takes no lock either.
const (
	internCap    = 4096
	internMinLen = 2
	internMaxLen = 32
)

var interned struct {
	mu    sync.Mutex
	ids   atomic.Pointer[map[string]uint32]
	n     uint32 // names in use (under mu)
	names [internCap]string
}

// internID returns f's number, interning it when it is new and the table
// has room; ok is false when f stays literal.
func internID(f []byte) (uint32, bool) {
	if len(f) < internMinLen || len(f) > internMaxLen {
		return 0, false
	}
	if m := interned.ids.Load(); m != nil {
		if id, ok := (*m)[string(f)]; ok {
			return id, true
		}
	}
	interned.mu.Lock()
	defer interned.mu.Unlock()
	old := interned.ids.Load()
	if old != nil {
		if id, ok := (*old)[string(f)]; ok {
			return id, true
		}
	}
	if interned.n == internCap {
		return 0, false
	}
	id := interned.n
	name := string(f)
	interned.names[id] = name
	interned.n++
	m := make(map[string]uint32, int(interned.n))
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[name] = id
	interned.ids.Store(&m)
	return id, true
}

// fieldAppend appends a hash field entry.
func fieldAppend(b, f []byte) []byte {
	id, ok := internID(f)
	return fieldAppendID(b, f, id, ok)
}

// fieldAppendID appends f's entry given its number (ok: interned).
func fieldAppendID(b, f []byte, id uint32, ok bool) []byte {
	if ok {
		return binary.AppendUvarint(b, uint64(id)<<1|1)
	}
	b = binary.AppendUvarint(b, uint64(len(f))<<1)
	return append(b, f...)
}

// fieldCache remembers the numbers of the field names of the last hash a
// load added, by position: a dataset's hashes mostly repeat the same
// names in the same order, and a comparison is cheaper than a lookup.
type fieldCache struct {
	names []string
	ids   []uint32
	ok    []bool
}

// id is internID(f) for the field at position j of a hash.
func (c *fieldCache) id(j int, f []byte) (uint32, bool) {
	if j < len(c.names) && c.names[j] == string(f) {
		return c.ids[j], c.ok[j]
	}
	id, ok := internID(f)
	for len(c.names) <= j {
		c.names, c.ids, c.ok = append(c.names, ""), append(c.ids, 0), append(c.ok, false)
	}
	c.names[j], c.ids[j], c.ok[j] = string(f), id, ok
	return id, ok
}

// fieldSize is the length of f's entry (f interned if it can be).
func fieldSize(f []byte) int {
	var tmp [8]byte
	if id, ok := internID(f); ok {
		return len(binary.AppendUvarint(tmp[:0], uint64(id)<<1|1))
	}
	return len(binary.AppendUvarint(tmp[:0], uint64(len(f))<<1)) + len(f)
}

// fieldNext decodes the field entry at off and returns its name and the
// offset of what follows.
func fieldNext(b []byte, off int) ([]byte, int) {
	x, w := binary.Uvarint(b[off:])
	off += w
	if x&1 != 0 {
		return stringBytes(interned.names[x>>1]), off
	}
	end := off + int(x>>1)
	return b[off:end:end], end
}
