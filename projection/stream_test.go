package projection

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/fixtures"
	"github.com/vdr-project/vdr/internal/redistest"
)

// streamFiles are the shared corpus files holding streams (see INDEX.tsv
// in fixtures.SharedDir(t, "rdb")).
var streamFiles = []string{
	"sripathikrishnan__redis-rdb-tools/tests__dumps__redis_50_with_streams.rdb",
	"HDT3213__rdb/cases__issue27.rdb",
	"HDT3213__rdb/cases__stream_listoacks_3.rdb",
	"HDT3213__rdb/cases__stream_listpacks_1.rdb",
	"HDT3213__rdb/cases__stream_listpacks_2.rdb",
	"redis__librdb/test__dumps__misc_with_stream.rdb",
	"redis__librdb/test__dumps__stream_v11.rdb",
	"redis__librdb/test__dumps__stream_v13.rdb",
	"redis__librdb/test__dumps__stream_v13_idmp.rdb",
}

func loadRDBFile(t *testing.T, path string) *Projection {
	t.Helper()
	return loadRDBFileAt(t, path, nil)
}

// streamLoadFixtures loads the committed fixtures and compares every
// stream with what its server showed: entries and their fields, length,
// last, max deleted and entries-added, groups with their last delivered
// ID, entries read, PEL (ID, consumer, delivery count) and consumers.
func streamLoadFixtures(t *testing.T) {
	compared := 0
	for _, r := range fixtures.RDBs(t) {
		p := loadRDBFile(t, r.Path)
		for _, k := range r.Expected.Keys {
			if k.Type != "stream" {
				continue
			}
			compared++
			want := k.Stream()
			get(p, k.DB, string(fixtures.Bytes(k.Key)), func(x Value) {
				where := r.Name + " " + k.Key
				info, ok := x.StreamInfo()
				if !ok {
					t.Errorf("%s: not a stream (%s)", where, x.Type())
					return
				}
				if int64(info.Length) != k.Len || FormatStreamID(info.LastID) != want.LastID ||
					FormatStreamID(info.MaxDeletedID) != want.MaxDeletedID || int64(info.EntriesAdded) != want.EntriesAdded {
					t.Errorf("%s: %+v, server: length %d last %s max deleted %s added %d", where, info,
						k.Len, want.LastID, want.MaxDeletedID, want.EntriesAdded)
				}
				var entries []string
				x.StreamRange(StreamID{}, maxStreamID, false, 0, func(id StreamID, fields [][]byte) bool {
					e := FormatStreamID(id)
					for _, f := range fields {
						e += " " + string(f)
					}
					entries = append(entries, e)
					return true
				})
				var wantEntries []string
				for _, e := range want.Entries {
					line := e[0]
					for _, f := range e[1:] {
						line += " " + string(fixtures.Bytes(f))
					}
					wantEntries = append(wantEntries, line)
				}
				if !slices.Equal(entries, wantEntries) {
					t.Errorf("%s: entries\n got  %q\n want %q", where, entries, wantEntries)
				}
				var groups, wantGroups []string
				x.StreamGroups(func(g StreamGroupInfo) bool {
					line := fmt.Sprintf("%s last=%s read=%d", g.Name, FormatStreamID(g.LastID), g.EntriesRead)
					x.StreamPending(g.Name, nil, StreamID{}, maxStreamID, func(pe StreamPendingEntry) bool {
						line += fmt.Sprintf(" pel=%s/%s/%d", FormatStreamID(pe.ID), pe.Consumer, pe.DeliveryCount)
						return true
					})
					var cons []string
					x.StreamConsumers(g.Name, func(c StreamConsumerInfo) bool {
						cons = append(cons, fmt.Sprintf(" consumer=%s/%d", c.Name, c.Pending))
						return true
					})
					sort.Strings(cons)
					groups = append(groups, line+strings.Join(cons, ""))
					return true
				})
				for _, g := range want.Groups {
					read := int64(-1)
					if g.EntriesRead != nil {
						read = *g.EntriesRead
					}
					line := fmt.Sprintf("%s last=%s read=%d", g.Name, g.LastDeliveredID, read)
					for _, pe := range g.PEL {
						line += fmt.Sprintf(" pel=%s/%s/%s", pe[0], fixtures.Bytes(pe[1]), pe[2])
					}
					for _, c := range g.Consumers {
						line += fmt.Sprintf(" consumer=%s/%d", fixtures.Bytes(c.Name), c.Pending)
					}
					wantGroups = append(wantGroups, line)
				}
				sort.Strings(groups)
				sort.Strings(wantGroups)
				if !slices.Equal(groups, wantGroups) {
					t.Errorf("%s: groups\n got  %q\n want %q", where, groups, wantGroups)
				}
			})
		}
	}
	if compared == 0 {
		t.Fatal("no stream in the committed fixtures")
	}
	t.Logf("%d streams compared", compared)
}

// TestStreamLoadRDBFiles loads the streams of the committed fixtures
// (streamLoadFixtures), then every stream file of the shared corpus when
// present. Files the real server under test can load (7.0.15: up to RDB
// 10; newer servers more) are loaded by it too, and every stream is
// compared field by field (entries, metadata, groups, PELs, consumers);
// all are checked against
// SUMMARY.json.
func TestStreamLoadRDBFiles(t *testing.T) {
	t.Run("fixtures", streamLoadFixtures)
	rdbCorpus := fixtures.SharedDir(t, "rdb")
	if rdbCorpus == "" {
		return
	}
	raw, err := os.ReadFile(filepath.Join(rdbCorpus, "SUMMARY.json"))
	if err != nil {
		t.Fatal(err)
	}
	var summary map[string]struct {
		Redis7Check string `json:"redis7_check"`
		KeyCount    int    `json:"key_count"`
		Keys        []struct {
			DB    int             `json:"db"`
			Key   string          `json:"key"`
			Type  string          `json:"type"`
			Len   int             `json:"len"`
			Value json.RawMessage `json:"value"`
		} `json:"keys_first_40"`
	}
	type streamSummary struct {
		Length  int    `json:"length"`
		LastID  string `json:"last_id"`
		Entries []struct {
			ID string `json:"id"`
		} `json:"entries"`
		Groups []struct {
			Name string `json:"name"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(raw, &summary); err != nil {
		t.Fatal(err)
	}
	for _, f := range streamFiles {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sum, ok := summary[f]
			if !ok {
				t.Fatalf("%s not in SUMMARY.json", f)
			}
			path := filepath.Join(rdbCorpus, f)
			p := loadRDBFile(t, path)
			streams := 0
			for _, k := range sum.Keys {
				if !strings.HasPrefix(k.Type, "stream") {
					continue
				}
				streams++
				get(p, k.DB, k.Key, func(x Value) {
					info, ok := x.StreamInfo()
					if !ok {
						t.Errorf("%q: not a stream (%s)", k.Key, x.Type())
						return
					}
					if info.Length != k.Len {
						t.Errorf("%q: length %d, summary %d", k.Key, info.Length, k.Len)
					}
					var sv *streamSummary
					if len(k.Value) == 0 || json.Unmarshal(k.Value, &sv) != nil || sv == nil {
						return
					}
					var ids []string
					x.StreamRange(StreamID{}, maxStreamID, false, 0, func(id StreamID, _ [][]byte) bool {
						ids = append(ids, FormatStreamID(id))
						return true
					})
					var want []string
					for _, e := range sv.Entries {
						want = append(want, e.ID)
					}
					if strings.Join(ids, " ") != strings.Join(want, " ") {
						t.Errorf("%q: ids %v, summary %v", k.Key, ids, want)
					}
					if FormatStreamID(info.LastID) != sv.LastID {
						t.Errorf("%q: last id %v, summary %s", k.Key, info.LastID, sv.LastID)
					}
					var groups []string
					x.StreamGroups(func(g StreamGroupInfo) bool { groups = append(groups, string(g.Name)); return true })
					var wantG []string
					for _, g := range sv.Groups {
						wantG = append(wantG, g.Name)
					}
					sort.Strings(wantG)
					if strings.Join(groups, " ") != strings.Join(wantG, " ") {
						t.Errorf("%q: groups %v, summary %v", k.Key, groups, wantG)
					}
				})
			}
			if streams == 0 {
				t.Fatalf("no stream key in the summary of %s", f)
			}
			if strings.Contains(f, "misc_with_stream") {
				return // no server loads it: it needs the module its MODULE_AUX names
			}
			// The same file, loaded by the real server if it can: 7.0.15
			// loads up to RDB 10, 7.2 and Valkey 11, 7.4 12. A server
			// that refuses it (a newer RDB) is asked, not assumed.
			dir := t.TempDir()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), b, 0o600); err != nil {
				t.Fatal(err)
			}
			srv, err := redistest.TryStart(t, "--dir", dir, "--dbfilename", "dump.rdb")
			if err != nil {
				if sum.Redis7Check == "ok" {
					t.Fatalf("the server does not load what 7.0.15 loads: %v", err)
				}
				msg := err.Error()
				if i := strings.LastIndex(msg, " | "); i >= 0 {
					msg = msg[i+3:] // the log's last line says why
				}
				t.Logf("redis-server %s does not load it (%s); checked against SUMMARY.json only", redistest.Version(t), msg)
				return
			}
			rc := dialRedis(t, srv.Addr())
			compared := 0
			for dbi := 0; dbi < 16; dbi++ {
				rc.do(t, "SELECT", strconv.Itoa(dbi))
				snap := snapshotDB(p, dbi)
				for _, k := range strs(rc.do(t, "KEYS", "*")) {
					if typ, _ := rc.do(t, "TYPE", k).(string); typ != "stream" {
						continue
					}
					pk, ok := snap[k]
					if !ok || pk.kind != KindStream {
						t.Errorf("db %d %q: a stream on redis, %v in the projection", dbi, k, pk.kind)
						continue
					}
					want := redisStreamVals(t, rc, k)
					if strings.Join(want, "\x00") != strings.Join(pk.vals, "\x00") {
						t.Errorf("db %d %q:\n redis      %q\n projection %q", dbi, k, want, pk.vals)
					}
					compared++
				}
			}
			if compared == 0 {
				t.Error("redis holds no stream")
			}
		})
	}
}

// TestStreamDumpRestore moves streams with groups and PELs both ways: a
// real server's DUMP payloads RESTOREd into the projection, and the
// projection's DUMP payloads RESTOREd into a real server; both sides must
// then hold the same stream.
func TestStreamDumpRestore(t *testing.T) {
	srv := redistest.Start(t)
	rc := dialRedis(t, srv.Addr())
	for _, c := range [][]string{
		{"XADD", "s1", "1-1", "a", "1", "b", "2"},
		{"XADD", "s1", "1-2", "a", "3", "b", "4"},
		{"XADD", "s1", "2-0", "other", strings.Repeat("x", 300)},
		{"XADD", "s1", "5-0", "a", "-7", "b", "123456789012"},
		{"XGROUP", "CREATE", "s1", "g1", "0"},
		{"XGROUP", "CREATE", "s1", "g2", "$", "ENTRIESREAD", "4"},
		{"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s1", ">"},
		{"XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "s1", ">"},
		{"XGROUP", "CREATECONSUMER", "s1", "g2", "carol"},
		{"XDEL", "s1", "1-2"},
		{"XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"},
		{"XADD", "big", "*", "f", "v"},
	} {
		if r := rc.do(t, c...); r == nil {
			t.Fatalf("%v: nil", c)
		} else if e, ok := r.(redisErr); ok {
			t.Fatalf("%v: %s", c, e)
		}
	}
	for i := 0; i < 250; i++ { // more than one listpack node
		rc.send("XADD", "big", "*", "f", strconv.Itoa(i), "g", strings.Repeat("y", i%40))
	}
	rc.drain(t, 250)
	keys := []string{"s1", "empty", "big"}

	// Real DUMP → projection RESTORE.
	p := newTestProjection(t, nil)
	for _, k := range keys {
		payload, _ := rc.do(t, "DUMP", k).(string)
		if err := p.Apply(0, [][]byte{[]byte("RESTORE"), []byte(k), []byte("0"), []byte(payload)}); err != nil {
			t.Fatalf("RESTORE %s: %v", k, err)
		}
	}
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
	snap := snapshotDB(p, 0)
	for _, k := range keys {
		want := redisStreamVals(t, rc, k)
		if got := snap[k].vals; strings.Join(want, "\x00") != strings.Join(got, "\x00") {
			t.Errorf("%s restored from redis:\n redis      %q\n projection %q", k, want, got)
		}
	}

	// Projection DUMP → real RESTORE (under new names), and back into the
	// projection.
	for _, k := range keys {
		var payload []byte
		get(p, 0, k, func(x Value) {
			var err error
			if payload, err = x.Dump(); err != nil {
				t.Fatal(err)
			}
		})
		if r := rc.do(t, "RESTORE", "copy-"+k, "0", string(payload)); r != "OK" {
			t.Fatalf("RESTORE copy-%s on redis: %v", k, r)
		}
		want := redisStreamVals(t, rc, k)
		if got := redisStreamVals(t, rc, "copy-"+k); strings.Join(want, "\x00") != strings.Join(got, "\x00") {
			t.Errorf("%s via the projection's DUMP:\n original %q\n restored %q", k, want, got)
		}
		if err := p.Apply(1, [][]byte{[]byte("RESTORE"), []byte(k), []byte("0"), payload}); err != nil {
			t.Fatalf("RESTORE %s into the projection: %v", k, err)
		}
		if got := snapshotDB(p, 1)[k].vals; strings.Join(want, "\x00") != strings.Join(got, "\x00") {
			t.Errorf("%s round trip in the projection:\n want %q\n got  %q", k, want, got)
		}
	}
	if r, _ := rc.do(t, "DEBUG", "RELOAD").(string); r != "OK" {
		t.Logf("DEBUG RELOAD: %v (skipped)", r)
	}
}

// TestStreamApplyErrors feeds malformed and impossible stream commands: each
// must fail with an error (so OnUnknown handles its key), never panic, and
// leave the stream sane.
func TestStreamApplyErrors(t *testing.T) {
	p, err := New(Options{OnUnknown: Resync})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, p, 0, "XADD s 5-0 a 1", "XGROUP CREATE s g 0", "SET str x")
	for _, c := range []string{
		"XADD s 4-0 a 1",            // not above the top item
		"XADD s 0-0 a 1",            // 0-0
		"XADD s * a 1",              // a generated ID never arrives
		"XADD s 6-0 a",              // odd field count
		"XADD s MAXLEN ~ 1 7-0 a 1", // "~" never arrives
		"XADD s MAXLEN x 7-0 a 1",
		"XADD s MINID zz 7-0 a 1",
		"XADD str 9-0 a 1",
		"XADD s",
		"XTRIM s",
		"XTRIM s FOO 1",
		"XDEL s bad",
		"XSETID s 1-0",
		"XSETID missing 1-0",
		"XSETID s 9-0 MAXDELETEDID 10-0",
		"XGROUP CREATE s g 0",
		"XGROUP CREATE missing g 0",
		"XGROUP SETID s nog 0",
		"XGROUP FOO s g",
		"XGROUP CREATE s g2 bad",
		"XCLAIM s nog c 0 5-0",
		"XCLAIM s g c x 5-0",
		"XCLAIM s g c 0 5-0 BOGUS",
		"XCLAIM missing g c 0 5-0",
		"XACK s g bad",
	} {
		err := p.Apply(0, args(c))
		if err == nil {
			t.Errorf("%s: no error", c)
		} else if !errors.Is(err, ErrNeedResync) {
			t.Errorf("%s: %v, not ErrNeedResync", c, err)
		}
	}
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
	var info StreamInfo
	get(p, 0, "s", func(x Value) { info, _ = x.StreamInfo() })
	if info.Length != 1 || info.LastID != (StreamID{Ms: 5}) {
		t.Errorf("the failed commands changed the stream: %+v", info)
	}
}
