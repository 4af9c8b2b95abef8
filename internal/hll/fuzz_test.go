package hll

import (
	"errors"
	"testing"
)

// FuzzHLL feeds arbitrary bytes as an HLL value: every operation either
// works or returns ErrNotHLL/ErrCorrupt, never panics, and a value that
// passes Check and converts to dense keeps its header.
func FuzzHLL(f *testing.F) {
	f.Add(New(), []byte("a"))
	s, _, _ := PFAdd(nil, [][]byte{[]byte("a"), []byte("b"), []byte("c")}, DefaultSparseMaxBytes)
	f.Add(s, []byte("d"))
	d, _ := ToDense(s)
	f.Add(d, []byte("e"))
	f.Add([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x40"), []byte("x")) // truncated XZERO
	f.Add([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\xff\xff\xff"), []byte{})
	f.Fuzz(func(t *testing.T, b, ele []byte) {
		ok := func(err error) {
			if err != nil && !errors.Is(err, ErrNotHLL) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		valid := Check(b) == nil
		_, err := Count(b)
		ok(err)
		if !valid && err == nil {
			t.Fatal("Count accepted a value Check refuses")
		}
		var r Regs
		ok(MergeInto(&r, b))
		_, _, err = PFCount(append([]byte(nil), b...))
		ok(err)
		for _, smax := range []int{0, 40, DefaultSparseMaxBytes} {
			nb, _, err := PFAdd(append([]byte(nil), b...), [][]byte{ele, b}, smax)
			ok(err)
			if err == nil && Check(nb) != nil {
				t.Fatalf("PFAdd produced an invalid value %x", nb)
			}
			_, err = PFMerge(append([]byte(nil), b...), [][]byte{b, New()}, smax)
			ok(err)
		}
		dd, err := ToDense(append([]byte(nil), b...))
		ok(err)
		if err == nil && (len(dd) != DenseSize || string(dd[:4]) != "HYLL" || dd[4] != Dense) {
			t.Fatalf("ToDense produced %x…", dd[:HdrSize])
		}
	})
}
