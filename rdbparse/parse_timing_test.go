package rdbparse

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/dataset"
	"github.com/vdr-project/vdr/internal/redistest"
)

// countHandler counts entries and touches their bytes, as a loader would
// at the least.
type countHandler struct {
	NopHandler
	keys, bytes int64
}

func (h *countHandler) Entry(e *Entry) error {
	if e.Last {
		h.keys++
	}
	h.bytes += int64(len(e.Key) + len(e.String))
	for _, b := range e.Elems {
		h.bytes += int64(len(b))
	}
	for _, f := range e.Fields {
		h.bytes += int64(len(f.Field) + len(f.Value))
	}
	for _, z := range e.ZMembers {
		h.bytes += int64(len(z.Member))
	}
	return nil
}

var loadedRE = regexp.MustCompile(`DB loaded from disk: ([0-9.]+) seconds`)

// BenchmarkParse parses an RDB written by redis-server 7.0 holding
// BENCH_KEYS (default 10^6) keys of the dataset.Default mix, from memory
// (parse only), and reports MB/s, keys/s and allocations per key. It also
// reports redis-server's own load time of the same file
// (redis-load-s) and its keys/s.
func BenchmarkParse(b *testing.B) {
	if testing.Short() {
		b.Skip("needs redis-server and a big dataset")
	}
	n := 1000000
	if v := os.Getenv("BENCH_KEYS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("BENCH_KEYS=%q: %v", v, err)
		}
	}
	s := redistest.Start(b)
	if err := dataset.Load(s.Addr(), n, 1); err != nil {
		b.Fatal(err)
	}
	if r := s.Do(b, "SAVE"); r != "+OK\r\n" {
		b.Fatalf("SAVE: %q", r)
	}
	path := filepath.Join(s.Dir, "dump.rdb")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	s.Stop()

	// redis-server's own load time of the same file.
	start := time.Now()
	s2 := redistest.Start(b, "--dir", s.Dir, "--dbfilename", "dump.rdb")
	wall := time.Since(start)
	redisLoad := wall.Seconds()
	if m := loadedRE.FindStringSubmatch(s2.Log()); m != nil {
		redisLoad, _ = strconv.ParseFloat(m[1], 64)
	}
	s2.Stop()

	b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		var h countHandler
		b.ResetTimer()
		cpu0 := cpuTime()
		for range b.N {
			h = countHandler{}
			if err := Parse(bytes.NewReader(data), &h, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if cpu := cpuTime() - cpu0; cpu > 0 {
			// Throughput per CPU second (includes GC): meaningful when
			// other work competes for the cores and wall time is noisy.
			b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu.Seconds(), "cpu-MB/s")
		}
		if h.keys != int64(n) {
			b.Fatalf("parsed %d keys, want %d", h.keys, n)
		}
		perOp := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(float64(n)/perOp, "keys/s")
		b.ReportMetric(redisLoad, "redis-load-s")
		b.ReportMetric(float64(n)/redisLoad, "redis-keys/s")
		b.ReportMetric(float64(len(data))/1e6, "file-MB")
	})
}

// BenchmarkDecodeDump decodes a 10-field hash listpack DUMP payload.
func BenchmarkDecodeDump(b *testing.B) {
	lp := []byte{0, 0, 0, 0, 20, 0}
	for i := 0; i < 10; i++ {
		lp = append(lp, 0x86, 'f', 'i', 'e', 'l', 'd', byte('0'+i), 7)
		lp = append(lp, 0x88, 'v', 'a', 'l', 'u', 'e', 'x', 'y', byte('0'+i), 9)
	}
	lp = append(lp, 0xff)
	lp[0] = byte(len(lp))
	payload := append([]byte{TypeHashListpack, 0x40 | byte(len(lp)>>8), byte(len(lp))}, lp...) // 14-bit length
	payload = append(payload, 10, 0)
	crc := CRC64(payload)
	for i := 0; i < 8; i++ {
		payload = append(payload, byte(crc>>(8*i)))
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	var h countHandler
	for range b.N {
		if _, err := DecodeDump(payload, &h, nil); err != nil {
			b.Fatal(err)
		}
	}
}
