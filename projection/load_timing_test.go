package projection

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	ds "github.com/vdr-project/vdr/internal/dataset"
	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/rdbparse"
)

// loadResizeHandler is loadHandler plus the RDB's RESIZEDB hints, as the
// node's link handler passes them on.
type loadResizeHandler struct{ loadHandler }

func (h loadResizeHandler) ResizeDB(db int, keys, _ uint64) error {
	h.ld.ResizeDB(db, keys)
	return nil
}

var redisLoadedRE = regexp.MustCompile(`DB loaded from disk: ([0-9.]+) seconds`)

// BenchmarkLoadRDB loads an RDB written by redis-server 7.0 holding
// BENCH_KEYS (default 10^6) keys of the dataset.Default mix into a fresh
// projection (parse + build, streamed from the file as `vdr serve --rdb` reads it), and reports redis-server's
// own load time of the same file in the same run (redis-load-s), so the
// ratio is measured on the same machine state. BENCH_RDB names an existing
// file to use instead of generating one. It also reports the heap the
// loaded keyspace holds (heap-B/key) and the CPU time per load.
//
//	go test -run '^$' -bench BenchmarkLoadRDB -benchtime 3x ./projection
func BenchmarkLoadRDB(b *testing.B) {
	if testing.Short() {
		b.Skip("needs redis-server and a big dataset")
	}
	path := os.Getenv("BENCH_RDB")
	if path == "" {
		n := 1000000
		if v := os.Getenv("BENCH_KEYS"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				b.Fatalf("BENCH_KEYS=%q: %v", v, err)
			}
		}
		s := redistest.Start(b)
		if err := ds.Load(s.Addr(), n, 1); err != nil {
			b.Fatal(err)
		}
		if r := s.Do(b, "SAVE"); r != "+OK\r\n" {
			b.Fatalf("SAVE: %q", r)
		}
		s.Stop()
		path = filepath.Join(s.Dir, "dump.rdb")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	dir, file := filepath.Split(path)

	redisLoad := func() float64 {
		start := time.Now()
		s := redistest.Start(b, "--dir", dir, "--dbfilename", file, "--save", "")
		wall := time.Since(start).Seconds()
		if m := redisLoadedRE.FindStringSubmatch(s.Log()); m != nil {
			wall, _ = strconv.ParseFloat(m[1], 64)
		}
		s.Stop()
		return wall
	}

	// BENCH_LOAD_GOGC sets LoadOptions.GCPercent (default 400, as the node
	// loads; 0 to compare with the process GOGC).
	gcPercent := 400
	if v := os.Getenv("BENCH_LOAD_GOGC"); v != "" {
		gcPercent, _ = strconv.Atoi(v)
	}
	b.Run(fmt.Sprintf("MB=%d", fi.Size()>>20), func(b *testing.B) {
		b.SetBytes(fi.Size())
		var keys uint64
		var heap uint64
		var redisTotal, cpuTotal time.Duration
		for range b.N {
			b.StopTimer()
			redisTotal += time.Duration(redisLoad() * float64(time.Second))
			runtime.GC()
			b.StartTimer()
			cpu0 := cpuTime()
			p, err := New(Options{})
			if err != nil {
				b.Fatal(err)
			}
			ld := p.BeginLoad(LoadOptions{GCPercent: gcPercent})
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			err = rdbparse.Parse(f, loadResizeHandler{loadHandler{ld: ld}}, nil)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			if err := ld.Commit(); err != nil {
				b.Fatal(err)
			}
			cpuTotal += time.Duration(cpuTime() - cpu0)
			b.StopTimer()
			keys = ld.Keys()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = ms.HeapAlloc
			runtime.KeepAlive(p)
			b.StartTimer()
		}
		perOp := b.Elapsed().Seconds() / float64(b.N)
		redis := redisTotal.Seconds() / float64(b.N)
		b.ReportMetric(float64(keys)/perOp, "keys/s")
		b.ReportMetric(redis, "redis-load-s")
		b.ReportMetric(perOp/redis, "x-redis")
		b.ReportMetric(cpuTotal.Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(float64(heap)/float64(max(keys, 1)), "heap-B/key")
	})
}
