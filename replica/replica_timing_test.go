package replica

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// emptyRDB is a version-10 RDB with no keys and the checksum disabled.
const emptyRDB = "REDIS0010\xff\x00\x00\x00\x00\x00\x00\x00\x00"

type countHandler struct {
	NopHandler
	n atomic.Int64
}

func (h *countHandler) Commands(cmds []Command) error { h.n.Add(int64(len(cmds))); return nil }

// buildStream returns n "SET key:<i> <value>" commands in RESP.
func buildStream(n, valueBytes int) []byte {
	val := strings.Repeat("v", valueBytes)
	var b []byte
	for i := 0; i < n; i++ {
		b = appendCommand(b, "SET", fmt.Sprintf("key:%08d", i%100000), val)
	}
	return b
}

// BenchmarkStreamApply measures the whole path: a primary on a loopback
// TCP socket → handshake → diskless empty RDB → b.N SET commands → the
// client's parser → Handler.Commands, until the last offset is applied.
func BenchmarkStreamApply(b *testing.B) {
	for _, size := range []int{16, 256, 4096} {
		b.Run(fmt.Sprintf("value=%d", size), func(b *testing.B) {
			stream := buildStream(b.N, size)
			mark := strings.Repeat("m", 40)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			requireNoError(b, err)
			defer ln.Close()
			f := &fakePrimary{psync: func(w net.Conn, argv []string) {
				w.Write([]byte("+FULLRESYNC " + strings.Repeat("a", 40) + " 0\r\n$EOF:" + mark + "\r\n" + emptyRDB + mark))
				w.Write(stream)
			}}
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					go f.serve(conn)
				}
			}()
			h := &countHandler{}
			b.ReportAllocs()
			b.SetBytes(int64(len(stream) / b.N))
			b.ResetTimer()
			start := time.Now()
			c := New(Options{Primary: ln.Addr().String(), Handler: h, Logger: testLogger(b)})
			requireNoError(b, c.Start(context.Background()))
			for c.Offset() != int64(len(stream)) {
				time.Sleep(50 * time.Microsecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			c.Stop()
			if h.n.Load() != int64(b.N) {
				b.Fatalf("applied %d commands, want %d", h.n.Load(), b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cmds/s")
		})
	}
}

// BenchmarkStreamDecode measures the stream decoder alone (no socket).
func BenchmarkStreamDecode(b *testing.B) {
	for _, size := range []int{16, 256} {
		b.Run(fmt.Sprintf("value=%d", size), func(b *testing.B) {
			stream := buildStream(10000, size)
			o := (&Options{}).EnsureDefaults()
			h := &countHandler{}
			b.ReportAllocs()
			b.SetBytes(int64(len(stream)))
			for i := 0; i < b.N; i++ {
				s := newStream(newReader(bytes.NewReader(stream), o), h, nil, o.MaxBatch, 0, 0)
				s.run()
			}
			b.ReportMetric(float64(b.N)*10000/b.Elapsed().Seconds(), "cmds/s")
		})
	}
}
