package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/resp"
)

// BenchmarkFanout is issue 18's fan-out benchmark: N sidecar vdrs (default
// 16) replicate one primary directly, then through one vdr hub, then
// through one redis-server replica as the hub (Redis's own chained
// replication, the real-Redis comparison), under the same paced write
// load. For each topology it reports what the primary pays:
//
//   - steady: the primary's CPU (INFO used_cpu_sys + used_cpu_user, and
//     the same of its forks, over the window, as a percentage of one core), the memory of its replica
//     connections (the sum of tot-mem in CLIENT LIST TYPE replica, and
//     INFO mem_clients_slaves, sampled every 100 ms: the peaks), and the
//     hub's CPU from /proc;
//   - rolling restart: the sidecars stopped and started again one at a
//     time, each waited for until its /readyz answers 200, under the same
//     load: the wall time until all are ready, the primary's CPU seconds
//     and full syncs (INFO sync_full) meanwhile, and the same memory peaks.
//
// Each topology gets a fresh primary filled with the same data set. The
// primary and a Redis hub run with repl-diskless-sync-delay 0: with
// Redis's default 5 s every full sync in the rolling restart would first
// wait 5 s for company, and the figure would be that delay. The sidecars
// run without --snapshot-path, so each restart is a full sync: the case
// the hub is for.
//
//	go test -run '^$' -bench BenchmarkFanout -benchtime 1x -timeout 30m ./bench
//
// It prints a table. BENCH_FANOUT_N (sidecars, default 16),
// BENCH_FANOUT_KEYS (strings of 100 bytes, default 50000),
// BENCH_FANOUT_RATE (write load in commands/s, default 8000),
// BENCH_FANOUT_SECS (steady window, default 10); VDR_BIN names a built
// vdr binary (else it is built).
func BenchmarkFanout(b *testing.B) {
	if _, err := exec.LookPath(redisServer()); err != nil {
		b.Skip("redis-server not found")
	}
	env := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	cfg := fanoutConfig{
		sidecars: env("BENCH_FANOUT_N", 16),
		keys:     env("BENCH_FANOUT_KEYS", 50_000),
		rate:     env("BENCH_FANOUT_RATE", 8000),
		window:   time.Duration(env("BENCH_FANOUT_SECS", 10)) * time.Second,
	}
	cfg.bin = vdrBinary(b)
	var table strings.Builder
	fmt.Fprintf(&table, "| topology (%d sidecars, %d keys, %d writes/s) | replicas of the primary | primary CPU | hub CPU | replica clients' memory (peak tot-mem / mem_clients_slaves) | rolling restart: all ready | primary CPU meanwhile | full syncs on the primary | replica clients' memory meanwhile |\n",
		cfg.sidecars, cfg.keys, cfg.rate)
	table.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, hub := range []string{"direct", "vdr hub", "redis hub"} {
		b.Run(strings.ReplaceAll(hub, " ", "-"), func(b *testing.B) {
			m, err := runFanout(b.TempDir(), cfg, hub)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(m.cpuPct, "primary-cpu-%")
			b.ReportMetric(float64(m.peakTotMem)/1024, "peak-replica-totmem-KiB")
			b.ReportMetric(m.restart.Seconds(), "restart-s")
			b.ReportMetric(float64(m.restartFull), "primary-fullsyncs")
			hubCPU := "—"
			if hub != "direct" {
				hubCPU = fmt.Sprintf("%.1f%%", m.hubCPUPct)
			}
			fmt.Fprintf(&table, "| %s | %d | %.1f%% | %s | %s / %s | %.1f s | %.2f s | %d | %s / %s |\n",
				hub, m.links, m.cpuPct, hubCPU, kib(m.peakTotMem), kib(m.peakSlaves),
				m.restart.Seconds(), m.restartCPU, m.restartFull, kib(m.restartTotMem), kib(m.restartSlaves))
		})
	}
	fmt.Printf("load average at the end: %.2f\n%s", loadAvg(), table.String())
}

type fanoutConfig struct {
	bin                  string
	sidecars, keys, rate int
	window               time.Duration
}

type fanoutResult struct {
	cpuPct, hubCPUPct float64
	peakTotMem        int64 // CLIENT LIST TYPE replica, sum of tot-mem
	peakSlaves        int64 // INFO mem_clients_slaves
	links             int
	restart           time.Duration
	restartCPU        float64 // the primary's CPU seconds
	restartFull       int
	restartTotMem     int64
	restartSlaves     int64
}

func kib(n int64) string { return fmt.Sprintf("%d KiB", n>>10) }

// runFanout runs one topology in dir: "direct", "vdr hub" or "redis hub".
func runFanout(dir string, cfg fanoutConfig, topology string) (fanoutResult, error) {
	var res fanoutResult
	primary, err := startRedis("primary", dir, "--repl-diskless-sync-delay", "0", "--enable-debug-command", "local")
	if err != nil {
		return res, err
	}
	defer primary.stop()
	// keys strings of 100 bytes (key:0 …).
	c, err := resp.Dial(primary.addr(), 10*time.Second)
	if err != nil {
		return res, err
	}
	r, err := c.Do("DEBUG", "POPULATE", strconv.Itoa(cfg.keys), "key", "100")
	c.Close()
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		return res, fmt.Errorf("DEBUG POPULATE: %w", err)
	}
	upstream := primary.addr()
	var hub *proc
	switch topology {
	case "vdr hub":
		if hub, err = startListening(cfg.bin, filepath.Join(dir, "hub"), primary.addr()); err != nil {
			return res, err
		}
		defer hub.stop()
		err = waitUntil(2*time.Minute, func() bool { return vdrReady(hub.http) })
	case "redis hub":
		if hub, err = startRedis("hub", dir, "--replicaof", "127.0.0.1", strconv.Itoa(primary.port), "--repl-diskless-sync-delay", "0"); err != nil {
			return res, err
		}
		defer hub.stop()
		err = waitUntil(2*time.Minute, func() bool { return replicaReady(hub.addr()) })
	}
	if err != nil {
		return res, fmt.Errorf("hub not ready: %w", err)
	}
	if hub != nil {
		upstream = hub.addr()
	}

	sidecars := make([]*proc, cfg.sidecars)
	defer func() {
		for _, s := range sidecars {
			s.stop()
		}
	}()
	start := func(i int) error {
		s, err := startListening(cfg.bin, filepath.Join(dir, "s"+strconv.Itoa(i)), upstream)
		sidecars[i] = s
		return err
	}
	for i := range sidecars {
		if err := start(i); err != nil {
			return res, err
		}
	}
	allReady := func() bool {
		for _, s := range sidecars {
			if !vdrReady(s.http) {
				return false
			}
		}
		return true
	}
	if err := waitUntil(5*time.Minute, allReady); err != nil {
		return res, fmt.Errorf("sidecars not ready: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loadErr := make(chan error, 1)
	go func() { _, err := writeLoad(ctx, primary.addr(), 2, cfg.rate, 18); loadErr <- err }()
	time.Sleep(time.Second) // the load settles

	// Steady state.
	omem := newPeakSampler(primary.addr())
	cpu0, _ := redisCPU(primary.addr())
	var hub0 float64
	if hub != nil {
		hub0 = procCPU(hub.pid())
	}
	t0 := time.Now()
	time.Sleep(cfg.window)
	cpu1, _ := redisCPU(primary.addr())
	elapsed := time.Since(t0).Seconds()
	res.cpuPct = 100 * (cpu1 - cpu0) / elapsed
	if hub != nil {
		res.hubCPUPct = 100 * (procCPU(hub.pid()) - hub0) / elapsed
	}
	res.peakTotMem, res.peakSlaves = omem.stop()
	if m, err := resp.Info(primary.addr(), "replication"); err == nil {
		res.links, _ = strconv.Atoi(m["connected_slaves"])
	}

	// Rolling restart, one sidecar at a time.
	full0 := syncFull(primary.addr())
	omem = newPeakSampler(primary.addr())
	t0 = time.Now()
	for i := range sidecars {
		sidecars[i].stop()
		if err := start(i); err != nil {
			return res, err
		}
		s := sidecars[i]
		if err := waitUntil(2*time.Minute, func() bool { return vdrReady(s.http) }); err != nil {
			return res, fmt.Errorf("sidecar %d not ready after its restart: %w; its log ends:\n%s\nthe primary's:\n%s", i, err, logTail(s), logTail(primary))
		}
	}
	res.restart = time.Since(t0)
	cpu2, _ := redisCPU(primary.addr())
	res.restartCPU = cpu2 - cpu1
	res.restartFull = syncFull(primary.addr()) - full0
	res.restartTotMem, res.restartSlaves = omem.stop()
	cancel()
	if err := <-loadErr; err != nil && ctx.Err() == nil {
		return res, err
	}
	return res, nil
}

// redisCPU is the server's CPU time in seconds: used_cpu_sys +
// used_cpu_user, and the same of its ended children (the forks that wrote
// the RDBs of full syncs).
func redisCPU(addr string) (float64, error) {
	m, err := resp.Info(addr, "cpu")
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, f := range []string{"used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children"} {
		v, _ := strconv.ParseFloat(m[f], 64)
		sum += v
	}
	return sum, nil
}

// syncFull is INFO stats sync_full: the full syncs the server served.
func syncFull(addr string) int {
	m, _ := resp.Info(addr, "stats")
	n, _ := strconv.Atoi(m["sync_full"])
	return n
}

// procCPU is utime + stime of pid in seconds, from /proc/pid/stat (in
// clock ticks of 1/100 s: USER_HZ on Linux).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it are fixed.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64) // field 14, utime
	st, _ := strconv.ParseFloat(f[12], 64) // field 15, stime
	return (ut + st) / 100
}

// peakSampler samples, every 100 ms, what the primary holds for its
// replicas: the sum of tot-mem over CLIENT LIST TYPE replica (each
// replica connection's buffers and client structure), and INFO
// mem_clients_slaves; it keeps the peak of each.
type peakSampler struct {
	done           chan struct{}
	wg             sync.WaitGroup
	totMem, slaves int64
}

func newPeakSampler(addr string) *peakSampler {
	p := &peakSampler{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c, err := resp.Dial(addr, 10*time.Second)
		if err != nil {
			return
		}
		defer c.Close()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if r, err := c.Do("CLIENT", "LIST", "TYPE", "replica"); err == nil {
				var sum int64
				for _, f := range strings.Fields(r.Str) {
					if v, ok := strings.CutPrefix(f, "tot-mem="); ok {
						n, _ := strconv.ParseInt(v, 10, 64)
						sum += n
					}
				}
				p.totMem = max(p.totMem, sum)
			}
			if r, err := c.Do("INFO", "memory"); err == nil {
				for _, l := range strings.Split(r.Str, "\r\n") {
					if v, ok := strings.CutPrefix(l, "mem_clients_slaves:"); ok {
						n, _ := strconv.ParseInt(v, 10, 64)
						p.slaves = max(p.slaves, n)
					}
				}
			}
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// stop ends the sampling and returns the peaks: tot-mem, mem_clients_slaves.
func (p *peakSampler) stop() (totMem, slaves int64) {
	close(p.done)
	p.wg.Wait()
	return p.totMem, p.slaves
}

// startListening starts a vdr replicating upstream and waits until it
// answers PING and listens for HTTP. The harness picks its ports free and releases
// them before vdr binds them, so a vdr started meanwhile may take one
// (vdr exits: "address already in use"): then it starts again on others.
func startListening(bin, dir, upstream string) (*proc, error) {
	for attempt := 1; ; attempt++ {
		p, err := startVDRArgs(bin, dir, "--primary", upstream, "--log-level", "warn")
		if err != nil {
			return nil, err
		}
		exited := func() bool {
			select {
			case <-p.done:
				return true
			default:
				return false
			}
		}
		err = waitUntil(time.Minute, func() bool { return exited() || (pingOK(p.addr()) && httpListening(p.http)) })
		if err == nil && !exited() {
			return p, nil
		}
		p.stop()
		if attempt == 5 {
			return nil, fmt.Errorf("vdr did not start: %v; its log ends:\n%s", err, logTail(p))
		}
	}
}

// httpListening reports whether vdr's HTTP endpoint accepts connections.
func httpListening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// logTail is the end of a process's output, for an error message.
func logTail(p *proc) string {
	b, _ := os.ReadFile(p.log + ".out")
	if p.name != "vdr" && len(b) == 0 {
		b, _ = os.ReadFile(p.log)
	}
	return string(b[max(0, len(b)-3000):])
}
