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
		return s.tag &^ tagKey, true
	}
	return 0, false
}

// rep names what a slot's tag says its p is.
func rep(tag uint32) string {
	switch {
	case isCRec(tag):
		return "crec"
	case tag&tagFold != 0:
		return "fold"
	case tag&tagBox != 0:
		return "box"
	}
	return "record"
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
			case "b": // a big hash (past 512 fields): its dense moves with the struct
				var b strings.Builder
				for i := range 600 {
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

	folds, crecs := 0, 0
	for _, k := range keys {
		tag, ok := slotTag(ld, k)
		if !ok {
			t.Fatalf("%s not loaded", k)
		}
		// A small collection without an expire time is a packed record
		// (crec.go) whatever its key's length; the big hash is folded
		// when its key fits; the rest is boxed.
		want := "box"
		switch {
		case k[0] == 'b' && len(k) <= foldKeyMax:
			want = "fold"
		case k[0] != 'b' && k[0] != 'x':
			want = "crec"
		}
		if got := rep(tag); got != want {
			t.Errorf("%s (%d bytes): %s, want %s", k, len(k), got, want)
		}
		switch rep(tag) {
		case "fold":
			folds++
		case "crec":
			crecs++
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
	if folds == 0 || crecs == 0 {
		t.Fatalf("%d keys folded, %d packed records", folds, crecs)
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

	// MEMORY USAGE counts the packed record where a box, the struct and
	// its pack were: the key, a flag byte, the count and the pack's
	// length, the pack, the access time, rounded to 4 in the table's
	// arena (arena.go), to its size class when it is one of the arena's
	// leftovers.
	share := func(v *View, k string) int64 {
		tb := v.d.tableOf(keyHash([]byte(k)))
		return int64(tb.size.Load()) * int64(unsafe.Sizeof(slot{})) / int64(tb.n)
	}
	for _, k := range []string{"l", "h" + strings.Repeat("k", 31), "z" + strings.Repeat("k", 79)} {
		var boxed, rec, pack int64
		src.View(0, [][]byte{[]byte(k)}, func(v *View) {
			boxed = v.MemoryUsage([]byte(k), 0) - share(v, k)
			switch x := v.Get([]byte(k)); x.Kind() {
			case KindList:
				pack = int64(x.list().one.size())
			case KindHash:
				pack = int64(x.hash().pk.size())
			case KindZSet:
				pack = int64(x.zset().pk.size())
			}
		})
		inArena := false
		ld.View(0, [][]byte{[]byte(k)}, func(v *View) {
			rec = v.MemoryUsage([]byte(k), 0) - share(v, k)
			tb := v.d.tableOf(keyHash([]byte(k)))
			inArena = tb.inArena(tb.find([]byte(k), keyHash([]byte(k))).p)
		})
		size := len(k) + 1 + 1 + int(pack) // the count (with the flags) and the pack's length take a byte each here
		if len(k) >= 63 {
			size++ // a long key's length
		}
		size = max(size, 8)     // recMin
		want := allocSize(size) // a leftover of its table's arena (arenaFit)
		if inArena {
			want = int64(size)
		}
		if pack == 0 || rec != want {
			t.Errorf("%s: MEMORY USAGE %d past the slot as a record of a %d-byte pack, want %d", k, rec, pack, want)
		}
		if rec >= boxed-16 { // folding alone saves 16
			t.Errorf("%s: MEMORY USAGE %d past the slot as a record, %d boxed", k, rec, boxed)
		}
	}
	// Reads leave a record as it is.
	for _, k := range keys {
		if tag, _ := slotTag(ld, k); k[0] == 'l' && rep(tag) != "crec" {
			t.Errorf("%s: %s after reads", k, rep(tag))
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
	// A written record becomes a folded key; the others stay records.
	for _, k := range []string{"l", "h", "s", "z", "i", "l" + strings.Repeat("k", 15)} {
		want := "fold"
		if len(k) > 1 {
			want = "crec"
		}
		if tag, _ := slotTag(ld, k); rep(tag) != want {
			t.Errorf("%s: %s after the writes, want %s", k, rep(tag), want)
		}
	}
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
	// A moved or copied collection is a packed record with its new key
	// unless it has an expire time (l2 kept k16's).
	for k, want := range map[string]string{"lnew": "crec", "z2": "crec", "l2": "box"} {
		if tag, _ := slotTag(ld, k); rep(tag) != want {
			t.Errorf("%s: %s, want %s", k, rep(tag), want)
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
func snapshotFile(t testing.TB, p *Projection) []byte {
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

// TestCRecRoundTrip: a packed record gives back, as a view and expanded,
// every field of the struct it was made of — the count, the pack, the
// pack's flag (a list's listpack encoding), a set's encoding and the
// access time — for counts whose head takes one byte and two.
func TestCRecRoundTrip(t *testing.T) {
	pack := []byte("\x03abc\x02de")
	for _, n := range []int32{1, 15, 16, 300} {
		for _, flag := range []bool{false, true} {
			l := &listObj{n: n}
			l.one.set(append([]byte(nil), pack...))
			l.one.setFlag(flag)
			l.lru.t.Store(12345)
			s := &setObj{n: uint16(n), enc: setEncListpack}
			s.pk.set(append([]byte(nil), pack...))
			s.lru.t.Store(77)
			z := &zsetObj{n: n}
			z.pk.set(append([]byte(nil), pack...))
			h := &hashObj{n: n}
			h.pk.set(append([]byte(nil), pack...))
			h.lru.t.Store(9)
			for _, o := range []obj{{kind: KindList, ptr: ptrOf(l)}, {kind: KindSet, ptr: ptrOf(s)},
				{kind: KindZSet, ptr: ptrOf(z)}, {kind: KindHash, ptr: ptrOf(h)}} {
				key := []byte("key:" + strings.Repeat("k", int(n%40)))
				ns, ok := crecSlot(key, &o)
				if !ok {
					t.Fatalf("%v n=%d: no record", o.kind, n)
				}
				if got := unsafe.String(ns.keyData(), ns.klen()); got != string(key) {
					t.Fatalf("%v: key %q", o.kind, got)
				}
				ro := ns.obj()
				for _, v := range []unsafe.Pointer{ro.view(), ro.viewInto(new(listObj), true)} {
					want, got := (*[32]byte)(o.ptr), (*[32]byte)(v)
					// The pack's pointer and capacity differ; its bytes and
					// every other byte of the struct must not.
					if string(want[8:12]) != string(got[8:12]) || string(want[16:]) != string(got[16:]) ||
						(*pbuf)(v).flag() != (*pbuf)(o.ptr).flag() {
						t.Errorf("%v n=%d flag=%v: struct %x, from the record %x", o.kind, n, flag, want[8:], got[8:])
					}
					if b := (*pbuf)(v).bytes(); string(b) != string(pack) {
						t.Errorf("%v: pack %q", o.kind, b)
					}
				}
				if w := ro.lru().t.Load(); w != o.lru().t.Load() {
					t.Errorf("%v: access time %d, want %d", o.kind, w, o.lru().t.Load())
				}
			}
		}
	}
}
