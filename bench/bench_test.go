package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestCompareSmoke runs the whole harness end to end at a small N
// (BENCH_N, default 20000): it must start every process, measure both
// targets, write a report with a ratio for every measure, and stop
// everything it started.
func TestCompareSmoke(t *testing.T) {
	redistest.Binary(t, "redis-server")
	redistest.Binary(t, "redis-benchmark")
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("BENCH_N")); err == nil && v > 0 {
		n = v
	}
	bin := buildVDR(t)
	cfg := DefaultConfig()
	cfg.N, cfg.Reps, cfg.Requests, cfg.LagFor, cfg.RateSteps = n, 1, 5000, 2*time.Second, 2
	cfg.VDR, cfg.Out, cfg.Dir = bin, t.TempDir(), t.TempDir()
	cfg.VDRBase = bin // the same binary again, to run the vdr-base path
	cfg.Command = "go test ./bench -run TestCompareSmoke"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Order {
		for _, target := range []string{"vdr", "redis"} {
			if _, ok := res.Values[m]["primary"]; ok {
				continue
			}
			if len(res.Values[m][target]) != 1 {
				t.Errorf("%s: %s has %d samples, want 1", m, target, len(res.Values[m][target]))
			}
		}
	}
	for _, want := range []string{"full sync: attach → ready", "GET -P 16: requests/s", "lag under load: offset p99", "highest write rate kept up with"} {
		if res.Values[want] == nil {
			t.Errorf("no %q measure", want)
		}
	}
	if got := median(res.Values["GET -P 1: requests/s"]["vdr"]); got <= 0 {
		t.Errorf("vdr GET throughput %v", got)
	}
	for _, m := range []string{"full sync: attach → ready", "settled RSS", "GET -P 16: requests/s"} {
		if len(res.Values[m]["vdr-base"]) != 1 {
			t.Errorf("%s: vdr-base has %d samples, want 1", m, len(res.Values[m]["vdr-base"]))
		}
	}
	if err := WriteReport(res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Out, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "| GET -P 1: requests/s |") || !strings.Contains(string(b), "| vdr/vdr-base |") {
		t.Errorf("report lacks the GET row or the vdr-base column:\n%s", b)
	}
}

// buildVDR builds the vdr binary into a temporary directory.
func buildVDR(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "vdr")
	build := exec.Command("go", "build", "-o", bin, "../cmd/vdr")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building vdr: %v\n%s", err, out)
	}
	return bin
}

// TestChurnSmoke runs the churn scenario for a few seconds on a small key
// set: both replicas sampled at every step, the load's operations counted,
// the replicas agreeing on the key count at the end, a verdict written.
func TestChurnSmoke(t *testing.T) {
	redistest.Binary(t, "redis-server")
	cfg := DefaultChurnConfig()
	cfg.VDR, cfg.Dir = buildVDR(t), t.TempDir()
	cfg.N, cfg.For, cfg.Warmup, cfg.Every, cfg.Rate = 3000, 4*time.Second, time.Second, time.Second, 3000
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Churn(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) < 3 || res.Ops == 0 || res.Ref.T < cfg.Warmup {
		t.Fatalf("%d samples, %d operations, reference at %v", len(res.Points), res.Ops, res.Ref.T)
	}
	for _, p := range res.Points {
		if p.VDRRSS <= 0 || p.RedisRSS <= 0 || p.VDRKeys < 0 || p.RedisKeys < 0 || p.VDRCPU <= 0 || p.RedisCPU <= 0 {
			t.Fatalf("sample %+v", p)
		}
	}
	if e := res.End; e.VDRKeys == 0 || e.VDRKeys > int64(cfg.N) || e.RedisKeys > int64(cfg.N) {
		t.Errorf("end: vdr %d keys, redis %d, of a key set of %d", e.VDRKeys, e.RedisKeys, cfg.N)
	}
	var b strings.Builder
	WriteChurn(&b, res)
	if e, r := res.End, res.Ref; e.VDRCPU < r.VDRCPU || e.RedisCPU < r.RedisCPU {
		t.Errorf("CPU time went back: %+v then %+v", r, e)
	}
	if !strings.Contains(b.String(), "within 10%") || !strings.Contains(b.String(), "CPU vdr") {
		t.Errorf("no verdict:\n%s", b.String())
	}
}

func TestParseBenchCSV(t *testing.T) {
	out := []byte("\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"GET\",\"222222.23\",\"0.523\",\"0.096\",\"0.255\",\"4.343\",\"4.423\",\"4.439\"\n")
	r, err := parseBenchCSV(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 222222.23 || r.p50 != 0.255 || r.p99 != 4.423 {
		t.Fatalf("got %+v", r)
	}
	if _, err := parseBenchCSV([]byte("garbage")); err == nil {
		t.Fatal("garbage parsed")
	}
}

// TestWantRead: -reads selects read cases by their first word, exactly
// (GET is not MGET), and none given means all.
func TestWantRead(t *testing.T) {
	all, some := Config{}, Config{Reads: []string{"GET", "EVALSHA_RO", "FCALL_RO"}}
	var picked []string
	for _, rc := range readCases() {
		if !all.wantRead(rc.name) {
			t.Errorf("no -reads: %q left out", rc.name)
		}
		if some.wantRead(rc.name) {
			picked = append(picked, rc.name)
		}
	}
	if got, want := strings.Join(picked, ","), "GET,EVALSHA_RO 3 GETs,FCALL_RO 3 GETs"; got != want {
		t.Errorf("picked %s, want %s", got, want)
	}
}
