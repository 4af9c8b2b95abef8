package dataset

import (
	"fmt"
	"sort"
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
	same := 0
	for i := 0; i < 10; i++ {
		for _, prefix := range []string{"s:", "h:", "l:", "set:", "z:"} {
			k := fmt.Sprintf("%s%012d", prefix, i)
			a, b := s.Do(t, "DUMP", k), s2.Do(t, "DUMP", k)
			if prefix == "set:" {
				// A hashtable set's order depends on the server's hash seed.
				a, b = sortedLines(s.Do(t, "SMEMBERS", k)), sortedLines(s2.Do(t, "SMEMBERS", k))
			}
			if a != b {
				t.Errorf("%s differs between two loads with the same seed", k)
			}
			if s.Do(t, "EXISTS", k) == ":1\r\n" {
				same++
			}
		}
	}
	if same != 50 {
		t.Errorf("%d of the first 10 keys of each kind found, want 50", same)
	}
	counts := map[string]int{}
	for _, typ := range []string{"string", "hash", "list", "set", "zset"} {
		r := s.Do(t, "SCAN", "0", "COUNT", "100000", "TYPE", typ)
		counts[typ] = strings.Count(r, "\r\n$") - 1 // bulk strings after the cursor's
	}
	want := Counts(n)
	for kind, typ := range []string{"string", "hash", "list", "set", "zset"} {
		if counts[typ] != want[Kind(kind)] {
			t.Errorf("%d %s keys, Counts says %d", counts[typ], typ, want[Kind(kind)])
		}
		// Each kind's indexes are contiguous from 0: the last one exists,
		// the next does not (what redis-benchmark's -r relies on).
		last := fmt.Sprintf("%s%012d", Prefix(Kind(kind)), want[Kind(kind)]-1)
		next := fmt.Sprintf("%s%012d", Prefix(Kind(kind)), want[Kind(kind)])
		if s.Do(t, "TYPE", last) != "+"+typ+"\r\n" || s.Do(t, "EXISTS", next) != ":0\r\n" {
			t.Errorf("%s keys are not numbered 0..%d", typ, want[Kind(kind)]-1)
		}
	}
	if c := Counts(1050); c[String] != 750 || c[Hash] != 100 || c[ZSet] != 50 {
		t.Errorf("Counts(1050) = %v", c)
	}
	if err := LoadSpec(s.Addr(), 1, 1, Spec{StringPct: 50}); err == nil {
		t.Error("bad spec accepted")
	}
}

func sortedLines(reply string) string {
	l := strings.Split(reply, "\r\n")
	sort.Strings(l)
	return strings.Join(l, "\n")
}

func TestSingleMix(t *testing.T) {
	for _, name := range []string{"strings", "hashes", "lists", "sets", "zsets"} {
		spec, err := ParseMix(name)
		if err != nil {
			t.Fatal(err)
		}
		c := spec.Counts(1000)
		nonzero := 0
		for _, n := range c {
			if n != 0 {
				nonzero++
				if n != 1000 {
					t.Errorf("%s: %v", name, c)
				}
			}
		}
		if nonzero != 1 {
			t.Errorf("%s: %d kinds", name, nonzero)
		}
	}
	if _, err := ParseMix("bogus"); err == nil {
		t.Error("bogus mix accepted")
	}
}
