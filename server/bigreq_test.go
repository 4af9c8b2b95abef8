package server

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestBigRequestsDifferential sends commands of thousands of keys
// (parsed into the reader's arena, run off the event loop) to vdr and to
// a real Redis replica of one primary, pipelined between small commands
// in one write, and compares the replies byte for byte: the huge
// command's reply must be one atomic answer at its place in the stream,
// and the requests around it must run in order.
func TestBigRequestsDifferential(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	node := startNode(t, primary.Addr(), replicaOptions{})
	pc := dialRaw(t, primary.Addr())
	for i := 0; i < 3000; i += 3 {
		k := "key:" + strconv.Itoa(i)
		if i%9 == 0 {
			pc.dos("HSET", k, "f", "v")
		} else {
			pc.dos("SET", k, strings.Repeat("v", i%50))
		}
	}
	pc.dos("SET", "big", strings.Repeat("b", 40<<10)) // over an arena block's quarter
	off := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 15*time.Second, "both replicas caught up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "slave_repl_offset") == off &&
			redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == off
	})

	rng := rand.New(rand.NewPCG(uint64(seed(t)), 0))
	keys := func(cmd string, n int) [][]byte {
		args := [][]byte{[]byte(cmd)}
		for i := 0; i < n; i++ {
			switch rng.IntN(20) {
			case 0:
				args = append(args, []byte("big"))
			case 1:
				args = append(args, nil) // an empty key
			default:
				args = append(args, []byte("key:"+strconv.Itoa(rng.IntN(4000))))
			}
		}
		return args
	}
	var pipe bytes.Buffer
	pipe.Write(encodeCmd(bs("PING")...))
	pipe.Write(encodeCmd(keys("MGET", 5000)...))
	pipe.Write(encodeCmd(bs("ECHO", "after-mget")...))
	pipe.Write(encodeCmd(keys("EXISTS", 20000)...))
	pipe.Write(encodeCmd(keys("TOUCH", 1025)...))
	pipe.Write(encodeCmd(keys("MGET", 1024)...)) // the last size parsed in place
	pipe.WriteString("PING inline\r\n")
	pipe.Write(encodeCmd(keys("GET", 1500)...)) // an arity error, also big
	pipe.Write(encodeCmd(bs("DBSIZE")...))
	// A transaction whose queue holds more than bigArgc arguments: its
	// EXEC runs off the loop.
	pipe.Write(encodeCmd(bs("MULTI")...))
	pipe.Write(encodeCmd(keys("EXISTS", 800)...))
	pipe.Write(encodeCmd(keys("MGET", 800)...))
	pipe.Write(encodeCmd(bs("EXEC")...))
	pipe.Write(encodeCmd(bs("ECHO", "after-exec")...))
	const replies = 14
	run := func(addr string) string {
		c := dialRaw(t, addr)
		go c.nc.Write(pipe.Bytes())
		var out []string
		for i := 0; i < replies; i++ {
			out = append(out, string(c.read()))
		}
		return strings.Join(out, "")
	}
	want, got := run(replica.Addr()), run(node.Addr())
	if got != want {
		t.Fatalf("replies differ (redis %d bytes, vdr %d)%s", len(want), len(got), firstDiff(want, got))
	}

	// An XREAD BLOCK of 600 streams (1204 arguments: it runs off the
	// loop, and blocks there) woken by an XADD from the stream, with a
	// PING pipelined behind it.
	xread := bs("XREAD", "BLOCK", "10000", "STREAMS")
	for i := 0; i < 600; i++ {
		xread = append(xread, []byte("st:"+strconv.Itoa(i)))
	}
	for i := 0; i < 600; i++ {
		xread = append(xread, []byte("$"))
	}
	rc, vc := dialRaw(t, replica.Addr()), dialRaw(t, node.Addr())
	for _, c := range []*rawConn{rc, vc} {
		c.send(append(encodeCmd(xread...), "PING\r\n"...))
	}
	time.Sleep(200 * time.Millisecond)
	pc.dos("XADD", "st:599", "5-1", "f", "v")
	want, got = string(rc.read())+string(rc.read()), string(vc.read())+string(vc.read())
	if got != want || !strings.Contains(got, "st:599") {
		t.Fatalf("XREAD BLOCK of 600 streams: redis %q, vdr %q", want, got)
	}
}

// TestReaderBigRequest feeds big requests (more than bigArgc arguments,
// copied into the arena as they arrive) in random chunks and one byte at
// a time, between small ones: every argument must come out intact, the
// read buffer must stay about a chunk wide (it held the whole request),
// and a bad header inside one is still a protocol error.
func TestReaderBigRequest(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(seed(t)), 0))
	build := func(counts ...int) (want [][][]byte, in []byte) {
		add := func(args [][]byte) {
			want = append(want, args)
			in = append(in, encodeCmd(args...)...)
		}
		add(bs("PING"))
		for _, n := range counts {
			args := [][]byte{[]byte("EXISTS")}
			for i := 0; i < n; i++ {
				switch rng.IntN(500) {
				case 0:
					args = append(args, []byte{})
				case 1:
					args = append(args, bytes.Repeat([]byte{'z'}, arenaBlock/4+1+rng.IntN(100)))
				default:
					args = append(args, []byte("k\r\n"+strconv.Itoa(rng.Int())))
				}
			}
			add(args)
			add(bs("GET", "x"))
		}
		want = append(want, bs("PING", "inline"))
		in = append(in, "PING inline\r\n"...)
		return want, in
	}
	check := func(name string, want [][][]byte, in []byte, sizes []int) {
		rd := newReader(&chunkReader{data: in, sizes: sizes}, defaultMaxBulkBytes, maxIntMultibulk, func() bool { return true })
		maxBuf := 0
		for i, w := range want {
			args, err := rd.next(func() error { maxBuf = max(maxBuf, cap(rd.buf)); return nil })
			if err != nil {
				t.Fatalf("%s: request %d: %v", name, i, err)
			}
			if len(args) != len(w) {
				t.Fatalf("%s: request %d: %d args, want %d", name, i, len(args), len(w))
			}
			for j := range w {
				if !bytes.Equal(args[j], w[j]) {
					t.Fatalf("%s: request %d arg %d: %.40q, want %.40q", name, i, j, args[j], w[j])
				}
			}
		}
		if _, err := rd.next(func() error { return nil }); err == nil {
			t.Fatalf("%s: a request past the end", name)
		}
		// The biggest argument is 16 KiB and change: the buffer may double
		// past it once, never hold the megabyte request.
		if maxBuf > 4*readChunk {
			t.Fatalf("%s: the read buffer grew to %d bytes", name, maxBuf)
		}
	}
	want, in := build(bigArgc+1, 50_000)
	var sizes []int
	for left := len(in); left > 0; {
		n := 1 + rng.IntN(3*readChunk)
		sizes = append(sizes, n)
		left -= n
	}
	check("random chunks", want, in, sizes)
	want, in = build(bigArgc + 1)
	check("one byte at a time", want, in, repeatInts(1, len(in)))

	bad := "*2000\r\n$6\r\nEXISTS\r\n$1\r\na\r\n:5\r\n"
	rd := newReader(&chunkReader{data: []byte(bad)}, defaultMaxBulkBytes, maxIntMultibulk, func() bool { return true })
	if _, err := parseAll(rd); err == nil || err.Error() != "Protocol error: expected '$', got ':'" {
		t.Fatalf("bad header in a big request: %v", err)
	}
}

// TestReaderBigRequestMemory: the memory a request of half a million keys
// holds once parsed is about a slice header and the key's bytes per
// argument (Redis holds an robj and an sds, about 38 bytes for keys like
// these); the whole request used to stay in the read buffer besides.
func TestReaderBigRequestMemory(t *testing.T) {
	const n = 500_000
	var in []byte
	in = append(in, "*"+strconv.Itoa(n+1)+"\r\n$6\r\nEXISTS\r\n"...)
	keyBytes := 0
	for i := 0; i < n; i++ {
		k := "key:" + strconv.Itoa(i)
		keyBytes += len(k)
		in = append(in, "$"+strconv.Itoa(len(k))+"\r\n"+k+"\r\n"...)
	}
	rd := newReader(&chunkReader{data: in, sizes: repeatInts(readChunk, len(in)/readChunk+1)}, defaultMaxBulkBytes, maxIntMultibulk, func() bool { return true })
	heap := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	before := heap()
	args, err := rd.next(func() error { return nil })
	if err != nil || len(args) != n+1 {
		t.Fatalf("%d args, %v", len(args), err)
	}
	held := heap() - before
	limit := int64(float64(24*n+keyBytes) * 1.1)
	t.Logf("%d arguments hold %d bytes (%.1f per argument); limit %d", n, held, float64(held)/n, limit)
	if held > limit {
		t.Fatalf("%d arguments hold %d bytes, over %d", n, held, limit)
	}
	runtime.KeepAlive(args)
	runtime.KeepAlive(rd)
}
