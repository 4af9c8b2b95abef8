package projection

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Packed list elements and hash values (epack.go): every write path packs
// what it should, every read path gives back the same bytes, and a
// projection with Options.PlainText answers exactly alike.

func TestEntryCodec(t *testing.T) {
	f := func(v string, coded bool) {
		t.Helper()
		e := entryAppend([]byte("prefix"), []byte(v), true)
		if !bytes.HasPrefix(e, []byte("prefix")) {
			t.Fatalf("%q: prefix lost", v)
		}
		e = e[len("prefix"):]
		if len(e) != entrySize([]byte(v), true) {
			t.Errorf("%q: entry of %d bytes, entrySize %d", v, len(e), entrySize([]byte(v), true))
		}
		x, c, next := entryNext(e, 0)
		if c != coded || next != len(e) || entrySkip(e, 0) != len(e) {
			t.Fatalf("%q: coded %v (want %v), next %d of %d", v, c, coded, next, len(e))
		}
		if coded && len(e) >= len(v)+1 {
			t.Errorf("%q: coded entry of %d bytes saves nothing", v, len(e))
		}
		if n := entryLen(x, c); n != len(v) {
			t.Errorf("%q: entryLen %d", v, n)
		}
		if got := appendEntry([]byte("ab"), x, c); string(got) != "ab"+v {
			t.Errorf("%q: appendEntry %q", v, got)
		}
		var sc scratch
		if got := entryValue(x, c, &sc); string(got) != v {
			t.Errorf("%q: unpacked %q", v, got)
		}
		if got := entryValue(x, c, nil); string(got) != v {
			t.Errorf("%q: unpacked without scratch %q", v, got)
		}
		if err := saneEntry(x, c); err != nil {
			t.Error(err)
		}
		plain := entryAppend(nil, []byte(v), false)
		if _, c, _ := entryNext(plain, 0); c || len(plain) != entrySize([]byte(v), false) {
			t.Errorf("%q: packed with text packing off", v)
		}
	}
	f("", false)
	f("abc", false)
	f("element0", false)    // 8 base64 characters save two bytes: left plain
	f("abcdefghijkl", true) // 12 save three
	f("deadbeef", true)
	f("DEADBEEF0", true)
	f("dEADBEEFdEAD", true) // base64
	f("Abc-_09xyz12", true)
	f("Abc+/09xyz12", true)
	f("Abc+_09xyz12", false) // both alphabets' extras: neither applies
	f("hello world!", false)
	f("\x00\xff\x01\x02\x03\x04\x05", false)
	f(strings.Repeat("Zz9", 1000), true)
	f(strings.Repeat("a", maxPackedText+1), false)
	for n := 4; n < 40; n++ {
		f(strings.Repeat("0123456789abcdef", 3)[:n], n >= 6)
		f(strings.Repeat("Ab0-", 10)[:n], n >= 12)
	}
	for n := 40; n < 600; n += 7 { // heads of two and three bytes
		f(strings.Repeat("0123456789ABCDEF", 40)[:n], true)
		f(strings.Repeat("Ab0+", 150)[:n], true)
	}
	// The head holds the codec and the count: a value of up to
	// codedMin+30 characters costs one byte beside its payload, the
	// length and codec byte of a coded form elsewhere folded in.
	for n := codedMin; n <= codedMin+30; n++ {
		for _, v := range []string{strings.Repeat("0123456789abcdef", 3)[:n], strings.Repeat("Ab0_", 10)[:n]} {
			codec := textCodecOf([]byte(v))
			if e := entryAppend(nil, []byte(v), true); e[0]&1 != 0 && len(e) != 1+payloadLen(codec, n) {
				t.Errorf("%q: coded entry of %d bytes, want 1 + %d", v, len(e), payloadLen(codec, n))
			}
		}
	}
	// A coded entry that is not entryAppend's breaks the one-entry-per-value
	// rule LREM relies on.
	bad := entryAppend(nil, []byte("abcdefghijkl"), true)
	x, _, _ := entryNext(bad, 0)
	x = append([]byte(nil), x...)
	x[0] ^= 1 << 1 // codec6URL's head made codec6Std's
	if saneEntry(x, true) == nil {
		t.Error("saneEntry took another alphabet's form")
	}
}

// TestScratchValidForView: values unpacked into a View's scratch stay
// intact however many more the View reads, across new blocks.
func TestScratchValidForView(t *testing.T) {
	var sc scratch
	var got [][]byte
	var want []string
	for i := 0; i < 3000; i++ {
		v := fmt.Sprintf("%0*x", 6+i%200, i)
		e := entryAppend(nil, []byte(v), true)
		x, c, _ := entryNext(e, 0)
		if !c {
			t.Fatalf("%q not coded", v)
		}
		got, want = append(got, sc.unpack(x)), append(want, v)
	}
	for i := range got {
		if string(got[i]) != want[i] {
			t.Fatalf("value %d became %q, want %q", i, got[i], want[i])
		}
	}
	if cap(sc.b) > scratchBlock+256 {
		t.Errorf("a block of %d bytes", cap(sc.b))
	}
	sc.recycle()
	if sc.b != nil {
		t.Error("a large block kept for the next View")
	}
}

// packedPair is a packed projection and a plain one fed the same commands.
type packedPair struct {
	p, q *Projection // p packs, q has PlainText
}

func newPackedPair(t *testing.T, ec *EncodingConfig) *packedPair {
	t.Helper()
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := New(Options{PlainText: true})
	if err != nil {
		t.Fatal(err)
	}
	if ec != nil {
		p.SetEncodingConfig(*ec)
		q.SetEncodingConfig(*ec)
	}
	return &packedPair{p: p, q: q}
}

func (pp *packedPair) apply(t *testing.T, cmd ...string) {
	t.Helper()
	argv := make([][]byte, len(cmd))
	for i, a := range cmd {
		argv[i] = []byte(a)
	}
	ep, eq := pp.p.Apply(0, argv), pp.q.Apply(0, argv)
	if fmt.Sprint(ep) != fmt.Sprint(eq) {
		t.Fatalf("%q: packed %v, plain %v", cmd, ep, eq)
	}
}

// readAll describes everything the read API gives for key, the same for
// both projections when packing is right.
func readAll(p *Projection, key string) string {
	var b strings.Builder
	get(p, 0, key, func(x Value) {
		fmt.Fprintf(&b, "%s %s len %d\n", x.Type(), x.Encoding(), x.Len())
		d, _ := x.Dump()
		fmt.Fprintf(&b, "dump %x\n", d)
		switch x.Kind() {
		case KindList:
			var all [][]byte
			x.ListRange(0, -1, func(i int, e []byte) bool { all = append(all, e); return true })
			for i := range all {
				e, _ := x.ListIndex(i)
				fmt.Fprintf(&b, "%d %q %q\n", i, all[i], e)
			}
			x.ListRange(-3, -2, func(i int, e []byte) bool { fmt.Fprintf(&b, "range %d %q\n", i, e); return true })
			x.ListEach(true, func(i int, e []byte) bool { fmt.Fprintf(&b, "rev %d %q\n", i, e); return true })
			for _, e := range append(all, []byte(packable), []byte("nope"), []byte("")) {
				var got, want []int
				x.ListEachMatch(e, false, func(i int, m bool) bool {
					if m {
						got = append(got, i)
					}
					return true
				})
				for i := range all {
					if bytes.Equal(all[i], e) {
						want = append(want, i)
					}
				}
				if !slices.Equal(got, want) {
					fmt.Fprintf(&b, "ListEachMatch(%q) = %v, want %v\n", e, got, want)
				}
			}
		case KindHash:
			var fs, vs [][]byte
			x.HashEach(func(f, v []byte) bool { fs, vs = append(fs, f), append(vs, v); return true })
			for i := range fs {
				v, ok := x.HashGet(fs[i])
				n, nok := x.HashValueLen(fs[i])
				fmt.Fprintf(&b, "%q=%q get %q %v len %d %v\n", fs[i], vs[i], v, ok, n, nok)
			}
			var r []string
			x.HashRandom(rand.New(rand.NewPCG(1, 2)), -3*x.Len(), func(f, v []byte) { r = append(r, string(f)+"="+string(v)) })
			fmt.Fprintf(&b, "random %q\n", r)
			r = r[:0]
			x.HashScan(0, 10, func(f, v []byte) { r = append(r, string(f)+"="+string(v)) })
			fmt.Fprintf(&b, "scan %q\n", r)
			r = r[:0]
			x.HashEachWithTTL(func(f, v []byte, ms int64) bool { r = append(r, fmt.Sprint(string(f), string(v), ms)); return true })
			fmt.Fprintf(&b, "ttl %q\n", r)
		}
	})
	return b.String()
}

// codedCount counts key's coded entries, and fails when a value that
// should be coded (or not) is stored otherwise.
func codedCount(t *testing.T, p *Projection, key string) int {
	t.Helper()
	tp, n := p.textPack(), 0
	check := func(x []byte, coded bool) {
		v := appendEntry(nil, x, coded)
		_, want, _ := entryNext(entryAppend(nil, v, tp), 0)
		if coded != want {
			t.Errorf("%s: %q stored coded=%v, want %v", key, v, coded, want)
		}
		if coded {
			n++
		}
	}
	get(p, 0, key, func(x Value) {
		if err := p.sane(); err != nil {
			t.Error(err)
		}
		switch x.Kind() {
		case KindList:
			if l := x.o.list(); l.size() > 0 {
				l.walkEntries(0, l.size()-1, false, func(_ int, x []byte, coded bool) bool { check(x, coded); return true })
			}
		case KindHash:
			pack := x.o.hash().pk.bytes()
			for off := 0; off < len(pack); {
				_, off = fieldNext(pack, off)
				var v []byte
				var coded bool
				v, coded, off = entryNext(pack, off)
				check(v, coded)
			}
		}
	})
	return n
}

// same checks that key reads alike in both projections and returns how
// many of the packed one's entries are coded.
func (pp *packedPair) same(t *testing.T, key string) int {
	t.Helper()
	a, b := readAll(pp.p, key), readAll(pp.q, key)
	if strings.Contains(a+b, "ListEachMatch(") {
		t.Fatalf("%s:\n%s\n%s", key, a, b)
	}
	if a != b {
		t.Fatalf("%s reads differently:\npacked:\n%s\nplain:\n%s", key, a, b)
	}
	if n := codedCount(t, pp.q, key); n != 0 {
		t.Errorf("%s: %d coded entries with PlainText", key, n)
	}
	return codedCount(t, pp.p, key)
}

const (
	packable   = "Zm9vYmFyYmF6cXV4" // base64, 16 characters
	packable2  = "0123456789abcdef0123"
	unpackable = "hello, world!"
)

func TestPackedListWrites(t *testing.T) {
	pp := newPackedPair(t, nil)
	pp.apply(t, "RPUSH", "l", packable, unpackable, "abc", packable2, "", "element0")
	if n := pp.same(t, "l"); n != 2 {
		t.Fatalf("RPUSH: %d coded, want 2", n)
	}
	pp.apply(t, "LPUSH", "l", "ffffffffffff", "x y z", packable)
	pp.apply(t, "RPUSHX", "l", "deadbeefdeadbeef")
	pp.apply(t, "LPUSHX", "l", "QUJDREVGR0hJSktM")
	pp.same(t, "l")
	pp.apply(t, "LINSERT", "l", "BEFORE", packable2, "inserted-packable-1")
	pp.apply(t, "LINSERT", "l", "AFTER", unpackable, "cafebabecafebabe")
	pp.apply(t, "LINSERT", "l", "AFTER", "not-there-at-all", "x")
	pp.apply(t, "LSET", "l", "0", "0000000000000000")
	pp.apply(t, "LSET", "l", "-1", "plain text!")
	pp.same(t, "l")
	pp.apply(t, "LREM", "l", "1", packable) // the first of two
	pp.apply(t, "RPUSH", "l", packable2, packable2, packable2)
	pp.apply(t, "LREM", "l", "-2", packable2)
	pp.apply(t, "LREM", "l", "0", unpackable)
	n := pp.same(t, "l")
	pp.apply(t, "LPOP", "l")
	pp.apply(t, "RPOP", "l", "2")
	pp.apply(t, "RPOPLPUSH", "l", "l2")
	pp.apply(t, "LPUSH", "l", packable)
	pp.apply(t, "LMOVE", "l", "l2", "LEFT", "RIGHT")
	pp.apply(t, "LMOVE", "l2", "l2", "RIGHT", "LEFT")
	pp.apply(t, "LTRIM", "l", "1", "-2")
	pp.same(t, "l")
	if pp.same(t, "l2") == 0 || n == 0 {
		t.Error("no element of l2 packed")
	}
	pp.apply(t, "COPY", "l", "l3")
	pp.same(t, "l3")
	// SORT … STORE, by and with hash values, and ALPHA on packed elements.
	pp.apply(t, "RPUSH", "ids", "3", "1", "2")
	for i := 1; i <= 3; i++ {
		pp.apply(t, "HSET", "w_"+strconv.Itoa(i), "weight", strconv.Itoa(10-i), "name", strings.Repeat("n"+strconv.Itoa(i), 8))
	}
	pp.apply(t, "SORT", "ids", "BY", "w_*->weight", "GET", "w_*->name", "GET", "#", "STORE", "sorted")
	pp.apply(t, "SORT", "l2", "ALPHA", "STORE", "sorted2")
	if pp.same(t, "sorted") != 3 {
		t.Error("SORT STORE: the names are not packed")
	}
	pp.same(t, "sorted2")
	get(pp.p, 0, "sorted", func(x Value) {
		e, _ := x.ListIndex(0)
		if string(e) != strings.Repeat("n3", 8) {
			t.Errorf("SORT BY weight GET name: first %q", e)
		}
	})
}

// TestPackedListLong: a list of many chunks, pushed at both ends, with
// elements unpacked into new scratch blocks while older ones are in use.
func TestPackedListLong(t *testing.T) {
	pp := newPackedPair(t, nil)
	var want []string
	for i := 0; i < 2000; i++ {
		v := fmt.Sprintf("%x%s", i*7919, strings.Repeat("ab", i%50))
		if i%3 == 0 {
			v += "!"
		}
		pp.apply(t, "RPUSH", "big", v)
		want = append(want, v)
	}
	pp.apply(t, "LPUSH", "big", packable)
	want = append([]string{packable}, want...)
	if pp.same(t, "big") < 1000 {
		t.Error("too few elements packed")
	}
	get(pp.p, 0, "big", func(x Value) {
		var got [][]byte
		x.ListRange(0, -1, func(_ int, e []byte) bool { got = append(got, e); return true })
		x.ListEach(true, func(_ int, e []byte) bool { return true }) // more unpacking in the same View
		if len(got) != len(want) {
			t.Fatalf("%d elements, want %d", len(got), len(want))
		}
		for i := range got {
			if string(got[i]) != want[i] {
				t.Fatalf("element %d: %q, want %q", i, got[i], want[i])
			}
		}
	})
	var mp, mq int64
	pp.p.View(0, args("big"), func(v *View) { mp = v.MemoryUsage([]byte("big"), 0) })
	pp.q.View(0, args("big"), func(v *View) { mq = v.MemoryUsage([]byte("big"), 0) })
	if mp >= mq {
		t.Errorf("MEMORY USAGE packed %d, plain %d", mp, mq)
	}
}

func TestPackedHashWrites(t *testing.T) {
	pp := newPackedPair(t, nil)
	pp.apply(t, "HSET", "h", "a", packable, "b", unpackable, "c", "abc", "d", packable2, "e", "")
	if n := pp.same(t, "h"); n != 2 {
		t.Fatalf("HSET: %d coded, want 2", n)
	}
	pp.apply(t, "HSET", "h", "a", unpackable) // coded → plain, in place of another size
	pp.apply(t, "HSET", "h", "b", packable)   // plain → coded
	pp.apply(t, "HSET", "h", "d", "fedcba9876543210fedc")
	pp.apply(t, "HMSET", "h", "f", "QUJDREVGR0hJSktM", "g", "0xdeadbeef")
	pp.apply(t, "HSETNX", "h", "f", "not set")
	pp.apply(t, "HSETNX", "h", "n", "123456789012")
	pp.apply(t, "HINCRBY", "h", "n", "1000000")
	pp.apply(t, "HINCRBY", "h", "m", "-99999999")
	pp.apply(t, "HDEL", "h", "c", "nope")
	if n := pp.same(t, "h"); n < 4 {
		t.Errorf("%d coded after the edits", n)
	}
	get(pp.p, 0, "h", func(x Value) {
		if v, _ := x.HashGet([]byte("n")); string(v) != "123457789012" {
			t.Errorf("HINCRBY on a packed value: %q", v)
		}
	})
	pp.apply(t, "COPY", "h", "h2")
	pp.same(t, "h2")
	// Field TTLs (a listpackex) move entries of both forms around.
	pp.apply(t, "HPEXPIREAT", "h", "60000000000000", "FIELDS", "2", "d", "b")
	pp.apply(t, "HPEXPIREAT", "h", "59999999999000", "FIELDS", "1", "f")
	pp.apply(t, "HPERSIST", "h", "FIELDS", "1", "b")
	pp.apply(t, "HSET", "h", "f", "abcdefabcdefabcdef")
	pp.same(t, "h")
}

// TestPackedThresholds: the listpack limits are judged on the values' own
// lengths, as Redis's are, however short their packed forms.
func TestPackedThresholds(t *testing.T) {
	pp := newPackedPair(t, nil)
	v64, v65 := strings.Repeat("ab", 32), strings.Repeat("ab", 32)+"c"
	pp.apply(t, "HSET", "h64", "f", v64)
	pp.apply(t, "HSET", "h65", "f", v65)
	pp.apply(t, "HSET", "hgrow", "f", packable)
	pp.apply(t, "HSET", "hgrow", "f", v65)
	pp.same(t, "h64")
	pp.same(t, "h65")
	pp.same(t, "hgrow")
	for key, want := range map[string]string{"h64": "listpack", "h65": "hashtable", "hgrow": "hashtable"} {
		if got := encodingOf(pp.p, key); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}

	// Redis 7.2's list-max-listpack-size -1 (4 KiB): 200 packable
	// elements of 30 characters are 6.2 KB plain, under 4 KiB packed.
	ec := EncodingConfig{Redis72: true, ListMaxListpackSize: -1}
	pp = newPackedPair(t, &ec)
	for i := 0; i < 200; i++ {
		pp.apply(t, "RPUSH", "l", fmt.Sprintf("%030x", i))
		if i == 100 {
			pp.same(t, "l")
			if got := encodingOf(pp.p, "l"); got != "listpack" {
				t.Errorf("101 elements: %s", got)
			}
		}
	}
	pp.same(t, "l")
	if got := encodingOf(pp.p, "l"); got != "quicklist" {
		t.Errorf("200 elements: %s", got)
	}
	for i := 0; i < 150; i++ {
		pp.apply(t, "RPOP", "l")
	}
	pp.same(t, "l")
	if got := encodingOf(pp.p, "l"); got != "listpack" {
		t.Errorf("50 elements: %s", got)
	}
}

// TestPackedRoundTrips: DUMP/RESTORE, a snapshot's RDB and a load give
// back the same values, packed again by a packing projection and plain by
// a PlainText one.
func TestPackedRoundTrips(t *testing.T) {
	pp := newPackedPair(t, nil)
	pp.apply(t, "RPUSH", "l", packable, unpackable, packable2, "abc")
	pp.apply(t, "HSET", "h", "a", packable, "b", unpackable, "c", packable2)
	pp.apply(t, "HSET", "ht", "a", packable, "b", unpackable, "c", packable2)
	pp.apply(t, "HPEXPIREAT", "ht", "60000000000000", "FIELDS", "1", "c")
	var big []string
	for i := 0; i < 300; i++ {
		big = append(big, fmt.Sprintf("%024x", i))
	}
	pp.apply(t, append([]string{"RPUSH", "lbig"}, big...)...)
	keys := []string{"l", "h", "ht", "lbig"}

	for _, k := range keys {
		var payload []byte
		get(pp.p, 0, k, func(x Value) { payload, _ = x.Dump() })
		pp.apply(t, "RESTORE", k+":r", "0", string(payload))
		if pp.same(t, k+":r") == 0 {
			t.Errorf("%s: RESTORE packed nothing", k)
		}
		if a, b := readAll(pp.p, k), readAll(pp.p, k+":r"); a[strings.Index(a, "\n"):] != b[strings.Index(b, "\n"):] {
			t.Errorf("%s: RESTORE changed it:\n%s\n%s", k, a, b)
		}
	}

	reloadPacked(t, pp.p, func(plain bool, lp *Projection) {
		for _, k := range keys {
			a, b := readAll(pp.p, k), readAll(lp, k)
			if a != b {
				t.Errorf("plain=%v: %s after a load:\n%s\n%s", plain, k, a, b)
			}
			if n := codedCount(t, lp, k); (n == 0) != plain {
				t.Errorf("plain=%v: %s loaded with %d coded", plain, k, n)
			}
		}
	})
}

func maps2Equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPackedRandom runs random list and hash writes on both projections
// and compares every key after each batch. SEED= repeats a run.
func TestPackedRandom(t *testing.T) {
	seed := rand.Uint64()
	if s, err := strconv.ParseUint(os.Getenv("SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	alphabets := []string{"0123456789abcdef", "ABCDEFabcdef0123456789-_", "xyz+/XYZ09", "a b,c!"}
	val := func() string {
		a := alphabets[r.IntN(len(alphabets))]
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = a[r.IntN(len(a))]
		}
		return string(b)
	}
	ec := EncodingConfig{Redis72: true, ListMaxListpackSize: -1, HashMaxListpackEntries: 12}
	pp := newPackedPair(t, &ec)
	lists, hashes := []string{"l0", "l1"}, []string{"h0", "h1"}
	for round := 0; round < 20; round++ {
		for i := 0; i < 40; i++ {
			l, h := lists[r.IntN(2)], hashes[r.IntN(2)]
			switch r.IntN(10) {
			case 0, 1:
				pp.apply(t, "RPUSH", l, val(), val(), val())
			case 2:
				pp.apply(t, "LPUSH", l, val())
			case 3:
				pp.apply(t, "LREM", l, strconv.Itoa(r.IntN(3)-1), val())
			case 4:
				pp.apply(t, "LPOP", l)
			case 5, 6:
				pp.apply(t, "HSET", h, "f"+strconv.Itoa(r.IntN(15)), val())
			case 7:
				pp.apply(t, "HDEL", h, "f"+strconv.Itoa(r.IntN(15)))
			case 8:
				pp.apply(t, "LMOVE", l, lists[r.IntN(2)], "LEFT", "RIGHT")
			default:
				pp.apply(t, "HSETNX", h, "f"+strconv.Itoa(r.IntN(15)), val())
			}
		}
		for _, k := range slices.Concat(lists, hashes) {
			pp.same(t, k)
		}
	}
}

// packedExtra generates list and hash writes whose values are hex or
// base64 text of lengths around the packing and listpack limits (a
// workload Extra); a few values per length, so that LREM, LINSERT and
// HSETNX find them.
func packedExtra(w *workload) []string {
	r := w.Rand()
	alphabets := []string{"0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", "abc+/XYZ019"}
	lengths := []int{4, 6, 8, 11, 12, 15, 16, 17, 20, 32, 63, 64, 65, 70}
	val := func() string { return textValue(r, alphabets, lengths, 3) }
	key := w.Key()
	switch r.IntN(10) {
	case 0, 1:
		return []string{"RPUSH", key, val(), val(), val()}
	case 2:
		return []string{"LPUSH", key, val()}
	case 3:
		return []string{"LREM", key, strconv.Itoa(r.IntN(3) - 1), val()}
	case 4:
		return []string{"LINSERT", key, "BEFORE", val(), val()}
	case 5:
		return []string{"LSET", key, strconv.Itoa(r.IntN(4) - 2), val()}
	case 6, 7:
		return []string{"HSET", key, "f" + strconv.Itoa(r.IntN(12)), val(), "f" + strconv.Itoa(r.IntN(12)), val()}
	case 8:
		return []string{"HSETNX", key, "f" + strconv.Itoa(r.IntN(12)), val()}
	}
	return []string{"LMOVE", key, w.Key(), "LEFT", "RIGHT"}
}

// TestDifferentialPacked runs the differential test against a real
// primary and replica with packable list elements and hash values mixed
// in (odd seeds with hash-max-listpack-value 16, so values cross it).
func TestDifferentialPacked(t *testing.T) {
	forSeeds(t, 2, 2000, 10, 20000, func(t *testing.T, seed int64, ops int) { runDifferentialMix(t, seed, ops, packedExtra) })
}
