package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/internal/dataset"
	"github.com/vdr-project/vdr/internal/resp"
)

// ChurnConfig says what the churn scenario runs: the dataset of the
// compare harness, then a write load that overwrites, deletes and expires
// keys of that same key set for a while, with vdr and a Redis replica of
// the same primary sampled as it runs. Memory that stays flat under churn
// is the point: the RSS at the end against the RSS after Warmup.
type ChurnConfig struct {
	N       int           // keys in the key set
	Seed    int64         // dataset seed
	Mix     string        // dataset mix (mixed, strings, hashes, lists, sets, zsets)
	VDR     string        // path of the vdr binary
	VDRArgs []string      // extra settings for vdr
	Dir     string        // scratch directory ("" = a temporary one)
	For     time.Duration // how long the churn runs
	Warmup  time.Duration // the reference sample is the first one at least this far in
	Every   time.Duration // sampling interval
	Rate    int           // key operations per second (each is one to three commands)
	Conns   int           // connections the load uses
	Log     io.Writer     // progress lines
}

// DefaultChurnConfig returns the scenario: the 1M-key mixed key
// set churned for 30 minutes, compared with its state after one minute.
func DefaultChurnConfig() ChurnConfig {
	return ChurnConfig{N: 1_000_000, Seed: 1, Mix: "mixed", VDR: "bin/vdr", For: 30 * time.Minute,
		Warmup: time.Minute, Every: 10 * time.Second, Rate: 10_000, Conns: 2, Log: io.Discard}
}

// ChurnPoint is one sample: RSS in bytes and DBSIZE of each server.
type ChurnPoint struct {
	T                  time.Duration
	VDRRSS, RedisRSS   int64
	VDRKeys, RedisKeys int64
	VDRCPU, RedisCPU   time.Duration // CPU time each process has used so far
	Ops                int64         // key operations sent so far
	Load               float64       // 1-minute load average
}

// ChurnResult is a churn run's samples and its verdict.
type ChurnResult struct {
	Config ChurnConfig
	Points []ChurnPoint
	Ref    ChurnPoint // first sample at or after Warmup
	End    ChurnPoint // last sample
	Ops    int64
}

// VDRGrowth is vdr's RSS at the end over its RSS at the reference sample.
func (r *ChurnResult) VDRGrowth() float64 { return ratio(r.End.VDRRSS, r.Ref.VDRRSS) }

// RedisGrowth is the Redis replica's RSS at the end over its reference.
func (r *ChurnResult) RedisGrowth() float64 { return ratio(r.End.RedisRSS, r.Ref.RedisRSS) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Churn runs the churn scenario. Every process it starts is stopped before
// it returns.
func Churn(ctx context.Context, cfg ChurnConfig) (*ChurnResult, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Every <= 0 || cfg.For <= 0 || cfg.N < 1 || cfg.Rate < 1 || cfg.Conns < 1 {
		return nil, errors.New("bench: churn: bad settings")
	}
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	if abs, err := filepath.Abs(cfg.VDR); err == nil {
		cfg.VDR = abs // the processes run in their own directories
	}
	dir, cleanup, err := scratchDir(cfg.Dir, "vdr-churn-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cfg.Dir = dir
	spec, err := dataset.ParseMix(cfg.Mix)
	if err != nil {
		return nil, err
	}
	primary, err := startRedis("primary", cfg.Dir, "--repl-backlog-size", "256mb",
		"--client-output-buffer-limit", "replica 0 0 0")
	if err != nil {
		return nil, err
	}
	defer primary.stop()
	logf("primary on %s; loading %d keys (%s)", primary.addr(), cfg.N, cfg.Mix)
	if err := dataset.LoadSpec(primary.addr(), cfg.N, cfg.Seed, spec); err != nil {
		return nil, fmt.Errorf("bench: loading dataset: %w", err)
	}
	replica, err := startRedis("replica", cfg.Dir, "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
	if err != nil {
		return nil, err
	}
	defer replica.stop()
	v, err := startVDR(cfg.VDR, cfg.Dir, primary.addr(), cfg.VDRArgs...)
	if err != nil {
		return nil, err
	}
	defer v.stop()
	if err := waitUntil(10*time.Minute, func() bool {
		return isDone(v) || (replicaReady(replica.addr()) && vdrReady(v.http))
	}); err != nil || isDone(v) {
		return nil, fmt.Errorf("bench: churn: replicas did not sync (vdr log in %s.out): %v", v.log, err)
	}
	// The churn keeps about half of the key set present (the last
	// operation on a key was an overwrite half of the time): delete half
	// first, so the key count starts at that level instead of drifting
	// down to it during the measure.
	if err := primeChurn(primary.addr(), spec, cfg); err != nil {
		return nil, err
	}
	want := dbSize(primary.addr())
	if err := waitUntil(5*time.Minute, func() bool {
		return dbSize(replica.addr()) == want && dbSize(v.addr()) == want
	}); err != nil {
		return nil, fmt.Errorf("bench: churn: replicas did not catch up with the deletes: %w", err)
	}
	logf("both replicas synced, %d keys left; churning for %v at %d key operations/s", want, cfg.For, cfg.Rate)

	res := &ChurnResult{Config: cfg}
	var ops atomic.Int64
	lctx, stop := context.WithTimeout(ctx, cfg.For)
	defer stop()
	var wg sync.WaitGroup
	errc := make(chan error, cfg.Conns)
	for c := 0; c < cfg.Conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			errc <- churnLoad(lctx, primary.addr(), spec, cfg, c, &ops)
		}(c)
	}
	t0 := time.Now()
	tick := time.NewTicker(cfg.Every)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-lctx.Done():
			done = true
		case <-tick.C:
		}
		pt := ChurnPoint{T: time.Since(t0), Ops: ops.Load(), Load: loadAvg()}
		pt.VDRRSS, _ = memStatus(v.pid())
		pt.RedisRSS, _ = memStatus(replica.pid())
		pt.VDRKeys, pt.RedisKeys = dbSize(v.addr()), dbSize(replica.addr())
		pt.VDRCPU, pt.RedisCPU = cpuTime(v.pid()), cpuTime(replica.pid())
		res.Points = append(res.Points, pt)
		logf("%7s  vdr %7.1f MB %8d keys   redis %7.1f MB %8d keys   %d ops, load %.2f",
			pt.T.Round(time.Second), float64(pt.VDRRSS)/1e6, pt.VDRKeys, float64(pt.RedisRSS)/1e6, pt.RedisKeys, pt.Ops, pt.Load)
		if isDone(v) {
			return nil, fmt.Errorf("bench: churn: vdr exited (log in %s.out)", v.log)
		}
	}
	wg.Wait()
	close(errc)
	for e := range errc {
		if e != nil && !errors.Is(e, context.DeadlineExceeded) && !errors.Is(e, context.Canceled) {
			return nil, e
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Ops = ops.Load()
	res.End = res.Points[len(res.Points)-1]
	res.Ref = res.End
	for _, p := range res.Points {
		if p.T >= cfg.Warmup {
			res.Ref = p
			break
		}
	}
	return res, nil
}

// churnLoad is one connection of the churn: it picks keys of the key set
// at random and overwrites (half), deletes (a quarter) or rewrites with a
// short expire, 0.1 to 5 s (a quarter) each, pipelined and paced to its share of the
// rate. An overwrite deletes first, so a collection is replaced, not grown.
func churnLoad(ctx context.Context, addr string, spec dataset.Spec, cfg ChurnConfig, conn int, ops *atomic.Int64) error {
	c, err := resp.Dial(addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	rng := rand.New(rand.NewSource(cfg.Seed*7919 + int64(conn)))
	const batch = 32
	per := float64(cfg.Rate) / float64(cfg.Conns)
	start := time.Now()
	var mine int64
	for ctx.Err() == nil {
		due := time.Duration(float64(mine) / per * float64(time.Second))
		if wait := due - time.Since(start); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		sent := 0
		for j := 0; j < batch; j++ {
			i := rng.Intn(cfg.N)
			cmd := spec.Command(i, cfg.Seed+1+rng.Int63n(1<<30))
			key := cmd[1]
			switch op := rng.Intn(4); {
			case op < 2:
				c.Send("DEL", key)
				c.Send(cmd...)
				sent += 2
			case op == 2:
				c.Send("DEL", key)
				sent++
			default:
				c.Send("DEL", key)
				c.Send(cmd...)
				c.Send("PEXPIRE", key, strconv.Itoa(100+rng.Intn(5000)))
				sent += 3
			}
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for j := 0; j < sent; j++ {
			r, err := c.Read()
			if err != nil {
				return err
			}
			if err := r.Err(); err != nil {
				return fmt.Errorf("bench: churn: primary answered an error: %w", err)
			}
		}
		mine += batch
		ops.Add(batch)
	}
	return nil
}

// primeChurn deletes a random half of the key set.
func primeChurn(addr string, spec dataset.Spec, cfg ChurnConfig) error {
	c, err := resp.Dial(addr, time.Minute)
	if err != nil {
		return err
	}
	defer c.Close()
	rng := rand.New(rand.NewSource(cfg.Seed))
	const batch = 512
	for lo := 0; lo < cfg.N; lo += batch {
		sent := 0
		for i := lo; i < min(lo+batch, cfg.N); i++ {
			if rng.Intn(2) == 0 {
				c.Send("DEL", spec.Key(i))
				sent++
			}
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for j := 0; j < sent; j++ {
			if _, err := c.Read(); err != nil {
				return err
			}
		}
	}
	return nil
}

// dbSize returns DBSIZE of db 0 at addr, -1 when it does not answer.
func dbSize(addr string) int64 {
	c, err := resp.Dial(addr, 2*time.Second)
	if err != nil {
		return -1
	}
	defer c.Close()
	r, err := c.Do("DBSIZE")
	if err != nil || r.Err() != nil {
		return -1
	}
	return r.Num
}

// WriteChurn writes the samples as a table, then the verdict.
func WriteChurn(w io.Writer, r *ChurnResult) {
	fmt.Fprintf(w, "# t_s\tvdr_rss_MB\tredis_rss_MB\tvdr_keys\tredis_keys\tops\tload1\tvdr_cpu_s\tredis_cpu_s\n")
	for _, p := range r.Points {
		fmt.Fprintf(w, "%.0f\t%.1f\t%.1f\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\n", p.T.Seconds(), float64(p.VDRRSS)/1e6,
			float64(p.RedisRSS)/1e6, p.VDRKeys, p.RedisKeys, p.Ops, p.Load, p.VDRCPU.Seconds(), p.RedisCPU.Seconds())
	}
	verdict := "within 10%"
	if g := r.VDRGrowth(); g > 1.1 || g < 0.9 {
		verdict = "NOT within 10%"
	}
	fmt.Fprintf(w, "# %d key operations in %v; RSS at %v → end: vdr %.1f → %.1f MB (%.3f×, %s), redis %.1f → %.1f MB (%.3f×)\n",
		r.Ops, r.End.T.Round(time.Second), r.Ref.T.Round(time.Second),
		float64(r.Ref.VDRRSS)/1e6, float64(r.End.VDRRSS)/1e6, r.VDRGrowth(), verdict,
		float64(r.Ref.RedisRSS)/1e6, float64(r.End.RedisRSS)/1e6, r.RedisGrowth())
	fmt.Fprintf(w, "# from %v to the end: vdr %.0f MB against redis %.0f MB on average (%.3f×); CPU vdr %.1f s, redis %.1f s (%.2f×)\n",
		r.Ref.T.Round(time.Second), r.MeanVDRRSS()/1e6, r.MeanRedisRSS()/1e6, r.MeanVDRRSS()/r.MeanRedisRSS(),
		(r.End.VDRCPU - r.Ref.VDRCPU).Seconds(), (r.End.RedisCPU - r.Ref.RedisCPU).Seconds(),
		ratio(int64(r.End.VDRCPU-r.Ref.VDRCPU), int64(r.End.RedisCPU-r.Ref.RedisCPU)))
}

// MeanVDRRSS is vdr's mean RSS over the samples from the reference one
// on: what a sidecar under this churn pays.
func (r *ChurnResult) MeanVDRRSS() float64 {
	return r.meanRSS(func(p ChurnPoint) int64 { return p.VDRRSS })
}

// MeanRedisRSS is the Redis replica's, over the same samples.
func (r *ChurnResult) MeanRedisRSS() float64 {
	return r.meanRSS(func(p ChurnPoint) int64 { return p.RedisRSS })
}

func (r *ChurnResult) meanRSS(of func(ChurnPoint) int64) float64 {
	sum, n := 0.0, 0
	for _, p := range r.Points {
		if p.T >= r.Ref.T {
			sum += float64(of(p))
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
