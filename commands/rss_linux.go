package commands

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// processRSS is the process's resident set size in bytes, as Redis's
// zmalloc_get_rss reads it (/proc/self/stat's resident pages; statm
// holds the same count), or the Go runtime's Sys if /proc cannot be read.
func processRSS(ms *runtime.MemStats) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) >= 2 {
			if pages, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return pages * int64(os.Getpagesize())
			}
		}
	}
	return int64(ms.Sys)
}

// totalSystemMemory is the machine's physical memory in bytes (Redis's
// zmalloc_get_memory_size), or 0 when unknown.
func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
