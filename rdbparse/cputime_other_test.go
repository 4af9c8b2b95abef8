//go:build !unix

package rdbparse

import "time"

func cpuTime() time.Duration { return 0 }
