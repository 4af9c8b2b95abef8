//go:build !race

package projection

import "testing"

// TestViewNoAllocs checks that a read through View allocates nothing, for
// one key and for several (the race detector allocates, hence the build
// tag; `make test` runs this without -race).
func TestViewNoAllocs(t *testing.T) {
	p := newTestProjection(t, nil)
	mustApply(t, p, 0, "SET a 1")
	mustApply(t, p, 0, "RPUSH b x y")
	one, two := [][]byte{[]byte("a")}, [][]byte{[]byte("a"), []byte("b")}
	for _, keys := range [][][]byte{one, two} {
		var got int
		read := func(v *View) { got += len(v.Get(keys[0]).Bytes()) }
		n := testing.AllocsPerRun(1000, func() {
			if err := p.View(0, keys, read); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("a View of %d keys allocates %v times", len(keys), n)
		}
		if got == 0 {
			t.Error("the reads saw nothing")
		}
	}
}
