package projection

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestTableAgainstMap runs random inserts, replacements and deletes on a
// table and on a Go map side by side, checking every key and the table's
// invariants as it goes. Small key spaces force long runs, wrap-around at
// the array's end and deletes in the middle of runs; a forced hash (every
// key's bits collide in the low bits) checks the backward shift when
// every key has the same home.
func TestTableAgainstMap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  int
		force bool // all keys share the home slot (their hash bits differ only in the lowest four)
	}{
		{"small", 20, false},
		{"medium", 2000, false},
		{"same-home", 60, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forSeeds(t, 4, 20000, 40, 200000, func(t *testing.T, seed int64, ops int) {
				r := rand.New(rand.NewPCG(uint64(seed), 7))
				hashOf := func(k []byte) uint64 {
					h := keyHash(k)
					if tc.force {
						return h &^ (0xffff << (homeShift + 4)) // every home is slot 0 while the table has ≤ 65536 slots
					}
					return h
				}
				var tb table
				ref := map[string]int{}
				for op := 0; op < ops; op++ {
					n := r.IntN(tc.keys)
					k := []byte(fmt.Sprintf("k%d", n))
					switch {
					case n%7 == 0: // keys of 57–68 bytes: both sides of tagLongKey
						k = append(k, strings.Repeat("x", 55+n%11)...)
					case n%3 == 0: // ending in 5–10 digits: packed from 6 on
						k = fmt.Appendf(nil, "u:%0*d", 5+n%6, n)
					}
					h := hashOf(k)
					switch r.IntN(3) {
					case 0, 1: // set
						v := r.IntN(1 << 20)
						ns := recSlot(nil, k, []byte(strconv.Itoa(v)), int64(v%3), encInt, 0)
						if v%5 == 0 { // a box now and then
							o := obj{kind: KindString, flags: flagBoxed, enc: encRaw, exp: int64(v % 3), ptr: ptrOf(&rawStr{b: []byte(strconv.Itoa(v))})}
							ns = makeSlot(k, &o)
						}
						if s := tb.find(k, h); s != nil {
							s.p, s.tag, s.lru = ns.p, s.tag&tagKey|ns.tag&^tagKey, ns.lru
						} else {
							tb.insert(h, ns)
						}
						ref[string(k)] = v
					case 2: // delete
						s := tb.find(k, h)
						_, ok := ref[string(k)]
						require.Equal(t, ok, s != nil, "key %s", k)
						if s != nil {
							tb.remove(s)
							delete(ref, string(k))
						}
					}
					if op%500 == 0 || len(ref) < 3 {
						checkTable(t, &tb, ref, hashOf)
					}
				}
				checkTable(t, &tb, ref, hashOf)
			})
		})
	}
}

func checkTable(t *testing.T, tb *table, ref map[string]int, hashOf func([]byte) uint64) {
	t.Helper()
	require.Equal(t, len(ref), int(tb.n))
	for k, v := range ref {
		s := tb.find([]byte(k), hashOf([]byte(k)))
		require.NotNil(t, s, "key %s lost", k)
		o := s.obj()
		require.Equal(t, int64(v%3), o.exp, "key %s", k)
		require.Equal(t, v%5 == 0, s.tag&tagBox != 0, "key %s", k)
		require.Equal(t, strconv.Itoa(v), string(o.bytes()), "key %s", k)
	}
	seen := 0
	tb.each(func(s *slot) bool {
		_, ok := ref[s.keyString()]
		require.True(t, ok, "stray key %s", s.keyString())
		seen++
		return true
	})
	require.Equal(t, len(ref), seen)
	a := tb.load()
	if len(ref) == 0 {
		require.Nil(t, a, "an empty table keeps no array")
		return
	}
	require.LessOrEqual(t, len(ref), int(a.n)*13/16)
	require.Equal(t, a.n, uint64(arraySlots(int(a.n))), "an array holds what its allocation does")
	// Every key is reachable from its home without crossing an empty slot.
	for i := range a.s {
		if a.s[i].tag == 0 {
			continue
		}
		for j := homeOf(&a.s[i], a.n); j != uint64(i); j = next(j, a.n) {
			require.NotZero(t, a.s[j].tag, "hole at %d before key %s in slot %d", j, a.s[i].keyString(), i)
		}
	}
}

// TestTableSane runs the table checker used by Projection.sane on a real
// database and checks that it notices a damaged table.
func TestTableSane(t *testing.T) {
	d := newDB(1, 4)
	for i := 0; i < 1000; i++ {
		d.setString([]byte(fmt.Sprintf("key:%d", i)), []byte("v"), 0)
	}
	for i := 0; i < 1000; i += 3 {
		require.True(t, d.remove([]byte(fmt.Sprintf("key:%d", i))))
	}
	require.EqualValues(t, 666, d.keys.Load())
	for b := 0; b < d.numBuckets(); b++ {
		require.NoError(t, d.tabs.Load().t[b].sane())
	}
	// Damage: clear a slot without shifting its run back.
	tb := &d.tabs.Load().t[0]
	a := tb.load()
	for i := range a.s {
		j := next(uint64(i), a.n)
		if a.s[i].tag != 0 && a.s[j].tag != 0 && tagHome(a.s[j].tag, a.n) != j {
			a.s[i] = slot{}
			break
		}
	}
	require.Error(t, tb.sane())
}

// TestSlotSize keeps a slot at 16 bytes (the table's memory per key), and
// the boxes at their size classes.
func TestSlotSize(t *testing.T) {
	require.EqualValues(t, 16, unsafe.Sizeof(slot{}))
	require.EqualValues(t, 32, unsafe.Sizeof(box{}))
	require.EqualValues(t, 32, unsafe.Sizeof(box16{}))
	require.EqualValues(t, unsafe.Offsetof(box{}.key), unsafe.Offsetof(box48{}.k))
}

// TestTableLayout: a table is 32 bytes, two to a cache line, so finding a
// key's slot array never straddles two lines (at 40 bytes, with the
// arena pointer added beside an int count and a 64-bit mask, one table in
// four did, and GET -P 16 lost about 4%).
func TestTableLayout(t *testing.T) {
	require.Equal(t, uintptr(32), unsafe.Sizeof(table{}))
	require.Equal(t, uintptr(16), unsafe.Sizeof(slot{}))
}

// TestFitTables: a load leaves each table with no more slots than its
// keys need (fitSlots: 13/16 full, in fours), cut from shared slabs
// rather than allocated one by one, and the tables keep working: every
// key is found, and writes that add keys grow them out of their pieces.
func TestFitTables(t *testing.T) {
	src := newTestProjection(t, nil)
	const n = 20000
	for i := range n {
		mustApply(t, src, 0, fmt.Sprintf("SET k:%d v%d", i, i))
	}
	mustApply(t, src, 3, "SET lone x") // a db with one key: a slab of its own size
	p := loadRDB(t, snapshotFile(t, src))
	ds := p.cur.Load()
	bs := ds.dbs[0].tabs.Load()
	before, slabs := 0, map[uintptr]bool{}
	for i := range bs.t {
		tb := &bs.t[i]
		a := tb.load()
		if a == nil {
			continue
		}
		require.LessOrEqual(t, len(a.s), fitSlots(int(tb.n)), "table %d: %d keys", i, tb.n)
		require.LessOrEqual(t, int(tb.n), len(a.s)*13/16)
		require.Zero(t, uintptr(unsafe.Pointer(&a.s[0]))%64, "table %d: a fitted array starts a cache line", i)
		slabs[uintptr(unsafe.Pointer(&a.s[0]))>>20] = true
		before += len(a.s)
		require.NoError(t, tb.sane())
	}
	require.Less(t, before, n*16/13+4*len(bs.t)+1)
	require.Less(t, len(slabs), len(bs.t)/4, "arrays share slabs")
	lone := ds.dbs[3].tabs.Load()
	for i := range lone.t {
		if a := lone.t[i].load(); a != nil {
			require.Equal(t, minTableSlots, len(a.s))
		}
	}
	// Writes after the load: new keys grow tables out of their pieces,
	// and every key, old and new, reads back.
	for i := n; i < 2*n; i++ {
		mustApply(t, p, 0, fmt.Sprintf("SET k:%d v%d", i, i))
	}
	for i := 0; i < 2*n; i += 7 {
		p.View(0, [][]byte{fmt.Appendf(nil, "k:%d", i)}, func(v *View) {
			x := v.Get(fmt.Appendf(nil, "k:%d", i))
			require.True(t, x.Exists(), "k:%d", i)
			require.Equal(t, fmt.Sprintf("v%d", i), string(x.AppendBytes(nil)))
		})
	}
	require.NoError(t, p.sane())
}
