package projection

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/fixtures"
	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/rdbparse"
)

// restoreFixture builds, in db 1 of a real redis-server, one key per type
// and encoding (big ones with n elements) and returns their names.
func restoreFixture(t *testing.T, rc *rconn, n int) []string {
	t.Helper()
	rc.do(t, "SELECT", "1")
	bigArgs := func(cmd, key string, f func(i int) []string) {
		args := []string{cmd, key}
		for i := 0; i < n; i++ {
			args = append(args, f(i)...)
		}
		if r, ok := rc.do(t, args...).(redisErr); ok {
			t.Fatalf("%s %s: %s", cmd, key, r)
		}
	}
	cmds := [][]string{
		{"SET", "s:int", "12345"},
		{"SET", "s:embstr", "hello"},
		{"SET", "s:raw", strings.Repeat("r", 100)},
		{"SET", "s:neg", "-9223372036854775808"},
		{"SET", "s:1mb", strings.Repeat("0123456789abcdef", 1<<16)},
		{"SET", "s:bin", "a\x00b\r\n\xff"},
		{"RPUSH", "l:small", "a", "1", "-7", strings.Repeat("x", 70)},
		{"SADD", "set:int", "1", "2", "-3", "4000000000"},
		{"SADD", "set:str", "a", "b", "c"},
		{"ZADD", "z:small", "1.5", "a", "-inf", "b", "2", "c", "0.1", "d"},
		{"HSET", "h:small", "f1", "v1", "f2", "2", "f3", ""},
		{"HSET", "h:long", "f", strings.Repeat("v", 100)},
		{"ZADD", "z:long", "1", strings.Repeat("m", 100)},
	}
	for _, c := range cmds {
		if r, ok := rc.do(t, c...).(redisErr); ok {
			t.Fatalf("%v: %s", c[:2], r)
		}
	}
	bigArgs("RPUSH", "l:big", func(i int) []string { return []string{"e" + strconv.Itoa(i)} })
	bigArgs("SADD", "set:big", func(i int) []string { return []string{"m" + strconv.Itoa(i)} })
	bigArgs("SADD", "set:bigint", func(i int) []string { return []string{strconv.Itoa(i * 3)} })
	bigArgs("ZADD", "z:big", func(i int) []string { return []string{strconv.Itoa(i % 977), "m" + strconv.Itoa(i)} })
	bigArgs("HSET", "h:big", func(i int) []string { return []string{"f" + strconv.Itoa(i), strconv.Itoa(i)} })
	keys := strs(rc.do(t, "KEYS", "*"))
	rc.do(t, "SELECT", "0")
	return keys
}

// setVersion rewrites a DUMP payload's RDB version and recomputes its CRC.
func setVersion(payload []byte, ver uint16) []byte {
	b := bytes.Clone(payload[:len(payload)-8])
	binary.LittleEndian.PutUint16(b[len(b)-2:], ver)
	return binary.LittleEndian.AppendUint64(b, rdbparse.CRC64(b))
}

func applyArgs(p *Projection, db int, args ...string) error {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return p.Apply(db, argv)
}

// TestRestoreFromRedis DUMPs every type and encoding on a real
// redis-server 7.0.15 (default and small encoding thresholds, collections
// of 5k elements, 100k with VDR_LONG=1, and a 1 MB string; VDR_RESTORE_N
// sets the size),
// RESTOREs each payload into both the server and the projection with
// every option form (0 / ABSTTL, REPLACE over another type, IDLETIME,
// FREQ), and compares the two; the same payloads re-labelled as RDB 11
// and 12 must restore to the same values in the projection.
func TestRestoreFromRedis(t *testing.T) {
	n := 5_000
	if os.Getenv("VDR_LONG") != "" {
		n = 100_000
	}
	if s := os.Getenv("VDR_RESTORE_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, small := range []bool{false, true} {
		t.Run(fmt.Sprintf("small=%v", small), func(t *testing.T) {
			var conf []string
			ec := EncodingConfig{}
			if small {
				conf = []string{"--hash-max-listpack-entries", "2", "--hash-max-listpack-value", "4",
					"--zset-max-listpack-entries", "2", "--zset-max-listpack-value", "4",
					"--set-max-intset-entries", "2", "--list-max-listpack-size", "2"}
				ec = EncodingConfig{HashMaxListpackEntries: 2, HashMaxListpackValue: 4, ZSetMaxListpackEntries: 2,
					ZSetMaxListpackValue: 4, SetMaxIntsetEntries: 2, ListMaxListpackSize: 2}
			}
			srv := redistest.Start(t, conf...)
			rc := dialRedis(t, srv.Addr())
			p := newTestProjection(t, nil)
			p.opts.OnUnknown = Resync
			ec.ensureDefaults()
			p.SetEncodingConfig(ec)
			keys := restoreFixture(t, rc, n)
			future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
			opts := [][]string{
				{"0"},
				{future, "ABSTTL"},
				{"0", "REPLACE"},
				{"0", "IDLETIME", "100"},
				{"0", "FREQ", "7", "REPLACE"},
				{future, "ABSTTL", "REPLACE", "IDLETIME", "0"},
			}
			payloads := map[string][]byte{}
			for _, k := range keys {
				rc.do(t, "SELECT", "1")
				d, ok := rc.do(t, "DUMP", k).(string)
				rc.do(t, "SELECT", "0")
				if !ok {
					t.Fatalf("DUMP %s failed", k)
				}
				payloads[k] = []byte(d)
				for i, o := range opts {
					dst := fmt.Sprintf("%s#%d", k, i)
					if slices.Contains(o, "REPLACE") { // REPLACE over a key of another type
						rc.do(t, "SET", dst, "old")
						if err := applyArgs(p, 0, "SET", dst, "old"); err != nil {
							t.Fatal(err)
						}
					}
					args := append([]string{"RESTORE", dst, o[0], d}, o[1:]...)
					if r, bad := rc.do(t, args...).(redisErr); bad {
						t.Fatalf("redis %s %v: %s", dst, o, r)
					}
					if err := applyArgs(p, 0, args...); err != nil {
						t.Fatalf("projection RESTORE %s %v: %v", dst, o, err)
					}
				}
			}
			if got := compareWithRedis(t, p, rc, []int{0}, nil); got != len(keys)*len(opts) {
				t.Errorf("compared %d keys, want %d", got, len(keys)*len(opts))
			}
			// RDB 11 and 12 carry these types with the same bytes.
			for _, ver := range []uint16{11, 12} {
				for _, k := range keys {
					dst := fmt.Sprintf("%s#v%d", k, ver)
					if err := applyArgs(p, 0, "RESTORE", dst, "0", string(setVersion(payloads[k], ver))); err != nil {
						t.Fatalf("RESTORE v%d %s: %v", ver, k, err)
					}
				}
			}
			snap := snapshotDB(p, 0)
			rc.do(t, "SELECT", "1")
			for _, ver := range []int{11, 12} {
				for _, k := range keys {
					compareKey(t, rc, 1, k, snap[fmt.Sprintf("%s#v%d", k, ver)])
				}
			}
			rc.do(t, "SELECT", "0")
			if err := p.sane(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRestoreErrors: whatever Redis refuses, the projection refuses too
// (an explicit error, handled by OnUnknown), and nothing panics.
func TestRestoreErrors(t *testing.T) {
	srv := redistest.Start(t)
	rc := dialRedis(t, srv.Addr())
	rc.do(t, "SET", "src", "v")
	d, _ := rc.do(t, "DUMP", "src").(string)
	good := []byte(d)
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-1] ^= 1
	v14 := setVersion(good, 14) // newer than any Redis rdbparse knows (13)
	// A string announcing 50 bytes and holding 1, CRC right (Redis reads
	// into the footer, so the shortfall must be longer than it).
	trunc := setVersion([]byte{rdbparse.TypeString, 50, 'v', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10)
	cases := [][]string{
		{"RESTORE", "k", "0", string(badCRC)},
		{"RESTORE", "k", "0", string(v14)},
		{"RESTORE", "k", "0", string(trunc)},
		{"RESTORE", "k", "0", "short"},
		{"RESTORE", "k", "-1", d},
		{"RESTORE", "k", "x", d},
		{"RESTORE", "k", "0", d, "IDLETIME", "-1"},
		{"RESTORE", "k", "0", d, "FREQ", "256"},
		{"RESTORE", "k", "0", d, "FREQ", "1", "IDLETIME", "1"},
		{"RESTORE", "k", "0", d, "IDLETIME", "1", "FREQ", "1"},
		{"RESTORE", "k", "0", d, "IDLETIME"},
		{"RESTORE", "k", "0", d, "NOPE"},
		{"RESTORE", "busy", "0", d}, // BUSYKEY
		{"RESTORE-ASKING", "busy", "0", d},
	}
	rc.do(t, "SET", "busy", "x")
	for _, c := range cases {
		r := rc.do(t, c...)
		if _, ok := r.(redisErr); !ok {
			t.Errorf("redis accepted %q: %v", c[:min(len(c), 5)], r)
		}
		p := newTestProjection(t, nil)
		p.opts.OnUnknown = Resync
		mustApply(t, p, 0, "SET busy x")
		if err := applyArgs(p, 0, c...); !errors.Is(err, ErrNeedResync) {
			t.Errorf("projection %q: %v", c[:min(len(c), 5)], err)
		}
		// Under Invalidate, the key named is dropped.
		q := newTestProjection(t, nil)
		mustApply(t, q, 0, "SET k old", "SET busy x")
		if err := applyArgs(q, 0, c...); err != nil {
			t.Errorf("invalidate %q: %v", c[:min(len(c), 5)], err)
		}
		get(q, 0, c[1], func(x Value) {
			if x.Exists() {
				t.Errorf("%q: key kept after a failed RESTORE", c[:min(len(c), 5)])
			}
		})
	}
	// RESTORE-ASKING is RESTORE.
	p := newTestProjection(t, nil)
	if err := applyArgs(p, 0, "RESTORE-ASKING", "k", "0", d); err != nil {
		t.Fatal(err)
	}
	get(p, 0, "k", func(x Value) {
		if string(x.Bytes()) != "v" {
			t.Errorf("RESTORE-ASKING: %q", x.Bytes())
		}
	})
}

// TestRestoreListpackEx restores RDB 12 payloads of type
// RDB_TYPE_HASH_LISTPACK_EX cut from real files (the object bytes of one
// key): every listpack-ex hash of the committed Redis 7.4 fixtures, and
// the Redis 7.4.5 file of the shared corpus when present. Fields, TTLs,
// order and encoding must be what the server showed.
func TestRestoreListpackEx(t *testing.T) {
	type lpexCase struct {
		name, path, key string
		order           []string         // HGETALL order
		ttls            map[string]int64 // fields with a TTL
	}
	var cases []lpexCase
	for _, r := range fixtures.RDBs(t) {
		for _, k := range r.Expected.Keys {
			if k.Encoding != "listpackex" {
				continue
			}
			c := lpexCase{name: r.Name + "/" + k.Key, path: r.Path, key: k.Key, ttls: k.FieldTTLMs}
			for _, pr := range k.Pairs() {
				c.order = append(c.order, string(pr[0]))
			}
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		t.Fatal("no listpack-ex hash in the committed fixtures")
	}
	if dir := fixtures.SharedDir(t, "rdb"); dir != "" {
		cases = append(cases, lpexCase{name: "shared/hash_as_listpack_with_hfe", key: "listpack-hfe",
			path:  filepath.Join(dir, "HDT3213__rdb", "cases__hash_as_listpack_with_hfe.rdb"),
			order: []string{"F1", "F3", "F2"}, ttls: map[string]int64{"F1": 2755482478325, "F3": 2755484483878}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			payload := cutObject(t, raw, rdbparse.TypeHashListpackEx, tc.key)
			now := int64(1)
			p := newTestProjection(t, &now)
			if err := applyArgs(p, 0, "RESTORE", "h", "0", string(payload)); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(hfields(p, "h"), " "); got != strings.Join(tc.order, " ") {
				t.Errorf("order %q, want %q", got, strings.Join(tc.order, " "))
			}
			got := hexpire(p, "h", tc.order...)
			for i, f := range tc.order {
				want, ok := tc.ttls[f]
				if !ok {
					want = -1
				}
				if got[i] != want {
					t.Errorf("%s TTL %d, want %d", f, got[i], want)
				}
			}
			if e := encodingOf(p, "h"); e != "listpackex" {
				t.Errorf("encoding %s", e)
			}
		})
	}
}

// cutObject returns a DUMP payload (RDB version 12) of key's object, of
// RDB type typ, cut out of the RDB file raw: the object runs from after
// the key to the first end at which the payload decodes whole.
func cutObject(t *testing.T, raw []byte, typ byte, key string) []byte {
	t.Helper()
	at := bytes.Index(raw, append([]byte{typ, byte(len(key))}, key...))
	if at < 0 {
		t.Fatalf("key %q of type %d not found in the file", key, typ)
	}
	start := at + 2 + len(key)
	for end := start + 1; end <= len(raw)-9; end++ {
		payload := append([]byte{typ}, raw[start:end]...)
		payload = binary.LittleEndian.AppendUint16(payload, 12)
		payload = binary.LittleEndian.AppendUint64(payload, rdbparse.CRC64(payload))
		if _, err := rdbparse.DecodeDump(payload, rdbparse.NopHandler{}, nil); err == nil {
			return payload
		}
	}
	t.Fatalf("no end of key %q's object decodes", key)
	return nil
}
