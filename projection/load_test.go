package projection

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/fixtures"
	"github.com/vdr-project/vdr/rdbparse"
)

func TestLoaderEntries(t *testing.T) {
	p := newTestProjection(t, nil)
	mustApply(t, p, 0, "SET old 1")
	ld := p.BeginLoad(LoadOptions{})
	entries := []rdbparse.Entry{
		{DB: 0, Key: []byte("s"), Kind: rdbparse.KindString, String: []byte("42"), ExpireMs: 99999999999999, Last: true},
		{DB: 1, Key: []byte("l"), Kind: rdbparse.KindList, Elems: [][]byte{[]byte("a"), []byte("b")}, ExpireMs: -1, Len: 3},
		{DB: 1, Key: []byte("l"), Kind: rdbparse.KindList, Elems: [][]byte{[]byte("c")}, ExpireMs: -1, Batch: 1, Last: true, Len: 3},
		{DB: 0, Key: []byte("z"), Kind: rdbparse.KindZSet, ZMembers: []rdbparse.ZMember{{Member: []byte("b"), Score: 2}, {Member: []byte("a"), Score: 1}}, ExpireMs: -1, Last: true, Len: 2},
		{DB: 0, Key: []byte("h"), Kind: rdbparse.KindHash, Fields: []rdbparse.HashField{{Field: []byte("f"), Value: []byte("v")}}, ExpireMs: -1, Last: true, Len: 1},
		{DB: 0, Key: []byte("set"), Kind: rdbparse.KindSet, Elems: [][]byte{[]byte("1"), []byte("x")}, ExpireMs: -1, Last: true, Len: 2},
		{DB: 0, Key: []byte("st"), Kind: rdbparse.KindStream, ExpireMs: -1, Last: true},
	}
	for i := range entries {
		if err := ld.Entry(&entries[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is visible before Commit.
	get(p, 0, "s", func(x Value) {
		if x.Exists() {
			t.Error("loaded key visible before Commit")
		}
	})
	if err := ld.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := ld.Commit(); !errors.Is(err, ErrLoadClosed) {
		t.Errorf("second Commit: %v", err)
	}
	get(p, 0, "old", func(x Value) {
		if x.Exists() {
			t.Error("old key survived the swap")
		}
	})
	get(p, 0, "s", func(x Value) {
		if string(x.Bytes()) != "42" || x.Encoding() != "int" || x.ExpireMs() != 99999999999999 {
			t.Errorf("s: %q %s %d", x.Bytes(), x.Encoding(), x.ExpireMs())
		}
	})
	get(p, 1, "l", func(x Value) {
		var got []string
		x.ListRange(0, -1, func(_ int, e []byte) bool { got = append(got, string(e)); return true })
		if strings.Join(got, "") != "abc" {
			t.Errorf("l: %v", got)
		}
	})
	get(p, 0, "z", func(x Value) {
		if r, _, _ := x.ZRank([]byte("b"), false); r != 1 {
			t.Errorf("z rank b = %d", r)
		}
	})
	get(p, 0, "set", func(x Value) {
		if x.Encoding() != "hashtable" || x.Len() != 2 {
			t.Errorf("set enc %s", x.Encoding())
		}
	})
	get(p, 0, "st", func(x Value) { // a stream entry with no Stream value: an empty stream
		if x.Kind() != KindStream || x.Len() != 0 {
			t.Errorf("st: %s len %d", x.Type(), x.Len())
		}
	})
	if n := p.Stats().Unknown["rdb:stream"]; n != 0 {
		t.Errorf("stream skipped: %v", p.Stats().Unknown)
	}

	// DropOld empties the serving keyspace at once; Abort keeps it empty.
	ld = p.BeginLoad(LoadOptions{DropOld: true})
	if n, _ := p.DBSize(0); n != 0 {
		t.Errorf("DropOld left %d keys", n)
	}
	ld.Abort()
	if err := ld.Entry(&entries[0]); !errors.Is(err, ErrLoadClosed) {
		t.Errorf("Entry after Abort: %v", err)
	}
}

// loadHandler feeds a Loader from rdbparse.Parse.
type loadHandler struct {
	rdbparse.NopHandler
	ld *Loader
}

func (h loadHandler) Entry(e *rdbparse.Entry) error { return h.ld.Entry(e) }

// Function passes the RDB's function libraries on, as the node does.
func (h loadHandler) Function(code []byte) error { return h.ld.Function(code) }

// TestLoadRealRDB loads real dump files: the committed fixtures, whose
// every key must be there with the type, length, expiry and encoding its
// server showed, and the redis/redis files of the shared corpus when
// present, checked for sanity.
func TestLoadRealRDB(t *testing.T) {
	load := func(t *testing.T, f string) (*Projection, error) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		p := newTestProjection(t, nil)
		ld := p.BeginLoad(LoadOptions{})
		if err := rdbparse.Parse(fh, loadHandler{ld: ld}, nil); err != nil {
			ld.Abort()
			return nil, err
		}
		if err := ld.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := p.sane(); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		return p, nil
	}
	for _, r := range fixtures.RDBs(t) {
		t.Run(r.Name, func(t *testing.T) {
			p, err := load(t, r.Path)
			if err != nil {
				t.Fatal(err)
			}
			if n := p.Stats().LoadedKeys; int(n) != len(r.Expected.Keys) {
				t.Errorf("%d keys loaded, the server had %d", n, len(r.Expected.Keys))
			}
			// The projection names encodings as Redis 7.0 does (no
			// listpack lists or sets, which 7.2 added): compare them with
			// 7.0's only.
			sameEncodings := strings.HasPrefix(r.Expected.RedisVersion, "7.0.")
			for _, k := range r.Expected.Keys {
				get(p, k.DB, string(fixtures.Bytes(k.Key)), func(x Value) {
					if x.Type() != k.Type || int64(x.Len()) != k.Len || x.ExpireMs() != k.ExpireMs || sameEncodings && x.Encoding() != k.Encoding {
						t.Errorf("db %d %q: %s len %d expire %d %s; the server had %s len %d expire %d %s", k.DB, k.Key,
							x.Type(), x.Len(), x.ExpireMs(), x.Encoding(), k.Type, k.Len, k.ExpireMs, k.Encoding)
					}
				})
			}
		})
	}
	dir := fixtures.SharedDir(t, "rdb")
	if dir == "" {
		return
	}
	files, err := filepath.Glob(filepath.Join(dir, "redis__redis", "*.rdb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no RDB file in the shared corpus's redis__redis: %v", err)
	}
	loaded := 0
	for _, f := range files {
		p, err := load(t, f)
		if err != nil {
			t.Logf("%s: parse: %v (skipped)", filepath.Base(f), err)
			continue
		}
		loaded++
		t.Logf("%s: %d keys", filepath.Base(f), p.Stats().LoadedKeys)
	}
	if loaded == 0 {
		t.Error("no RDB file loaded")
	}
}

// TestLoadListpackSetOfIntegers: Redis 7.2 keeps a set listpack-encoded
// when a SREM leaves integers only, DUMPs it (and saves it) as
// RDB_TYPE_SET_LISTPACK, and loads that (RESTORE, a full sync) as a
// listpack again, in its order, never an intset (rdbLoadObject). The
// loader made it an intset from its first member.
func TestLoadListpackSetOfIntegers(t *testing.T) {
	p := newTestProjection(t, nil)
	ec := p.EncodingConfig()
	ec.Redis72 = true
	p.SetEncodingConfig(ec)
	// The DUMP of a 7.2 listpack set holding 7 and 3: type 20, the
	// listpack (total bytes, count, two 7-bit integers with their
	// back-lengths, the end byte) as an RDB string, RDB version 11, and
	// the CRC-64 of all that.
	lp := []byte{11, 0, 0, 0, 2, 0, 0x07, 1, 0x03, 1, 0xff}
	payload := append([]byte{20, byte(len(lp))}, lp...)
	payload = append(payload, 11, 0)
	payload = binary.LittleEndian.AppendUint64(payload, rdbparse.CRC64(payload))
	if err := p.Apply(0, [][]byte{[]byte("RESTORE"), []byte("r"), []byte("0"), payload}); err != nil {
		t.Fatal(err)
	}
	if got := encodingOf(p, "r"); got != "listpack" {
		t.Errorf("RESTORE: %s, want listpack", got)
	}
	var members []string
	get(p, 0, "r", func(x Value) {
		x.SetEach(func(m []byte) bool { members = append(members, string(m)); return true })
	})
	if fmt.Sprint(members) != "[7 3]" {
		t.Errorf("members %v, want [7 3] (a listpack keeps its order)", members)
	}
}
