package replica

import (
	"context"
	"fmt"
	"runtime"
	"strconv"

	"errors"
	"github.com/vdr-project/vdr/rdbparse"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

// testReplID is a replication ID for tests that need one.
const testReplID = "3f570cd52f6ec879b0dd1c0a306ea4d6ced40a2a"

func captureClient(t *testing.T, payload []byte, next func() int) (*Client, *recorder, *fakePrimary) {
	t.Helper()
	f := &fakePrimary{psync: func(w net.Conn, argv []string) { writeChunks(w, payload, next) }}
	rec := newRecorder()
	c := startClient(t, Options{Primary: "fake:6379", Handler: rec}, pipeDial(f))
	return c, rec, f
}

// tcpFake serves f on a loopback TCP listener and returns its address.
func tcpFake(t testing.TB, f *fakePrimary) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return ln.Addr().String()
}

// TestFakePrimaryCapture replays capture_full.bin from a fake primary in
// small and random pieces: the client syncs, decodes every command with
// the offsets of capture.log, and ACKs the final offset.
func TestFakePrimaryCapture(t *testing.T) {
	eachCapture(t, func(t *testing.T, cp *capture) {
		full, lines := cp.Full, cp.lines
		last := lines[len(lines)-1].last
		want := 0
		for _, l := range lines {
			switch strings.ToLower(l.argv[0]) {
			case "select", "ping", "replconf", "multi", "exec":
			default:
				want++
			}
		}
		rng := rand.New(rand.NewPCG(seed(t), 1))
		t.Run("tcp-random-1-300", func(t *testing.T) {
			// Over a real socket: small writes (Go sets TCP_NODELAY) with
			// short pauses, so reads end at arbitrary places.
			wrng := rand.New(rand.NewPCG(rng.Uint64(), 0)) // the writer goroutine's own
			next := randChunks(wrng, 300)
			f := &fakePrimary{psync: func(w net.Conn, argv []string) {
				p := full[cp.Psync:]
				for len(p) > 0 {
					n := min(next(), len(p))
					if _, err := w.Write(p[:n]); err != nil {
						return
					}
					p = p[n:]
					if wrng.IntN(50) == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			}}
			rec := newRecorder()
			c := startClient(t, Options{Primary: tcpFake(t, f), Handler: rec}, nil)
			waitFor(t, 20*time.Second, "the final offset applied and acked", func() bool {
				return c.Offset() == last && f.lastAck() == last
			})
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.cmds) != want || rec.ends != 1 {
				t.Fatalf("%d commands, %d full syncs; want %d, 1", len(rec.cmds), rec.ends, want)
			}
		})
		for _, tc := range []struct {
			name string
			next func() int
		}{
			{"random-1-64", randChunks(rng, 64)},
			{"random-1-4096", randChunks(rng, 4096)},
			{"whole", func() int { return len(full) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, rec, f := captureClient(t, full[cp.Psync:], tc.next)
				waitFor(t, 20*time.Second, "the final offset applied and acked", func() bool {
					return c.Offset() == last && f.lastAck() == last
				})
				begins, ends, aborts, _ := rec.counts()
				rec.mu.Lock()
				got := len(rec.cmds)
				rec.mu.Unlock()
				if begins != 1 || ends != 1 || aborts != 0 || got != want {
					t.Fatalf("begins %d ends %d aborts %d commands %d (want 1 1 0 %d)", begins, ends, aborts, got, want)
				}
				if c.ReplID() != cp.Meta.ReplID || c.State() != StateStreaming || c.Stats().FullSyncs != 1 || c.PrimaryOffset() != last {
					t.Fatalf("replid %q state %v stats %+v primary offset %d", c.ReplID(), c.State(), c.Stats(), c.PrimaryOffset())
				}
				if p := c.SyncProgress(); p.Active || p.Bytes != int64(cp.Mark-cp.RDB) {
					t.Fatalf("progress %+v, want %d RDB bytes", p, cp.Mark-cp.RDB)
				}
			})
		}
	})
}

// TestFakePrimarySplitTransfer splits the handshake, RDB framing, RDB, end
// mark and first commands in two at every position: the end mark is found
// across any read boundary.
func TestFakePrimarySplitTransfer(t *testing.T) {
	eachCapture(t, func(t *testing.T, cp *capture) {
		full, lines := cp.Full, cp.lines
		payload := full[cp.Psync : cp.Stream+120]
		// Commands whose last byte is within the payload.
		wantOff := int64(0)
		for _, l := range lines {
			if l.last <= int64(len(payload)-(cp.Stream-cp.Psync)) {
				wantOff = l.last
			}
		}
		step := 1
		if testing.Short() {
			step = 7
		}
		for at := 1; at < len(payload); at += step {
			n := 0
			c, _, _ := captureClient(t, payload, func() int {
				n++
				if n == 1 {
					return at
				}
				return len(payload)
			})
			waitFor(t, 10*time.Second, fmt.Sprintf("split at %d applied to %d", at, wantOff), func() bool { return c.Offset() == wantOff })
			c.Stop()
		}
	})
}

// TestFakePrimaryGarbage: a primary sending garbage, bad lengths, a
// corrupt RDB or a wrong end mark never crashes the client; it reports a
// clear error, drops the link and reconnects.
func TestFakePrimaryGarbage(t *testing.T) {
	cp := repoCapture(t)
	full := cp.Full
	fullresync := string(full[cp.Psync:cp.EOFLine])
	goodSync := string(full[cp.Psync:cp.Stream])
	rdb := string(full[cp.RDB:cp.Mark])
	rng := rand.New(rand.NewPCG(seed(t), 2))
	corrupt := []byte(rdb)
	for i := 0; i < 3; i++ {
		corrupt[9+rng.IntN(len(corrupt)-9)] ^= byte(1 + rng.IntN(255))
	}
	random := make([]byte, 2000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	cases := []struct {
		name    string
		payload string
		want    error // nil: any error
		aborted bool
	}{
		{"unknown-reply", "+GARBAGE\r\n", ErrProtocol, false},
		{"psync-error", "-ERR nope\r\n", ErrPsyncRefused, false},
		{"loading", "-LOADING Redis is loading the dataset in memory\r\n", ErrPrimaryNotReady, false},
		{"nomasterlink", "-NOMASTERLINK Can't SYNC while not connected with my master\r\n", ErrPrimaryNotReady, false},
		{"integer-reply", ":12\r\n", ErrProtocol, false},
		{"bad-bulk-header", fullresync + "$abc\r\n", ErrProtocol, false},
		{"short-eof-mark", fullresync + "$EOF:abc\r\n", ErrProtocol, false},
		{"not-a-bulk", fullresync + "*1\r\n", ErrProtocol, false},
		{"disk-rdb-too-short", fullresync + fmt.Sprintf("$%d\r\n", len(rdb)+100) + rdb, nil, true},
		{"disk-rdb-trailing", fullresync + fmt.Sprintf("$%d\r\n", len(rdb)+28) + rdb + strings.Repeat("x", 28), ErrProtocol, true},
		{"corrupt-rdb", fullresync + fmt.Sprintf("$%d\r\n", len(corrupt)) + string(corrupt), nil, true},
		{"not-an-rdb", fullresync + "$20\r\nHELLO WORLD 12345678", nil, true},
		{"wrong-end-mark", string(full[cp.Psync:cp.Mark]) + strings.Repeat("z", 40), ErrEndMark, true},
		{"inline-in-stream", goodSync + "hello\r\n", ErrProtocol, false},
		{"huge-multibulk", goodSync + "*99999999999\r\n", ErrTooLarge, false},
		{"huge-bulk", goodSync + "*1\r\n$999999999999\r\n", ErrTooLarge, false},
		{"nested-multi", goodSync + resp("MULTI") + resp("MULTI"), ErrProtocol, false},
		{"bad-select", goodSync + resp("SELECT", "x") + resp("SET", "a", "b"), ErrProtocol, false},
		{"random-bytes-after-sync", goodSync + string(random), nil, false},
		{"random-bytes-as-rdb", fullresync + "$2000\r\n" + string(random), nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			f := &fakePrimary{psync: func(w net.Conn, argv []string) {
				w.Write([]byte(tc.payload))
				if !strings.HasPrefix(tc.name, "disk-rdb-too-short") {
					return
				}
				w.Close() // truncated: the primary goes away
			}}
			c := startClient(t, Options{Primary: "fake:1", Handler: rec, ReadTimeout: 2 * time.Second}, pipeDial(f))
			waitFor(t, 10*time.Second, "two failed attempts", func() bool {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				return len(rec.errs) >= 2
			})
			c.Stop()
			rec.mu.Lock()
			defer rec.mu.Unlock()
			err := rec.errs[0]
			t.Logf("error: %v", err)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.aborted && (len(rec.aborts) == 0 || rec.ends != 0) {
				t.Fatalf("aborts %d ends %d: want FullSyncAbort and no FullSyncEnd", len(rec.aborts), rec.ends)
			}
			if !tc.aborted && rec.begins != rec.ends+len(rec.aborts) {
				t.Fatalf("begins %d ends %d aborts %d", rec.begins, rec.ends, len(rec.aborts))
			}
		})
	}
}

// TestFakePrimaryAuth: PING's -NOAUTH, AUTH, and a wrong password.
func TestFakePrimaryAuth(t *testing.T) {
	cp := repoCapture(t)
	full := cp.Full
	payload := full[cp.Psync:cp.Stream]
	for _, tc := range []struct {
		name, password string
		want           error
	}{
		{"no-password", "", ErrAuth},
		{"wrong-password", "nope", ErrAuth},
		{"right-password", "sekret", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			f := &fakePrimary{password: "sekret", psync: func(w net.Conn, argv []string) { w.Write(payload) }}
			c := startClient(t, Options{Primary: "fake:1", Handler: rec, Password: tc.password}, pipeDial(f))
			if tc.want == nil {
				waitFor(t, 10*time.Second, "synced", func() bool { return c.Offset() == 0 && c.State() == StateStreaming })
				return
			}
			waitFor(t, 10*time.Second, "an error", func() bool {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				return len(rec.errs) > 0
			})
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if !errors.Is(rec.errs[0], tc.want) {
				t.Fatalf("error %v, want %v", rec.errs[0], tc.want)
			}
		})
	}
}

// TestResumeAndContinue: a client resuming from a saved position sends
// PSYNC <replid> <offset+1>, and +CONTINUE <new id> switches its replid
// while keeping the offset and the database.
func TestResumeAndContinue(t *testing.T) {
	old := strings.Repeat("b", 40)
	rec := newRecorder()
	f := &fakePrimary{}
	f.psync = func(w net.Conn, argv []string) {
		if len(argv) != 3 || argv[1] != old || argv[2] != "1001" {
			w.Write([]byte("-ERR unexpected " + strings.Join(argv, " ") + "\r\n"))
			return
		}
		w.Write([]byte("+CONTINUE " + testReplID + "\r\n" + resp("SET", "k", "v")))
	}
	c := startClient(t, Options{Primary: "fake:1", Handler: rec, ResumeReplID: old, ResumeOffset: 1000, ResumeDB: 7}, pipeDial(f))
	want := int64(1000 + len(resp("SET", "k", "v")))
	waitFor(t, 10*time.Second, "the command applied", func() bool { return c.Offset() == want && f.lastAck() == want })
	id, off, db := c.Position()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if id != testReplID || off != want || db != 7 || len(rec.cmds) != 1 || rec.cmds[0].DB != 7 || rec.begins != 0 || c.Stats().PartialSyncs != 1 {
		t.Fatalf("position %s %d %d, cmds %+v, begins %d, stats %+v", id, off, db, rec.cmds, rec.begins, c.Stats())
	}
}

// TestHandlerErrors: an error from Commands makes the client resync from
// the last applied offset (the batch is sent again); ErrFullResync asks
// for a full sync; ErrStop ends Run with the handler's error.
func TestHandlerErrors(t *testing.T) {
	id := strings.Repeat("c", 40)
	mark := strings.Repeat("m", 40)
	sync := "\n\n+FULLRESYNC " + id + " 100\r\n\n\n$EOF:" + mark + "\r\n" + emptyRDB + mark
	cmds := resp("SELECT", "2") + resp("SET", "a", "1") + resp("SET", "b", "2")
	newFake := func() *fakePrimary {
		f := &fakePrimary{}
		f.psync = func(w net.Conn, argv []string) {
			if argv[1] == "?" {
				w.Write([]byte(sync + cmds))
				return
			}
			// Resend from the requested offset, as a backlog would.
			from, _ := strconv.ParseInt(argv[2], 10, 64)
			w.Write([]byte("+CONTINUE\r\n" + cmds[from-101:]))
		}
		return f
	}
	end := int64(100 + len(cmds))

	t.Run("retry-from-applied", func(t *testing.T) {
		rec := newRecorder()
		fails := 1
		rec.failCmds = func([]Command) error {
			if fails > 0 {
				fails--
				return errors.New("disk full")
			}
			return nil
		}
		f := newFake()
		c := startClient(t, Options{Primary: "fake:1", Handler: rec}, pipeDial(f))
		waitFor(t, 10*time.Second, "applied after a retry", func() bool { return c.Offset() == end })
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.cmds) != 2 || rec.cmds[0].DB != 2 || c.Stats().PartialSyncs != 1 || c.Stats().FullSyncs != 1 {
			t.Fatalf("cmds %+v stats %+v", rec.cmds, c.Stats())
		}
	})
	t.Run("full-resync", func(t *testing.T) {
		rec := newRecorder()
		fails := 1
		rec.failCmds = func([]Command) error {
			if fails > 0 {
				fails--
				return fmt.Errorf("half applied: %w", ErrFullResync)
			}
			return nil
		}
		c := startClient(t, Options{Primary: "fake:1", Handler: rec}, pipeDial(newFake()))
		waitFor(t, 10*time.Second, "applied after a full resync", func() bool { return c.Offset() == end && c.Stats().FullSyncs == 2 })
	})
	t.Run("stop", func(t *testing.T) {
		rec := newRecorder()
		rec.failCmds = func([]Command) error { return fmt.Errorf("enough: %w", ErrStop) }
		c := New(Options{Primary: "fake:1", Handler: rec, Logger: testLogger(t)})
		c.dialHook = pipeDial(newFake())
		err := c.Run(context.Background())
		if !errors.Is(err, ErrStop) || c.State() != StateNone || c.Offset() != 100 {
			t.Fatalf("Run: %v, state %v, offset %d", err, c.State(), c.Offset())
		}
		if err := c.Start(context.Background()); !errors.Is(err, ErrStopped) {
			t.Fatalf("second Start: %v", err)
		}
	})
}

// blockingHandler blocks in Entry until released.
type blockingHandler struct {
	recorder
	entered chan struct{}
}

func (h *blockingHandler) Entry(e *rdbparse.Entry) error {
	select {
	case h.entered <- struct{}{}:
	default:
	}
	return h.recorder.Entry(e)
}

// TestStopMidLoad: Stop while the RDB is arriving aborts the sync
// (FullSyncAbort), returns, and leaves no goroutine behind.
func TestStopMidLoad(t *testing.T) {
	cp := repoCapture(t)
	full := cp.Full
	before := runtime.NumGoroutine()
	f := &fakePrimary{psync: func(w net.Conn, argv []string) {
		w.Write(full[cp.Psync : cp.RDB+50]) // half an RDB, then silence
	}}
	rec := newRecorder()
	c := startClient(t, Options{Primary: "fake:1", Handler: rec}, pipeDial(f))
	waitFor(t, 10*time.Second, "loading", func() bool { return c.State() == StateLoading && c.SyncProgress().Active })
	done := make(chan struct{})
	go func() { c.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	<-c.Done()
	if _, ends, aborts, _ := rec.counts(); aborts != 1 || ends != 0 || c.State() != StateNone {
		t.Fatalf("aborts %d ends %d state %v", aborts, ends, c.State())
	}
	// Nothing left behind: the client's goroutines and the fake's (which
	// end when the client closed its side of the pipe).
	waitFor(t, 5*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestOptionsValidate covers the option checks.
func TestOptionsValidate(t *testing.T) {
	h := newRecorder()
	for _, o := range []Options{
		{},
		{Handler: h},
		{Handler: h, Sentinel: &SentinelOptions{}},
		{Handler: h, Primary: "x:1", ResumeReplID: "short"},
		{Handler: h, Primary: "x:1", ListeningPort: 70000},
		{Handler: h, Primary: "x:1", DBs: []int{-1}},
		{Handler: h, Primary: "x:1", TLS: &TLSOptions{CertFile: "a"}},
	} {
		if err := New(o).Start(context.Background()); !errors.Is(err, ErrInvalidOptions) {
			t.Fatalf("%+v: %v", o, err)
		}
	}
}

// TestCheckRole: ROLE must say master when the primary came from Sentinel.
func TestCheckRole(t *testing.T) {
	f := func(reply string, want error) {
		t.Helper()
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		go func() {
			buf := make([]byte, 64)
			b.Read(buf)
			b.Write([]byte(reply))
		}()
		c := New(Options{Primary: "x:1", Handler: newRecorder()})
		err := newLink(c, a).checkRole()
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Fatalf("%q: %v, want %v", reply, err, want)
		}
	}
	f("*3\r\n$6\r\nmaster\r\n:10\r\n*0\r\n", nil)
	f("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:10\r\n", ErrNotPrimary)
	f("-ERR unknown command 'ROLE'\r\n", ErrNotPrimary)
	f("-NOPERM this user has no permissions to run the 'role' command\r\n", nil)
	f("&garbage\r\n", ErrProtocol)
}

// TestLinkStates: a sync goes through the states in order.
func TestLinkStates(t *testing.T) {
	cp := repoCapture(t)
	full := cp.Full
	c, rec, _ := captureClient(t, full[cp.Psync:cp.Stream], func() int { return 1 << 20 })
	waitFor(t, 5*time.Second, "streaming", func() bool { return c.State() == StateStreaming })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []State{StateConnecting, StateHandshake, StateTransfer, StateLoading, StateStreaming}
	if fmt.Sprint(rec.states) != fmt.Sprint(want) {
		t.Fatalf("states %v, want %v", rec.states, want)
	}
	if c.Addr() != "pipe" {
		t.Fatalf("Addr %q", c.Addr())
	}
}
