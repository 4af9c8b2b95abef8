package projection

import (
	"bytes"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/vdr-project/vdr/rdbparse"
)

// arenaBooks sums every table's arena of p's db 0: tables with one, their
// bytes, and the keys whose record is in one.
func arenaBooks(p *Projection) (tables, bytes, inArena int) {
	d := p.cur.Load().dbs[0]
	d.rlockAll()
	defer d.runlockAll()
	bs := d.tabs.Load()
	for i := range bs.t {
		tb := &bs.t[i]
		if tb.a == nil {
			continue
		}
		tables++
		bytes += tb.arenaBytes()
		tb.each(func(s *slot) bool {
			if tb.inArena(s.p) {
				inArena++
			}
			return true
		})
	}
	return
}

// loadWithout loads an RDB file with a layout knob (noArena, noCRec)
// set to off for the load, and reset after.
func loadWithout(tb testing.TB, file []byte, knob *atomic.Bool, off bool) *Projection {
	tb.Helper()
	knob.Store(off)
	defer knob.Store(false)
	return loadRDB(tb, file)
}

// slotP returns where key's slot in db 0 points.
func slotP(p *Projection, key string) unsafe.Pointer {
	d := p.cur.Load().dbs[0]
	d.rlockAll()
	defer d.runlockAll()
	k := []byte(key)
	if s := d.tableOf(keyHash(k)).find(k, keyHash(k)); s != nil {
		return s.p
	}
	return nil
}

// TestArenaCompaction: a load puts the records in their tables' arenas;
// overwrites, deletes, expire changes and renames of the loaded keys
// leave dead bytes there, and a table is compacted once a quarter of its
// arena is dead. Through all of it the keyspace is the one a projection
// without arenas gets from the same commands, the books of every arena
// balance (sane), a value a reader holds from before a compaction still
// reads the same, and a key the writes never named keeps its access time
// across the moves. Readers run beside the writes (for -race).
func TestArenaCompaction(t *testing.T) {
	now := int64(1_000_000)
	src := newTestProjection(t, &now)
	const n = 6000
	key := func(i int) string { return fmt.Sprintf("k:%06d", i) }
	for i := range n {
		k := key(i)
		switch i % 5 {
		case 0, 1:
			mustApply(t, src, 0, fmt.Sprintf("SET %s v!%d,not-packed,%d", k, i, i*i))
		case 2:
			mustApply(t, src, 0, fmt.Sprintf("SET %s %x", k, i*7919), fmt.Sprintf("PEXPIREAT %s %d", k, 9_000_000+i))
		case 3:
			mustApply(t, src, 0, fmt.Sprintf("RPUSH %s a%d b c%d", k, i, i))
		default:
			mustApply(t, src, 0, fmt.Sprintf("HSET %s f1 v%d f2 w%d", k, i, i))
		}
	}
	// Four stripes: sixteen tables of ~375 keys, arenas of kilobytes (a
	// default projection spreads these keys three to a table).
	ld, err := New(Options{Stripes: 4, Buckets: 16, Now: src.opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	lo := ld.BeginLoad(LoadOptions{})
	if err := rdbparse.Parse(bytes.NewReader(snapshotFile(t, src)), loadHandler{ld: lo}, nil); err != nil {
		t.Fatal(err)
	}
	if err := lo.Commit(); err != nil {
		t.Fatal(err)
	}

	tables, _, inArena := arenaBooks(ld)
	bases := map[int]unsafe.Pointer{}
	for i := range ld.cur.Load().dbs[0].tabs.Load().t {
		if tb := &ld.cur.Load().dbs[0].tabs.Load().t[i]; tb.a != nil {
			bases[i] = unsafe.Pointer(tb.a)
		}
	}
	if tables == 0 || inArena < n*9/10 {
		t.Fatalf("after the load: %d tables with an arena, %d of %d records in one", tables, inArena, n)
	}
	if err := ld.sane(); err != nil {
		t.Fatal(err)
	}

	// A value held from before: a plain string, so its bytes are the
	// record's, in an arena.
	var held []byte
	get(ld, 0, key(0), func(x Value) { held = x.Bytes() })
	heldWant := string(held)
	if p0 := slotP(ld, key(0)); uintptr(unsafe.Pointer(&held[0]))-uintptr(p0) > 64 {
		t.Fatalf("the held value is not the record's bytes")
	}

	// Keys the writes never name get an access time of their own.
	const stamp = 4242
	untouched := map[string]unsafe.Pointer{}
	for i := 5; i < n; i += 50 {
		untouched[key(i)] = slotP(ld, key(i))
	}
	ld.View(0, nil, func(v *View) {
		for k := range untouched {
			o, _ := v.d.lookupR([]byte(k))
			o.lru().t.Store(stamp)
		}
	})

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // readers beside the writes
		defer wg.Done()
		r := rand.New(rand.NewSource(2))
		for !stop.Load() {
			k := []byte(key(r.Intn(n)))
			ld.View(0, [][]byte{k}, func(v *View) {
				x := v.Peek(k)
				switch x.Kind() {
				case KindString:
					_ = x.Bytes()
				case KindList:
					x.ListRange(0, -1, func(int, []byte) bool { return true })
				case KindHash:
					x.HashEach(func(f, v []byte) bool { return true })
				}
			})
		}
	}()

	r := rand.New(rand.NewSource(1))
	for round := range 6 {
		for range n / 6 {
			i := r.Intn(n)
			if _, skip := untouched[key(i)]; skip || i == 0 {
				continue
			}
			var cmd string
			switch r.Intn(6) {
			case 0, 1:
				cmd = fmt.Sprintf("SET %s new%d", key(i), round)
			case 2:
				cmd = "DEL " + key(i)
			case 3:
				cmd = fmt.Sprintf("PEXPIREAT %s %d", key(i), 8_000_000+i)
			case 4:
				cmd = fmt.Sprintf("RENAME %s r:%s", key(i), key(i))
			default:
				cmd = "PERSIST " + key(i)
			}
			for _, p := range []*Projection{src, ld} {
				if err := p.Apply(0, args(cmd)); err != nil && cmd[0] != 'R' {
					t.Fatalf("%s: %v", cmd, err)
				}
			}
		}
		if a, b := canonical(src), canonical(ld); !maps2Equal(a, b) {
			t.Fatalf("round %d: the keyspaces differ", round)
		}
		if err := ld.sane(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	stop.Store(true)
	wg.Wait()

	d := ld.cur.Load().dbs[0]
	bs := d.tabs.Load()
	replaced := 0
	for i := range bs.t {
		tb := &bs.t[i]
		if tb.a != nil && tb.a.dead*4 >= tb.arenaBytes() {
			t.Errorf("table %d: %d of %d arena bytes dead, not compacted", i, tb.a.dead, tb.arenaBytes())
		}
		if tb.a != nil && unsafe.Pointer(tb.a) != bases[i] {
			replaced++
		}
	}
	if replaced < len(bs.t)/2 {
		t.Errorf("%d of %d tables compacted", replaced, len(bs.t))
	}
	if string(held) != heldWant {
		t.Errorf("a value held from before the compactions reads %q, was %q", held, heldWant)
	}
	moved := 0
	for k, p0 := range untouched {
		ld.View(0, nil, func(v *View) {
			o, ok := v.d.lookupR([]byte(k))
			if !ok {
				t.Fatalf("%s lost", k)
			}
			if got := o.lru().t.Load(); got != stamp {
				t.Errorf("%s: access time %d after the compactions, want %d", k, got, stamp)
			}
		})
		if slotP(ld, k) != p0 {
			moved++
		}
	}
	if moved == 0 {
		t.Errorf("no untouched key was moved by a compaction")
	}

	// A cluster shard's FLUSHALL (DeleteWhere) compacts as it goes too.
	if n := ld.DeleteWhere(0, func(k string) bool { return k[len(k)-1]%2 == 0 }); n == 0 {
		t.Fatal("DeleteWhere removed nothing")
	}
	for i := range bs.t {
		if tb := &ld.cur.Load().dbs[0].tabs.Load().t[i]; tb.a != nil && tb.a.dead*4 >= tb.arenaBytes() {
			t.Errorf("table %d after DeleteWhere: %d of %d arena bytes dead", i, tb.a.dead, tb.arenaBytes())
		}
	}
	if err := ld.sane(); err != nil {
		t.Fatal(err)
	}
}

// TestArenaFit: an arena's size is one the allocator hands out exactly,
// as close under what its records need as the size classes allow.
func TestArenaFit(t *testing.T) {
	for _, total := range []int{0, 3, 8, 100, 1000, 1025, 5000, 18500, 32767, 32768, 40000, 100001, 1 << 20} {
		got := arenaFit(total)
		if got > total || (got > 0 && allocSize(got) != int64(got)) {
			t.Errorf("arenaFit(%d) = %d: over the records, or rounded up to %d", total, got, allocSize(got))
		}
		// Class steps are at most 1/6 of a class from 1 KiB up; pages
		// are 8 KiB (the rest goes after other tables' leftovers).
		if total >= 1000 && got <= total*5/6 && got <= total-8192 {
			t.Errorf("arenaFit(%d) = %d: too far under", total, got)
		}
	}
}

// BenchmarkArenaReads times reads of random keys of a keyspace far bigger
// than the caches (400k strings of 72 characters and 200k lists of ten
// 20-character elements) loaded with and without table arenas from one
// snapshot: one key a View, and sixteen prefetched first as a pipeline's
// reader does.
func BenchmarkArenaReads(b *testing.B) {
	src := newTestProjection(b, nil)
	r := rand.New(rand.NewSource(1))
	text := func(n int) []byte {
		const abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		v := make([]byte, n)
		for i := range v {
			v[i] = abc[r.Intn(len(abc))]
		}
		return v
	}
	const strs, lists = 400_000, 200_000
	for i := range strs {
		if err := src.Apply(0, [][]byte{[]byte("SET"), fmt.Appendf(nil, "s:%012d", i), text(72)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range lists {
		c := [][]byte{[]byte("RPUSH"), fmt.Appendf(nil, "l:%012d", i)}
		for range 10 {
			c = append(c, text(20))
		}
		if err := src.Apply(0, c); err != nil {
			b.Fatal(err)
		}
	}
	file := snapshotFile(b, src)
	src = nil
	out := make([]byte, 0, 4096)
	for _, arenas := range []bool{true, false} {
		p := loadWithout(b, file, &noArena, !arenas)
		name := "arena"
		if !arenas {
			name = "heap"
		}
		if _, _, in := arenaBooks(p); (in > 0) != arenas {
			b.Fatalf("%s: %d records in arenas", name, in)
		}
		for _, bc := range []struct {
			name  string
			key   func(i int) []byte
			read  func(x Value)
			batch int
		}{
			{"GET", func(i int) []byte { return fmt.Appendf(nil, "s:%012d", i%strs) }, func(x Value) { out = x.AppendBytes(out) }, 1},
			{"GET_P16", func(i int) []byte { return fmt.Appendf(nil, "s:%012d", i%strs) }, func(x Value) { out = x.AppendBytes(out) }, 16},
			{"LRANGE", func(i int) []byte { return fmt.Appendf(nil, "l:%012d", i%lists) }, func(x Value) {
				x.ListRange(0, -1, func(_ int, e []byte) bool { out = append(out, e...); return true })
			}, 1},
			{"LRANGE_P16", func(i int) []byte { return fmt.Appendf(nil, "l:%012d", i%lists) }, func(x Value) {
				x.ListRange(0, -1, func(_ int, e []byte) bool { out = append(out, e...); return true })
			}, 16},
		} {
			keys := make([][]byte, 1<<16)
			rk := rand.New(rand.NewSource(3))
			for i := range keys {
				keys[i] = bc.key(rk.Intn(1 << 30))
			}
			b.Run(bc.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i += bc.batch {
					ks := keys[i%len(keys) : i%len(keys)+bc.batch]
					if bc.batch > 1 {
						p.PrefetchKeys(0, ks)
					}
					for _, k := range ks {
						p.View(0, [][]byte{k}, func(v *View) {
							out = out[:0]
							bc.read(v.Get(k))
						})
					}
				}
			})
		}
	}
}

// TestSharedEmptySet: every db of a new keyspace holds the dataset's one
// shared empty bucket set until a write adds a key to it (a load without
// a RESIZEDB hint included); FLUSHDB gives a new set of its own; nothing is ever
// written into it, while readers of the db run beside the first writes.
func TestSharedEmptySet(t *testing.T) {
	p := newTestProjection(t, nil)
	shared := func(p *Projection, db int) bool { return p.cur.Load().dbs[db].tabs.Load().shared }
	untouched := func(p *Projection) {
		t.Helper()
		for _, d := range p.cur.Load().dbs {
			if bs := d.tabs.Load(); bs.shared {
				for i := range bs.t {
					if bs.t[i].n != 0 || bs.t[i].first.Load() != nil || bs.t[i].a != nil {
						t.Fatalf("the shared empty set was written (table %d)", i)
					}
				}
			}
		}
	}
	for db := range p.NumDBs() {
		if !shared(p, db) {
			t.Fatalf("db %d of a new projection has a set of its own", db)
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // readers of db 7 beside its first writes
		defer wg.Done()
		for !stop.Load() {
			for _, k := range []string{"a", "b", "c"} {
				p.View(7, [][]byte{[]byte(k)}, func(v *View) { _ = v.Get([]byte(k)).Bytes() })
			}
		}
	}()
	for range 200 {
		mustApply(t, p, 7, "SET a 1", "MSET b 2 c 3")
		if shared(p, 7) {
			t.Fatal("db 7 still holds the shared set after a write")
		}
		get(p, 7, "c", func(x Value) {
			if string(x.Bytes()) != "3" {
				t.Fatalf("c = %q", x.Bytes())
			}
		})
		mustApply(t, p, 7, "FLUSHDB")
		if shared(p, 7) {
			t.Fatal("FLUSHDB gave db 7 the shared set: a snapshot may have noted it")
		}
	}
	stop.Store(true)
	wg.Wait()
	mustApply(t, p, 0, "SET x 1", "SWAPDB 0 3", "DEL nothing")
	if shared(p, 3) || !shared(p, 0) {
		t.Fatal("SWAPDB did not swap the own and the shared set")
	}
	untouched(p)

	// A load: a db with keys and no RESIZEDB hint gets its own set, the
	// others keep the new keyspace's shared one.
	ld := p.BeginLoad(LoadOptions{})
	for i := range 100 {
		e := &rdbparse.Entry{DB: 5, Kind: KindString, Key: fmt.Appendf(nil, "k%d", i), String: []byte("v"), ExpireMs: -1, Last: true}
		if err := ld.Entry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := ld.Commit(); err != nil {
		t.Fatal(err)
	}
	if shared(p, 5) || !shared(p, 0) || !shared(p, 3) {
		t.Fatal("after the load: db 5 should have its own set, 0 and 3 the shared one")
	}
	get(p, 5, "k42", func(x Value) {
		if string(x.Bytes()) != "v" {
			t.Fatalf("k42 = %q", x.Bytes())
		}
	})
	untouched(p)
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
}
