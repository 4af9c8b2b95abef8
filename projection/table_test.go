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
		force bool // all keys share the home slot (hash bits differ only above the mask)
		// rehash: tables of more than 64 slots find homes by hashing
		// their keys again, as tables of more than 2^homeBits do
		rehash bool
	}{
		{"small", 20, false, false},
		{"medium", 2000, false, false},
		{"same-home", 60, true, false},
		{"rehash", 2000, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rehash {
				defer tagHomeLimit.Store(tagHomeLimit.Load())
				tagHomeLimit.Store(64)
			}
			forSeeds(t, 4, 20000, 40, 200000, func(t *testing.T, seed int64, ops int) {
				r := rand.New(rand.NewPCG(uint64(seed), 7))
				hashOf := func(k []byte) uint64 {
					h := keyHash(k)
					if tc.force {
						return h &^ (0xffff << homeShift) // every home is slot 0 while the table has ≤ 65536 slots
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
	require.LessOrEqual(t, len(ref), int(a.mask+1)*13/16)
	// Every key is reachable from its home without crossing an empty slot.
	for i := range a.s {
		if a.s[i].tag == 0 {
			continue
		}
		for j := homeOf(&a.s[i], a.mask); j != uint64(i); j = (j + 1) & a.mask {
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
		j := (uint64(i) + 1) & a.mask
		if a.s[i].tag != 0 && a.s[j].tag != 0 && tagHome(a.s[j].tag)&a.mask != j {
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
