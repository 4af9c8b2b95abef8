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
const madvCollapse = 25 // MADV_COLLAPSE (Linux 6.1+)

// heapProbe holds a heap object whose address tells where the Go heap
// is: the runtime grows its heap arenas contiguously from one (possibly
// randomized) base, so the heap's mappings share the probe's 1 TiB-aligned
// region, while thread stacks and C allocations live elsewhere. (It is
// allocated at run time: a package-level new may be placed statically.)
var heapProbe *[4096]byte

// adviseHugePages backs the dense parts of the Go heap with transparent
// huge pages: each 2 MiB stretch of a heap mapping whose 4 KiB pages are
// nearly all resident (hugeDenseMin of 512, by mincore) is collapsed into
// one huge page (madvise MADV_COLLAPSE, Linux 6.1+, which needs no
// MADV_HUGEPAGE and ignores the sysfs setting). A projection is a large
// heap read at random: with 4 KiB pages nearly every key lookup misses
// the TLB, and in a virtual machine each miss walks two page tables.
//
// Sparse stretches are left alone, and the mappings are not marked
// MADV_HUGEPAGE: marked, khugepaged would later collapse any stretch with
// a single resident page, filling the pages the Go runtime returned to
// the OS with zeros (after a full sync of 1M hashes RSS rose by 27 MB,
// 9%, some 20 s after the load, with the live heap unchanged), and every
// new fault in them would take a whole huge page. It reports the bytes
// collapsed. Errors (no THP, an old kernel) leave the heap as it was.
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
	var vec [hugeSize / pageSize]byte
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
		if err1 != nil || err2 != nil || start>>40 != region || end-start < hugeSize {
			continue
		}
		for a := (start + hugeSize - 1) &^ (hugeSize - 1); a+hugeSize <= end; a += hugeSize {
			if err := mincore(uintptr(a), hugeSize, &vec[0]); err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("mincore: %w", err)
				}
				continue
			}
			resident := 0
			for _, v := range vec {
				resident += int(v & 1)
			}
			if resident < hugeDenseMin {
				continue
			}
			// A stretch already huge collapses at once; a failure
			// (EAGAIN under memory pressure) leaves it as it was.
			if err := madvise(uintptr(a), hugeSize, madvCollapse); err != nil {
				if firstErr == nil && err != syscall.EAGAIN {
					firstErr = fmt.Errorf("madvise(MADV_COLLAPSE): %w", err)
				}
				continue
			}
			total += hugeSize
		}
	}
	if total > 0 {
		firstErr = nil // collapsing works; a stretch that failed is only a lost speed-up
	}
	return total, firstErr
}

const (
	pageSize = 4096
	hugeSize = 2 << 20
	// hugeDenseMin is how many of a stretch's 512 pages must be resident
	// for it to be collapsed: collapsing fills the rest with zeros.
	hugeDenseMin = 496
)

func mincore(addr, n uintptr, vec *byte) error {
	_, _, e := syscall.Syscall(syscall.SYS_MINCORE, addr, n, uintptr(unsafe.Pointer(vec)))
	if e != 0 {
		return e
	}
	return nil
}

func madvise(addr, n uintptr, advice int) error {
	_, _, e := syscall.Syscall(syscall.SYS_MADVISE, addr, n, uintptr(advice))
	if e != 0 {
		return e
	}
	return nil
}
