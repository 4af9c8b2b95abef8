package server

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestAdviseHugePages: after the advice, the mapping that holds the Go
// heap carries the kernel's "hg" (MADV_HUGEPAGE) flag, and nothing else
// (a thread stack, the binary) does.
func TestAdviseHugePages(t *testing.T) {
	keep := make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, 1<<20)) // a heap of some size
	}
	n, err := adviseHugePages()
	if errors.Is(err, syscall.EINVAL) {
		t.Skip("kernel without transparent huge pages:", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n < 64<<20 {
		t.Errorf("advised %d bytes, the heap holds at least 64 MiB", n)
	}
	heapAddr := uint64(uintptr(unsafe.Pointer(&keep[10][0])))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur string
	var curHeap bool
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			lo, hi, _ := strings.Cut(fields[0], "-")
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				cur, curHeap = line, a <= heapAddr && heapAddr < b
			}
			continue
		}
		if v, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			hg := strings.Contains(" "+v+" ", " hg ")
			switch {
			case curHeap && !hg:
				t.Errorf("heap mapping not advised: %s (%s)", cur, v)
			case curHeap:
				found = true
			case hg && (strings.Contains(cur, "[stack") || strings.Contains(cur, "/")):
				t.Errorf("a non-heap mapping was advised: %s", cur)
			}
		}
	}
	if !found {
		t.Errorf("no mapping holds the heap address %#x", heapAddr)
	}
	_ = keep
}
