package server

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkSentinelFailover measures how long a Sentinel failover takes
// with vdr attached as a replica, with a Redis replica in its place, and
// with neither, in the same run (issue 15: "the failover finishes as fast
// as without vdr attached"): three sentinels, a primary A and a Redis
// replica B, plus the third replica of A, a write loop on the primary,
// failover-timeout 60 s; the time from SENTINEL FAILOVER to the leader's
// +switch-master. Each iteration sets up the three groups afresh and
// fails each over once.
//
// A third replica costs Sentinel one more step whichever it is: after
// B's promotion it sends that replica REPLICAOF and waits to read, in
// the replica's INFO (polled once a second during a failover), that it
// follows B (+slave-reconf-done) before it ends the failover; without
// one, it ends as soon as B is promoted.
//
// Reported: none-ms, redis-ms, vdr-ms (medians over the iterations), and
// the ratios vdr/none and vdr/redis.
//
//	go test -run '^$' -bench BenchmarkSentinelFailover -benchtime 3x ./server
func BenchmarkSentinelFailover(b *testing.B) {
	took := map[int][]time.Duration{}
	for i := 0; i < b.N; i++ {
		for _, third := range []int{withNone, withRedisThird, withVdr} {
			b.StopTimer()
			g := startFailoverGroup(b, third, 60*time.Second)
			b.StartTimer()
			res := g.failover(b)
			took[third] = append(took[third], res.took)
			b.StopTimer()
			g.stopWrites()
			b.StartTimer()
		}
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	none, redis, vdr := median(took[withNone]), median(took[withRedisThird]), median(took[withVdr])
	b.ReportMetric(none, "none-ms")
	b.ReportMetric(redis, "redis-ms")
	b.ReportMetric(vdr, "vdr-ms")
	b.ReportMetric(vdr/none, "vdr/none")
	b.ReportMetric(vdr/redis, "vdr/redis")
}
