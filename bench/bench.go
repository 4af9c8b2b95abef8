// Package bench measures vdr against a real Redis replica of the same
// primary, in the same run, on the same data: full sync time and memory,
// read throughput and latency with redis-benchmark, replication lag under a
// write load, and the highest write rate each keeps up with. It writes
// RESULTS.md with ratios (vdr/Redis) and gnuplot plots.
//
// It starts every process it measures (redis-server primary and replica,
// the vdr binary) on free 127.0.0.1 ports and stops them before it returns.
// It sees only vdr's public surface: the binary, the Redis protocol, and the
// HTTP /readyz endpoint.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/internal/dataset"
	"github.com/vdr-project/vdr/internal/resp"
)

// Config says what to run. The zero value is not valid: use DefaultConfig.
type Config struct {
	N         int           // keys in the dataset
	Seed      int64         // dataset seed
	Reps      int           // repetitions of each measure; medians are reported
	VDR       string        // path of the vdr binary
	VDRArgs   []string      // extra settings for every vdr run (e.g. --event-loops 2)
	VDRBase   string        // another vdr binary (e.g. main's) synced and read in the same run as "vdr-base"; "" none
	Dir       string        // scratch directory for the servers
	Out       string        // where RESULTS.md and the plots go ("" = no report)
	Requests  int           // requests per redis-benchmark run
	Clients   int           // redis-benchmark -c
	LagFor    time.Duration // duration of the lag-under-load phase
	RateSteps int           // most steps of the highest-write-rate search (0: all)
	Mix       string        // dataset mix: mixed (default), strings, hashes, lists, sets, zsets
	Reads     []string      // if set: only the read cases named so (first word, e.g. EVALSHA_RO), and no lag phase
	Command   string        // the command line that produced the run, for the report
	Log       io.Writer     // progress lines
}

// DefaultConfig returns the defaults: 1M mixed keys, three
// repetitions, 50 clients.
func DefaultConfig() Config {
	return Config{N: 1_000_000, Seed: 1, Reps: 3, Requests: 200_000, Clients: 50, LagFor: 10 * time.Second, Log: io.Discard}
}

// sample is one measurement of one target in one repetition.
type sample map[string]float64

// Results holds every sample, by measure, then target ("vdr", "redis").
type Results struct {
	Started  time.Time
	Machine  string
	Versions string
	Busy     string
	Config   Config
	// Values[measure][target] lists the repetitions' values.
	Values map[string]map[string][]float64
	// Units per measure, and the order measures were first recorded in.
	Units    map[string]string
	Order    []string
	Better   map[string]string // "lower" or "higher"
	LagPlot  string            // data file of the lag time series (last repetition)
	RDBBytes int64             // size of the dataset's RDB file
	Notes    []string
}

func (r *Results) add(measure, unit, better, target string, v float64) {
	if r.Values[measure] == nil {
		r.Values[measure] = map[string][]float64{}
		r.Order = append(r.Order, measure)
		r.Units[measure] = unit
		r.Better[measure] = better
	}
	r.Values[measure][target] = append(r.Values[measure][target], v)
}

// Run runs every measure Reps times and returns the results. Every process
// it starts is stopped before it returns, also on error or ctx cancel.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	// The processes run in their own directories.
	if abs, err := filepath.Abs(cfg.VDR); err == nil {
		cfg.VDR = abs
	}
	if abs, err := filepath.Abs(cfg.VDRBase); err == nil && cfg.VDRBase != "" {
		cfg.VDRBase = abs
	}
	dir, cleanup, err := scratchDir(cfg.Dir, "vdr-bench-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cfg.Dir = dir
	res := &Results{
		Started: time.Now().UTC(), Config: cfg, Machine: machine(), Versions: versions(cfg.VDR),
		Values: map[string]map[string][]float64{}, Units: map[string]string{}, Better: map[string]string{},
	}
	if la := loadAvg(); la > 0.5 {
		res.Busy = fmt.Sprintf("machine busy at start: 1-minute load average %.2f on %d cores", la, runtime.NumCPU())
	}
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	if cfg.VDR, err = installCopy(cfg.VDR, filepath.Join(dir, "vdr.bin")); err != nil {
		return nil, err
	}
	if cfg.VDRBase != "" {
		if cfg.VDRBase, err = installCopy(cfg.VDRBase, filepath.Join(dir, "vdr-base.bin")); err != nil {
			return nil, err
		}
	}

	primary, err := startRedis("primary", cfg.Dir, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
		"--repl-backlog-size", "256mb", "--client-output-buffer-limit", "replica 0 0 0")
	if err != nil {
		return nil, err
	}
	defer primary.stop()
	logf("primary on %s; loading %d keys", primary.addr(), cfg.N)
	t0 := time.Now()
	spec, err := dataset.ParseMix(cfg.Mix)
	if err != nil {
		return nil, err
	}
	if err := dataset.LoadSpec(primary.addr(), cfg.N, cfg.Seed, spec); err != nil {
		return nil, fmt.Errorf("bench: loading dataset: %w", err)
	}
	if err := errorReply(primary.addr(), []string{"FUNCTION", "LOAD", "REPLACE", benchLibrary}); err != nil {
		return nil, fmt.Errorf("bench: loading the function library: %w", err)
	}
	logf("loaded in %v", time.Since(t0).Round(time.Millisecond))

	dumpPath, err := saveDump(primary)
	if err != nil {
		return nil, err
	}
	for rep := 0; rep < cfg.Reps; rep++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		logf("== repetition %d/%d", rep+1, cfg.Reps)
		if err := measureRDBLoad(cfg, res, dumpPath, logf); err != nil {
			return nil, err
		}
		if err := runRep(ctx, cfg, res, primary, rep, logf); err != nil {
			return nil, err
		}
	}
	if la := loadAvg(); la > float64(runtime.NumCPU())+0.5 && res.Busy == "" {
		res.Busy = fmt.Sprintf("machine busy at the end: 1-minute load average %.2f on %d cores", la, runtime.NumCPU())
	}
	return res, nil
}

func runRep(ctx context.Context, cfg Config, res *Results, primary *proc, rep int, logf func(string, ...any)) error {
	last := rep == cfg.Reps-1
	// 1. Full sync, one replica at a time so they do not share the cores.
	// Each repetition's Redis replica starts in an empty directory: the
	// RDB file a disk-backed load left behind carries the replication ID
	// and offset, and a replica that loads it resumes by partial sync —
	// which timed a restart, not a full sync, in repetitions 2 and 3.
	if err := os.RemoveAll(filepath.Join(cfg.Dir, "replica")); err != nil {
		return err
	}
	replica, err := startRedis("replica", cfg.Dir, "--replicaof", "127.0.0.1", strconv.Itoa(primary.port),
		"--repl-diskless-load", "disabled")
	if err != nil {
		return err
	}
	defer replica.stop()
	if err := waitUntil(10*time.Minute, func() bool { return replicaReady(replica.addr()) }); err != nil {
		return fmt.Errorf("redis replica sync: %w", err)
	}
	recordSync(res, "redis", replica, cfg.N, logf)

	v, err := startVDR(cfg.VDR, cfg.Dir, primary.addr(), cfg.VDRArgs...)
	if err != nil {
		return err
	}
	defer v.stop()
	if err := waitUntil(10*time.Minute, func() bool {
		select {
		case <-v.done:
			return true
		default:
		}
		return vdrReady(v.http)
	}); err != nil || isDone(v) {
		return fmt.Errorf("vdr did not become ready (log in %s.out): %v", v.log, err)
	}
	recordSync(res, "vdr", v, cfg.N, logf)
	targets := map[string]*proc{"redis": replica, "vdr": v}
	if cfg.VDRBase != "" {
		b, err := startVDR(cfg.VDRBase, filepath.Join(cfg.Dir, "base"), primary.addr(), cfg.VDRArgs...)
		if err != nil {
			return err
		}
		defer b.stop()
		if err := waitUntil(10*time.Minute, func() bool { return isDone(b) || vdrReady(b.http) }); err != nil || isDone(b) {
			return fmt.Errorf("vdr-base did not become ready (log in %s.out): %v", b.log, err)
		}
		recordSync(res, "vdr-base", b, cfg.N, logf)
		targets["vdr-base"] = b
	}

	// 2. Reads with redis-benchmark, alternating targets per command; the
	// two vdr binaries swap places every other repetition (the one
	// measured second has read 2–10% faster at -P 16, whichever it was).
	if err := readBenchmarks(ctx, cfg, res, targets, rep%2 == 1, logf); err != nil {
		return err
	}
	if b := targets["vdr-base"]; b != nil {
		b.stop() // the lag phase compares vdr with Redis only
	}

	// 3 and 4. Lag under load and the highest rate kept up with.
	if len(cfg.Reads) > 0 {
		return nil // a run of some reads only (the script rows)
	}
	return lagBenchmarks(ctx, cfg, res, primary, map[string]*proc{"redis": replica, "vdr": v}, last, logf)
}

// scratchDir returns dir, or when it is "" a new temporary directory
// that cleanup removes.
func scratchDir(dir, prefix string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	d, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

// saveDump makes the primary write its dataset to dump.rdb and returns the
// file's path.
func saveDump(primary *proc) (string, error) {
	c, err := resp.Dial(primary.addr(), 10*time.Minute)
	if err != nil {
		return "", err
	}
	defer c.Close()
	r, err := c.Do("SAVE")
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		return "", fmt.Errorf("bench: SAVE: %w", err)
	}
	return filepath.Join(primary.cmd.Dir, "dump.rdb"), nil
}

var (
	redisLoadRe = regexp.MustCompile(`DB loaded from disk: ([0-9.]+) seconds`)
	vdrLoadRe   = regexp.MustCompile(`RDB file loaded.*seconds=([0-9.e-]+)`)
)

// measureRDBLoad loads the same RDB file into a fresh redis-server and into
// vdr (serve --rdb) and records each one's own load time, as its log
// reports it, and its RSS afterwards.
func measureRDBLoad(cfg Config, res *Results, dump string, logf func(string, ...any)) error {
	r, err := startRedis("rdbload", cfg.Dir, "--dir", filepath.Dir(dump), "--dbfilename", filepath.Base(dump))
	if err != nil {
		return err
	}
	defer r.stop()
	var redisSecs string
	if err := waitUntil(10*time.Minute, func() bool {
		b, _ := os.ReadFile(r.log)
		if m := redisLoadRe.FindSubmatch(b); m != nil {
			redisSecs = string(m[1])
			return true
		}
		return false
	}); err != nil {
		return fmt.Errorf("redis-server did not report loading %s: %w", dump, err)
	}
	v, err := startVDRArgs(cfg.VDR, cfg.Dir, append([]string{"--rdb", dump, "--log-level", "info"}, cfg.VDRArgs...)...)
	if err != nil {
		return err
	}
	defer v.stop()
	var vdrSecs string
	if err := waitUntil(10*time.Minute, func() bool {
		b, _ := os.ReadFile(v.log + ".out")
		if m := vdrLoadRe.FindSubmatch(b); m != nil {
			vdrSecs = string(m[1])
			return true
		}
		return isDone(v)
	}); err != nil || vdrSecs == "" {
		return fmt.Errorf("vdr did not report loading %s: %v", dump, err)
	}
	rs, _ := strconv.ParseFloat(redisSecs, 64)
	vs, _ := strconv.ParseFloat(vdrSecs, 64)
	res.add("RDB file load (parse + build)", "s", "lower", "redis", rs)
	res.add("RDB file load (parse + build)", "s", "lower", "vdr", vs)
	time.Sleep(time.Second)
	rr, _ := memStatus(r.pid())
	vr, _ := memStatus(v.pid())
	res.add("RSS after loading the RDB file", "MB", "lower", "redis", float64(rr)/1e6)
	res.add("RSS after loading the RDB file", "MB", "lower", "vdr", float64(vr)/1e6)
	if st, err := os.Stat(dump); err == nil && res.RDBBytes == 0 {
		res.RDBBytes = st.Size()
	}
	logf("RDB load: redis %.3f s, vdr %.3f s; RSS redis %.1f MB, vdr %.1f MB", rs, vs, float64(rr)/1e6, float64(vr)/1e6)
	return nil
}

// installCopy writes a copy of the binary src to dst, as a package or a
// container image installs one, and returns dst. Each vdr binary runs
// from such a copy so that its RSS counts what an installed binary maps.
// A binary straight from the Go linker is held in the page cache in 2 MB
// folios, and a fault maps a whole one (FilePmdMapped in smaps): 3 MB
// more of the file resident for the same code, varying with the build,
// where Redis's binary (installed by dpkg) has no such share.
func installCopy(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", fmt.Errorf("copy %s: %w", src, err)
	}
	return dst, out.Close()
}

func isDone(p *proc) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func recordSync(res *Results, target string, p *proc, n int, logf func(string, ...any)) {
	d := time.Since(p.started)
	_, peak := memStatus(p.pid())
	time.Sleep(5 * time.Second) // let allocators settle (and vdr return a full sync's garbage) before the settled RSS
	rss, _ := memStatus(p.pid())
	res.add("full sync: attach → ready", "s", "lower", target, d.Seconds())
	res.add("peak RSS", "MB", "lower", target, float64(peak)/1e6)
	res.add("settled RSS", "MB", "lower", target, float64(rss)/1e6)
	res.add("settled RSS per key", "B", "lower", target, float64(rss)/float64(max(n, 1)))
	logf("%s: synced in %v, peak RSS %.1f MB, settled %.1f MB", target, d.Round(time.Millisecond), float64(peak)/1e6, float64(rss)/1e6)
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if _, v, ok := strings.Cut(l, ":"); ok {
					cpu = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	return fmt.Sprintf("%d cores, %s, %s/%s, %s", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func versions(vdrBin string) string {
	out := []string{}
	if b, err := exec.Command(redisServer(), "--version").Output(); err == nil {
		out = append(out, strings.TrimSpace(string(b)))
	}
	if b, err := exec.Command(vdrBin, "version").Output(); err == nil {
		out = append(out, strings.TrimSpace(string(b)))
	}
	return strings.Join(out, "; ")
}

// median returns the median of vs (the mean of the middle two for even n).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minMax(vs []float64) (lo, hi float64) {
	for i, v := range vs {
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return lo, hi
}

// plotDir is where the report's plots and their data files go.
func plotDir(out string) string { return filepath.Join(out, "plots") }
