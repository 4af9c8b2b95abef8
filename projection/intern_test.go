package projection

import (
	"bytes"
	"strings"
	"testing"
)

// A hash field entry decodes to the name it was made from; a short name
// takes one or two bytes (interned), a name out of the interned lengths
// is kept in full.
func TestFieldEntryRoundTrip(t *testing.T) {
	names := []string{"", "a", "field0", "field0", "email", strings.Repeat("x", internMaxLen),
		strings.Repeat("y", internMaxLen+1), strings.Repeat("z", 300), "\x00\xff"}
	for _, n := range names {
		b := fieldAppend([]byte{0x55}, []byte(n))
		got, next := fieldNext(b, 1)
		if !bytes.Equal(got, []byte(n)) || next != len(b) || fieldSize([]byte(n)) != len(b)-1 {
			t.Fatalf("%q: decoded %q, next %d of %d, size %d", n, got, next, len(b), fieldSize([]byte(n)))
		}
		if l := len(n); l >= internMinLen && l <= internMaxLen && len(b)-1 > 2 {
			t.Errorf("%q takes %d bytes, want an interned number", n, len(b)-1)
		}
		if l := len(n); (l < internMinLen || l > internMaxLen) && len(b)-1 <= l {
			t.Errorf("%q takes %d bytes, want it in full", n, len(b)-1)
		}
	}
}
