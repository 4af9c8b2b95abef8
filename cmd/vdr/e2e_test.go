package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/internal/resp"
)

// These tests build the vdr binary and run it as a user would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func vdrBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vdr-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "vdr")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// vdrProc is one running vdr binary.
type vdrProc struct {
	cmd    *exec.Cmd
	addr   string
	http   string
	logBuf *syncBuffer
	done   chan struct{}
	code   int
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startVDR(t *testing.T, args ...string) *vdrProc {
	t.Helper()
	port, _ := redistest.FreePort()
	hport, _ := redistest.FreePort()
	p := &vdrProc{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		http:   net.JoinHostPort("127.0.0.1", strconv.Itoa(hport)),
		logBuf: &syncBuffer{}, done: make(chan struct{}),
	}
	args = append([]string{"--port", strconv.Itoa(port), "--http", p.http}, args...)
	p.cmd = exec.Command(vdrBinary(t), args...)
	p.cmd.Stdout, p.cmd.Stderr = p.logBuf, p.logBuf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("vdr log:\n%s", p.logBuf.String())
		}
	})
	return p
}

func (p *vdrProc) status(path string) int {
	cl := http.Client{Timeout: time.Second}
	r, err := cl.Get("http://" + p.http + path)
	if err != nil {
		return 0
	}
	r.Body.Close()
	return r.StatusCode
}

func (p *vdrProc) waitReady(t *testing.T) {
	t.Helper()
	redistest.WaitFor(t, 30*time.Second, "vdr /readyz", func() bool { return p.status("/readyz") == 200 })
}

// stop sends SIGTERM and waits for the exit code.
func (p *vdrProc) stop(t *testing.T, within time.Duration) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.code
	case <-time.After(within):
		t.Fatalf("vdr did not exit within %v of SIGTERM", within)
		return -1
	}
}

func (p *vdrProc) metrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	r, err := http.Get("http://" + p.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mf, err := parser.TextToMetricFamilies(r.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return mf
}

// metric returns the value of the sample of family name whose labels
// include the given name=value pairs.
func metric(t *testing.T, mf map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f := mf[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	t.Fatalf("no sample of %s with %v", name, labels)
	return 0
}

func do(t *testing.T, addr string, args ...string) string {
	t.Helper()
	r, err := redistest.Do(addr, args...)
	if err != nil {
		t.Fatalf("%s %v: %v", addr, args, err)
	}
	return r
}

func TestServeReadyzMetricsAndStream(t *testing.T) {
	// A diskless delay holds the RDB back for two seconds: /readyz must
	// say "not ready" during it.
	primary := redistest.Start(t, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "2")
	for i := 0; i < 100; i++ {
		do(t, primary.Addr(), "SET", fmt.Sprintf("k%d", i), strconv.Itoa(i))
	}
	do(t, primary.Addr(), "HSET", "h", "a", "1", "b", "2")
	v := startVDR(t, "--primary", primary.Addr())
	redistest.WaitFor(t, 10*time.Second, "vdr /livez", func() bool { return v.status("/livez") == 200 })
	if got := v.status("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before the first sync = %d, want 503", got)
	}
	if got := do(t, v.addr, "GET", "k1"); !strings.HasPrefix(got, "-LOADING") {
		t.Fatalf("GET before the first sync = %q, want -LOADING", got)
	}
	v.waitReady(t)
	if got := do(t, v.addr, "GET", "k42"); got != "$2\r\n42\r\n" {
		t.Fatalf("GET k42 = %q", got)
	}
	do(t, primary.Addr(), "SET", "k1", "changed")
	redistest.WaitFor(t, 5*time.Second, "the write to reach vdr", func() bool {
		r, _ := redistest.Do(v.addr, "GET", "k1")
		return r == "$7\r\nchanged\r\n"
	})
	// At rest, the metrics agree with INFO and with the primary.
	want := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 5*time.Second, "vdr to apply up to the primary's offset", func() bool {
		return redistest.InfoField(v.addr, "replication", "slave_repl_offset") == want
	})
	mf := v.metrics(t)
	wantOff, _ := strconv.ParseFloat(want, 64)
	if got := metric(t, mf, "vdr_applied_offset"); got != wantOff {
		t.Errorf("vdr_applied_offset = %v, INFO says %v", got, wantOff)
	}
	if got := metric(t, mf, "vdr_replication_lag_bytes"); got != 0 {
		t.Errorf("lag at rest = %v", got)
	}
	for name, want := range map[string]float64{"vdr_link_up": 1, "vdr_ready": 1, "vdr_full_syncs_total": 1} {
		if got := metric(t, mf, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	dbsize := strings.TrimSpace(strings.TrimPrefix(do(t, v.addr, "DBSIZE"), ":"))
	if got := metric(t, mf, "vdr_keys", "db", "0"); strconv.FormatFloat(got, 'f', -1, 64) != dbsize {
		t.Errorf("vdr_keys{db=0} = %v, DBSIZE = %s", got, dbsize)
	}
	if got := metric(t, mf, "vdr_commands_applied_total", "command", "set"); got < 1 {
		t.Errorf("vdr_commands_applied_total{command=set} = %v", got)
	}
	if got := metric(t, mf, "vdr_client_command_calls_total", "command", "get"); got < 2 {
		t.Errorf("vdr_client_command_calls_total{command=get} = %v, want ≥ 2", got)
	}
	if h := mf["vdr_command_duration_seconds"]; h == nil || h.Metric[0].Histogram == nil {
		t.Errorf("no command latency histogram")
	}
	if got := metric(t, mf, "vdr_replication_state", "state", "streaming"); got != 1 {
		t.Errorf("state streaming = %v", got)
	}
	if !strings.Contains(v.logBuf.String(), "full sync done") {
		t.Errorf("no state-change log line:\n%s", v.logBuf.String())
	}
	if code := v.stop(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}

// TestSIGTERMUnderLoad checks a shutdown under load: every reply a client
// receives is complete and right, and the process exits 0 promptly.
func TestSIGTERMUnderLoad(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	do(t, primary.Addr(), "SET", "k", "value")
	v := startVDR(t, "--primary", primary.Addr())
	v.waitReady(t)
	var ok, bad atomic.Int64
	var badMsg atomic.Value
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := resp.Dial(v.addr, 5*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := c.Do("GET", "k")
				if err != nil {
					// The connection closed: allowed, but only between
					// replies, never with a reply cut short.
					if errors.Is(err, io.ErrUnexpectedEOF) {
						bad.Add(1)
						badMsg.Store(err.Error())
					}
					return
				}
				if r.Str != "value" {
					bad.Add(1)
					badMsg.Store(fmt.Sprintf("reply %+v", r))
					return
				}
				ok.Add(1)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	before := ok.Load()
	code := v.stop(t, 15*time.Second)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if before == 0 {
		t.Fatal("no reply before SIGTERM: the load did not run")
	}
	if bad.Load() != 0 {
		t.Fatalf("%d bad replies, e.g. %v", bad.Load(), badMsg.Load())
	}
}

// TestSnapshotRestartContinues checks the snapshot written on shutdown is
// used on restart: the primary answers +CONTINUE (a partial sync) and the
// writes made while vdr was down arrive.
func TestSnapshotRestartContinues(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	for i := 0; i < 50; i++ {
		do(t, primary.Addr(), "RPUSH", "list", strconv.Itoa(i))
	}
	do(t, primary.Addr(), "ZADD", "z", "1.5", "a", "-inf", "b")
	do(t, primary.Addr(), "SET", "ttl", "x", "EX", "1000")
	snap := filepath.Join(t.TempDir(), "vdr.rdb")
	v := startVDR(t, "--primary", primary.Addr(), "--snapshot-path", snap)
	v.waitReady(t)
	do(t, primary.Addr(), "INCR", "counter")
	redistest.WaitFor(t, 5*time.Second, "INCR to arrive", func() bool {
		r, _ := redistest.Do(v.addr, "GET", "counter")
		return r == "$1\r\n1\r\n"
	})
	if code := v.stop(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("no snapshot after shutdown: %v", err)
	}
	partialBefore := redistest.InfoField(primary.Addr(), "stats", "sync_partial_ok")
	do(t, primary.Addr(), "INCR", "counter")
	do(t, primary.Addr(), "SET", "while-down", "yes")

	v2 := startVDR(t, "--primary", primary.Addr(), "--snapshot-path", snap)
	v2.waitReady(t)
	redistest.WaitFor(t, 10*time.Second, "writes made while down", func() bool {
		r, _ := redistest.Do(v2.addr, "GET", "while-down")
		return r == "$3\r\nyes\r\n"
	})
	if got := do(t, v2.addr, "GET", "counter"); got != "$1\r\n2\r\n" {
		t.Errorf("counter = %q, want 2 (nothing lost or applied twice)", got)
	}
	if got := do(t, v2.addr, "LLEN", "list"); got != ":50\r\n" {
		t.Errorf("LLEN = %q", got)
	}
	if got := do(t, v2.addr, "ZRANGE", "z", "0", "-1", "WITHSCORES"); got != "*4\r\n$1\r\nb\r\n$4\r\n-inf\r\n$1\r\na\r\n$3\r\n1.5\r\n" {
		t.Errorf("ZRANGE = %q", got)
	}
	if got := do(t, v2.addr, "TTL", "ttl"); got == ":-1\r\n" || got == ":-2\r\n" {
		t.Errorf("TTL lost across the snapshot: %q", got)
	}
	partialAfter := redistest.InfoField(primary.Addr(), "stats", "sync_partial_ok")
	if partialAfter == partialBefore {
		t.Errorf("primary's sync_partial_ok stayed %s: the restart did a full sync", partialAfter)
	}
	mf := v2.metrics(t)
	if got := metric(t, mf, "vdr_partial_syncs_total"); got != 1 {
		t.Errorf("vdr_partial_syncs_total = %v", got)
	}
	if got := metric(t, mf, "vdr_full_syncs_total"); got != 0 {
		t.Errorf("vdr_full_syncs_total = %v", got)
	}
}

// TestServeRDBFile serves a static RDB file with no primary.
func TestServeRDBFile(t *testing.T) {
	s := redistest.Start(t)
	do(t, s.Addr(), "SET", "greeting", "hi")
	do(t, s.Addr(), "SADD", "tags", "a", "b")
	do(t, s.Addr(), "SAVE")
	v := startVDR(t, "--rdb", filepath.Join(s.Dir, "dump.rdb"))
	v.waitReady(t)
	if got := do(t, v.addr, "GET", "greeting"); got != "$2\r\nhi\r\n" {
		t.Fatalf("GET = %q", got)
	}
	if got := do(t, v.addr, "SCARD", "tags"); got != ":2\r\n" {
		t.Fatalf("SCARD = %q", got)
	}
	if got := do(t, v.addr, "SET", "x", "y"); !strings.HasPrefix(got, "-READONLY") {
		t.Fatalf("SET = %q", got)
	}
	if code := v.stop(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestEnvironmentSettings checks VDR_* variables reach the binary.
func TestEnvironmentSettings(t *testing.T) {
	s := redistest.Start(t)
	do(t, s.Addr(), "SET", "k", "v")
	port, _ := redistest.FreePort()
	cmd := exec.Command(vdrBinary(t), "--http", "")
	cmd.Env = append(os.Environ(), "VDR_PRIMARY="+s.Addr(), "VDR_PORT="+strconv.Itoa(port), "VDR_REQUIREPASS=pw")
	cmd.Stderr = &syncBuffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	redistest.WaitFor(t, 20*time.Second, "vdr on VDR_PORT", func() bool {
		r, err := redistest.Do(addr, "PING")
		return err == nil && strings.HasPrefix(r, "-NOAUTH")
	})
	c, err := resp.Dial(addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, _ := c.Do("AUTH", "pw"); r.Str != "OK" {
		t.Fatalf("AUTH = %+v", r)
	}
	redistest.WaitFor(t, 20*time.Second, "data via VDR_PRIMARY", func() bool {
		r, err := c.Do("GET", "k")
		return err == nil && r.Str == "v"
	})

}

// TestDemoScript runs `make demo`'s script non-interactively
// (DEMO_SECONDS) with the binary built here: it must come up, answer reads
// and show the lag from /metrics, then clean up after itself.
func TestDemoScript(t *testing.T) {
	redistest.Binary(t, "redis-cli")
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	cmd := exec.Command("bash", "../../scripts/demo.sh")
	cmd.Env = append(os.Environ(), "DEMO_SECONDS=1", "VDR="+vdrBinary(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{"hello from the primary", "READONLY You can't write against a read only replica.", "updated on the primary", "vdr_replication_lag_bytes", "demo ok"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
