package projection

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// TestFoldCopiesEveryField: foldSlot copies each collection struct field
// by field; a field added to one of them must be added there too, and the
// key's offset assumes each struct is 32 bytes.
func TestFoldCopiesEveryField(t *testing.T) {
	for _, c := range []struct {
		v      any
		fields int
	}{{listObj{}, 4}, {setObj{}, 5}, {zsetObj{}, 4}, {hashObj{}, 4}} {
		typ := reflect.TypeOf(c.v)
		if typ.NumField() != c.fields {
			t.Errorf("%s has %d fields; foldSlot copies %d", typ, typ.NumField(), c.fields)
		}
		if typ.Size() != foldOffset {
			t.Errorf("%s is %d bytes; folded keys start at %d", typ, typ.Size(), foldOffset)
		}
	}
	for _, n := range []int{0, 16, 17, 32, 33, 48} {
		p, _ := newFolded[hashObj](make([]byte, n))
		if got := allocSize(int(foldedSize(n))); got != foldedSize(n) {
			t.Errorf("folded size %d for a %d-byte key is not a size class (%d)", foldedSize(n), n, got)
		}
		_ = p
	}
	if unsafe.Sizeof(folded[listObj, [16]byte]{}) != uintptr(foldedSize(16)) {
		t.Errorf("folded[listObj,[16]byte] is %d bytes", unsafe.Sizeof(folded[listObj, [16]byte]{}))
	}
}

// slotTag returns the tag bits (kind, box, fold) of key's slot in db 0.
func slotTag(p *Projection, key string) (tag uint32, ok bool) {
	d := p.cur.Load().dbs[0]
	d.rlockAll()
	defer d.runlockAll()
	k := []byte(key)
	if s := d.tableOf(keyHash(k)).find(k, keyHash(k)); s != nil {
		return s.tag &^ tagHash, true
	}
	return 0, false
}

// TestFoldedKeys: a load folds each list, set, sorted set and hash whose
// key has no expire time and is at most 48 bytes, and nothing else; the
// folded keys read, change, expire, move and go exactly as boxed ones do
// (the same commands on the projection the snapshot came from, where
// every key is boxed, give the same keyspace).
func TestFoldedKeys(t *testing.T) {
	now := int64(1_000_000)
	src := newTestProjection(t, &now)
	noFold.Store(true) // src: every key boxed, as before folding
	defer noFold.Store(false)
	var keys []string
	for _, n := range []int{1, 16, 17, 32, 33, 48, 49, 80} {
		for _, typ := range []string{"l", "s", "i", "z", "h", "b", "x"} {
			k := typ + strings.Repeat("k", n-1)
			keys = append(keys, k)
			switch typ {
			case "l":
				mustApply(t, src, 0, "RPUSH "+k+" a bb 0123456789abcdef0123")
			case "s":
				mustApply(t, src, 0, "SADD "+k+" m1 m2 m3")
			case "i":
				mustApply(t, src, 0, "SADD "+k+" 1 2 3")
			case "z":
				mustApply(t, src, 0, "ZADD "+k+" 1 a 2 b 2.5 c")
			case "h":
				mustApply(t, src, 0, "HSET "+k+" f1 v1 f2 0123456789abcdef0123")
			case "b": // a big hash: its dense moves with the struct
				var b strings.Builder
				for i := range 200 {
					fmt.Fprintf(&b, " f%d v%d", i, i)
				}
				mustApply(t, src, 0, "HSET "+k+b.String())
			case "x":
				mustApply(t, src, 0, "RPUSH "+k+" a b", "PEXPIREAT "+k+" 5000000")
			}
		}
	}
	mustApply(t, src, 0, "SET str v", "XADD st 1-1 f v")

	file := snapshotFile(t, src)
	noFold.Store(false)
	ld := loadRDB(t, file)
	ld.opts.Now = src.opts.Now

	folds := 0
	for _, k := range keys {
		tag, ok := slotTag(ld, k)
		if !ok {
			t.Fatalf("%s not loaded", k)
		}
		want := len(k) <= foldKeyMax && k[0] != 'x'
		if got := tag&tagFold != 0; got != want {
			t.Errorf("%s (%d bytes): folded %v, want %v", k, len(k), got, want)
		}
		if tag&tagFold != 0 {
			folds++
			if tag&tagBox == 0 {
				t.Errorf("%s: folded without the box bit", k)
			}
		}
		if a, b := readAll(src, k), readAll(ld, k); a != b {
			t.Errorf("%s loaded differs:\n%s\n%s", k, a, b)
		}
	}
	for _, k := range []string{"str", "st"} {
		if tag, _ := slotTag(ld, k); tag&tagFold != 0 {
			t.Errorf("%s folded", k)
		}
	}
	if folds == 0 {
		t.Fatal("nothing folded")
	}
	check := func(stage string) {
		t.Helper()
		for _, p := range []*Projection{src, ld} {
			if err := p.sane(); err != nil {
				t.Fatalf("%s: %v", stage, err)
			}
		}
		if a, b := canonical(src), canonical(ld); !maps2Equal(a, b) {
			t.Fatalf("%s: keyspaces differ:\n%v\n%v", stage, a, b)
		}
		for _, k := range keys {
			if a, b := readAll(src, k), readAll(ld, k); a != b {
				t.Fatalf("%s: %s differs:\n%s\n%s", stage, k, a, b)
			}
		}
	}
	check("loaded")

	// MEMORY USAGE counts the folded allocation where a box was.
	for _, k := range []string{"l", "h" + strings.Repeat("k", 31)} {
		var boxed, fold int64
		src.View(0, [][]byte{[]byte(k)}, func(v *View) { boxed = v.MemoryUsage([]byte(k), 0) })
		ld.View(0, [][]byte{[]byte(k)}, func(v *View) { fold = v.MemoryUsage([]byte(k), 0) })
		if boxed-fold != 16 {
			t.Errorf("%s: MEMORY USAGE %d boxed, %d folded: want 16 less", k, boxed, fold)
		}
	}

	k16, k48 := "l"+strings.Repeat("k", 15), "h"+strings.Repeat("k", 47)
	both := func(cmds ...string) {
		t.Helper()
		noFold.Store(true)
		mustApply(t, src, 0, cmds...)
		noFold.Store(false)
		mustApply(t, ld, 0, cmds...)
	}
	both("RPUSH l c", "HSET h f3 v3", "SADD s m4", "ZADD z 3 d", "SADD i 4")
	check("written")
	// Writes that create a collection fold it (storeNew), the …STORE
	// commands too; a key longer than 48 bytes is boxed.
	both("DEL l h s", "RPUSH l a", "LPUSH l b", "HSET h f v", "SADD s m", "SMOVE s s2 m", "SADD s m2",
		"SUNIONSTORE s3 s2 s", "RPUSH "+k48+"xx a", "HSETNX hh f v", "LPUSHX l c",
		"ZADD zn 1 a 2 b", "ZINCRBY zn 1 c", "ZUNIONSTORE zu 2 zn z", "ZRANGESTORE zr zn 0 -1", "SORT l ALPHA STORE ls")
	for _, k := range []string{"l", "h", "s", "s2", "hh", "s3", "zn", "zu", "zr", "ls"} {
		if tag, _ := slotTag(ld, k); tag&tagFold == 0 {
			t.Errorf("%s: created by a write, not folded", k)
		}
	}
	for _, k := range []string{k48 + "xx"} {
		if tag, _ := slotTag(ld, k); tag&tagFold != 0 {
			t.Errorf("%s: folded", k)
		}
	}
	check("created")
	both("PEXPIREAT "+k16+" 2000000", "PEXPIREAT "+k48+" 2000000", "PERSIST "+k48, "EXPIRE s 0")
	if tag, _ := slotTag(ld, k16); tag&tagFold != 0 {
		t.Errorf("%s: still folded with an expire time", k16)
	}
	check("expired")
	both("RENAME l lnew", "RENAME "+k16+" l2", "COPY z z2", "MOVE i 3", "SET h now-a-string")
	// A moved or copied collection folds with its new key unless it has
	// an expire time (l2 kept k16's).
	for k, want := range map[string]bool{"lnew": true, "z2": true, "l2": false} {
		if tag, _ := slotTag(ld, k); (tag&tagFold != 0) != want {
			t.Errorf("%s: folded %v, want %v", k, tag&tagFold != 0, want)
		}
	}
	both("DEL z", "HSET "+k48+" f9 v9", "RPUSH x"+strings.Repeat("k", 15)+" c")
	check("moved")
	var big []string
	for i := range 300 {
		big = append(big, fmt.Sprintf("e%d", i))
	}
	both("RPUSH lnew "+strings.Join(big, " "), "ZADD z"+strings.Repeat("k", 15)+" 1 "+strings.Repeat("m", 100))
	check("converted")
	now = 3_000_000 // the expire times pass: reads hide them alike
	check("after the clock")
	both("FLUSHALL")
	check("flushed")
}

// snapshotFile returns p's keyspace as an RDB file, written by a
// snapshot walked at once.
func snapshotFile(t *testing.T, p *Projection) []byte {
	t.Helper()
	r := &snapshotRDB{resized: map[int]bool{}}
	s, err := p.BeginSnapshot(r.sink)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	if err := s.Walk(func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return r.file()
}
