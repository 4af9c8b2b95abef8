package server

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Linux madvise advice values not in package syscall.
const (
	madvHugepage = 14 // MADV_HUGEPAGE
	madvCollapse = 25 // MADV_COLLAPSE (Linux 6.1+)
)

// heapProbe holds a heap object whose address tells where the Go heap
// is: the runtime grows its heap arenas contiguously from one (possibly
// randomized) base, so the heap's mappings share the probe's 1 TiB-aligned
// region, while thread stacks and C allocations live elsewhere. (It is
// allocated at run time: a package-level new may be placed statically.)
var heapProbe *[4096]byte

// adviseHugePages asks the kernel to back the Go heap with transparent
// huge pages (madvise MADV_HUGEPAGE, then MADV_COLLAPSE for what is
// already resident). A projection is a large heap read at random: with
// 4 KiB pages nearly every key lookup misses the TLB, and in a virtual
// machine each miss walks two page tables. It reports the bytes advised.
// Errors (no THP, an old kernel) leave the heap as it was.
func adviseHugePages() (int64, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	heapProbe = new([4096]byte)
	region := uint64(uintptr(unsafe.Pointer(heapProbe))) >> 40
	var total int64
	var firstErr error
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "c000000000-c004000000 rw-p 00000000 00:00 0"
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[1] != "rw-p" || fields[4] != "0" || len(fields) > 5 {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || start>>40 != region || end-start < 2<<20 {
			continue
		}
		if err := madvise(uintptr(start), uintptr(end-start), madvHugepage); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("madvise(MADV_HUGEPAGE): %w", err)
			}
			continue
		}
		// Collapse what is resident now; a failure (EAGAIN under memory
		// pressure, an old kernel) still leaves new faults huge.
		madvise(uintptr(start), uintptr(end-start), madvCollapse)
		total += int64(end - start)
	}
	return total, firstErr
}

func madvise(addr, n uintptr, advice int) error {
	_, _, e := syscall.Syscall(syscall.SYS_MADVISE, addr, n, uintptr(advice))
	if e != 0 {
		return e
	}
	return nil
}
