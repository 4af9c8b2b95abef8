package projection

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestKeyPack: a key with an ASCII prefix that ends in six digits or more
// packs to a form that holds its digits as one number (leading zeros
// free), unpacks to itself, and equals no other key; any other key is
// stored as it is.
func TestKeyPack(t *testing.T) {
	for _, tc := range []struct {
		key string
		d   int // digits packed
		n   int // stored length
	}{
		{"", 0, 0}, {"k", 0, 1}, {"12345", 0, 5}, {"user:12345", 0, 10},
		{"123456", 6, 3}, {"user:123456", 6, 8}, {"user:1234567", 7, 9}, {"s:000000123456", 12, 5},
		{"s:000000000000", 12, 3}, {"s:000000000015", 12, 3}, {"s:000000000016", 12, 4},
		{"s:999999999999", 12, 2 + 6}, {"s:1000000000000000000", 18, 3 + 1}, {"s:999999999999999999", 18, 2 + 8},
		{"a1b2c3d4e5f6", 0, 12}, {"x:12345678/", 0, 11},
		{strings.Repeat("a", 50) + "123456789012", 12, 56}, // 62 bytes: packed
		{strings.Repeat("a", 51) + "123456789012", 0, 63},  // 63: long, never packed
		{strings.Repeat("a", 44) + "123456789012345678", 18, 52},
		{strings.Repeat("a", 40) + "9999999999999999999999", 18, 44 + 8}, // 22 digits: the last 18 packed
		{strings.Repeat("a", 45) + "123456789012345678", 0, 63},
		{"ü:123456", 0, 9}, {"\x80123456", 0, 7}, {"\x7f123456", 6, 4}, // the prefix must be ASCII
	} {
		if got := packDigits([]byte(tc.key)); got != tc.d {
			t.Errorf("packDigits(%q) = %d, want %d", tc.key, got, tc.d)
		}
		if got := storedKeyLen([]byte(tc.key)); got != tc.n {
			t.Errorf("storedKeyLen(%q) = %d, want %d", tc.key, got, tc.n)
		}
	}
	for _, s := range []string{"00000000", "12345678", "99999999", "0000000/", ":0000000", "1234567a", "\x3a3456789", "12\xb0\x0045678", "1234\xf0678"} {
		s = s[:8]
		want, werr := strconv.ParseUint(s, 10, 64)
		got, ok := digits8(binary.LittleEndian.Uint64([]byte(s)))
		if ok != (werr == nil) || ok && got != want {
			t.Errorf("digits8(%q) = %d, %v; want %d, %v", s, got, ok, want, werr == nil)
		}
	}
	// chars8 and digits8 against every number under 10^8: want is x's
	// eight characters, the first in the lowest byte, counted up with x.
	want := uint64(0x3030303030303030)
	for x := uint64(0); x < 1e8; x++ {
		if got := chars8(x); got != want {
			t.Fatalf("chars8(%d) = %q, want %q", x, binary.LittleEndian.AppendUint64(nil, got), binary.LittleEndian.AppendUint64(nil, want))
		}
		if d, ok := digits8(want); !ok || d != x {
			t.Fatalf("digits8(%q) = %d, %v", binary.LittleEndian.AppendUint64(nil, want), d, ok)
		}
		for sh := 56; sh >= 0; sh -= 8 { // the last character is the highest byte
			if want>>sh&0xff < '9' {
				want += 1 << sh
				break
			}
			want -= 9 << sh // '9' back to '0', and carry
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	const chars = "ab:/\xe90123456789"
	var keys [][]byte
	for range 5000 {
		n := r.IntN(70)
		k := make([]byte, n)
		for i := range k {
			if i > n/3 && r.IntN(4) != 0 {
				k[i] = '0' + byte(r.IntN(10))
			} else {
				k[i] = chars[r.IntN(len(chars))]
			}
		}
		keys = append(keys, k)
	}
	keys = append(keys, []byte("s:000000123456"), []byte("s:000000123457"), []byte("s:00000012345"), []byte("s:0000001234567"),
		[]byte("s:100000123456"), []byte("s:0000000123456"))
	packed := 0
	for i, k := range keys {
		d := packDigits(k)
		if d == 0 {
			if storedKeyLen(k) != len(k) {
				t.Fatalf("%q: stored length %d", k, storedKeyLen(k))
			}
			continue
		}
		packed++
		buf := make([]byte, 64)
		for j := range buf {
			buf[j] = byte(r.IntN(256)) // what follows a packed key is anything
		}
		n := formOf(k).put(buf)
		p := buf[:n]
		if n != storedKeyLen(k) || n > len(k)-d+(d+1)/2 || n != packedStoredLen(&buf[0]) {
			t.Fatalf("%q: packed to %d bytes, storedKeyLen %d, read back %d", k, n, storedKeyLen(k), packedStoredLen(&buf[0]))
		}
		if got := appendUnpacked(nil, &p[0], len(k)); string(got) != string(k) {
			t.Fatalf("%q unpacked to %q", k, got)
		}
		if !packedEq(p, k) {
			t.Fatalf("%q: not equal to its packed form", k)
		}
		for j := range 20 {
			o := keys[(i+j*131+1)%len(keys)]
			if len(o) == len(k) { // what the slot's length bits let through
				if _, ok := packedMatch(&buf[0], o); ok != (string(o) == string(k)) {
					t.Fatalf("packed %q against %q: %v", k, o, ok)
				}
			}
		}
		// Change one digit: no longer equal.
		o := append([]byte(nil), k...)
		o[len(o)-1-r.IntN(d)] ^= 1
		if _, ok := packedMatch(&buf[0], o); ok {
			t.Fatalf("packed %q equals %q", k, o)
		}
		// The same digits one place along, a digit for a prefix byte.
		if pre := len(k) - d; pre > 0 {
			o := append([]byte(nil), k...)
			o[pre-1], o[pre] = o[pre], '0'
			if _, ok := packedMatch(&buf[0], o); ok && string(o) != string(k) {
				t.Fatalf("packed %q equals %q", k, o)
			}
		}
	}
	if packed < 700 {
		t.Fatalf("only %d of %d keys packed", packed, len(keys))
	}
}

// TestPackedKeysRoundTrip stores strings and small collections under keys
// that pack, loads them through an RDB (records in arenas, packed
// collection records), and reads every key back by name and by SCAN.
func TestPackedKeysRoundTrip(t *testing.T) {
	src := newTestProjection(t, nil)
	var want []string
	for i := range 300 {
		k := fmt.Sprintf("obj:%0*d", 6+i%7, i)
		switch i % 3 {
		case 0:
			mustApply(t, src, 0, fmt.Sprintf("SET %s v%d", k, i))
		case 1:
			mustApply(t, src, 0, "RPUSH "+k+" a b")
		default:
			mustApply(t, src, 0, "HSET "+k+" f v")
		}
		want = append(want, k)
	}
	mustApply(t, src, 0, "SET ttl:123456789 x EX 1000")
	want = append(want, "ttl:123456789")
	for _, p := range []*Projection{src, loadWithout(t, snapshotFile(t, src), &noArena, false)} {
		require := func(ok bool, f string, a ...any) {
			t.Helper()
			if !ok {
				t.Fatalf(f, a...)
			}
		}
		seen := map[string]bool{}
		for _, k := range want {
			p.View(0, [][]byte{[]byte(k)}, func(v *View) {
				require(v.Exists([]byte(k)), "%s: missing", k)
			})
			seen[k] = false
		}
		var cur uint64
		for {
			next, err := p.Scan(0, cur, 1000, func(k []byte, _ Value) {
				_, ok := seen[string(k)]
				require(ok, "SCAN returned %q", k)
				seen[string(k)] = true
			})
			require(err == nil, "SCAN: %v", err)
			if cur = next; cur == 0 {
				break
			}
		}
		for k, ok := range seen {
			require(ok, "SCAN missed %q", k)
		}
		require(p.sane() == nil, "sane: %v", p.sane())
		// A string's record and a list's packed record hold their keys
		// packed; the loaded copy holds both kinds as records.
		for _, k := range []string{"obj:000000", "obj:0000001"} {
			tag, ok := slotTag(p, k)
			require(ok && tag&tagPacked != 0 == (k == "obj:000000" || p != src), "%s: tag %#x", k, tag)
		}
	}
}

// packedEq reports whether p is the packed form of key, all of it.
func packedEq(p, key []byte) bool {
	n, ok := packedMatch(&p[0], key)
	return ok && n == len(p)
}
