package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/clustertest"
	"github.com/vdr-project/vdr/internal/keyslot"
)

// BenchmarkClusterSync is issue 19's cluster benchmark: a 3-shard Redis
// Cluster (3 primaries, no replicas) filled with N string keys
// (key:%012d, 64-byte values, each written to the primary owning its
// slot), then
//
//   - one vdr --cluster replicating all three shards: the time from its
//     start to /readyz, and its RSS 2 s later;
//   - three redis-server replicas, one per shard (REPLICAOF its primary),
//     started together: the time until all three have synced, and the sum
//     of their RSS 2 s later;
//   - reads: redis-benchmark GET of random existing keys against vdr, and
//     with --cluster against the three primaries.
//
// Run it with
//
//	go test -run '^$' -bench BenchmarkClusterSync -benchtime 1x -timeout 30m ./bench
//
// BENCH_CLUSTER_KEYS (default 1000000); VDR_BIN names a built vdr binary
// (else it is built).
func BenchmarkClusterSync(b *testing.B) {
	if _, err := exec.LookPath(redisServer()); err != nil {
		b.Skip("redis-server not found")
	}
	keys := 1000000
	if v, err := strconv.Atoi(os.Getenv("BENCH_CLUSTER_KEYS")); err == nil && v > 0 {
		keys = v
	}
	dir := b.TempDir()
	bin := vdrBinary(b)
	c := clustertest.Start(b, 3, 0)
	ps := c.Primaries()
	owner := map[int]string{} // slot → primary address
	for _, p := range ps {
		cl := redis.NewClient(&redis.Options{Addr: p.Addr})
		slots, err := cl.ClusterSlots(context.Background()).Result()
		cl.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range slots {
			for s := r.Start; s <= r.End; s++ {
				owner[int(s)] = r.Nodes[0].Addr
			}
		}
		break
	}
	t0 := time.Now()
	fill(b, owner, keys)
	b.Logf("filled %d keys in %v", keys, time.Since(t0).Round(time.Millisecond))
	load := loadAvg()

	// vdr replicating the whole cluster.
	start := time.Now()
	v, err := startVDRArgs(bin, dir, "--cluster", ps[0].Addr, "--log-level", "warn")
	if err != nil {
		b.Fatal(err)
	}
	if err := waitUntil(10*time.Minute, func() bool { return vdrReady(v.http) }); err != nil {
		v.stop()
		b.Fatalf("vdr not ready: %v", err)
	}
	vdrSync := time.Since(start)
	time.Sleep(2 * time.Second)
	vdrRSS, vdrPeak := memStatus(v.pid())
	vdrGet := benchGet(b, keys, "-h", "127.0.0.1", "-p", strconv.Itoa(v.port))
	v.stop()

	// Three real replicas, one per shard.
	start = time.Now()
	var reps []*proc
	for i, p := range ps {
		host, port, _ := strings.Cut(p.Addr, ":")
		r, err := startRedis(fmt.Sprintf("replica%d", i), dir, "--replicaof", host, port)
		if err != nil {
			b.Fatal(err)
		}
		reps = append(reps, r)
	}
	if err := waitUntil(10*time.Minute, func() bool {
		for _, r := range reps {
			if !replicaReady(r.addr()) {
				return false
			}
		}
		return true
	}); err != nil {
		b.Fatalf("replicas not synced: %v", err)
	}
	redisSync := time.Since(start)
	time.Sleep(2 * time.Second)
	var redisRSS, redisPeak int64
	for _, r := range reps {
		rss, peak := memStatus(r.pid())
		redisRSS += rss
		redisPeak += peak
		r.stop()
	}
	host, port, _ := strings.Cut(ps[0].Addr, ":")
	clusterGet := benchGet(b, keys, "--cluster", "-h", host, "-p", port)

	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	fmt.Printf("\ncluster of 3 shards, %d keys (64 B strings); load average at start %.2f, after %.2f\n", keys, load, loadAvg())
	fmt.Printf("| measure | vdr --cluster | 3 Redis replicas | vdr/Redis |\n|---|---|---|---|\n")
	fmt.Printf("| full sync: start → ready | %.2f s | %.2f s | %.2f× |\n", vdrSync.Seconds(), redisSync.Seconds(), vdrSync.Seconds()/redisSync.Seconds())
	fmt.Printf("| settled RSS (sum of the 3 replicas) | %s | %s | %.2f× |\n", mb(vdrRSS), mb(redisRSS), float64(vdrRSS)/float64(redisRSS))
	fmt.Printf("| peak RSS | %s | %s | %.2f× |\n", mb(vdrPeak), mb(redisPeak), float64(vdrPeak)/float64(redisPeak))
	fmt.Printf("\nGET, redis-benchmark -c 50 -n 200000 -P 16 -r %d: vdr %s; the cluster's 3 primaries (--cluster) %s\n", keys, vdrGet, clusterGet)
}

// fill writes n keys key:%012d with 64-byte values, each through a
// pipeline to the primary owning its slot.
func fill(b *testing.B, owner map[int]string, n int) {
	ctx := context.Background()
	clients := map[string]redis.Pipeliner{}
	pending := map[string]int{}
	rng := rand.New(rand.NewPCG(1, 1))
	val := make([]byte, 64)
	for i := range n {
		k := fmt.Sprintf("key:%012d", i)
		addr := owner[int(keyslot.Of([]byte(k)))]
		pl, ok := clients[addr]
		if !ok {
			cl := redis.NewClient(&redis.Options{Addr: addr})
			b.Cleanup(func() { cl.Close() })
			pl = cl.Pipeline()
			clients[addr] = pl
		}
		for j := range val {
			val[j] = 'a' + byte(rng.IntN(26))
		}
		pl.Set(ctx, k, string(val), 0)
		if pending[addr]++; pending[addr] == 1000 {
			if _, err := pl.Exec(ctx); err != nil {
				b.Fatal(err)
			}
			pending[addr] = 0
		}
	}
	for _, pl := range clients {
		if _, err := pl.Exec(ctx); err != nil && err != redis.Nil {
			b.Fatal(err)
		}
	}
}

// benchGet runs redis-benchmark GET against target and returns its -q line.
func benchGet(b *testing.B, keys int, target ...string) string {
	args := append(target, "-t", "get", "-n", "200000", "-c", "50", "-P", "16", "-r", strconv.Itoa(keys), "-q")
	out, err := exec.Command("redis-benchmark", args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("error %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	if i := strings.LastIndex(last, "\r"); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// vdrBinary returns VDR_BIN, or a vdr built into a temporary folder.
func vdrBinary(tb testing.TB) string {
	if bin := os.Getenv("VDR_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(tb.TempDir(), "vdr")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/vdr").CombinedOutput(); err != nil {
		tb.Fatalf("building vdr: %v\n%s", err, out)
	}
	return bin
}
