package projection

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestRecHead writes every kind of head a string record can have and
// reads it back: the one-byte forms where they apply (a coded value of up
// to 127 bytes, an embstr or int of up to 31, with no expire time and a
// short key), the general form around each boundary, and values up to a
// uvarint's longer widths.
func TestRecHead(t *testing.T) {
	buf := make([]byte, 16)
	lens := []int{0, 1, 7, 8, 31, 32, 63, 64, 127, 128, 255, 1023, 1024, 1 << 14, 1<<20 + 3, 1 << 29}
	for _, n := range lens {
		for _, enc := range []uint8{encEmbstr, encInt, encRaw, encCoded} {
			for _, exp := range []bool{false, true} {
				for _, klen := range []int{1, tagLongKey - 1, tagLongKey, 300} {
					head := recHeadOf(n, enc, exp, klen)
					w := putRecHead(buf, head)
					require.Equal(t, recHeadLen(head), w, "n %d enc %d exp %v klen %d", n, enc, exp, klen)
					got, gw := recHead(unsafe.Pointer(&buf[0]))
					require.Equal(t, head, got, "n %d enc %d exp %v klen %d", n, enc, exp, klen)
					require.Equal(t, w, gw)
					short := !exp && klen < tagLongKey &&
						(enc == encCoded && n <= 127 || (enc == encEmbstr || enc == encInt) && n <= 31)
					require.Equal(t, short, w == 1, "n %d enc %d exp %v klen %d: width %d", n, enc, exp, klen, w)
				}
			}
		}
	}
}

// TestRecHeadInRecords builds records with the one-byte and the general
// heads and reads their values back through the table's lookup.
func TestRecHeadInRecords(t *testing.T) {
	d := newDB(1, 4)
	vals := map[string]string{
		"a": "12345",                                      // int, one byte
		"b": "hello world",                                // embstr, one byte
		"c": "hello world, this is a plain embstr value!", // embstr of 42: general head
		"d": string(make([]byte, 200)),                    // raw zeros: general
	}
	packed := "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLw" // base64: coded
	vals["e"] = packed
	vals["f"] = packed + packed // coded, over 127 stored bytes: general
	for k, v := range vals {
		d.setString([]byte(k), []byte(v), 0)
	}
	d.setString([]byte("g"), []byte("x"), 1<<40) // an expire time: general
	vals["g"] = "x"
	for k, v := range vals {
		o, ok := d.lookup([]byte(k))
		require.True(t, ok, k)
		require.Equal(t, v, string(o.bytes()), k)
	}
	width := map[string]int{"a": 1, "b": 1, "c": 2, "d": 2, "e": 1, "f": 2, "g": 2}
	for k, w := range width {
		h := keyHash([]byte(k))
		s := d.tableOf(h).find([]byte(k), h)
		_, got := recHead(s.p)
		require.Equal(t, w, got, "head of %s", k)
	}
}
