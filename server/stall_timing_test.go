package server

import (
	"bufio"
	"bytes"
	"net"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// BenchmarkStallOtherClients measures what hostile or huge requests cost
// the other clients of a server, vdr and a real redis-server side by side
// in the same run (a fresh one of each per load): the p99 of PINGs sent
// one at a time on another connection while
//   - declared-bulks: ten connections each declare a 500 MB argument,
//     send 1 MB of it and close (vdr used to reserve the 500 MB, zeroed,
//     on the event loop);
//   - exists-1M, mget-1M: one connection sends EXISTS (MGET) with a
//     million keys (none exists);
//   - exists-4M: EXISTS with four million keys, the case of issue 15's
//     memory figures.
//
// Reported per target as ping-p99-ms (and the PINGs' max as ping-max-ms),
// and the memory the load added at its peak as peak-MB, what the
// allocator handed out in both: for redis-server INFO's used_memory_peak
// less used_memory before (a fresh server; within 10 MB of its peak RSS
// less its RSS before, VmHWM, in a trial run); for vdr, which runs in
// the benchmark's process, the peak of the Go heap's live objects
// (runtime/metrics, sampled every millisecond) less their size before.
//
//	go test -run '^$' -bench BenchmarkStallOtherClients -benchtime 3x ./server
func BenchmarkStallOtherClients(b *testing.B) {
	bulk := bytes.Repeat([]byte{'x'}, 1<<20)
	manyKeys := func(cmd string, n int) []byte {
		var buf bytes.Buffer
		buf.WriteString("*" + strconv.Itoa(n+1) + "\r\n$" + strconv.Itoa(len(cmd)) + "\r\n" + cmd + "\r\n")
		for i := 0; i < n; i++ {
			k := "key:" + strconv.Itoa(i)
			buf.WriteString("$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n")
		}
		return buf.Bytes()
	}
	// send writes req and reads the whole reply (one line, or an array's
	// header and n lines of nil bulks).
	send := func(b *testing.B, addr string, req []byte, replyLines int) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		go c.Write(req)
		c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		br := bufio.NewReaderSize(c, 1<<16)
		for i := 0; i < replyLines; i++ {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Error(err)
				return
			}
			if i == 0 && line[0] == '-' {
				b.Errorf("reply %q", line)
				return
			}
		}
	}
	type load struct {
		name string
		req  []byte
		run  func(b *testing.B, addr string, req []byte)
	}
	const million = 1_000_000
	loads := []load{
		{"declared-bulks", nil, func(b *testing.B, addr string, _ []byte) {
			var wg sync.WaitGroup
			for i := 0; i < 10; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := net.Dial("tcp", addr)
					if err != nil {
						b.Error(err)
						return
					}
					c.Write([]byte("*2\r\n$3\r\nSET\r\n$524288000\r\n"))
					c.Write(bulk)
					c.Close()
				}()
			}
			wg.Wait()
		}},
		{"exists-1M", manyKeys("EXISTS", million), func(b *testing.B, addr string, req []byte) { send(b, addr, req, 1) }},
		{"mget-1M", manyKeys("MGET", million), func(b *testing.B, addr string, req []byte) { send(b, addr, req, 1+million) }},
		{"exists-4M", manyKeys("EXISTS", 4*million), func(b *testing.B, addr string, req []byte) { send(b, addr, req, 1) }},
	}
	for _, ld := range loads {
		for _, target := range []string{"vdr", "redis"} {
			b.Run(ld.name+"/"+target, func(b *testing.B) {
				var addr string
				var mem func() (stop func() int64)
				if target == "vdr" {
					addr = startVDR(b, Options{}).Addr()
					mem = goHeapPeak
				} else {
					addr = redistest.Start(b).Addr()
					mem = func() func() int64 {
						info := func(field string) int64 {
							v, _ := strconv.ParseInt(redistest.InfoField(addr, "memory", field), 10, 64)
							return v
						}
						before := info("used_memory")
						return func() int64 { return info("used_memory_peak") - before }
					}
				}
				var lat []time.Duration
				var peak int64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					pc, err := net.Dial("tcp", addr)
					if err != nil {
						b.Fatal(err)
					}
					br := bufio.NewReader(pc)
					stop := mem()
					done := make(chan struct{})
					go func() { defer close(done); ld.run(b, addr, ld.req) }()
					for running := true; running; {
						select {
						case <-done:
							running = false
						default:
						}
						t0 := time.Now()
						pc.Write([]byte("PING\r\n"))
						if _, err := br.ReadString('\n'); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t0))
					}
					peak = max(peak, stop())
					pc.Close()
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ping-p99-ms")
				b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ping-max-ms")
				b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
			})
		}
	}
}

// goHeapPeak samples the Go heap's live objects every millisecond until
// the returned stop is called, which reports the peak less the size at
// the start (after a GC, so earlier garbage does not count).
func goHeapPeak() (stop func() int64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 { metrics.Read(sample); return int64(sample[0].Value.Uint64()) }
	base := read()
	var peak atomic.Int64
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak.Store(max(peak.Load(), read()))
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(quit)
		<-exited
		return peak.Load() - base
	}
}
