package projection

import (
	"fmt"
	"strings"
	"testing"
)

// TestChanges checks the one "these keys changed" hook: every applied
// command reports the keys it writes (none it only reads), in Redis's
// signalling order, and the commands that touch whole databases say so.
func TestChanges(t *testing.T) {
	p := newTestProjection(t, nil)
	var got []string
	p.OnChange(func(ch *Change) {
		var ks []string
		for _, k := range ch.Keys {
			ks = append(ks, string(k))
		}
		switch ch.Kind {
		case Modified:
			got = append(got, fmt.Sprintf("%s db%d %s", ch.Cmd, ch.DB, strings.Join(ks, ",")))
		case FlushedDB:
			got = append(got, fmt.Sprintf("%s flush db%d", ch.Cmd, ch.DB))
		case FlushedAll:
			got = append(got, fmt.Sprintf("%s flush all", ch.Cmd))
		case SwappedDB:
			got = append(got, fmt.Sprintf("%s swap db%d db%d", ch.Cmd, ch.DB, ch.DB2))
		}
	})
	f := func(db int, cmd string, want ...string) {
		t.Helper()
		got = nil
		if err := p.Apply(db, args(cmd)); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: changes %q, want %q", cmd, got, want)
		}
	}
	f(0, "SET k v", "set db0 k")
	f(0, "set k v EX 10", "set db0 k")
	f(0, "MSET a 1 b 2", "mset db0 a,b")
	f(0, "DEL a b c", "del db0 a,b,c")
	f(0, "RENAME k k2", "rename db0 k,k2")
	f(0, "SET src x", "set db0 src")
	f(0, "COPY src dst", "copy db0 dst")
	f(0, "COPY src dst DB 3", "copy db3 dst")
	f(0, "COPY nosuch dst2") // nothing copied, nothing changed
	f(0, "MOVE src 1", "move db0 src", "move db1 src")
	f(1, "SADD s1 a b", "sadd db1 s1")
	f(1, "SUNIONSTORE d s1 s2", "sunionstore db1 d")
	f(1, "RPUSH l1 a b", "rpush db1 l1")
	f(1, "LMOVE l1 l2 LEFT RIGHT", "lmove db1 l2,l1")
	f(1, "RPOPLPUSH l1 l2", "rpoplpush db1 l2,l1")
	f(1, "SORT l2 BY nosort STORE d2", "sort db1 d2")
	f(1, "BITOP AND d3 x y", "bitop db1 d3")
	f(1, "ZADD z 1 a", "zadd db1 z")
	f(1, "ZUNIONSTORE d4 2 z w", "zunionstore db1 d4")
	f(1, "PUBLISH ch m")
	f(1, "FLUSHDB", "flushdb flush db1")
	f(0, "SWAPDB 0 2", "swapdb swap db0 db2")
	f(0, "FLUSHALL", "flushall flush all")
	f(2, "NOSUCHCOMMAND k", "nosuchcommand flush db2") // unknown: its db is flushed
	f(2, "INCRBYFLOAT k 1.5", "incrbyfloat db2 k")     // known keys, not applied: removed

	// A MULTI unit reports each command, after the unit is visible.
	got = nil
	if err := p.ApplyBatch([]Command{{DB: 0, Argv: args("SET a 1")}, {DB: 5, Argv: args("DEL b")}}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "set db0 a|del db5 b" {
		t.Errorf("unit: %q", got)
	}

	// A full sync changes everything.
	got = nil
	ld := p.BeginLoad(LoadOptions{})
	if err := ld.Commit(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != " flush all" {
		t.Errorf("full sync: %q", got)
	}
}

// TestChangeVisible checks that OnChange runs once the write can be read
// (an invalidated client that reads again must see the new value).
func TestChangeVisible(t *testing.T) {
	p := newTestProjection(t, nil)
	var seen string
	p.OnChange(func(ch *Change) {
		get(p, 0, "k", func(x Value) { seen = string(x.Bytes()) })
	})
	mustApply(t, p, 0, "SET k v1")
	if seen != "v1" {
		t.Fatalf("OnChange read %q, want v1", seen)
	}
}
