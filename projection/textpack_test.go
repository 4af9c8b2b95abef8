package projection

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Every value gives back its own bytes, whether it packs or not, and a
// value packs when and only when each of its bytes is in one alphabet;
// with the vector unpacker and without it.
func TestTextPackRoundTrip(t *testing.T) {
	t.Run("fast", testTextPackRoundTrip)
	if haveUnpack16 {
		haveUnpack16 = false
		defer func() { haveUnpack16 = true }()
		t.Run("scalar", testTextPackRoundTrip)
	}
}

func testTextPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabets := []string{
		codecAlphabet[codec6URL], codecAlphabet[codec6Std],
		codecAlphabet[codec4Lower], codecAlphabet[codec4Upper],
		"0123456789", "abcdefghijklmnopqrstuvwxyz0123456789-",
	}
	for n := 0; n < 200; n++ {
		for _, a := range alphabets {
			v := make([]byte, n)
			for i := range v {
				v[i] = a[r.IntN(len(a))]
			}
			checkPack(t, v, true)
			if n > 0 {
				w := bytes.Clone(v)
				w[r.IntN(n)] = "~= \x00\xff."[r.IntN(6)]
				checkPack(t, w, false)
			}
		}
	}
}

func checkPack(t *testing.T, v []byte, packable bool) {
	t.Helper()
	for _, flag := range []byte{0, codecFlagBit} {
		p, ok := packText([]byte("x"), v, flag)
		if !ok {
			if packable && len(v) >= 8 {
				t.Fatalf("%q: not packed", v)
			}
			if string(p) != "x" {
				t.Fatalf("%q: refused but wrote %q", v, p)
			}
			continue
		}
		if !packable {
			t.Fatalf("%q: packed, though a byte is outside every alphabet", v)
		}
		p = p[1:]
		if len(p) >= len(v) {
			t.Fatalf("%q: packed into %d bytes", v, len(p))
		}
		if p[0]&codecFlagBit != flag {
			t.Fatalf("%q: flag %#x lost", v, flag)
		}
		if n := codedLen(p); n != len(v) {
			t.Fatalf("%q: codedLen %d", v, n)
		}
		if got := appendCoded([]byte("y"), p); string(got) != "y"+string(v) {
			t.Fatalf("%q: unpacked to %q", v, got[1:])
		}
	}
}

// A string set through the projection reads back the same, packed or
// plain, through every accessor.
func TestTextPackedStrings(t *testing.T) {
	for _, plain := range []bool{false, true} {
		p, err := New(Options{PlainText: plain})
		if err != nil {
			t.Fatal(err)
		}
		vals := []string{"0123456789abcdef0123", "Tm9ib2R5IGV4cGVjdHMgdGhlIFNwYW5pc2g", "a-b_c", "plain text, with spaces", "12345", "DEADBEEF00",
			"x9Yz" + string(bytes.Repeat([]byte("Qr-7"), 20))}
		for i, v := range vals {
			if err := p.Apply(0, [][]byte{[]byte("SET"), {byte('a' + i)}, []byte(v)}); err != nil {
				t.Fatal(err)
			}
		}
		for i, want := range vals {
			get(p, 0, string(rune('a'+i)), func(x Value) {
				if string(x.Bytes()) != want || string(x.AppendBytes([]byte("-"))) != "-"+want || x.Len() != len(want) {
					t.Fatalf("plain=%v %q: Bytes %q AppendBytes %q Len %d", plain, want, x.Bytes(), x.AppendBytes(nil), x.Len())
				}
			})
		}
	}
}

func BenchmarkTextPack(b *testing.B) {
	v := []byte("Tm9ib2R5IGV4cGVjdHMgdGhlIFNwYW5pc2gTm9ib2R5IGV4cGVjdHMgdGhlIFNwYW5pc2gxyz")[:72]
	p, _ := packText(nil, v, 0)
	b.Run("pack", func(b *testing.B) {
		buf := make([]byte, 0, 128)
		for i := 0; i < b.N; i++ {
			buf, _ = packText(buf[:0], v, 0)
		}
	})
	b.Run("unpack", func(b *testing.B) {
		buf := make([]byte, 0, 128)
		for i := 0; i < b.N; i++ {
			buf = appendCoded(buf[:0], p)
		}
	})
}

// packedStringExtra generates string writes whose values are hex or
// base64 text around the packing and embstr limits (a workload Extra),
// so that packed values are appended to, overwritten in part, renamed,
// copied and read back as a real replica holds them.
func packedStringExtra(w *workload) []string {
	r := w.Rand()
	alphabets := []string{"0123456789abcdef", "0123456789ABCDEF", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", "abc+/XYZ019", "007"}
	lengths := []int{3, 4, 5, 8, 11, 12, 21, 44, 45, 72, 128}
	val := func() string { return textValue(r, alphabets, lengths, 5) }
	key := w.Key()
	switch r.IntN(9) {
	case 0, 1:
		return []string{"SET", key, val()}
	case 2:
		return []string{"SET", key, val(), "PX", strconv.Itoa(60000 + r.IntN(1000))}
	case 3:
		return []string{"APPEND", key, val()}
	case 4:
		return []string{"SETRANGE", key, strconv.Itoa(r.IntN(50)), val()}
	case 5:
		return []string{"MSET", key, val(), w.Key(), val()}
	case 6:
		return []string{"PERSIST", key}
	case 7:
		return []string{"COPY", key, w.Key(), "REPLACE"}
	}
	return []string{"RENAME", key, w.Key()}
}

// TestDifferentialPackedStrings: string values stored packed read as a
// real replica's do (values, encodings, expire times).
func TestDifferentialPackedStrings(t *testing.T) {
	forSeeds(t, 2, 2000, 10, 20000, func(t *testing.T, seed int64, ops int) { runDifferentialMix(t, seed, ops, packedStringExtra) })
}

// textValue returns a value of one of alphabets' characters and one of
// lengths, in one of variants deterministic patterns (so that values
// repeat, for the writes that look for an equal one).
func textValue(r *rand.Rand, alphabets []string, lengths []int, variants int) string {
	a, n, v := alphabets[r.IntN(len(alphabets))], lengths[r.IntN(len(lengths))], r.IntN(variants)
	b := make([]byte, n)
	for i := range b {
		b[i] = a[(i*7+v*13)%len(a)]
	}
	return string(b)
}
