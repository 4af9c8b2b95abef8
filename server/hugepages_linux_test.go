package server

import (
	"errors"
	"syscall"
	"testing"
	"unsafe"
)

// residentPages counts the resident 4 KiB pages of the whole 2 MiB
// stretches inside b, stretch by stretch.
func residentPages(t *testing.T, b []byte) []int {
	t.Helper()
	start := uintptr(unsafe.Pointer(&b[0]))
	var out []int
	var vec [hugeSize / pageSize]byte
	for a := (start + hugeSize - 1) &^ (hugeSize - 1); a+hugeSize <= start+uintptr(len(b)); a += hugeSize {
		if err := mincore(a, hugeSize, &vec[0]); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, v := range vec {
			n += int(v & 1)
		}
		out = append(out, n)
	}
	return out
}

// TestAdviseHugePages: a heap stretch whose pages are all resident is
// collapsed into a huge page, and one where the program touched a page
// here and there keeps its other pages out of memory (a collapse would
// have brought all 512 in).
func TestAdviseHugePages(t *testing.T) {
	dense := make([]byte, 16<<20)
	sparse := make([]byte, 16<<20)
	for i := 0; i < len(dense); i += pageSize {
		dense[i] = 1
	}
	for i := 0; i < len(sparse); i += 64 * pageSize {
		sparse[i] = 1
	}
	n, err := adviseHugePages()
	if errors.Is(err, syscall.EINVAL) {
		t.Skip("kernel without MADV_COLLAPSE:", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n < 6*hugeSize {
		t.Errorf("collapsed %d bytes; the dense 16 MiB alone hold at least 7 whole stretches", n)
	}
	for i, r := range residentPages(t, sparse) {
		if r > 64 {
			t.Errorf("sparse stretch %d: %d of 512 pages resident after the advice", i, r)
		}
	}
	for i, r := range residentPages(t, dense) {
		if r != hugeSize/pageSize {
			t.Errorf("dense stretch %d: %d of 512 pages resident", i, r)
		}
	}
	_, _ = dense[0], sparse[0]
}
