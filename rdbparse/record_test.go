package rdbparse

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recKey is one key as the recorder saw it, merged across batches, with
// every byte copied.
type recKey struct {
	DB       int
	Key      []byte
	RDBType  byte
	Kind     Kind
	ExpireMs int64
	Idle     int64
	Freq     int
	Len      int64
	Batches  int
	Str      []byte
	Elems    [][]byte
	Fields   []HashField
	Z        []ZMember
	Stream   *Stream
	Module   *Module
}

// recorder is a Handler that keeps everything, for comparisons.
type recorder struct {
	hdr       Header
	aux       [][2][]byte
	resize    int
	slotInfo  int
	moduleAux []Module
	funcs     [][]byte
	keys      []*recKey
	ended     bool
	crc       uint64
	batchSize int // when set, checks no batch is larger
	t         testing.TB
}

func cp(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (r *recorder) Header(h Header) error { r.hdr = h; return nil }
func (r *recorder) Aux(k, v []byte) error {
	r.aux = append(r.aux, [2][]byte{cp(k), cp(v)})
	return nil
}
func (r *recorder) ResizeDB(int, uint64, uint64) error    { r.resize++; return nil }
func (r *recorder) SlotInfo(uint64, uint64, uint64) error { r.slotInfo++; return nil }
func (r *recorder) ModuleAux(m Module, when int) error {
	r.moduleAux = append(r.moduleAux, m)
	return nil
}
func (r *recorder) Function(code []byte) error { r.funcs = append(r.funcs, cp(code)); return nil }
func (r *recorder) End(crc uint64) error       { r.ended = true; r.crc = crc; return nil }

func (r *recorder) Entry(e *Entry) error {
	var k *recKey
	if e.Batch == 0 {
		k = &recKey{DB: e.DB, Key: cp(e.Key), RDBType: e.RDBType, Kind: e.Kind,
			ExpireMs: e.ExpireMs, Idle: e.Idle, Freq: e.Freq, Len: e.Len}
		r.keys = append(r.keys, k)
	} else {
		if len(r.keys) == 0 {
			return fmt.Errorf("batch %d without a first batch", e.Batch)
		}
		k = r.keys[len(r.keys)-1]
		if k.Batches != e.Batch || !bytes.Equal(k.Key, e.Key) || k.Len != e.Len || k.ExpireMs != e.ExpireMs {
			return fmt.Errorf("batch %d of %q does not follow batch %d of %q", e.Batch, e.Key, k.Batches-1, k.Key)
		}
	}
	k.Batches++
	if r.batchSize > 0 {
		n := len(e.Elems) + len(e.Fields) + len(e.ZMembers)
		if e.Stream != nil {
			n += len(e.Stream.Entries)
		}
		if n > r.batchSize {
			return fmt.Errorf("batch of %d elements over BatchSize %d", n, r.batchSize)
		}
	}
	switch e.Kind {
	case KindString:
		k.Str = cp(e.String)
	case KindList, KindSet:
		for _, b := range e.Elems {
			k.Elems = append(k.Elems, cp(b))
		}
	case KindHash:
		for _, f := range e.Fields {
			k.Fields = append(k.Fields, HashField{cp(f.Field), cp(f.Value), f.ExpireMs})
		}
	case KindZSet:
		for _, z := range e.ZMembers {
			k.Z = append(k.Z, ZMember{cp(z.Member), z.Score})
		}
	case KindStream:
		if k.Stream == nil {
			k.Stream = &Stream{}
		}
		for _, se := range e.Stream.Entries {
			ne := StreamEntry{ID: se.ID}
			for _, f := range se.Fields {
				ne.Fields = append(ne.Fields, cp(f))
			}
			k.Stream.Entries = append(k.Stream.Entries, ne)
		}
		if e.Last {
			s := *e.Stream
			s.Entries = k.Stream.Entries
			s.Groups = nil
			for _, g := range e.Stream.Groups {
				ng := g
				ng.Name = cp(g.Name)
				ng.PEL = nil
				for _, pe := range g.PEL {
					pe.Consumer = cp(pe.Consumer)
					ng.PEL = append(ng.PEL, pe)
				}
				ng.Consumers = nil
				for _, c := range g.Consumers {
					c.Name = cp(c.Name)
					c.Pending = append([]StreamID(nil), c.Pending...)
					ng.Consumers = append(ng.Consumers, c)
				}
				s.Groups = append(s.Groups, ng)
			}
			k.Stream = &s
		}
	case KindModule:
		m := *e.Module
		k.Module = &m
	}
	return nil
}

// dump renders everything recorded as text, to compare two parses.
func (r *recorder) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "header %+v end %v crc %x resize %d slot %d funcs %q modaux %v\n", r.hdr, r.ended, r.crc, r.resize, r.slotInfo, r.funcs, r.moduleAux)
	for _, a := range r.aux {
		fmt.Fprintf(&b, "aux %q=%q\n", a[0], a[1])
	}
	for _, k := range r.keys {
		fmt.Fprintf(&b, "key db=%d %q t=%d exp=%d idle=%d freq=%d len=%d str=%q elems=%q\n", k.DB, k.Key, k.RDBType, k.ExpireMs, k.Idle, k.Freq, k.Len, k.Str, k.Elems)
		for _, f := range k.Fields {
			fmt.Fprintf(&b, "  f %q=%q ttl=%d\n", f.Field, f.Value, f.ExpireMs)
		}
		for _, z := range k.Z {
			fmt.Fprintf(&b, "  z %q=%v\n", z.Member, z.Score)
		}
		if k.Stream != nil {
			fmt.Fprintf(&b, "  stream %+v\n", *k.Stream)
		}
		if k.Module != nil {
			fmt.Fprintf(&b, "  module %+v\n", *k.Module)
		}
	}
	return b.String()
}

// seed returns the random seed for a test: SEED= from the environment, or
// the clock. It is printed so that a failure can be replayed.
func seed(t testing.TB) int64 {
	t.Helper()
	s := time.Now().UnixNano()
	if v := os.Getenv("SEED"); v != "" {
		var err error
		if s, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("bad SEED=%q: %v", v, err)
		}
	}
	t.Logf("SEED=%d", s)
	return s
}

// hashMap returns a hash's fields as a map.
func hashMap(fs []HashField) map[string]HashField {
	m := make(map[string]HashField, len(fs))
	for _, f := range fs {
		m[string(f.Field)] = f
	}
	return m
}

func sortedStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	sort.Strings(out)
	return out
}

func sameFloat(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}
