package rdbparse

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vdr-project/vdr/internal/fixtures"
)

// corpusErrors lists the deliberately broken files and the error each
// must give. Every other file must parse.
var corpusErrors = map[string]struct {
	err error
	why string
}{
	"redis__librdb/test__dumps__future_v19.rdb":            {ErrUnsupportedVersion, "a v11 file whose header says 99"},
	"redis__librdb/test__dumps__invalid_chksum_v8.rdb":     {ErrChecksum, "deliberately wrong CRC-64"},
	"redis__redis/tests__assets__corrupt_ziplist.rdb":      {ErrCorrupt, "a ziplist entry runs past the blob"},
	"valkey-io__valkey/tests__assets__corrupt_ziplist.rdb": {ErrCorrupt, "same bytes as redis's"},
	"HDT3213__rdb/cases__zipmap_big_len.rdb":               {ErrCorrupt, "zipmap count byte 255 is neither the count nor ZIPMAP_BIGLEN (Redis's zipmapValidateIntegrity rejects it)"},
}

type summaryFile struct {
	Magic         string            `json:"magic"`
	RDBVersion    int               `json:"rdb_version"`
	Aux           map[string]string `json:"aux"`
	Checksum      string            `json:"checksum"`
	TrailingBytes int               `json:"trailing_bytes"`
	KeyCount      int               `json:"key_count"`
	NonKeyRecords map[string]int    `json:"non_key_records"`
	DecodeError   *string           `json:"decode_error"`
	Keys          []map[string]any  `json:"keys_first_40"`
}

func loadSummary(t *testing.T, dir string) map[string]summaryFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "SUMMARY.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]summaryFile
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// corpusFile is one RDB file the corpus tests read.
type corpusFile struct {
	// name is, for the shared corpus, the path relative to it (the key of
	// SUMMARY.json and corpusErrors); for the committed fixtures,
	// "testdata/rdb/<server>.rdb" at the repository root.
	name string
	path string
	exp  *fixtures.Expected // committed fixtures only
}

// corpusFiles lists the committed RDB fixtures, then every .rdb file of
// the shared corpus when it is present (fixtures.SharedDir).
func corpusFiles(t testing.TB) []corpusFile {
	t.Helper()
	var files []corpusFile
	for _, r := range fixtures.RDBs(t) {
		files = append(files, corpusFile{name: "testdata/rdb/" + filepath.Base(r.Path), path: r.Path, exp: r.Expected})
	}
	dir := fixtures.SharedDir(t, "rdb")
	if dir == "" {
		return files
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".rdb") {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, corpusFile{name: filepath.ToSlash(rel), path: path})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// textOf renders bytes the way SUMMARY.json does: the string when it is
// valid UTF-8, else "hex:" and the hex digits.
func textOf(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return "hex:" + hex.EncodeToString(b)
}

// sameScalar compares a SUMMARY.json scalar (a string, or a number for
// integers from packed encodings) with bytes.
func sameScalar(want any, got []byte) bool {
	switch w := want.(type) {
	case string:
		return textOf(got) == w
	case float64:
		if v, err := strconv.ParseInt(string(got), 10, 64); err == nil {
			return float64(v) == w
		}
		f, err := strconv.ParseFloat(string(got), 64)
		return err == nil && f == w
	}
	return false
}

// TestCorpus parses every corpus file: the committed fixtures are checked
// against what their server said (fixtureCheck), the shared corpus
// against its SUMMARY.json.
func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	var shared []corpusFile
	for _, f := range files {
		if f.exp != nil {
			t.Run(f.name, func(t *testing.T) { fixtureCheck(t, f) })
		} else {
			shared = append(shared, f)
		}
	}
	if len(shared) == 0 {
		return // no shared corpus here (fixtures.SharedDir logged it)
	}
	summary := loadSummary(t, fixtures.SharedDir(t, "rdb"))
	if len(shared) < 100 {
		t.Fatalf("only %d shared corpus files found", len(shared))
	}
	for _, cf := range shared {
		name := cf.name
		t.Run(name, func(t *testing.T) {
			sum, ok := summary[name]
			if !ok {
				t.Fatalf("%s has no SUMMARY.json entry: every file must be checked", name)
			}
			want, isBroken := corpusErrors[name]
			rec, p, rest, err := parseFile(t, cf.path, nil)
			if isBroken {
				if !errors.Is(err, want.err) {
					t.Fatalf("want %v (%s), got %v", want.err, want.why, err)
				}
				t.Logf("rejected as expected: %v", err)
				if errors.Is(err, ErrChecksum) {
					// With checksum checking off, the content is all there.
					rec, p, rest, err = parseFile(t, cf.path, &Options{SkipChecksum: true})
					if err != nil {
						t.Fatalf("SkipChecksum: %v", err)
					}
				} else {
					// What was delivered before the error matches the summary.
					checkKeys(t, sum, rec, -1)
					return
				}
			} else if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if sum.DecodeError != nil && !isBroken {
				t.Fatalf("summary reports a decode error %q but the file parsed", *sum.DecodeError)
			}
			if rec.hdr.Magic != sum.Magic || rec.hdr.Version != sum.RDBVersion {
				t.Errorf("header %+v, summary says %s %d", rec.hdr, sum.Magic, sum.RDBVersion)
			}
			if !rec.ended {
				t.Error("End not called")
			}
			switch {
			case sum.Checksum == "ok" || sum.Checksum == "MISMATCH":
				if rec.crc == 0 {
					t.Errorf("crc 0, summary says %s", sum.Checksum)
				}
			default:
				if rec.crc != 0 {
					t.Errorf("crc %x, summary says %s", rec.crc, sum.Checksum)
				}
			}
			if rest != sum.TrailingBytes {
				t.Errorf("%d bytes left after the RDB, summary says %d", rest, sum.TrailingBytes)
			}
			aux := map[string]string{}
			for _, a := range rec.aux {
				aux[textOf(a[0])] = textOf(a[1])
			}
			for k, v := range sum.Aux {
				if aux[k] != v {
					t.Errorf("aux %q = %q, summary says %q", k, aux[k], v)
				}
			}
			if len(aux) != len(sum.Aux) {
				t.Errorf("%d aux fields, summary has %d", len(aux), len(sum.Aux))
			}
			for rec2, n := range map[string]int{"resizedb": rec.resize, "module_aux": len(rec.moduleAux), "function": len(rec.funcs), "slot_info": rec.slotInfo} {
				if sum.NonKeyRecords[rec2] != n {
					t.Errorf("%d %s records, summary says %d", n, rec2, sum.NonKeyRecords[rec2])
				}
			}
			if got := len(rec.keys) + int(p.EmptyKeysSkipped()); got != sum.KeyCount {
				t.Errorf("%d keys (+%d empty skipped), summary says %d", len(rec.keys), p.EmptyKeysSkipped(), sum.KeyCount)
			}
			if p.Keys() != int64(sum.KeyCount) {
				t.Errorf("Keys() = %d, want %d", p.Keys(), sum.KeyCount)
			}
			checkKeys(t, sum, rec, sum.KeyCount)
		})
	}
}

// parseFile parses a file through a small bufio.Reader and returns what
// was recorded and how many bytes followed the RDB.
func parseFile(t testing.TB, path string, opts *Options) (*recorder, *Parser, int, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64)
	rec := &recorder{t: t}
	p := NewParser(br, rec, opts)
	err = p.Parse()
	if err != nil {
		return rec, p, 0, err
	}
	rest, _ := io.ReadAll(br)
	if p.Offset()+int64(len(rest)) != fileSize(t, path) {
		t.Errorf("Offset() %d + %d trailing != file size", p.Offset(), len(rest))
	}
	return rec, p, len(rest), nil
}

func fileSize(t testing.TB, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// checkKeys compares the summary's first keys with what was delivered;
// empty collections listed in the summary must have been skipped.
func checkKeys(t *testing.T, sum summaryFile, rec *recorder, keyCount int) {
	t.Helper()
	i := 0
	for _, w := range sum.Keys {
		wantLen, _ := w["len"].(float64)
		typ, _ := w["type"].(string)
		if w["len"] != nil && wantLen == 0 && !strings.HasPrefix(typ, "stream") && !strings.HasPrefix(typ, "string") {
			continue // Redis drops empty keys; so do we
		}
		if i >= len(rec.keys) {
			if keyCount < 0 {
				return // the parse stopped on an error
			}
			t.Fatalf("summary key %v not delivered", w["key"])
		}
		compareKey(t, w, rec.keys[i])
		i++
	}
}

func compareKey(t *testing.T, w map[string]any, k *recKey) {
	t.Helper()
	wkey := w["key"].(string)
	gkey := textOf(k.Key)
	if gkey != wkey && !(utf8.RuneCountInString(wkey) == 120 && strings.HasPrefix(gkey, wkey)) {
		t.Errorf("key %q, summary says %q", gkey, wkey)
		return
	}
	where := "key " + wkey
	if int(w["db"].(float64)) != k.DB {
		t.Errorf("%s: db %d, want %v", where, k.DB, w["db"])
	}
	if byte(w["rdb_type"].(float64)) != k.RDBType {
		t.Errorf("%s: type %d, want %v", where, k.RDBType, w["rdb_type"])
	}
	intField := func(name string, got int64) {
		want := int64(-1)
		if v, ok := w[name].(float64); ok {
			want = int64(v)
		}
		if got != want {
			t.Errorf("%s: %s %d, want %d", where, name, got, want)
		}
	}
	intField("expire_ms", k.ExpireMs)
	intField("lru_idle", k.Idle)
	intField("lfu_freq", int64(k.Freq))
	ttls, _ := w["field_ttl_ms"].(map[string]any)
	var gotTTL int
	for _, f := range k.Fields {
		if f.ExpireMs == -1 {
			continue
		}
		gotTTL++
		if v, ok := ttls[textOf(f.Field)].(float64); !ok || int64(v) != f.ExpireMs {
			t.Errorf("%s: field %q ttl %d, summary says %v", where, f.Field, f.ExpireMs, ttls[textOf(f.Field)])
		}
	}
	if gotTTL != len(ttls) {
		t.Errorf("%s: %d fields with a TTL, summary says %d", where, gotTTL, len(ttls))
	}
	// len
	var n int64
	switch k.Kind {
	case KindString:
		n = int64(utf8.RuneCountInString(textOf(k.Str)))
	case KindList, KindSet:
		n = int64(len(k.Elems))
	case KindHash:
		n = int64(len(k.Fields))
	case KindZSet:
		n = int64(len(k.Z))
	case KindStream:
		// Length is as stored; it need not match the live entries (HDT3213's
		// "trim" stream says 120 and holds 118, and Redis's XRANGE agrees).
		n = int64(k.Stream.Length)
	case KindModule:
		if w["len"] != nil {
			t.Errorf("%s: module len %v", where, w["len"])
		}
		n = -1
	}
	if n >= 0 && float64(n) != w["len"].(float64) {
		t.Errorf("%s: len %d, summary says %v", where, n, w["len"])
	}
	val, ok := w["value"]
	if !ok {
		return
	}
	switch k.Kind {
	case KindString:
		if !sameScalar(val, k.Str) {
			t.Errorf("%s: value %q, summary says %v", where, k.Str, val)
		}
	case KindList, KindSet:
		wl := val.([]any)
		if len(wl) != len(k.Elems) {
			t.Errorf("%s: %d elements, summary lists %d", where, len(k.Elems), len(wl))
			return
		}
		for i := range wl {
			if !sameScalar(wl[i], k.Elems[i]) {
				t.Errorf("%s: element %d %q, summary says %v", where, i, k.Elems[i], wl[i])
			}
		}
	case KindHash:
		wm := val.(map[string]any)
		got := hashMap(k.Fields)
		if len(wm) != len(got) {
			t.Errorf("%s: %d fields, summary lists %d", where, len(got), len(wm))
		}
		for f, v := range got {
			if !sameScalar(wm[textOf([]byte(f))], v.Value) {
				t.Errorf("%s: field %q = %q, summary says %v", where, f, v.Value, wm[textOf([]byte(f))])
			}
		}
	case KindZSet:
		wl := val.([]any)
		if len(wl) != len(k.Z) {
			t.Errorf("%s: %d members, summary lists %d", where, len(k.Z), len(wl))
			return
		}
		for i, z := range k.Z {
			pair := wl[i].([]any)
			if !sameScalar(pair[0], z.Member) || pair[1].(float64) != z.Score && !(math.IsInf(z.Score, 0)) {
				t.Errorf("%s: member %d %q=%v, summary says %v", where, i, z.Member, z.Score, pair)
			}
		}
	case KindModule:
		wm := val.(map[string]any)
		if wm["module"] != k.Module.Name || int(wm["encver"].(float64)) != k.Module.Ver {
			t.Errorf("%s: module %+v, summary says %v", where, *k.Module, wm)
		}
	}
}
