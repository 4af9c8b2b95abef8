package projection

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func newTestProjection(t testing.TB, now *int64) *Projection {
	t.Helper()
	opts := Options{}
	if now != nil {
		opts.Now = func() int64 { return *now }
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustApply(t testing.TB, p *Projection, db int, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if err := p.Apply(db, args(c)); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
}

func get(p *Projection, db int, key string, fn func(x Value)) {
	p.View(db, [][]byte{[]byte(key)}, func(v *View) { fn(v.Get([]byte(key))) })
}

func TestReadStrings(t *testing.T) {
	now := int64(1_000_000)
	p := newTestProjection(t, &now)
	mustApply(t, p, 0,
		"SET s hello", "SET n 12345", "SET big "+strings.Repeat("x", 45),
		"APPEND a xy", "APPEND s !", "SET e v PXAT 1000500", "INCRBY n 5")
	f := func(key, want, enc string) {
		t.Helper()
		get(p, 0, key, func(x Value) {
			if !x.Exists() || string(x.Bytes()) != want || x.Encoding() != enc || x.Len() != len(want) {
				t.Errorf("%s: got %q %s (exists %v), want %q %s", key, x.Bytes(), x.Encoding(), x.Exists(), want, enc)
			}
		})
	}
	f("s", "hello!", "raw")
	f("n", "12350", "int")
	f("big", strings.Repeat("x", 45), "raw")
	f("a", "xy", "embstr")
	f("e", "v", "embstr")
	get(p, 0, "e", func(x Value) {
		if x.ExpireMs() != 1000500 || x.Type() != "string" {
			t.Errorf("e: exp %d type %s", x.ExpireMs(), x.Type())
		}
	})
	now = 1000500 // the key's time has come: reads hide it, nothing is deleted
	get(p, 0, "e", func(x Value) {
		if x.Exists() || x.Kind() != KindNone || x.ExpireMs() != -2 || x.Type() != "none" {
			t.Errorf("expired key still visible")
		}
	})
	if n, _ := p.DBSize(0); n != 5 {
		t.Errorf("DBSize %d, want 5 (expired keys count until deleted)", n)
	}
	// A replica applies writes to a logically expired key as if it existed.
	mustApply(t, p, 0, "SET c 10 PXAT 1000", "INCR c")
	now = 0
	get(p, 0, "c", func(x Value) {
		if string(x.Bytes()) != "11" || x.ExpireMs() != 1000 {
			t.Errorf("INCR on an expired key: %q exp %d", x.Bytes(), x.ExpireMs())
		}
	})
}

func TestReadCollections(t *testing.T) {
	p := newTestProjection(t, nil)
	mustApply(t, p, 0,
		"RPUSH l a b c d e", "LPUSH l z",
		"SADD s 1 2 3", "SADD t a b",
		"ZADD z 1 a 2 b 2 c 3 d inf e -inf f",
		"ZADD lex 0 a 0 b 0 c 0 d",
		"HSET h f1 v1 f2 v2 f3 v3")
	get(p, 0, "l", func(x Value) {
		var got []string
		x.ListRange(-3, 100, func(_ int, e []byte) bool { got = append(got, string(e)); return true })
		if strings.Join(got, ",") != "c,d,e" {
			t.Errorf("LRANGE -3 100 = %v", got)
		}
		if e, ok := x.ListIndex(-1); !ok || string(e) != "e" {
			t.Errorf("LINDEX -1 = %q %v", e, ok)
		}
		if _, ok := x.ListIndex(6); ok {
			t.Error("LINDEX 6 found")
		}
		got = nil
		x.ListEach(true, func(i int, e []byte) bool { got = append(got, string(e)); return i > 3 })
		if strings.Join(got, ",") != "e,d,c" {
			t.Errorf("reverse walk = %v", got)
		}
		if x.Encoding() != "quicklist" || x.Len() != 6 {
			t.Errorf("list enc %s len %d", x.Encoding(), x.Len())
		}
	})
	get(p, 0, "s", func(x Value) {
		if !x.SetContains([]byte("2")) || x.SetContains([]byte("4")) || x.Encoding() != "intset" || x.Len() != 3 {
			t.Errorf("set: enc %s", x.Encoding())
		}
		seen := map[string]int{}
		x.SetRandom(nil, 2, func(m []byte) { seen[string(m)]++ })
		if len(seen) != 2 {
			t.Errorf("SRANDMEMBER 2 gave %v", seen)
		}
		n := 0
		x.SetRandom(nil, -7, func([]byte) { n++ })
		if n != 7 {
			t.Errorf("SRANDMEMBER -7 gave %d", n)
		}
	})
	get(p, 0, "t", func(x Value) {
		if x.Encoding() != "hashtable" {
			t.Errorf("string set enc %s", x.Encoding())
		}
	})
	get(p, 0, "z", func(x Value) {
		collect := func(run func(fn func(m []byte, s float64) bool)) string {
			var out []string
			run(func(m []byte, s float64) bool { out = append(out, string(m)+"="+FormatScore(s)); return true })
			return strings.Join(out, " ")
		}
		if got := collect(func(fn func([]byte, float64) bool) { x.ZRangeByRank(0, -1, false, fn) }); got != "f=-inf a=1 b=2 c=2 d=3 e=inf" {
			t.Errorf("ZRANGE 0 -1 = %s", got)
		}
		if got := collect(func(fn func([]byte, float64) bool) { x.ZRangeByRank(0, 1, true, fn) }); got != "e=inf d=3" {
			t.Errorf("ZRANGE 0 1 REV = %s", got)
		}
		lo, _ := ParseScoreBound([]byte("(1"))
		hi, _ := ParseScoreBound([]byte("3"))
		if got := collect(func(fn func([]byte, float64) bool) { x.ZRangeByScore(lo, hi, false, 1, 5, fn) }); got != "c=2 d=3" {
			t.Errorf("ZRANGEBYSCORE (1 3 LIMIT 1 5 = %s", got)
		}
		if got := collect(func(fn func([]byte, float64) bool) { x.ZRangeByScore(lo, hi, true, 0, 2, fn) }); got != "d=3 c=2" {
			t.Errorf("ZREVRANGEBYSCORE 3 (1 LIMIT 0 2 = %s", got)
		}
		if n := x.ZCount(lo, hi); n != 3 {
			t.Errorf("ZCOUNT = %d", n)
		}
		if r, s, ok := x.ZRank([]byte("c"), false); !ok || r != 3 || s != 2 {
			t.Errorf("ZRANK c = %d %v %v", r, s, ok)
		}
		if r, _, _ := x.ZRank([]byte("c"), true); r != 2 {
			t.Errorf("ZREVRANK c = %d", r)
		}
		if s, ok := x.ZScore([]byte("e")); !ok || !math.IsInf(s, 1) {
			t.Errorf("ZSCORE e = %v", s)
		}
		if x.Encoding() != "listpack" {
			t.Errorf("zset enc %s", x.Encoding())
		}
	})
	get(p, 0, "lex", func(x Value) {
		min, _ := ParseLexBound([]byte("(a"))
		max, _ := ParseLexBound([]byte("[c"))
		if n := x.ZLexCount(min, max); n != 2 {
			t.Errorf("ZLEXCOUNT (a [c = %d", n)
		}
		var got []string
		x.ZRangeByLex(LexBound{Inf: -1}, LexBound{Inf: 1}, true, 1, 2, func(m []byte, _ float64) bool { got = append(got, string(m)); return true })
		if strings.Join(got, ",") != "c,b" {
			t.Errorf("ZREVRANGEBYLEX + - LIMIT 1 2 = %v", got)
		}
	})
	get(p, 0, "h", func(x Value) {
		if v, ok := x.HashGet([]byte("f2")); !ok || string(v) != "v2" {
			t.Errorf("HGET f2 = %q", v)
		}
		var got []string
		x.HashEach(func(f, v []byte) bool { got = append(got, string(f)+"="+string(v)); return true })
		if strings.Join(got, " ") != "f1=v1 f2=v2 f3=v3" {
			t.Errorf("HGETALL = %v", got)
		}
		n := 0
		x.HashRandom(nil, 10, func(f, v []byte) { n++ })
		if n != 3 || x.Encoding() != "listpack" {
			t.Errorf("HRANDFIELD 10 gave %d, enc %s", n, x.Encoding())
		}
	})
}

func TestViewLocksOnlyItsKeys(t *testing.T) {
	p := newTestProjection(t, nil)
	mustApply(t, p, 0, "SET a 1")
	var err error
	found := true
	for i := 0; i < 64 && err == nil; i++ {
		other := []byte("other" + string(rune('a'+i%26)) + strings.Repeat("x", i))
		p.View(0, args("a"), func(v *View) {
			if p.cur.Load().dbs[0].stripeOf(other) == p.cur.Load().dbs[0].stripeOf([]byte("a")) {
				return
			}
			found = v.Get(other).Exists()
			err = v.Err()
		})
	}
	if !errors.Is(err, ErrKeyNotLocked) || found {
		t.Fatalf("reading an unlocked key: err %v found %v", err, found)
	}
	if err := p.View(16, nil, func(*View) {}); !errors.Is(err, ErrDBIndex) {
		t.Errorf("View(16): %v", err)
	}
}

func TestKeysScanRandomKey(t *testing.T) {
	now := int64(100)
	p := newTestProjection(t, &now)
	var want []string
	for i := 0; i < 500; i++ {
		k := "key:" + string(rune('a'+i%26)) + strings.Repeat("!", i%7) + string(rune('0'+i/26%10)) + string(rune('0'+i/260))
		if slices.Contains(want, k) {
			continue
		}
		want = append(want, k)
		mustApply(t, p, 3, "SET "+k+" v")
	}
	mustApply(t, p, 3, "SET gone v PXAT 50")
	sort.Strings(want)
	var got []string
	cursor := uint64(0)
	for {
		next, err := p.Scan(3, cursor, 10, func(k []byte, v Value) { got = append(got, string(k)) })
		if err != nil {
			t.Fatal(err)
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("SCAN returned %d keys, want %d", len(got), len(want))
	}
	p.ViewDB(3, func(v *View) {
		n := 0
		v.Keys(func(k []byte, _ Value) bool { n++; return true })
		if n != len(want) || v.DBSize() != int64(len(want))+1 {
			t.Errorf("KEYS %d, DBSIZE %d", n, v.DBSize())
		}
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 50; i++ {
			k, ok := v.RandomKey(r)
			if !ok || string(k) == "gone" {
				t.Fatalf("RANDOMKEY = %q %v", k, ok)
			}
		}
	})
}

func TestUnknownPolicy(t *testing.T) {
	p := newTestProjection(t, nil)
	mustApply(t, p, 0, "SET a 1", "SET b 2", "SET bits x")
	mustApply(t, p, 0, "GETEX bits PERSIST") // known keys: invalidated
	get(p, 0, "bits", func(x Value) {
		if x.Exists() {
			t.Error("GETEX key kept")
		}
	})
	mustApply(t, p, 0, "FROBNICATE a") // unknown keys: the db is flushed
	if n, _ := p.DBSize(0); n != 0 {
		t.Errorf("db not flushed after an unknown command: %d keys", n)
	}
	st := p.Stats()
	if st.Unknown["getex"] != 1 || st.Unknown["frobnicate"] != 1 || st.FlushedForUnknown != 1 || st.InvalidatedKeys != 1 {
		t.Errorf("stats %+v", st)
	}
	if st.Applied["set"] != 3 {
		t.Errorf("applied %v", st.Applied)
	}

	r, err := New(Options{OnUnknown: Resync})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, r, 0, "SET bits x")
	if err := r.Apply(0, args("GETEX bits PERSIST")); !errors.Is(err, ErrNeedResync) {
		t.Errorf("Resync policy: %v", err)
	}
	get(r, 0, "bits", func(x Value) {
		if string(x.Bytes()) != "x" {
			t.Error("Resync policy changed data")
		}
	})
	if err := r.Apply(0, args("LPUSH bits a")); !errors.Is(err, ErrNeedResync) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("wrong type under Resync: %v", err)
	}
}

// TestMissingSourceLikeReplica: a RENAME of a key this replica does not
// hold, or an LSET of a missing list, is rejected by a Redis replica,
// which changes nothing; under Invalidate the projection does the same
// (RENAME's destination stays), counting the command as failed.
func TestMissingSourceLikeReplica(t *testing.T) {
	p := newTestProjection(t, nil)
	mustApply(t, p, 0, "SET dst kept", "RENAME src dst", "RENAMENX src dst2", "LSET nolist 0 x")
	get(p, 0, "dst", func(x Value) {
		if string(x.Bytes()) != "kept" {
			t.Errorf("RENAME of a missing key changed its destination: %q %v", x.Bytes(), x.Exists())
		}
	})
	st := p.Stats()
	if st.InvalidatedKeys != 0 || st.Failed["rename"] != 1 || st.Failed["renamenx"] != 1 || st.Failed["lset"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBadInputNeverPanics(t *testing.T) {
	p := newTestProjection(t, nil)
	cmds := []string{"SET", "SET k", "ZADD z", "ZADD z 1", "ZADD z nan m", "ZADD z NX XX 1 m", "LPOP", "LSET l x y",
		"ZUNIONSTORE d 5 a", "ZUNIONSTORE d -1", "ZRANGESTORE d s 0", "COPY a", "MOVE a 99", "SWAPDB 0 x",
		"HSET h f", "HINCRBY h f x", "PEXPIREAT k x", "PEXPIREAT k 5 NX XX", "LINSERT l middle a b", "SETRANGE k -1 x",
		"ZRANGESTORE d s (a [b BYLEX BYSCORE", "ZREMRANGEBYLEX z x y", "INCRBY k 99999999999999999999", "FLUSHALL now"}
	for _, c := range cmds {
		if err := p.Apply(0, args(c)); err != nil {
			t.Errorf("%s: %v (Invalidate policy must swallow it)", c, err)
		}
	}
	if len(p.Stats().Failed) == 0 {
		t.Error("no failures counted")
	}
	if err := p.Apply(99, args("SET a b")); !errors.Is(err, ErrDBIndex) {
		t.Errorf("db 99: %v", err)
	}
}
