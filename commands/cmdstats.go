package commands

import (
	"sync/atomic"
	"time"
)

// Per-command call counts and a command latency histogram, for the
// /metrics endpoint (vdr_client_command_calls_total,
// vdr_command_duration_seconds). Counting is one atomic add per command.
// Latency is sampled: one command in latencySampleEvery per connection is
// timed, so the hot path pays for the clock only rarely; the histogram's
// count is the number of samples, not of commands.

// latencySampleEvery is the sampling period (a power of two).
const latencySampleEvery = 8

// LatencyBuckets are the histogram's upper bounds in seconds.
var LatencyBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1}

type cmdStats struct {
	calls atomic.Int64
}

var latency struct {
	buckets [14]atomic.Uint64 // len(LatencyBuckets)+1; the last is +Inf
	sumNs   atomic.Int64
}

func observeLatency(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBuckets) && s > LatencyBuckets[i] {
		i++
	}
	latency.buckets[i].Add(1)
	latency.sumNs.Add(int64(d))
}

// LatencyHistogram returns the sampled command latency: the count per
// bucket (not cumulative; the last is above every bound), and the sum.
func LatencyHistogram() (counts []uint64, sum time.Duration) {
	counts = make([]uint64, len(LatencyBuckets)+1)
	for i := range counts {
		counts[i] = latency.buckets[i].Load()
	}
	return counts, time.Duration(latency.sumNs.Load())
}

// EachCommandCalls calls fn for every command (and subcommand) that was
// called at least once, with its name and call count.
func EachCommandCalls(fn func(name string, calls int64)) {
	for _, name := range statsNames {
		if n := statsByName[name].calls.Load(); n > 0 {
			fn(name, n)
		}
	}
}
