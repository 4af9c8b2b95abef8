package projection

import (
	"strings"
	"testing"

	"github.com/vdr-project/vdr/rdbparse"
)

// TestCommitClaimed loads a partial keyspace: the keys claimed ("a…") are
// replaced by the load (removed when it lacks them), the others stay.
func TestCommitClaimed(t *testing.T) {
	p := newTestProjection(t, nil)
	for _, k := range []string{"a1", "a2", "b1", "b2"} {
		mustApply(t, p, 0, "SET "+k+" old")
	}
	mustApply(t, p, 1, "SET a9 db1")
	ld := p.BeginLoad(LoadOptions{})
	for _, k := range []string{"a1", "a3", "b1"} {
		e := rdbparse.Entry{DB: 0, Key: []byte(k), Kind: rdbparse.KindString, String: []byte("new"), ExpireMs: -1, Last: true}
		if err := ld.Entry(&e); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(k string) bool { return strings.HasPrefix(k, "a") }
	removed, stored, err := ld.CommitClaimed(claim, claim)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 2 || stored != 2 {
		t.Errorf("removed %d stored %d, want 2 2", removed, stored)
	}
	want := map[string]string{"a1": "new", "a2": "", "a3": "new", "b1": "old", "b2": "old"}
	for k, w := range want {
		got := ""
		get(p, 0, k, func(x Value) { got = string(x.Bytes()) })
		if got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	if n, _ := p.DBSize(0); n != 4 {
		t.Errorf("DBSIZE %d, want 4", n)
	}
	if n := p.DeleteWhere(0, claim); n != 2 {
		t.Errorf("DeleteWhere removed %d, want 2", n)
	}
	if n, _ := p.DBSize(0); n != 2 {
		t.Errorf("DBSIZE after DeleteWhere %d, want 2", n)
	}
	if n, _ := p.DBSize(1); n != 1 {
		t.Errorf("db 1 touched: DBSIZE %d", n)
	}
	keys, ok := p.CommandKeys([][]byte{[]byte("DEL"), []byte("x"), []byte("y")}, nil)
	if !ok || len(keys) != 2 {
		t.Errorf("CommandKeys(DEL x y) = %q %v", keys, ok)
	}
	if _, ok := p.CommandKeys([][]byte{[]byte("FLUSHALL")}, nil); ok {
		t.Error("CommandKeys(FLUSHALL) reports keys")
	}
}
