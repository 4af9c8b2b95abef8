package bench

import (
	"context"
	"fmt"
	"github.com/vdr-project/vdr/internal/resp"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loadDB is the database the write load uses.
const loadDB = 1

// flushLoad removes what the write load wrote.
func flushLoad(primary string) error {
	c, err := resp.Dial(primary, time.Minute)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Do("SELECT", strconv.Itoa(loadDB)); err != nil {
		return err
	}
	r, err := c.Do("FLUSHDB")
	if err == nil {
		err = r.Err()
	}
	return err
}

// writeLoad drives the primary with a SET/HSET/LPUSH/ZADD mix over conns
// pipelined connections until ctx ends. rate > 0 throttles it to about rate
// commands/s; rate 0 runs as fast as the primary takes them. It returns the
// number of commands sent.
func writeLoad(ctx context.Context, addr string, conns int, rate int, seed int64) (int64, error) {
	var sent atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	const batch = 64
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := resp.Dial(addr, 10*time.Second)
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			// The load writes to db 1, which is flushed after each
			// repetition, so every repetition syncs the same dataset.
			if _, err := c.Do("SELECT", strconv.Itoa(loadDB)); err != nil {
				errc <- err
				return
			}
			rng := rand.New(rand.NewSource(seed + int64(i)))
			start := time.Now()
			var mine int64
			for ctx.Err() == nil {
				if rate > 0 {
					// Pace this connection to its share of rate.
					due := time.Duration(float64(mine) / (float64(rate) / float64(conns)) * float64(time.Second))
					if wait := due - time.Since(start); wait > 0 {
						time.Sleep(wait)
					}
				}
				for j := 0; j < batch; j++ {
					k := strconv.Itoa(rng.Intn(100_000))
					v := strconv.Itoa(rng.Int())
					switch rng.Intn(4) {
					case 0:
						c.Send("SET", "w:s:"+k, v)
					case 1:
						c.Send("HSET", "w:h:"+k, "f"+strconv.Itoa(rng.Intn(10)), v)
					case 2:
						if j == batch-1 {
							c.Send("SET", "w:s:"+k, v)
							continue
						}
						c.Send("LPUSH", "w:l:"+k, v)
						// Keep lists short so memory stays flat.
						c.Send("LTRIM", "w:l:"+k, "0", "9")
						j++
					case 3:
						c.Send("ZADD", "w:z:"+k, strconv.Itoa(rng.Intn(1000)), v[:min(len(v), 6)])
					}
				}
				if err := c.Flush(); err != nil {
					errc <- err
					return
				}
				for j := 0; j < batch; j++ {
					if _, err := c.Read(); err != nil {
						errc <- err
						return
					}
				}
				mine += batch
				sent.Add(batch)
			}
		}(i)
	}
	wg.Wait()
	close(errc)
	return sent.Load(), <-errc
}

// offsets reads the primary's master_repl_offset and each target's
// slave_repl_offset.
func offsets(primary string, targets map[string]*proc) (int64, map[string]int64, error) {
	m, err := resp.Info(primary, "replication")
	if err != nil {
		return 0, nil, err
	}
	po, _ := strconv.ParseInt(m["master_repl_offset"], 10, 64)
	out := map[string]int64{}
	for name, p := range targets {
		r, err := resp.Info(p.addr(), "replication")
		if err != nil {
			return 0, nil, err
		}
		out[name], _ = strconv.ParseInt(r["slave_repl_offset"], 10, 64)
	}
	return po, out, nil
}

type lagPoint struct {
	t   time.Duration
	lag map[string]int64
}

// sampleLag records offset lag every interval until ctx ends.
func sampleLag(ctx context.Context, primary string, targets map[string]*proc, interval time.Duration) []lagPoint {
	var pts []lagPoint
	start := time.Now()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return pts
		case <-tick.C:
		}
		po, ro, err := offsets(primary, targets)
		if err != nil {
			continue
		}
		pt := lagPoint{t: time.Since(start), lag: map[string]int64{}}
		for n, o := range ro {
			pt.lag[n] = max(po-o, 0)
		}
		pts = append(pts, pt)
	}
}

// probeVisibility writes marker values to the primary and times how long
// each target takes to show them, until ctx ends.
func probeVisibility(ctx context.Context, primary string, targets map[string]*proc) (map[string][]float64, error) {
	pc, err := resp.Dial(primary, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	tc := map[string]*resp.Conn{}
	for n, p := range targets {
		c, err := resp.Dial(p.addr(), 5*time.Second)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		tc[n] = c
	}
	lat := map[string][]float64{}
	for seq := 1; ctx.Err() == nil; seq++ {
		val := strconv.Itoa(seq)
		t0 := time.Now()
		if _, err := pc.Do("SET", "bench:marker", val); err != nil {
			return nil, err
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for n, c := range tc {
			wg.Add(1)
			go func(n string, c *resp.Conn) {
				defer wg.Done()
				for time.Since(t0) < 10*time.Second {
					r, err := c.Do("GET", "bench:marker")
					if err == nil {
						if got, _ := strconv.Atoi(r.Str); got >= seq {
							mu.Lock()
							lat[n] = append(lat[n], float64(time.Since(t0).Microseconds())/1000)
							mu.Unlock()
							return
						}
					}
					time.Sleep(100 * time.Microsecond)
				}
			}(n, c)
		}
		wg.Wait()
		time.Sleep(10 * time.Millisecond)
	}
	return lat, nil
}

func percentile(vs []float64, p float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

func lagBenchmarks(ctx context.Context, cfg Config, res *Results, primary *proc, targets map[string]*proc, last bool, logf func(string, ...any)) error {
	// 3. Lag under the highest write rate the primary sustains.
	loadCtx, stop := context.WithTimeout(ctx, cfg.LagFor)
	defer stop()
	var pts []lagPoint
	var lat map[string][]float64
	var probeErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pts = sampleLag(loadCtx, primary.addr(), targets, 20*time.Millisecond) }()
	go func() { defer wg.Done(); lat, probeErr = probeVisibility(loadCtx, primary.addr(), targets) }()
	t0 := time.Now()
	sent, err := writeLoad(loadCtx, primary.addr(), 4, 0, time.Now().UnixNano())
	wg.Wait()
	if err != nil && loadCtx.Err() == nil {
		return fmt.Errorf("write load: %w", err)
	}
	if probeErr != nil {
		return fmt.Errorf("visibility probe: %w", probeErr)
	}
	rate := float64(sent) / time.Since(t0).Seconds()
	res.add("write load the primary sustained", "cmd/s", "higher", "primary", rate)
	converge := map[string]float64{}
	start := time.Now()
	pending := map[string]bool{"redis": true, "vdr": true}
	for len(pending) > 0 && time.Since(start) < 60*time.Second {
		po, ro, err := offsets(primary.addr(), targets)
		if err == nil {
			for n := range pending {
				if ro[n] >= po {
					converge[n] = time.Since(start).Seconds()
					delete(pending, n)
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	for _, n := range []string{"redis", "vdr"} {
		var lags []float64
		for _, p := range pts {
			lags = append(lags, float64(p.lag[n]))
		}
		res.add("lag under load: offset p50", "bytes", "lower", n, percentile(lags, 50))
		res.add("lag under load: offset p99", "bytes", "lower", n, percentile(lags, 99))
		res.add("lag under load: offset max", "bytes", "lower", n, percentile(lags, 100))
		res.add("write→visible p50", "ms", "lower", n, percentile(lat[n], 50))
		res.add("write→visible p99", "ms", "lower", n, percentile(lat[n], 99))
		if c, ok := converge[n]; ok {
			res.add("converge after load stops", "s", "lower", n, c)
		} else {
			res.Notes = append(res.Notes, fmt.Sprintf("%s did not converge within 60 s after the load stopped", n))
		}
		logf("%-6s lag p99 %.0f B, visible p99 %.2f ms", n, percentile(lags, 99), percentile(lat[n], 99))
	}
	if last && cfg.Out != "" {
		if err := writeLagData(cfg.Out, pts); err != nil {
			return err
		}
		res.LagPlot = filepath.Join(plotDir(cfg.Out), "lag.dat")
	}

	// 4. The highest write rate each keeps up with: rising steps, each a
	// few seconds; a target keeps up at a step when its offset lag at the
	// step's end is under a quarter second of that step's stream.
	kept := map[string]float64{}
	steps := []int{10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000}
	if cfg.RateSteps > 0 && cfg.RateSteps < len(steps) {
		steps = steps[:cfg.RateSteps]
	}
	for _, step := range steps {
		sctx, scancel := context.WithTimeout(ctx, 3*time.Second)
		m0, _ := resp.Info(primary.addr(), "replication")
		o0, _ := strconv.ParseInt(m0["master_repl_offset"], 10, 64)
		ts := time.Now()
		sent, err := writeLoad(sctx, primary.addr(), 4, step, int64(step))
		scancel()
		if err != nil && sctx.Err() == nil {
			return err
		}
		achieved := float64(sent) / time.Since(ts).Seconds()
		po, ro, err := offsets(primary.addr(), targets)
		if err != nil {
			return err
		}
		bytesPerSec := float64(po-o0) / time.Since(ts).Seconds()
		for n, o := range ro {
			if float64(po-o) < bytesPerSec/4 {
				kept[n] = achieved
			}
		}
		logf("step %d cmd/s: primary did %.0f; lag redis %d B, vdr %d B", step, achieved, po-ro["redis"], po-ro["vdr"])
		if achieved < float64(step)*0.9 {
			break // the primary itself is saturated
		}
		waitUntil(30*time.Second, func() bool {
			po, ro, err := offsets(primary.addr(), targets)
			return err == nil && ro["redis"] >= po && ro["vdr"] >= po
		})
	}
	for _, n := range []string{"redis", "vdr"} {
		res.add("highest write rate kept up with", "cmd/s", "higher", n, kept[n])
	}
	return flushLoad(primary.addr())
}

func writeLagData(out string, pts []lagPoint) error {
	if err := os.MkdirAll(plotDir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(plotDir(out), "lag.dat"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "# seconds redis_lag_bytes vdr_lag_bytes")
	for _, p := range pts {
		fmt.Fprintf(f, "%.3f %d %d\n", p.t.Seconds(), p.lag["redis"], p.lag["vdr"])
	}
	return nil
}
