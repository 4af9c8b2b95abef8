//go:build unix

package rdbparse

import (
	"syscall"
	"time"
)

// cpuTime returns the process's user+system CPU time, to report
// throughput per CPU second on a shared machine where wall time is noisy.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
