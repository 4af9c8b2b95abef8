package dataset

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/redistest"
)

func TestLoad(t *testing.T) {
	s := redistest.Start(t)
	const n = 20000
	if err := Load(s.Addr(), n, 7); err != nil {
		t.Fatal(err)
	}
	reply := s.Do(t, "DBSIZE")
	got, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(reply, ":")))
	if got != n {
		t.Fatalf("DBSIZE %d, want %d", got, n)
	}
	// Deterministic: the same seed gives the same values.
	s2 := redistest.Start(t)
	if err := LoadSpec(s2.Addr(), n, 7, Spec{70, 10, 10, 5, 5, 10, 16, 128, 1}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"s:0", "s:1", "s:19999"} {
		if a, b := s.Do(t, "DUMP", k), s2.Do(t, "DUMP", k); a != b {
			t.Errorf("%s differs between two loads with the same seed", k)
		}
	}
	counts := map[string]int{}
	for _, typ := range []string{"string", "hash", "list", "set", "zset"} {
		r := s.Do(t, "SCAN", "0", "COUNT", "100000", "TYPE", typ)
		counts[typ] = strings.Count(r, "\r\n$") // bulk strings after the cursor
	}
	if counts["string"] < n*6/10 || counts["hash"] < n/20 || counts["zset"] < n/50 {
		t.Errorf("mix off: %v", counts)
	}
	if err := LoadSpec(s.Addr(), 1, 1, Spec{StringPct: 50}); err == nil {
		t.Error("bad spec accepted")
	}
}
