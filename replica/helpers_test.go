package replica

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/fixtures"
	"github.com/vdr-project/vdr/rdbparse"
)

// seed returns the random seed of a test: SEED= or the clock, printed.
func seed(t testing.TB) uint64 {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("bad SEED %q", v)
		}
		s = n
	}
	t.Logf("SEED=%d", s)
	return s
}

func requireNoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// logLine is one line of capture.log.
type logLine struct {
	first, last int64
	argv        []string
}

// capture is a replication link capture: every byte a primary sent a
// replica (see internal/fixtures), with where each part starts.
type capture struct {
	*fixtures.Capture
	lines []logLine
}

func newCapture(c *fixtures.Capture) *capture {
	cp := &capture{Capture: c}
	for _, l := range c.Lines {
		cp.lines = append(cp.lines, logLine{l.First, l.Last, l.Argv})
	}
	return cp
}

// eachCapture runs fn on the committed capture and, when present, on the
// shared one.
func eachCapture(t *testing.T, fn func(t *testing.T, cp *capture)) {
	t.Helper()
	for _, c := range fixtures.Captures(t) {
		t.Run(c.Name, func(t *testing.T) { fn(t, newCapture(c)) })
	}
}

// repoCapture returns the committed capture, for tests that need one
// valid full sync rather than a corpus.
func repoCapture(t testing.TB) *capture {
	t.Helper()
	return newCapture(fixtures.LoadCapture(t, "repo", fixtures.Dir(t, "replstream")))
}

// ---------------------------------------------------------------------
// recorder: a Handler that records what it receives, and applies a few
// simple commands so tests can compare with a real primary.

type value struct {
	kind string
	str  string
	list []string
	set  map[string]bool
	hash map[string]string
	zset map[string]float64
	strm []string // "id f v f v"
}

func (v *value) canon() string {
	switch v.kind {
	case "string":
		return "string:" + v.str
	case "list":
		return "list:" + strings.Join(v.list, "\x00")
	case "set":
		var m []string
		for k := range v.set {
			m = append(m, k)
		}
		sort.Strings(m)
		return "set:" + strings.Join(m, "\x00")
	case "hash":
		var m []string
		for k, x := range v.hash {
			m = append(m, k+"="+x)
		}
		sort.Strings(m)
		return "hash:" + strings.Join(m, "\x00")
	case "zset":
		var m []string
		for k, x := range v.zset {
			m = append(m, k+"="+strconv.FormatFloat(x, 'g', -1, 64))
		}
		sort.Strings(m)
		return "zset:" + strings.Join(m, "\x00")
	case "stream":
		return "stream:" + strings.Join(v.strm, "\x00")
	}
	return v.kind
}

type recorder struct {
	NopHandler
	mu       sync.Mutex
	data     map[string]*value // "db/key"
	loading  map[string]*value
	cmds     []Command // copies
	calls    [][]Command
	begins   int
	ends     int
	aborts   []error
	states   []State
	errs     []error
	unknown  []string
	incrs    int
	failCmds func(cmds []Command) error // optional
}

func newRecorder() *recorder { return &recorder{data: map[string]*value{}} }

func dbKey(db int, key []byte) string { return strconv.Itoa(db) + "/" + string(key) }

func (r *recorder) FullSyncBegin(replID string, off int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begins++
	r.loading = map[string]*value{}
	return nil
}

func (r *recorder) FullSyncEnd(replID string, off int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends++
	r.data, r.loading = r.loading, nil
	return nil
}

func (r *recorder) FullSyncAbort(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aborts = append(r.aborts, err)
	r.loading = nil
}

func (r *recorder) Entry(e *rdbparse.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := dbKey(e.DB, e.Key)
	v := r.loading[k]
	if e.Batch == 0 || v == nil {
		v = &value{kind: e.Kind.String(), set: map[string]bool{}, hash: map[string]string{}, zset: map[string]float64{}}
		r.loading[k] = v
	}
	switch e.Kind {
	case rdbparse.KindString:
		v.str = string(e.String)
	case rdbparse.KindList:
		for _, x := range e.Elems {
			v.list = append(v.list, string(x))
		}
	case rdbparse.KindSet:
		for _, x := range e.Elems {
			v.set[string(x)] = true
		}
	case rdbparse.KindHash:
		for _, f := range e.Fields {
			v.hash[string(f.Field)] = string(f.Value)
		}
	case rdbparse.KindZSet:
		for _, m := range e.ZMembers {
			v.zset[string(m.Member)] = m.Score
		}
	case rdbparse.KindStream:
		for _, se := range e.Stream.Entries {
			s := fmt.Sprintf("%d-%d", se.ID.Ms, se.ID.Seq)
			for _, f := range se.Fields {
				s += " " + string(f)
			}
			v.strm = append(v.strm, s)
		}
	}
	return nil
}

func (r *recorder) LinkState(s State, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
	if err != nil {
		r.errs = append(r.errs, err)
	}
}

func (r *recorder) Commands(cmds []Command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failCmds != nil {
		if err := r.failCmds(cmds); err != nil {
			return err
		}
	}
	var call []Command
	for _, c := range cmds {
		cp := Command{DB: c.DB, Offset: c.Offset}
		for _, a := range c.Argv {
			cp.Argv = append(cp.Argv, slices.Clone(a))
		}
		call = append(call, cp)
		r.cmds = append(r.cmds, cp)
		r.apply(cp)
	}
	r.calls = append(r.calls, call)
	return nil
}

func (r *recorder) get(db int, key []byte, kind string) *value {
	k := dbKey(db, key)
	v := r.data[k]
	if v == nil {
		v = &value{kind: kind, set: map[string]bool{}, hash: map[string]string{}, zset: map[string]float64{}}
		r.data[k] = v
	}
	return v
}

// apply runs the few commands the integration tests use.
func (r *recorder) apply(c Command) {
	a := c.Argv
	switch strings.ToLower(string(a[0])) {
	case "set":
		r.get(c.DB, a[1], "string").str = string(a[2])
	case "del", "unlink":
		for _, k := range a[1:] {
			delete(r.data, dbKey(c.DB, k))
		}
	case "incr":
		r.incrs++
		v := r.get(c.DB, a[1], "string")
		n, _ := strconv.ParseInt(v.str, 10, 64)
		v.str = strconv.FormatInt(n+1, 10)
	case "rpush":
		v := r.get(c.DB, a[1], "list")
		for _, x := range a[2:] {
			v.list = append(v.list, string(x))
		}
	case "sadd":
		v := r.get(c.DB, a[1], "set")
		for _, x := range a[2:] {
			v.set[string(x)] = true
		}
	case "hset":
		v := r.get(c.DB, a[1], "hash")
		for i := 2; i+1 < len(a); i += 2 {
			v.hash[string(a[i])] = string(a[i+1])
		}
	case "flushall":
		r.data = map[string]*value{}
	case "publish":
	default:
		r.unknown = append(r.unknown, string(a[0]))
	}
}

// snapshot returns the canonical data ("db/key" → canon).
func (r *recorder) snapshot() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.data {
		out[k] = v.canon()
	}
	return out
}

func (r *recorder) counts() (begins, ends, aborts, incrs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.begins, r.ends, len(r.aborts), r.incrs
}

// ---------------------------------------------------------------------
// fakePrimary: answers the handshake over any net.Conn, then runs psync.

type fakePrimary struct {
	password string
	// psync writes the reply to PSYNC and what follows; it runs in its own
	// goroutine while ACKs are read.
	psync func(w net.Conn, argv []string)

	mu    sync.Mutex
	acks  []int64
	cmds  [][]string
	conns int
}

func (f *fakePrimary) lastAck() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.acks) == 0 {
		return -1
	}
	return f.acks[len(f.acks)-1]
}

func (f *fakePrimary) serve(conn net.Conn) {
	defer conn.Close()
	f.mu.Lock()
	f.conns++
	f.mu.Unlock()
	rd := newReader(conn, (&Options{MaxBulkBytes: 1 << 20, MaxMultibulkLen: 64}).EnsureDefaults())
	authed := f.password == ""
	var wmu sync.Mutex
	write := func(s string) {
		wmu.Lock()
		defer wmu.Unlock()
		conn.Write([]byte(s))
	}
	for {
		argv, _, err := rd.readCommand()
		if err != nil {
			return
		}
		var args []string
		for _, a := range argv {
			args = append(args, string(a))
		}
		rd.reset()
		f.mu.Lock()
		f.cmds = append(f.cmds, args)
		f.mu.Unlock()
		switch strings.ToUpper(args[0]) {
		case "PING":
			if !authed {
				write("-NOAUTH Authentication required.\r\n")
			} else {
				write("+PONG\r\n")
			}
		case "AUTH":
			if args[len(args)-1] == f.password {
				authed = true
				write("+OK\r\n")
			} else {
				write("-WRONGPASS invalid username-password pair or user is disabled.\r\n")
			}
		case "REPLCONF":
			if len(args) == 3 && strings.EqualFold(args[1], "ACK") {
				n, _ := strconv.ParseInt(args[2], 10, 64)
				f.mu.Lock()
				f.acks = append(f.acks, n)
				f.mu.Unlock()
				continue
			}
			write("+OK\r\n")
		case "PSYNC":
			if !authed {
				write("-NOAUTH Authentication required.\r\n")
				continue
			}
			go func() {
				wmu.Lock()
				defer wmu.Unlock()
				f.psync(conn, args)
			}()
		default:
			write("-ERR unknown command\r\n")
		}
	}
}

// pipeDial returns a dial hook serving each connection with f over
// net.Pipe, whose Writes arrive as separate reads: chunk boundaries are
// exactly what the fake writes.
func pipeDial(f *fakePrimary) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		a, b := net.Pipe()
		go f.serve(b)
		return a, nil
	}
}

// writeChunks writes p in pieces whose sizes come from next.
func writeChunks(w io.Writer, p []byte, next func() int) error {
	for len(p) > 0 {
		n := min(max(next(), 1), len(p))
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

func randChunks(rng *rand.Rand, maxN int) func() int {
	return func() int { return 1 + rng.IntN(maxN) }
}

// startClient starts a client with opts and stops it at cleanup.
func startClient(t testing.TB, opts Options, dial func(context.Context, string) (net.Conn, error)) *Client {
	t.Helper()
	if opts.BackoffInitial == 0 {
		opts.BackoffInitial = 20 * time.Millisecond
	}
	if opts.BackoffMax == 0 {
		opts.BackoffMax = 200 * time.Millisecond
	}
	if opts.AckInterval == 0 {
		opts.AckInterval = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	c := New(opts)
	c.dialHook = dial
	requireNoError(t, c.Start(context.Background()))
	t.Cleanup(c.Stop)
	return c
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

// testLogger logs through t.Log when -v, and discards otherwise.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
