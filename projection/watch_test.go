package projection

import "testing"

func TestWatch(t *testing.T) {
	p := newTestProjection(t, nil)
	version := func(db int, key string) (v uint64) {
		p.View(db, args(key), func(vw *View) { v = vw.KeyVersion([]byte(key)) })
		return v
	}
	w0 := p.Watch(0, []byte("k"))
	p.Watch(0, []byte("k")) // a second client
	mustApply(t, p, 0, "SET other 1", "SET k 1 NX")
	mustApply(t, p, 1, "SET k 1")
	w1 := version(0, "k")
	if w1 == w0 {
		t.Fatal("SET k did not move the version")
	}
	mustApply(t, p, 0, "SET other 2")
	if version(0, "k") != w1 {
		t.Error("a write to another key moved the version")
	}
	lk := p.NewLink()
	for _, c := range []string{"SELECT 0", "MULTI", "SET a 1", "LPUSH k x", "EXEC"} {
		if err := lk.Feed(args(c)); err != nil {
			t.Fatal(err)
		}
	}
	w2 := version(0, "k")
	if w2 == w1 {
		t.Error("a MULTI writing k did not move the version")
	}
	mustApply(t, p, 0, "FLUSHDB")
	w3 := version(0, "k")
	if w3 == w2 {
		t.Error("FLUSHDB did not move the version")
	}
	ld := p.BeginLoad(LoadOptions{})
	ld.Commit()
	if version(0, "k") == w3 {
		t.Error("a full-sync swap did not move the version")
	}
	p.Unwatch(0, []byte("k"))
	if version(0, "k") == 0 {
		t.Error("unwatched while a client still watches")
	}
	p.Unwatch(0, []byte("k"))
	if version(0, "k") != 0 || p.watch.n.Load() != 0 {
		t.Error("still watched after the last Unwatch")
	}
	if p.Watch(0, []byte("k")) == w0 {
		t.Error("watching again reused an old version")
	}
}
