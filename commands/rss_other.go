//go:build !linux

package commands

import "runtime"

// processRSS is the Go runtime's Sys where /proc is not there.
func processRSS(ms *runtime.MemStats) int64 { return int64(ms.Sys) }

// totalSystemMemory is unknown here (INFO total_system_memory 0).
func totalSystemMemory() int64 { return 0 }
