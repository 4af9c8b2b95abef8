package server

import (
	"bufio"
	"bytes"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// BenchmarkStallOtherClients measures what hostile or huge requests cost
// the other clients of a server, vdr and a real redis-server side by side
// in the same run: the p99 of PINGs sent one at a time on another
// connection while
//   - declared-bulks: ten connections each declare a 500 MB argument,
//     send 1 MB of it and close (vdr used to reserve the 500 MB, zeroed,
//     on the event loop);
//   - exists-1M: one connection sends EXISTS with a million keys.
//
// Reported per target as ping-p99-ms (and the PINGs' max as ping-max-ms).
//
//	go test -run '^$' -bench BenchmarkStallOtherClients -benchtime 3x ./server
func BenchmarkStallOtherClients(b *testing.B) {
	vdr := startVDR(b, Options{})
	redis := redistest.Start(b)
	bulk := bytes.Repeat([]byte{'x'}, 1<<20)
	var exists bytes.Buffer
	const nkeys = 1_000_000
	exists.WriteString("*" + strconv.Itoa(nkeys+1) + "\r\n$6\r\nEXISTS\r\n")
	for i := 0; i < nkeys; i++ {
		k := "key:" + strconv.Itoa(i)
		exists.WriteString("$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n")
	}
	loads := map[string]func(b *testing.B, addr string){
		"declared-bulks": func(b *testing.B, addr string) {
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
		},
		"exists-1M": func(b *testing.B, addr string) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.Write(exists.Bytes())
			c.SetReadDeadline(time.Now().Add(time.Minute))
			if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
				b.Fatal(err)
			}
		},
	}
	for _, load := range []string{"declared-bulks", "exists-1M"} {
		for _, target := range []struct{ name, addr string }{{"vdr", vdr.Addr()}, {"redis", redis.Addr()}} {
			b.Run(load+"/"+target.name, func(b *testing.B) {
				var lat []time.Duration
				for i := 0; i < b.N; i++ {
					pc, err := net.Dial("tcp", target.addr)
					if err != nil {
						b.Fatal(err)
					}
					br := bufio.NewReader(pc)
					done := make(chan struct{})
					go func() { defer close(done); loads[load](b, target.addr) }()
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
					pc.Close()
				}
				slices.Sort(lat)
				p99 := lat[len(lat)*99/100]
				b.ReportMetric(float64(p99.Microseconds())/1000, "ping-p99-ms")
				b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ping-max-ms")
			})
		}
	}
}
