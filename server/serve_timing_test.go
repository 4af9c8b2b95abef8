package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkPipelineGET measures the whole request path (parse, dispatch,
// projection read, reply, write) with 16 pipelined GETs per round trip.
func BenchmarkPipelineGET(b *testing.B) {
	p := newProjection(b)
	for i := 0; i < 1000; i++ {
		p.Apply(0, bs("SET", "key:"+strconv.Itoa(i), "xxx"))
	}
	s := startVDR(b, Options{Projection: p})
	var req []byte
	for i := 0; i < 16; i++ {
		req = append(req, encodeCmd(bs("GET", "key:"+strconv.Itoa(i*7))...)...)
	}
	want := bytes.Repeat([]byte("$3\r\nxxx\r\n"), 16)
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	b.RunParallel(func(pb *testing.PB) {
		nc, err := net.Dial("tcp", s.Addr())
		if err != nil {
			b.Error(err)
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		buf := make([]byte, len(want))
		for pb.Next() {
			nc.Write(req)
			if _, err := ioFull(br, buf); err != nil || !bytes.Equal(buf, want) {
				b.Errorf("reply %q %v", buf, err)
				return
			}
		}
	})
}

// BenchmarkReader measures request parsing alone.
func BenchmarkReader(b *testing.B) {
	for _, size := range []int{8, 512} {
		b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
			one := encodeCmd(bs("GET", string(bytes.Repeat([]byte("k"), size)))...)
			data := bytes.Repeat(one, 64)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				rd := newReader(bytes.NewReader(data), defaultMaxBulkBytes, maxIntMultibulk, func() bool { return true })
				for j := 0; j < 64; j++ {
					if _, err := rd.next(func() error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkServeGET compares the two front ends (event loops, goroutine
// per connection) in one run: 50 connections doing GET ping-pong (as
// redis-benchmark -c 50 -P 1) and 16-deep pipelines (-P 16). allocs/op
// counts both ends of the connection; the client side allocates nothing.
func BenchmarkServeGET(b *testing.B) {
	const conns = 50
	p := newProjection(b)
	for i := 0; i < 1000; i++ {
		p.Apply(0, bs("SET", "key:"+strconv.Itoa(i), "xxx"))
	}
	for _, fe := range []frontEnd{{"loop", 0}, {"goroutine", EventLoopsDisabled}} {
		for _, depth := range []int{1, 16} {
			b.Run("mode="+fe.name+"/P="+strconv.Itoa(depth), func(b *testing.B) {
				s := startVDR(b, Options{Projection: p, EventLoops: fe.loops})
				var req []byte
				for i := 0; i < depth; i++ {
					req = append(req, encodeCmd(bs("GET", "key:"+strconv.Itoa(i*7))...)...)
				}
				want := bytes.Repeat([]byte("$3\r\nxxx\r\n"), depth)
				b.ReportAllocs()
				b.SetBytes(int64(len(req)))
				b.SetParallelism((conns + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					nc, err := net.Dial("tcp", s.Addr())
					if err != nil {
						b.Error(err)
						return
					}
					defer nc.Close()
					buf := make([]byte, len(want))
					for pb.Next() {
						nc.Write(req)
						if _, err := io.ReadFull(nc, buf); err != nil || !bytes.Equal(buf, want) {
							b.Errorf("reply %q %v", buf, err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*depth)/b.Elapsed().Seconds(), "GETs/s")
			})
		}
	}
}
