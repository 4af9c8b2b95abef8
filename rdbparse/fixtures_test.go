package rdbparse

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/fixtures"
)

// fixtureCheck parses one committed fixture (testdata/rdb at the
// repository root, written by scripts/gen-fixtures.sh) and compares every
// key with what the server that wrote it answered to read commands.
func fixtureCheck(t *testing.T, cf corpusFile) {
	exp := cf.exp
	rec, p, rest, err := parseFile(t, cf.path, nil)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if rec.hdr.Magic != exp.Magic || rec.hdr.Version != exp.RDBVersion {
		t.Errorf("header %+v, the server wrote %s %d", rec.hdr, exp.Magic, exp.RDBVersion)
	}
	if !rec.ended || rec.crc == 0 || rest != 0 {
		t.Errorf("end %v crc %x trailing %d", rec.ended, rec.crc, rest)
	}
	aux := map[string]string{}
	for _, a := range rec.aux {
		aux[string(a[0])] = string(a[1])
	}
	if aux["redis-ver"] != exp.RedisVersion && aux["valkey-ver"] != exp.ValkeyVersion {
		t.Errorf("aux %v, server %s/%s", aux, exp.RedisVersion, exp.ValkeyVersion)
	}
	if len(rec.funcs) != exp.Functions {
		t.Errorf("%d function records, server has %d libraries", len(rec.funcs), exp.Functions)
	}
	if p.Keys() != int64(len(exp.Keys)) || len(rec.keys) != len(exp.Keys) {
		t.Fatalf("%d keys (Keys() %d), server has %d", len(rec.keys), p.Keys(), len(exp.Keys))
	}
	got := map[string]*recKey{}
	for _, k := range rec.keys {
		got[fmt.Sprintf("%d/%s", k.DB, k.Key)] = k
	}
	for i := range exp.Keys {
		ek := &exp.Keys[i]
		where := fmt.Sprintf("db %d key %q", ek.DB, ek.Key)
		k := got[fmt.Sprintf("%d/%s", ek.DB, fixtures.Bytes(ek.Key))]
		if k == nil {
			t.Errorf("%s: not delivered", where)
			continue
		}
		// An LFU policy stores each key's frequency (RDB_OPCODE_FREQ), an
		// LRU one its idle time (RDB_OPCODE_IDLE).
		lfu, lru := strings.Contains(exp.Policy, "lfu"), strings.Contains(exp.Policy, "lru")
		if (k.Freq >= 0) != lfu || (k.Idle >= 0) != lru {
			t.Errorf("%s: freq %d idle %d, policy %s", where, k.Freq, k.Idle, exp.Policy)
		}
		if err := compareFixtureKey(ek, k); err != nil {
			t.Errorf("%s (%s/%s, RDB type %d): %v", where, ek.Type, ek.Encoding, k.RDBType, err)
		}
	}
}

func compareFixtureKey(ek *fixtures.ExpectedKey, k *recKey) error {
	if k.Kind.String() != ek.Type {
		return fmt.Errorf("kind %s", k.Kind)
	}
	if k.ExpireMs != ek.ExpireMs {
		return fmt.Errorf("expire %d, server says %d", k.ExpireMs, ek.ExpireMs)
	}
	sameElems := func(got, want [][]byte) error {
		if len(got) != len(want) {
			return fmt.Errorf("%d elements, server has %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				return fmt.Errorf("element %d %q, server says %q", i, got[i], want[i])
			}
		}
		return nil
	}
	switch k.Kind {
	case KindString:
		if !bytes.Equal(k.Str, ek.Str()) {
			return fmt.Errorf("value %q, server says %q", k.Str, ek.Str())
		}
	case KindList:
		return sameElems(k.Elems, ek.Elems())
	case KindSet:
		elems := slices.Clone(k.Elems)
		slices.SortFunc(elems, bytes.Compare)
		return sameElems(elems, ek.Elems())
	case KindHash:
		want := ek.Pairs()
		if len(k.Fields) != len(want) {
			return fmt.Errorf("%d fields, server has %d", len(k.Fields), len(want))
		}
		// A listpack is stored in the order HGETALL shows; a hashtable's
		// order is its own.
		ordered := ek.Encoding == "listpack" || ek.Encoding == "listpackex"
		wantMap := map[string]string{}
		for _, p := range want {
			wantMap[string(p[0])] = string(p[1])
		}
		for i, f := range k.Fields {
			if ordered && !bytes.Equal(f.Field, want[i][0]) {
				return fmt.Errorf("field %d is %q, server has %q", i, f.Field, want[i][0])
			}
			if v, ok := wantMap[string(f.Field)]; !ok || v != string(f.Value) {
				return fmt.Errorf("field %q = %q, server says %q", f.Field, f.Value, v)
			}
			wantTTL, ok := ek.FieldTTLMs[string(f.Field)]
			if !ok {
				wantTTL = -1
			}
			if f.ExpireMs != wantTTL {
				return fmt.Errorf("field %q TTL %d, server says %d", f.Field, f.ExpireMs, wantTTL)
			}
		}
	case KindZSet:
		want := ek.Pairs()
		z := slices.Clone(k.Z)
		// A skiplist is stored from the highest score down; compare in
		// ZRANGE order.
		sort.SliceStable(z, func(i, j int) bool {
			if z[i].Score != z[j].Score {
				return z[i].Score < z[j].Score
			}
			return bytes.Compare(z[i].Member, z[j].Member) < 0
		})
		if len(z) != len(want) {
			return fmt.Errorf("%d members, server has %d", len(z), len(want))
		}
		for i, m := range z {
			score, err := strconv.ParseFloat(string(want[i][1]), 64)
			if err != nil {
				return err
			}
			if !bytes.Equal(m.Member, want[i][0]) || m.Score != score {
				return fmt.Errorf("member %d %q=%v, server says %q=%s", i, m.Member, m.Score, want[i][0], want[i][1])
			}
		}
	case KindStream:
		return compareFixtureStream(ek, k.Stream)
	default:
		return fmt.Errorf("unexpected kind %s", k.Kind)
	}
	return nil
}

func fmtID(id StreamID) string { return fmt.Sprintf("%d-%d", id.Ms, id.Seq) }

func compareFixtureStream(ek *fixtures.ExpectedKey, s *Stream) error {
	want := ek.Stream()
	if s == nil {
		return fmt.Errorf("no stream")
	}
	if int64(s.Length) != ek.Len || fmtID(s.LastID) != want.LastID || fmtID(s.MaxDeletedID) != want.MaxDeletedID || int64(s.EntriesAdded) != want.EntriesAdded {
		return fmt.Errorf("length %d last %s max deleted %s added %d; server: %d %s %s %d", s.Length, fmtID(s.LastID),
			fmtID(s.MaxDeletedID), s.EntriesAdded, ek.Len, want.LastID, want.MaxDeletedID, want.EntriesAdded)
	}
	if len(s.Entries) != len(want.Entries) {
		return fmt.Errorf("%d entries, server has %d", len(s.Entries), len(want.Entries))
	}
	for i, e := range s.Entries {
		row := []string{fmtID(e.ID)}
		for _, f := range e.Fields {
			row = append(row, string(f))
		}
		wrow := []string{want.Entries[i][0]}
		for _, f := range want.Entries[i][1:] {
			wrow = append(wrow, string(fixtures.Bytes(f)))
		}
		if !slices.Equal(row, wrow) {
			return fmt.Errorf("entry %d %q, server says %q", i, row, wrow)
		}
	}
	if len(s.Groups) != len(want.Groups) {
		return fmt.Errorf("%d groups, server has %d", len(s.Groups), len(want.Groups))
	}
	for i, g := range s.Groups {
		wg := want.Groups[i]
		entriesRead := int64(-1)
		if g.EntriesRead != EntriesReadUnknown {
			entriesRead = int64(g.EntriesRead)
		}
		wantRead := int64(-1)
		if wg.EntriesRead != nil {
			wantRead = *wg.EntriesRead
		}
		if string(g.Name) != wg.Name || fmtID(g.LastID) != wg.LastDeliveredID || entriesRead != wantRead {
			return fmt.Errorf("group %q last %s read %d; server: %q %s %d", g.Name, fmtID(g.LastID), entriesRead, wg.Name, wg.LastDeliveredID, wantRead)
		}
		var pel, wpel []string
		for _, pe := range g.PEL {
			pel = append(pel, fmt.Sprintf("%s %s %d", fmtID(pe.ID), pe.Consumer, pe.DeliveryCount))
		}
		for _, pe := range wg.PEL {
			wpel = append(wpel, fmt.Sprintf("%s %s %s", pe[0], fixtures.Bytes(pe[1]), pe[2]))
		}
		if !slices.Equal(pel, wpel) {
			return fmt.Errorf("group %q PEL %q, server says %q", g.Name, pel, wpel)
		}
		var cons, wcons []string
		for _, c := range g.Consumers {
			cons = append(cons, fmt.Sprintf("%s %d", c.Name, len(c.Pending)))
		}
		for _, c := range wg.Consumers {
			wcons = append(wcons, fmt.Sprintf("%s %d", fixtures.Bytes(c.Name), c.Pending))
		}
		sort.Strings(cons)
		if !slices.Equal(cons, wcons) {
			return fmt.Errorf("group %q consumers %q, server says %q", g.Name, cons, wcons)
		}
	}
	return nil
}

// TestFixtureEncodings: the committed fixtures hold every RDB type the
// supported servers write, so that the corpus tests cover each of them
// without the shared corpus.
func TestFixtureEncodings(t *testing.T) {
	seen := map[byte][]string{}
	for _, r := range fixtures.RDBs(t) {
		rec, _, _, err := parseFile(t, r.Path, nil)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		for _, k := range rec.keys {
			seen[k.RDBType] = append(seen[k.RDBType], r.Name)
		}
	}
	for _, typ := range []byte{TypeString, TypeSet, TypeZSet2, TypeHash, TypeSetIntset, TypeHashListpack,
		TypeZSetListpack, TypeListQuicklist2, TypeStreamListpacks2, TypeSetListpack, TypeStreamListpacks3,
		TypeHashMetadata, TypeHashListpackEx} {
		if len(seen[typ]) == 0 {
			t.Errorf("no committed fixture holds RDB type %d; extend internal/fixtures/gen and run scripts/gen-fixtures.sh", typ)
		}
	}
}
