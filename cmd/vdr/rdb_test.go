package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/fixtures"
	"github.com/vdr-project/vdr/internal/redistest"
)

// rdbLines runs "vdr rdb" and returns the decoded JSON lines.
func rdbLines(t *testing.T, args ...string) ([]map[string]any, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runRDB(args, &out, &errOut)
	var lines []map[string]any
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines, errOut.String(), code
}

func TestRunRDB(t *testing.T) {
	s := redistest.Start(t)
	for _, cmd := range [][]string{
		{"SET", "str", "hello"},
		{"SET", "bin", "\xff\x00\x01"},
		{"RPUSH", "list", "a", "b", "c"},
		{"HSET", "hash", "f1", "v1", "f2", "v2"},
		{"SADD", "set", "1", "2", "3"},
		{"ZADD", "zset", "1.5", "m1", "+inf", "m2"},
		{"XADD", "stream", "1-1", "k", "v"},
		{"PEXPIREAT", "str", "4102444800000"},
		{"SET", "other", "x"},
		{"RPUSH", "big", "1", "2", "3", "4", "5"},
		{"SAVE"},
	} {
		s.Do(t, cmd...)
	}
	lines, stderr, code := rdbLines(t, "-max-elems", "3", filepath.Join(s.Dir, "dump.rdb"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	keys := map[string]map[string]any{}
	for _, l := range lines[:len(lines)-1] {
		keys[l["key"].(string)] = l
	}
	if len(keys) != 9 {
		t.Fatalf("%d keys printed: %v", len(keys), lines)
	}
	check := func(key, field string, want any) {
		t.Helper()
		got, _ := json.Marshal(keys[key][field])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("%s.%s = %s, want %s", key, field, got, w)
		}
	}
	check("str", "value", "hello")
	check("str", "expire_ms", 4102444800000)
	check("str", "type", "string")
	check("bin", "value", map[string]string{"hex": "ff0001"})
	check("list", "value", []string{"a", "b", "c"})
	check("list", "encoding", "quicklist2")
	check("hash", "value", []map[string]string{{"field": "f1", "value": "v1"}, {"field": "f2", "value": "v2"}})
	check("set", "encoding", "intset")
	check("zset", "value", []map[string]any{{"member": "m1", "score": 1.5}, {"member": "m2", "score": "inf"}})
	check("big", "len", 5)
	check("big", "truncated", true)
	check("big", "value", []string{"1", "2", "3"})
	check("stream", "type", "stream")
	if e := keys["stream"]["value"].(map[string]any)["entries"].([]any); len(e) != 1 {
		t.Errorf("stream entries %v", e)
	}
	sum := lines[len(lines)-1]["summary"].(map[string]any)
	if sum["keys"].(float64) != 9 || sum["magic"] != "REDIS" || sum["version"].(float64) != 10 {
		t.Errorf("summary %v", sum)
	}
	st, _ := os.Stat(filepath.Join(s.Dir, "dump.rdb"))
	if int64(sum["bytes"].(float64)) != st.Size() {
		t.Errorf("summary bytes %v, file %d", sum["bytes"], st.Size())
	}
	if sum["aux"].(map[string]any)["redis-ver"] != "7.0.15" && !strings.HasPrefix(sum["aux"].(map[string]any)["redis-ver"].(string), "7.") {
		t.Errorf("aux %v", sum["aux"])
	}
	if sum["keys_per_type"].(map[string]any)["list"].(float64) != 2 {
		t.Errorf("keys_per_type %v", sum["keys_per_type"])
	}

	// Errors: a truncated file, a missing file, bad usage.
	data, _ := os.ReadFile(filepath.Join(s.Dir, "dump.rdb"))
	cut := filepath.Join(t.TempDir(), "cut.rdb")
	os.WriteFile(cut, data[:len(data)/2], 0o600)
	if _, stderr, code := rdbLines(t, cut); code != 1 || !strings.Contains(stderr, "truncated") {
		t.Errorf("truncated file: exit %d, stderr %q", code, stderr)
	}
	if _, _, code := rdbLines(t, filepath.Join(t.TempDir(), "missing.rdb")); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
	if _, _, code := rdbLines(t); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}

// TestRunRDBCorpus prints every committed fixture (the key count and RDB
// version must be what its server had) and every shared corpus file that
// parses, and checks the summary's key count against the lines printed.
func TestRunRDBCorpus(t *testing.T) {
	for _, r := range fixtures.RDBs(t) {
		lines, stderr, code := rdbLines(t, r.Path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", r.Name, code, stderr)
		}
		sum := lines[len(lines)-1]["summary"].(map[string]any)
		if int(sum["keys"].(float64)) != len(lines)-1 || len(lines)-1 != len(r.Expected.Keys) {
			t.Errorf("%s: summary says %v keys, %d lines, the server had %d", r.Name, sum["keys"], len(lines)-1, len(r.Expected.Keys))
		}
		if int(sum["version"].(float64)) != r.Expected.RDBVersion || sum["magic"] != r.Expected.Magic {
			t.Errorf("%s: summary %v %v, the server wrote %s %d", r.Name, sum["magic"], sum["version"], r.Expected.Magic, r.Expected.RDBVersion)
		}
	}
	dir := fixtures.SharedDir(t, "rdb")
	if dir == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.rdb"))
	if len(files) == 0 {
		t.Fatalf("no RDB file in %s", dir)
	}
	for _, f := range files {
		lines, stderr, code := rdbLines(t, f)
		if code != 0 {
			if stderr == "" {
				t.Errorf("%s: exit %d without a message", f, code)
			}
			continue
		}
		sum := lines[len(lines)-1]["summary"].(map[string]any)
		if int(sum["keys"].(float64)) != len(lines)-1 {
			t.Errorf("%s: summary says %v keys, %d lines", f, sum["keys"], len(lines)-1)
		}
	}
}
