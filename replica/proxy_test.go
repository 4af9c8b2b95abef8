package replica

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/redistest"
)

// faultProxy is a TCP proxy between the client and a primary that can
// cut, refuse, stall, trickle, or cut after a byte count.
type faultProxy struct {
	ln       net.Listener
	target   atomic.Pointer[string]
	down     atomic.Bool  // refuse new connections (accept, then close)
	stall    atomic.Bool  // hold primary→client bytes
	trickle  atomic.Bool  // primary→client a few bytes at a time
	cutAfter atomic.Int64 // > 0: cut when this many primary→client bytes passed on a connection
	accepted atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err)
	p := &faultProxy{ln: ln}
	p.target.Store(&target)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		if p.down.Load() {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", *p.target.Load())
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(s, c); s.Close(); c.Close() }()
		go func() { defer p.wg.Done(); p.down1(c, s); s.Close(); c.Close() }()
	}
}

// down1 copies primary→client with the faults applied.
func (p *faultProxy) down1(c, s net.Conn) {
	buf := make([]byte, 32<<10)
	var passed int64
	for {
		n, err := s.Read(buf)
		b := buf[:n]
		for len(b) > 0 {
			for p.stall.Load() {
				time.Sleep(5 * time.Millisecond)
			}
			k := len(b)
			if p.trickle.Load() {
				k = min(k, 7)
				time.Sleep(200 * time.Microsecond)
			}
			if lim := p.cutAfter.Load(); lim > 0 && passed+int64(k) >= lim {
				c.Write(b[:lim-passed])
				return
			}
			if _, werr := c.Write(b[:k]); werr != nil {
				return
			}
			passed += int64(k)
			b = b[k:]
		}
		if err != nil {
			return
		}
	}
}

// cut closes every live connection.
func (p *faultProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func proxied(t testing.TB, srvArgs ...string) (*redistest.Server, *faultProxy, *redis.Client, *recorder) {
	t.Helper()
	args := append([]string{"--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"}, srvArgs...)
	srv := redistest.Start(t, args...)
	p := newFaultProxy(t, srv.Addr())
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
	t.Cleanup(func() { rc.Close() })
	return srv, p, rc, newRecorder()
}

func incrs(t testing.TB, rc *redis.Client, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		requireNoError(t, rc.Incr(context.Background(), "counter").Err())
	}
}

// checkExact: the counter the recorder computed equals the primary's and
// it applied exactly that many INCRs (nothing lost, nothing twice) since
// its last full sync.
func checkExact(t testing.TB, rec *recorder, rc *redis.Client, total int) {
	t.Helper()
	want, err := rc.Get(context.Background(), "counter").Result()
	requireNoError(t, err)
	snap := rec.snapshot()
	if snap["0/counter"] != "string:"+want || want != strconv.Itoa(total) {
		t.Fatalf("counter: recorder %q, primary %q, want %d", snap["0/counter"], want, total)
	}
}

// TestFaultPartialResync cuts the link in several ways while INCRs flow;
// every time the client resumes with +CONTINUE, and no INCR is lost or
// applied twice.
func TestFaultPartialResync(t *testing.T) {
	srv, p, rc, rec := proxied(t)
	c := realClient(t, Options{Primary: p.addr(), Handler: rec, ReadTimeout: 1500 * time.Millisecond})
	total := 0
	step := func(n int) { incrs(t, rc, n); total += n }
	step(100)
	converge(t, c, rec, srv.Addr(), "")

	// Plain cut, with writes while the link is down.
	p.down.Store(true)
	p.cut()
	step(100)
	p.down.Store(false)
	converge(t, c, rec, srv.Addr(), "")

	// Cut in the middle of a command: each connection is cut after 1000
	// bytes, inside a 300 KB SET, until an unexpected EOF was seen.
	from := errCount(rec)
	p.cutAfter.Store(1000)
	p.cut()
	requireNoError(t, rc.Set(context.Background(), "big", strings.Repeat("b", 300<<10), 0).Err())
	step(10)
	waitFor(t, 5*time.Second, "a cut mid-command", func() bool { return errSeen(rec, from, io.ErrUnexpectedEOF) })
	p.cutAfter.Store(0)
	converge(t, c, rec, srv.Addr(), "")

	// Stall longer than the read timeout: the client times out and resumes.
	p.stall.Store(true)
	step(20)
	from = errCount(rec)
	waitFor(t, 10*time.Second, "a read timeout", func() bool { return errSeen(rec, from, ErrTimeout) })
	p.stall.Store(false)
	converge(t, c, rec, srv.Addr(), "")

	// Slow trickle.
	p.trickle.Store(true)
	step(200)
	converge(t, c, rec, srv.Addr(), "")
	p.trickle.Store(false)

	checkExact(t, rec, rc, total)
	st := c.Stats()
	if st.FullSyncs != 1 || st.PartialSyncs < 3 {
		t.Fatalf("stats %+v: want 1 full sync and partial resyncs", st)
	}
}

// TestFaultCutMidRDB: the first transfer is cut in the middle of the RDB;
// the handler gets FullSyncAbort, and the next sync converges.
func TestFaultCutMidRDB(t *testing.T) {
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless="+diskless, func(t *testing.T) {
			srv, p, rc, rec := proxied(t, "--repl-diskless-sync", diskless)
			populate(t, rc, "big:", 5000)
			p.cutAfter.Store(100 << 10)
			c := realClient(t, Options{Primary: p.addr(), Handler: rec})
			waitFor(t, 10*time.Second, "an aborted sync", func() bool { _, _, aborts, _ := rec.counts(); return aborts > 0 })
			p.cutAfter.Store(0)
			converge(t, c, rec, srv.Addr(), "")
			if begins, ends, aborts, _ := rec.counts(); ends != 1 || aborts < 1 || begins != ends+aborts {
				t.Fatalf("begins %d ends %d aborts %d", begins, ends, aborts)
			}
		})
	}
}

// TestFaultBacklogOverflow: with a tiny backlog, writes during a cut
// force a full resync, which converges.
func TestFaultBacklogOverflow(t *testing.T) {
	srv, p, rc, rec := proxied(t, "--repl-backlog-size", "16kb")
	c := realClient(t, Options{Primary: p.addr(), Handler: rec})
	incrs(t, rc, 10)
	converge(t, c, rec, srv.Addr(), "")
	p.down.Store(true)
	p.cut()
	for i := 0; i < 20; i++ {
		requireNoError(t, rc.Set(context.Background(), "pad"+strconv.Itoa(i), strings.Repeat("p", 4000), 0).Err())
	}
	incrs(t, rc, 10)
	p.down.Store(false)
	converge(t, c, rec, srv.Addr(), "")
	if st := c.Stats(); st.FullSyncs != 2 {
		t.Fatalf("stats %+v: want a second full sync", st)
	}
	checkExact(t, rec, rc, 20)
}

// TestFaultPrimaryRestart: the primary is replaced by a new process (new
// replid, other data); the client full-syncs to it.
func TestFaultPrimaryRestart(t *testing.T) {
	srv, p, rc, rec := proxied(t)
	populate(t, rc, "old:", 10)
	c := realClient(t, Options{Primary: p.addr(), Handler: rec})
	converge(t, c, rec, srv.Addr(), "")
	oldID := c.ReplID()

	srv2 := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	rc2 := redis.NewClient(&redis.Options{Addr: srv2.Addr(), Protocol: 2})
	defer rc2.Close()
	populate(t, rc2, "new:", 10)
	p.down.Store(true)
	srv.Stop()
	p.cut()
	p.target.Store(ptr(srv2.Addr()))
	p.down.Store(false)
	converge(t, c, rec, srv2.Addr(), "")
	if c.ReplID() == oldID || c.Stats().FullSyncs != 2 {
		t.Fatalf("replid %s (old %s), stats %+v", c.ReplID(), oldID, c.Stats())
	}
}

func errCount(rec *recorder) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.errs)
}

// errSeen reports whether a link error from index from on wraps target.
func errSeen(rec *recorder, from int, target error) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.errs[from:] {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
