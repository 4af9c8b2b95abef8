package server

import (
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// The comparison benchmark: the same redis-benchmark workloads against vdr
// and against a real Redis replica of the same primary, in the same run.
// It takes about a minute, so it runs only with VDR_BENCH=1:
//
//	VDR_BENCH=1 go test -run '^$' -bench BenchmarkCompareRedis -benchtime 1x ./server/

// benchWorkloads are redis-benchmark argument lists (after the common ones).
var benchWorkloads = []struct {
	name string
	args []string
}{
	{"GET", []string{"GET", "key:__rand_int__"}},
	{"MGET10", append([]string{"MGET"}, strings.Split(strings.Repeat("key:__rand_int__ ", 10), " ")[:10]...)},
	{"HGETALL", []string{"HGETALL", "myhash"}},
	{"LRANGE_0_9", []string{"LRANGE", "mylist", "0", "9"}},
	{"ZRANGE_WITHSCORES", []string{"ZRANGE", "myzset", "0", "-1", "WITHSCORES"}},
	{"SMEMBERS", []string{"SMEMBERS", "myset"}},
}

type benchResult struct{ rps, p99 float64 }

// runRedisBenchmark runs one workload and parses redis-benchmark's CSV.
func runRedisBenchmark(tb testing.TB, bin, addr string, pipeline, n int, args []string) benchResult {
	tb.Helper()
	host, port, _ := net.SplitHostPort(addr)
	argv := append([]string{"-h", host, "-p", port, "-c", "50", "-n", strconv.Itoa(n), "-r", "1000",
		"-P", strconv.Itoa(pipeline), "--csv"}, args...)
	out, err := exec.Command(bin, argv...).CombinedOutput()
	if err != nil {
		tb.Fatalf("redis-benchmark %q: %v\n%s", args, err, out)
	}
	recs, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil || len(recs) < 2 || len(recs[1]) < 7 {
		tb.Fatalf("redis-benchmark CSV %q: %v\n%s", args, err, out)
	}
	rps, _ := strconv.ParseFloat(recs[1][1], 64)
	p99, _ := strconv.ParseFloat(recs[1][6], 64)
	return benchResult{rps, p99}
}

// benchDataset writes the benchmark keys to the primary and vdr.
func benchDataset(tb testing.TB, f feeder) {
	for i := 0; i < 1000; i++ {
		f.write(tb, 0, "SET", fmt.Sprintf("key:%012d", i), "xxx")
	}
	h := []string{"HSET", "myhash"}
	l := []string{"RPUSH", "mylist"}
	z := []string{"ZADD", "myzset"}
	s := []string{"SADD", "myset"}
	for i := 0; i < 10; i++ {
		h = append(h, "field"+strconv.Itoa(i), "value"+strconv.Itoa(i))
		l = append(l, "element"+strconv.Itoa(i))
		z = append(z, strconv.Itoa(i), "member"+strconv.Itoa(i))
		s = append(s, "member"+strconv.Itoa(i))
	}
	for _, c := range [][]string{h, l, z, s} {
		f.write(tb, 0, c...)
	}
	f.sync(tb)
}

func BenchmarkCompareRedis(b *testing.B) {
	if os.Getenv("VDR_BENCH") == "" {
		b.Skip("set VDR_BENCH=1 to compare with a real Redis replica (about a minute)")
	}
	bin := redistest.Binary(b, "redis-benchmark")
	primary := redistest.Start(b)
	replica := redistest.Start(b, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	redistest.WaitFor(b, 15*time.Second, "replica link up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up"
	})
	proj := newProjection(b)
	benchDataset(b, &applyFeed{primary: dialRaw(b, primary.Addr()), proj: proj})
	vdr := startVDR(b, Options{Projection: proj})
	n := 50000
	if s := os.Getenv("VDR_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	rounds := 3
	if s := os.Getenv("VDR_BENCH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	b.ReportAllocs()
	b.SetBytes(0)
	for i := 0; i < b.N; i++ {
		fmt.Printf("GOMAXPROCS=%d, %d alternating rounds each, medians\n", runtime.GOMAXPROCS(0), rounds)
		fmt.Printf("%-18s %3s %12s %12s %7s %9s %9s\n", "workload", "P", "redis rps", "vdr rps", "ratio", "redis p99", "vdr p99")
		for _, w := range benchWorkloads {
			for _, p := range []int{1, 16} {
				nn := n
				if p == 16 {
					nn = 4 * n
				}
				// The machine is shared: alternate the two servers and
				// keep medians so a burst of load skews neither side.
				var rs, vs []benchResult
				for j := 0; j < rounds; j++ {
					rs = append(rs, runRedisBenchmark(b, bin, replica.Addr(), p, nn, w.args))
					vs = append(vs, runRedisBenchmark(b, bin, vdr.Addr(), p, nn, w.args))
				}
				r, v := median(rs), median(vs)
				fmt.Printf("%-18s %3d %12.0f %12.0f %6.2fx %9.3f %9.3f\n", w.name, p, r.rps, v.rps, v.rps/r.rps, r.p99, v.p99)
				b.ReportMetric(v.rps/r.rps, w.name+"_P"+strconv.Itoa(p)+"_ratio")
			}
		}
	}
}

// median returns the median rps and the median p99 (taken separately).
func median(rs []benchResult) benchResult {
	rps := make([]float64, len(rs))
	p99 := make([]float64, len(rs))
	for i, r := range rs {
		rps[i], p99[i] = r.rps, r.p99
	}
	sort.Float64s(rps)
	sort.Float64s(p99)
	return benchResult{rps[len(rps)/2], p99[len(p99)/2]}
}

// BenchmarkServeRedisBenchmark drives an in-process vdr with redis-benchmark
// (GET and MGET 10, -c 50 -P 16), so -cpuprofile shows the server side only.
func BenchmarkServeRedisBenchmark(b *testing.B) {
	if os.Getenv("VDR_BENCH") == "" {
		b.Skip("set VDR_BENCH=1 (drives redis-benchmark for seconds)")
	}
	bin := redistest.Binary(b, "redis-benchmark")
	proj := newProjection(b)
	for i := 0; i < 1000; i++ {
		proj.Apply(0, bs("SET", fmt.Sprintf("key:%012d", i), "xxx"))
	}
	vdr := startVDR(b, Options{Projection: proj})
	b.ReportAllocs()
	b.SetBytes(0)
	for i := 0; i < b.N; i++ {
		for _, w := range benchWorkloads[:2] {
			r := runRedisBenchmark(b, bin, vdr.Addr(), 16, 400000, w.args)
			b.ReportMetric(r.rps, w.name+"_rps")
		}
	}
}

// BenchmarkServePing is BenchmarkServeRedisBenchmark for PING: the
// network path alone, no projection.
func BenchmarkServePing(b *testing.B) {
	if os.Getenv("VDR_BENCH") == "" {
		b.Skip("set VDR_BENCH=1 (drives redis-benchmark for seconds)")
	}
	bin := redistest.Binary(b, "redis-benchmark")
	vdr := startVDR(b, Options{})
	b.ReportAllocs()
	b.SetBytes(0)
	for i := 0; i < b.N; i++ {
		for _, p := range []int{1, 16} {
			r := runRedisBenchmark(b, bin, vdr.Addr(), p, 200000*p/4+50000, []string{"PING"})
			b.ReportMetric(r.rps, "P"+strconv.Itoa(p)+"_rps")
		}
	}
}

// BenchmarkServeP1 drives an in-process vdr with redis-benchmark GET at
// -P 1 (-c 50), for profiling the per-request path.
func BenchmarkServeP1(b *testing.B) {
	if os.Getenv("VDR_BENCH") == "" {
		b.Skip("set VDR_BENCH=1 (drives redis-benchmark for seconds)")
	}
	bin := redistest.Binary(b, "redis-benchmark")
	proj := newProjection(b)
	for i := 0; i < 1000; i++ {
		proj.Apply(0, bs("SET", fmt.Sprintf("key:%012d", i), "xxx"))
	}
	vdr := startVDR(b, Options{Projection: proj})
	b.ReportAllocs()
	b.SetBytes(0)
	for i := 0; i < b.N; i++ {
		r := runRedisBenchmark(b, bin, vdr.Addr(), 1, 100000, benchWorkloads[0].args)
		b.ReportMetric(r.rps, "GET_rps")
	}
}
