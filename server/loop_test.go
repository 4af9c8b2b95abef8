package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The connection-handling tests below run in both front ends: the epoll
// event loops (the default) and one goroutine per connection. The rest of
// the package's tests run in the mode VDR_EVENTLOOP selects (default: loop).

type frontEnd struct {
	name  string
	loops int // Options.EventLoops
}

var frontEnds = []frontEnd{{"loop", 0}, {"loop=1", 1}, {"goroutine", EventLoopsDisabled}}

func forEachFrontEnd(t *testing.T, f func(t *testing.T, fe frontEnd)) {
	for _, fe := range frontEnds {
		t.Run(fe.name, func(t *testing.T) { f(t, fe) })
	}
}

// waitUntil polls cond for up to d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectClosed checks that the server closed c: it reads (discarding
// whatever replies were still on the way) until EOF or a reset.
func expectClosed(t *testing.T, c *rawConn, d time.Duration) {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c.br)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v", d)
	}
}

func numClients(s *Server) int { return len(s.Clients()) }

// TestEventLoopsOption checks EventLoops' defaults and limits.
func TestEventLoopsOption(t *testing.T) {
	o := Options{}
	o.EnsureDefaults()
	if want := max(1, runtime.GOMAXPROCS(0)/2); o.EventLoops != want {
		t.Errorf("default EventLoops %d, want half of GOMAXPROCS, %d", o.EventLoops, want)
	}
	if _, err := New(Options{EventLoops: -2}); err == nil {
		t.Error("EventLoops -2 accepted")
	}
	s := startVDR(t, Options{EventLoops: 3})
	if loopsSupported && len(s.loops) != 3 {
		t.Errorf("%d loops running, want 3", len(s.loops))
	}
	// Forwarded writes block: they keep the goroutine path.
	f := startVDR(t, Options{ForwardWrites: true, PrimaryAddr: "127.0.0.1:1"})
	if len(f.loops) != 0 {
		t.Errorf("%d loops running with ForwardWrites", len(f.loops))
	}
	if got := dialRaw(t, f.Addr()).dos("PING"); got != "+PONG\r\n" {
		t.Errorf("PING with ForwardWrites: %q", got)
	}
}

// TestSplitEveryByte sends a pipeline one byte per write, and then split
// in two at every byte boundary, through a real socket: every partial
// read must leave the parser in the right state. The pipeline mixes
// multibulk, inline, an empty request and an argument bigger than one
// read buffer (readChunk) so the buffer must grow.
func TestSplitEveryByte(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		p := newProjection(t)
		if err := p.Apply(0, bs("SET", "key", "value")); err != nil {
			t.Fatal(err)
		}
		s := startVDR(t, Options{Projection: p, EventLoops: fe.loops})
		big := strings.Repeat("b", readChunk+100)
		req := []byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nPING\r\n\r\n*0\r\nECHO 'x y'\r\n")
		want := "$5\r\nvalue\r\n+PONG\r\n$3\r\nx y\r\n"
		// One byte per write.
		c := dialRaw(t, s.Addr())
		c.nc.(*net.TCPConn).SetNoDelay(true)
		for i := range req {
			c.send(req[i : i+1])
			if i%8 == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		if got := string(c.read()) + string(c.read()) + string(c.read()); got != want {
			t.Fatalf("byte by byte: %q", got)
		}
		// Two writes, split at every boundary, on one connection.
		full := append(append([]byte(nil), req...), encodeCmd(bs("ECHO", big)...)...)
		fullWant := want + "$" + strconv.Itoa(len(big)) + "\r\n" + big + "\r\n"
		for i := 1; i < len(full); i++ {
			if i > 200 && i < len(full)-200 && i%97 != 0 {
				continue // inside the big argument's body boundaries behave alike
			}
			c.send(full[:i])
			time.Sleep(50 * time.Microsecond)
			c.send(full[i:])
			var got []byte
			for j := 0; j < 4; j++ {
				got = append(got, c.read()...)
			}
			if string(got) != fullWant {
				t.Fatalf("split at %d: got %d bytes %.80q", i, len(got), got)
			}
		}
	})
}

// TestPipeline10k sends 10000 requests in one write and checks every reply
// in order.
func TestPipeline10k(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		p := newProjection(t)
		for i := 0; i < 100; i++ {
			p.Apply(0, bs("SET", "k"+strconv.Itoa(i), "v"+strconv.Itoa(i)))
		}
		s := startVDR(t, Options{Projection: p, EventLoops: fe.loops})
		const n = 10000
		var req bytes.Buffer
		var want bytes.Buffer
		for i := 0; i < n; i++ {
			k := i % 150
			req.Write(encodeCmd(bs("GET", "k"+strconv.Itoa(k))...))
			if k < 100 {
				v := "v" + strconv.Itoa(k)
				fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(v), v)
			} else {
				want.WriteString("$-1\r\n")
			}
		}
		c := dialRaw(t, s.Addr())
		go c.nc.Write(req.Bytes()) // the replies are read meanwhile
		got := make([]byte, want.Len())
		c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.ReadFull(c.br, got); err != nil {
			t.Fatalf("reading replies: %v", err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatal("replies differ from the expected sequence")
		}
		if got := c.dos("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING after the pipeline: %q", got)
		}
	})
}

// TestClientNeverReads pipelines requests with big replies and never
// reads them: the server must stop buffering (bounded memory) and drop the
// client after WriteTimeout, while other clients are still served.
func TestClientNeverReads(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		p := newProjection(t)
		value := strings.Repeat("v", 256<<10)
		p.Apply(0, bs("SET", "big", value))
		s := startVDR(t, Options{Projection: p, EventLoops: fe.loops, WriteTimeout: 400 * time.Millisecond})
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		other := dialRaw(t, s.Addr())
		other.dos("PING") // registered: counted by Clients
		// 800 replies of 256 KiB: 200 MiB if buffered.
		c := dialRaw(t, s.Addr())
		req := bytes.Repeat(encodeCmd(bs("GET", "big")...), 800)
		c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		c.nc.Write(req)
		var peak uint64
		waitUntil(t, 5*time.Second, "two clients", func() bool { return numClients(s) == 2 })
		waitUntil(t, 10*time.Second, "the client that never reads to be dropped", func() bool {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak {
				peak = ms.HeapAlloc
			}
			return numClients(s) == 1
		})
		if got := other.dos("PING"); got != "+PONG\r\n" {
			t.Errorf("other client: %q", got)
		}
		if grew := int64(peak) - int64(before.HeapAlloc); grew > 32<<20 {
			t.Errorf("heap grew by %d MiB while the client did not read", grew>>20)
		}
		expectClosed(t, c, 5*time.Second)
	})
}

// TestManyClients runs 500 concurrent clients, each checking the replies
// of its own pipelined requests.
func TestManyClients(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		p := newProjection(t)
		for i := 0; i < 50; i++ {
			p.Apply(0, bs("SET", "k"+strconv.Itoa(i), strconv.Itoa(i)))
		}
		s := startVDR(t, Options{Projection: p, EventLoops: fe.loops})
		const clients = 500
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				nc, err := net.DialTimeout("tcp", s.Addr(), 10*time.Second)
				if err != nil {
					errs <- err
					return
				}
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(30 * time.Second))
				br := bufio.NewReader(nc)
				for round := 0; round < 5; round++ {
					var req []byte
					var want bytes.Buffer
					for j := 0; j < 1+round*3; j++ {
						k := (i + j) % 60
						req = append(req, encodeCmd(bs("GET", "k"+strconv.Itoa(k))...)...)
						if k < 50 {
							v := strconv.Itoa(k)
							fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(v), v)
						} else {
							want.WriteString("$-1\r\n")
						}
					}
					req = append(req, "PING\r\n"...)
					want.WriteString("+PONG\r\n")
					if _, err := nc.Write(req); err != nil {
						errs <- err
						return
					}
					got := make([]byte, want.Len())
					if _, err := io.ReadFull(br, got); err != nil {
						errs <- fmt.Errorf("client %d: %v", i, err)
						return
					}
					if !bytes.Equal(got, want.Bytes()) {
						errs <- fmt.Errorf("client %d round %d: %q", i, round, got)
						return
					}
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		waitUntil(t, 5*time.Second, "all clients gone", func() bool { return numClients(s) == 0 })
	})
}

// TestPubSubWhileBusy publishes from another goroutine while the
// subscriber's loop is busy with a long pipeline of another client: every
// message arrives, in order, and the pipeline's replies are intact.
func TestPubSubWhileBusy(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		p := newProjection(t)
		p.Apply(0, bs("SET", "k", "v"))
		s := startVDR(t, Options{Projection: p, EventLoops: fe.loops})
		sub := dialRaw(t, s.Addr())
		sub.dos("HELLO", "3")
		sub.dos("SUBSCRIBE", "ch")
		busy := dialRaw(t, s.Addr())
		const n, msgs = 20000, 500
		req := bytes.Repeat(encodeCmd(bs("GET", "k")...), n)
		done := make(chan error, 1)
		go func() {
			busy.nc.Write(req)
			got := make([]byte, n*len("$1\r\nv\r\n"))
			busy.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err := io.ReadFull(busy.br, got)
			if err == nil && !bytes.Equal(got, bytes.Repeat([]byte("$1\r\nv\r\n"), n)) {
				err = fmt.Errorf("pipeline replies corrupted")
			}
			done <- err
		}()
		for i := 0; i < msgs; i++ {
			if got := s.Publish([]byte("ch"), []byte("m"+strconv.Itoa(i))); got != 1 {
				t.Fatalf("Publish %d reached %d subscribers", i, got)
			}
		}
		for i := 0; i < msgs; i++ {
			m := "m" + strconv.Itoa(i)
			want := ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$" + strconv.Itoa(len(m)) + "\r\n" + m + "\r\n"
			if got := string(sub.read()); got != want {
				t.Fatalf("message %d: %q", i, got)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// A subscriber still answers its own commands after the pushes.
		if got := sub.dos("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING while subscribed: %q", got)
		}
	})
}

// TestKillAndIdleTimeout checks CLIENT KILL across connections (and
// loops), KillClient, and that the idle timeout spares subscribers.
func TestKillAndIdleTimeout(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		s := startVDR(t, Options{EventLoops: fe.loops, IdleTimeout: 300 * time.Millisecond})
		a, b := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
		idB := strings.TrimSuffix(strings.TrimPrefix(b.dos("CLIENT", "ID"), ":"), "\r\n")
		if got := a.dos("CLIENT", "KILL", "ID", idB); got != ":1\r\n" {
			t.Fatalf("CLIENT KILL: %q", got)
		}
		expectClosed(t, b, 2*time.Second)
		// KillClient from outside any connection.
		c := dialRaw(t, s.Addr())
		c.dos("CLIENT", "SETNAME", "victim")
		for _, cl := range s.Clients() {
			if cl.Name() == "victim" {
				s.KillClient(cl)
			}
		}
		expectClosed(t, c, 2*time.Second)
		// Idle timeout: a subscriber stays, a plain client goes.
		sub, plain := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
		sub.dos("SUBSCRIBE", "x")
		plain.dos("PING")
		start := time.Now()
		expectClosed(t, plain, 3*time.Second)
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("idle client closed after %v, before the timeout", d)
		}
		expectClosed(t, a, 3*time.Second)
		time.Sleep(200 * time.Millisecond)
		if got := sub.dos("PING"); got != "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
			t.Errorf("subscriber after the idle timeout: %q", got)
		}
	})
}

// TestShutdownWithClients closes the server with idle clients, a
// subscriber and a client whose big pipeline is in flight: Close returns
// before ShutdownTimeout, every client is disconnected, the replies
// already owed are delivered whole, and no descriptor is left open.
func TestShutdownWithClients(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		fdsBefore := openFDs(t)
		p := newProjection(t)
		p.Apply(0, bs("SET", "k", strings.Repeat("x", 2000)))
		s, err := New(Options{Port: RandomPort, Projection: p, EventLoops: fe.loops, ShutdownTimeout: 5 * time.Second,
			UnixSocket: t.TempDir() + "/vdr.sock"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		var idle []*rawConn
		for i := 0; i < 10; i++ {
			c := dialRaw(t, s.Addr())
			c.dos("PING")
			idle = append(idle, c)
		}
		sub := dialRaw(t, s.Addr())
		sub.dos("SUBSCRIBE", "ch")
		// 300 replies of 2 KB that the client does not read yet: more
		// than the socket buffers take at first, so some are still owed
		// when Close starts. (The requests fit in one read: a socket
		// closed with unread input would be reset.)
		busy := dialRaw(t, s.Addr())
		const n = 300
		one := "$2000\r\n" + strings.Repeat("x", 2000) + "\r\n"
		out0 := s.env.Stats.NetOutputBytes.Load()
		busy.send(bytes.Repeat(encodeCmd(bs("GET", "k")...), n))
		waitUntil(t, 5*time.Second, "the pipeline to be running", func() bool {
			return s.env.Stats.NetOutputBytes.Load() > out0
		})
		start := time.Now()
		closed := make(chan struct{})
		go func() { s.Close(); close(closed) }()
		// The pipelined replies arrive in full, then EOF.
		busy.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(busy.br)
		if err != nil {
			t.Fatalf("reading the pipeline: %v after %d bytes", err, len(got))
		}
		if !bytes.Equal(got, bytes.Repeat([]byte(one), n)) {
			t.Fatalf("pipeline replies: %d bytes, want %d", len(got), n*len(one))
		}
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("Close hung")
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("Close took %v", d)
		}
		for _, c := range append(idle, sub) {
			expectClosed(t, c, 2*time.Second)
		}
		if numClients(s) != 0 {
			t.Errorf("%d clients left after Close", numClients(s))
		}
		s.Wait()
		for _, c := range append(idle, sub, busy) {
			c.nc.Close()
		}
		if fdsBefore >= 0 {
			waitUntil(t, 5*time.Second, "descriptors to be released", func() bool { return openFDs(t) <= fdsBefore })
		}
	})
}

// openFDs counts this process's open descriptors (-1 where unknown).
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestClientListAddrs checks addr and laddr in CLIENT LIST against the
// socket's own ends, and fd against Redis's meaning (the loop's socket).
func TestClientListAddrs(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		s := startVDR(t, Options{EventLoops: fe.loops})
		c := dialRaw(t, s.Addr())
		list := c.dos("CLIENT", "LIST")
		for _, want := range []string{" addr=" + c.nc.LocalAddr().String() + " ", " laddr=" + c.nc.RemoteAddr().String() + " "} {
			if !strings.Contains(list, want) {
				t.Errorf("CLIENT LIST %q lacks %q", list, want)
			}
		}
		info := c.dos("CLIENT", "INFO")
		if !strings.Contains(info, "addr="+c.nc.LocalAddr().String()) {
			t.Errorf("CLIENT INFO: %q", info)
		}
		// A unix-socket client: "path:0" at both ends, as Redis shows it.
		path := t.TempDir() + "/vdr.sock"
		startVDR(t, Options{EventLoops: fe.loops, NoTCP: true, UnixSocket: path})
		nc, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		u := &rawConn{tb: t, nc: nc, br: bufio.NewReader(nc)}
		t.Cleanup(func() { nc.Close() })
		info = u.dos("CLIENT", "INFO")
		if want := "addr=" + path + ":0 laddr=" + path + ":0 "; !strings.Contains(info, want) {
			t.Errorf("unix CLIENT INFO %q lacks %q", info, want)
		}
	})
}

// TestProtocolErrorThenClose checks, in both modes, that a protocol error
// after pipelined requests answers them, then the error, then closes;
// and QUIT likewise.
func TestProtocolErrorThenClose(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		s := startVDR(t, Options{EventLoops: fe.loops, MaxClients: 3})
		c := dialRaw(t, s.Addr())
		c.send([]byte("PING\r\nECHO a\r\n*1\r\n$-3\r\nPING\r\n"))
		for _, want := range []string{"+PONG\r\n", "$1\r\na\r\n", "-ERR Protocol error: invalid bulk length\r\n"} {
			if got := string(c.read()); got != want {
				t.Fatalf("got %q want %q", got, want)
			}
		}
		expectClosed(t, c, 2*time.Second)
		q := dialRaw(t, s.Addr())
		q.send([]byte("PING\r\nQUIT\r\nPING\r\n"))
		if got := string(q.read()) + string(q.read()); got != "+PONG\r\n+OK\r\n" {
			t.Fatalf("QUIT: %q", got)
		}
		expectClosed(t, q, 2*time.Second)
		// Max clients, counted after the closes above.
		waitUntil(t, 2*time.Second, "closed clients to be gone", func() bool { return numClients(s) == 0 })
		a, b, d := dialRaw(t, s.Addr()), dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
		a.dos("PING")
		b.dos("PING")
		d.dos("PING")
		e := dialRaw(t, s.Addr())
		if got := string(e.read()); got != "-ERR max number of clients reached\r\n" {
			t.Fatalf("fourth client: %q", got)
		}
		if got := s.env.Stats.RejectedConns.Load(); got != 1 {
			t.Errorf("rejected_connections %d", got)
		}
	})
}

// TestRandomChunks sends a random pipeline in random chunks, with the
// seed printed (SEED= reproduces it).
func TestRandomChunks(t *testing.T) {
	sd := seed(t)
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		r := rand.New(rand.NewPCG(uint64(sd), 0))
		s := startVDR(t, Options{EventLoops: fe.loops})
		var req, want bytes.Buffer
		for i := 0; i < 3000; i++ {
			arg := strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(3*readChunk/2+1)*r.IntN(2)+r.IntN(40))
			if r.IntN(4) == 0 && !strings.ContainsAny(arg, " ") && arg != "" {
				fmt.Fprintf(&req, "ECHO %s\r\n", arg)
			} else {
				req.Write(encodeCmd(bs("ECHO", arg)...))
			}
			fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(arg), arg)
		}
		c := dialRaw(t, s.Addr())
		go func() {
			b := req.Bytes()
			for len(b) > 0 {
				n := 1 + r.IntN(min(len(b), 3*readChunk))
				if _, err := c.nc.Write(b[:n]); err != nil {
					return
				}
				b = b[n:]
			}
		}()
		got := make([]byte, want.Len())
		c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.ReadFull(c.br, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatal("replies differ")
		}
	})
}

// TestGETNoAllocs checks that serving pipelined GETs allocates nothing
// per request on the event loop (server and test client together: the
// client's Write and ReadFull allocate nothing either).
func TestGETNoAllocs(t *testing.T) {
	if !loopsSupported {
		t.Skip("no event loops here")
	}
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	p := newProjection(t)
	p.Apply(0, bs("SET", "key", "xxx"))
	s := startVDR(t, Options{Projection: p, EventLoops: 1})
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const depth = 16
	req := bytes.Repeat(encodeCmd(bs("GET", "key")...), depth)
	want := bytes.Repeat([]byte("$3\r\nxxx\r\n"), depth)
	buf := make([]byte, len(want))
	var failed error
	roundTrip := func() {
		nc.Write(req)
		if _, err := io.ReadFull(nc, buf); err != nil || !bytes.Equal(buf, want) {
			failed = fmt.Errorf("reply %q %v", buf, err)
		}
	}
	for i := 0; i < 100; i++ {
		roundTrip() // warm up: buffers reach their size
	}
	allocs := testing.AllocsPerRun(2000, roundTrip)
	if failed != nil {
		t.Fatal(failed)
	}
	// Whole-process counts: allow a stray runtime allocation, far below
	// one per request.
	if allocs > 0.5 {
		t.Errorf("%.2f allocations per %d pipelined GETs", allocs, depth)
	}
}

// TestStatsCounted checks the INFO stats counters the connection code
// feeds: commands, input bytes (added when the connection closes, as on
// the goroutine path) and output bytes.
func TestStatsCounted(t *testing.T) {
	forEachFrontEnd(t, func(t *testing.T, fe frontEnd) {
		s := startVDR(t, Options{EventLoops: fe.loops})
		st := &s.env.Stats
		c := dialRaw(t, s.Addr())
		in := []byte("PING\r\nPING\r\nECHO hello\r\n")
		c.send(in)
		for _, want := range []string{"+PONG\r\n", "+PONG\r\n", "$5\r\nhello\r\n"} {
			if got := string(c.read()); got != want {
				t.Fatalf("got %q want %q", got, want)
			}
		}
		c.nc.Close()
		waitUntil(t, 5*time.Second, "the client to be gone", func() bool { return numClients(s) == 0 })
		if got := st.CommandsProcessed.Load(); got != 3 {
			t.Errorf("commands processed %d, want 3", got)
		}
		if got := st.NetInputBytes.Load(); got != int64(len(in)) {
			t.Errorf("net input bytes %d, want %d", got, len(in))
		}
		if got, want := st.NetOutputBytes.Load(), int64(len("+PONG\r\n+PONG\r\n$5\r\nhello\r\n")); got != want {
			t.Errorf("net output bytes %d, want %d", got, want)
		}
		if got := st.ConnectionsReceived.Load(); got != 1 {
			t.Errorf("connections received %d", got)
		}
	})
}

// TestListenAddresses checks the loops' own listening sockets: an
// unspecified bind address takes IPv4 clients (dual-stack where there is
// IPv6), and a port in use is an error from Start.
func TestListenAddresses(t *testing.T) {
	for _, bind := range []string{"0.0.0.0", "::", "127.0.0.1"} {
		s, err := New(Options{Bind: bind, Port: RandomPort})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			if bind == "::" {
				t.Logf("no IPv6 here: %v", err)
				continue
			}
			t.Fatalf("bind %s: %v", bind, err)
		}
		_, port, _ := net.SplitHostPort(s.Addr())
		c := dialRaw(t, "127.0.0.1:"+port)
		list := c.dos("CLIENT", "LIST")
		if !strings.Contains(list, " addr="+c.nc.LocalAddr().String()+" ") {
			t.Errorf("bind %s: CLIENT LIST %q lacks addr=%s", bind, list, c.nc.LocalAddr())
		}
		// The port is taken now.
		p, _ := strconv.Atoi(port)
		s2, _ := New(Options{Bind: "127.0.0.1", Port: p})
		if err := s2.Start(); err == nil {
			s2.Close()
			t.Errorf("bind %s: a second server started on port %d", bind, p)
		}
		s.Close()
	}
}
