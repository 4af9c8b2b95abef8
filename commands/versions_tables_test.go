package commands

import (
	"testing"

	"github.com/vdr-project/vdr/internal/compat"
)

// TestTablesPerVersion checks the per-personality tables built from the
// generated rows: each version's command count (as its COMMAND COUNT),
// what a version lacks, that rows the same in several versions are one
// row, and that versionIndex maps each supported version to its table.
func TestTablesPerVersion(t *testing.T) {
	counts := map[compat.Version]int{compat.Redis70: 240, compat.Redis72: 241, compat.Redis74: 250, compat.Valkey72: 241, compat.Valkey80: 241}
	for i, v := range compat.Supported {
		if versionIndex(v) != i {
			t.Errorf("versionIndex(%s) = %d, want %d", v, versionIndex(v), i)
		}
		if n := len(CommandsOf(v)); n != counts[v] {
			t.Errorf("%s: %d commands, want %d", v, n, counts[v])
		}
	}
	has := func(v compat.Version, name string) bool { return FindIn(v, name) != nil }
	for _, c := range []struct {
		name string
		in   []compat.Version
	}{
		{"client|no-touch", []compat.Version{compat.Redis72, compat.Redis74, compat.Valkey72, compat.Valkey80}},
		{"client|setinfo", []compat.Version{compat.Redis72, compat.Redis74, compat.Valkey72, compat.Valkey80}},
		{"httl", []compat.Version{compat.Redis74}},
		{"hpexpireat", []compat.Version{compat.Redis74}},
		{"client|capa", []compat.Version{compat.Valkey80}},
		{"waitaof", []compat.Version{compat.Redis72, compat.Redis74, compat.Valkey72, compat.Valkey80}},
		{"get", compat.Supported},
	} {
		for _, v := range compat.Supported {
			want := false
			for _, w := range c.in {
				want = want || w == v
			}
			if has(v, c.name) != want {
				t.Errorf("%s in %s: %v, want %v", c.name, v, has(v, c.name), want)
			}
		}
	}
	if FindIn(compat.Redis72, "hpexpireat") != nil || !FindIn(compat.Redis74, "hpexpireat").IsWrite() {
		t.Error("hpexpireat: want a write row in 7.4 only")
	}
	// GET's row is the same in 7.2, 7.4 and Valkey: one row, shared.
	if g72, g74 := FindIn(compat.Redis72, "get"), FindIn(compat.Redis74, "get"); g72 != g74 || g72.Handler == nil {
		t.Error("GET: 7.2 and 7.4 do not share one bound row")
	}
	// Newer and older versions fall back to the nearest table.
	for v, want := range map[compat.Version]int{
		{Major: 6, Minor: 2}: 0, {Major: 7, Minor: 6}: 2, {Major: 8, Minor: 0}: 2,
		{Valkey: true, Major: 8, Minor: 1}: 4, {Valkey: true, Major: 7, Minor: 2, Patch: 11}: 3,
	} {
		if got := versionIndex(v); got != want {
			t.Errorf("versionIndex(%s) = %d, want %d", v, got, want)
		}
	}
}
