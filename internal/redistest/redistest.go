// Package redistest starts real redis-server and Sentinel processes
// for tests: each on a free 127.0.0.1 port, with its own temporary
// directory, stopped in t.Cleanup.
//
// It never mocks Redis. When redis-server cannot be found the test is
// skipped, unless the CI environment variable is set, in which case the
// test fails: CI installs Redis, so CI never skips.
//
// The server under test is the redis-server on PATH, or the one named by
// VDR_REDIS_SERVER (another Redis or Valkey build; make test-matrix runs
// the suites against each build in ../shared/redis-builds). Version tells
// which server that is, and RequireTLS skips a test on a build without TLS.
//
// It does not manage replication topologies beyond passing config lines:
// a replica is started with Start(t, "--replicaof", "127.0.0.1", port).
package redistest

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to answer its first PING.
const startTimeout = 15 * time.Second

// portAttempts is how many free ports are tried before giving up; a clash
// happens only when another process grabs the port between our probe and
// redis-server's bind.
const portAttempts = 5

// Server is one running redis-server or redis-sentinel process.
type Server struct {
	Port    int
	Dir     string // working directory (dump.rdb, logs)
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	stopped sync.Once
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// ServerEnv and CliEnv name the environment variables that choose the
// Redis (or Valkey) build the tests run against, for example
// VDR_REDIS_SERVER=../shared/redis-builds/redis-7.4.1/redis-server. A
// relative path is taken from the module root (the folder holding
// go.mod), so the same value works from every package. Unset, the
// binaries on PATH are used.
//
// When ServerEnv is set, Sentinel runs as that server with --sentinel
// (the builds ship no redis-sentinel), and redis-cli defaults to the one
// beside it.
const (
	ServerEnv = "VDR_REDIS_SERVER"
	CliEnv    = "VDR_REDIS_CLI"
)

// Binary returns the path of the named Redis binary (redis-server,
// redis-sentinel, redis-cli, redis-benchmark), or skips the test (fails it
// under CI) when it is not installed. redis-server and redis-cli honour
// ServerEnv and CliEnv; a path named there that does not exist fails the
// test (a typo must not turn into a run against another version).
// redis-sentinel under ServerEnv is the server binary itself: start
// sentinels with StartSentinel, which adds --sentinel.
func Binary(tb testing.TB, name string) string {
	tb.Helper()
	if p, ok := fromEnv(tb, name); ok {
		return p
	}
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/bin", "/usr/local/bin", "/usr/sbin"} {
		cand := filepath.Join(dir, name)
		if st, err := os.Stat(cand); err == nil && !st.IsDir() {
			return cand
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("redistest: %s not found, and CI must not skip (install redis-server/redis-tools)", name)
	}
	tb.Skipf("redistest: %s not found; install redis-server to run this test", name)
	return ""
}

// fromEnv resolves name through ServerEnv/CliEnv; ok is false when the
// environment does not choose it.
func fromEnv(tb testing.TB, name string) (string, bool) {
	tb.Helper()
	server := os.Getenv(ServerEnv)
	var p string
	switch name {
	case "redis-server", "redis-sentinel":
		p = server
	case "redis-cli":
		p = os.Getenv(CliEnv)
		if p == "" && server != "" {
			sib := filepath.Join(filepath.Dir(resolve(server)), "redis-cli")
			if _, err := os.Stat(sib); err == nil {
				return sib, true
			}
		}
	}
	if p == "" {
		return "", false
	}
	p = resolve(p)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		tb.Fatalf("redistest: %s from the environment: %s is not a file (%v)", name, p, err)
	}
	return p, true
}

// resolve makes a relative path absolute from the module root; a bare
// name is looked up on PATH.
func resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if !strings.ContainsRune(p, filepath.Separator) {
		if lp, err := exec.LookPath(p); err == nil {
			return lp
		}
		return p
	}
	if root := moduleRoot(); root != "" {
		return filepath.Join(root, p)
	}
	abs, _ := filepath.Abs(p)
	return abs
}

// moduleRoot is the nearest folder at or above the working directory that
// holds go.mod, or "".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Start runs redis-server on a free port with the given extra arguments
// (redis.conf directives as "--name", "value" pairs) and waits until it
// answers PING. The server is killed in t.Cleanup.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	return start(tb, Binary(tb, "redis-server"), false, args)
}

// StartSentinel runs a Sentinel on a free port: redis-sentinel from PATH,
// or the ServerEnv server with --sentinel. conf holds sentinel.conf lines
// (for example "sentinel monitor mymaster 127.0.0.1 6379 2"); the file is
// written into the server's directory because Sentinel rewrites it.
func StartSentinel(tb testing.TB, conf ...string) *Server {
	tb.Helper()
	bin := Binary(tb, "redis-sentinel")
	return start(tb, bin, true, conf)
}

// TryStart is Start that returns the error instead of failing the test
// when the server does not come up: for a test that asks the server
// whether it accepts something (a newer RDB file, a directive).
func TryStart(tb testing.TB, args ...string) (*Server, error) {
	tb.Helper()
	return tryStart(tb, Binary(tb, "redis-server"), false, args)
}

func start(tb testing.TB, bin string, sentinel bool, args []string) *Server {
	tb.Helper()
	s, err := tryStart(tb, bin, sentinel, args)
	if err != nil {
		tb.Fatalf("redistest: starting %s: %v", filepath.Base(bin), err)
	}
	return s
}

func tryStart(tb testing.TB, bin string, sentinel bool, args []string) (*Server, error) {
	tb.Helper()
	var lastErr error
	for attempt := 0; attempt < portAttempts; attempt++ {
		port, err := FreePort()
		if err != nil {
			tb.Fatalf("redistest: free port: %v", err)
		}
		s, err := launch(tb, bin, sentinel, port, args)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortClash) {
			break
		}
	}
	return nil, lastErr
}

var errPortClash = errors.New("port already in use")

func launch(tb testing.TB, bin string, sentinel bool, port int, args []string) (*Server, error) {
	tb.Helper()
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Port: port, Dir: dir, LogPath: filepath.Join(dir, "redis.log"), done: make(chan struct{})}
	var argv []string
	if sentinel {
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n%s\n", port, dir, s.LogPath, strings.Join(args, "\n"))
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			return nil, err
		}
		argv = []string{conf}
		if filepath.Base(bin) != "redis-sentinel" {
			argv = append(argv, "--sentinel")
		}
	} else {
		argv = []string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--logfile", s.LogPath, "--daemonize", "no",
		}
		argv = append(argv, args...)
	}
	s.cmd = exec.Command(bin, argv...)
	s.cmd.Dir = dir
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	tb.Cleanup(func() { s.Stop(); os.RemoveAll(dir) })

	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			logText, _ := os.ReadFile(s.LogPath)
			if bytes.Contains(logText, []byte("Address already in use")) || bytes.Contains(logText, []byte("Failed listening on port")) {
				return nil, errPortClash
			}
			return nil, fmt.Errorf("exited at start: %s", lastLines(logText, 10))
		default:
		}
		if ping(s.Addr()) {
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	logText, _ := os.ReadFile(s.LogPath)
	s.Stop()
	return nil, fmt.Errorf("no PING reply within %v: %s", startTimeout, lastLines(logText, 10))
}

// ping reports whether a PING at addr gets +PONG.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Stop kills the process and waits for it to exit. It is safe to call
// more than once; later calls do nothing.
func (s *Server) Stop() {
	s.stopped.Do(func() {
		if s.cmd.Process != nil {
			s.cmd.Process.Kill()
		}
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
	})
}

// Shutdown stops the process gracefully with SIGTERM (Redis saves if
// configured to), falling back to a kill after timeout.
func (s *Server) Shutdown(timeout time.Duration) {
	s.stopped.Do(func() {
		if s.cmd.Process != nil {
			s.cmd.Process.Signal(os.Interrupt)
		}
		select {
		case <-s.done:
		case <-time.After(timeout):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// Exited reports whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Log returns the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogPath)
	return string(b)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
//
// It picks below the kernel's ephemeral range when there is room: a port
// from that range (what listening on port 0 gives) can be taken by any
// outgoing connection between the check and the server's bind, which
// under a busy test run does happen. Ports below it are only ever taken
// by an explicit bind.
func FreePort() (int, error) {
	if lo := ephemeralLow(); lo > minPort+1000 {
		for range 50 {
			port := minPort + rand.IntN(lo-minPort) // seeded per process
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err == nil {
				l.Close()
				return port, nil
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// minPort is the lowest port FreePort hands out.
const minPort = 10000

// ephemeralLow is the first port of the kernel's ephemeral range, or 0 if
// it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// Do sends one command to addr with a fresh connection and returns the raw
// RESP reply (one complete reply). It is meant for setup steps in tests
// that do not want a client library.
func (s *Server) Do(tb testing.TB, args ...string) string {
	tb.Helper()
	reply, err := Do(s.Addr(), args...)
	if err != nil {
		tb.Fatalf("redistest: %v: %v", args, err)
	}
	return reply
}

// Do sends one command to addr and returns its raw RESP2 reply.
func Do(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := readReply(bufio.NewReader(c), &out); err != nil {
		return out.String(), err
	}
	return out.String(), nil
}

// readReply copies one complete RESP2/RESP3 reply from r to out.
func readReply(r *bufio.Reader, out *bytes.Buffer) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	out.WriteString(line)
	if len(line) < 3 {
		return fmt.Errorf("short reply line %q", line)
	}
	body := strings.TrimRight(line[1:], "\r\n")
	switch line[0] {
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		out.Write(buf)
	case '*', '~', '>', '%':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return err
		}
		if line[0] == '%' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := readReply(r, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// WaitFor polls cond every 20ms until it returns true or timeout passes,
// then fails the test with msg.
func WaitFor(tb testing.TB, timeout time.Duration, msg string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("redistest: timed out after %v waiting for %s", timeout, msg)
}

// InfoField returns one field of INFO from the server at addr, or "".
func InfoField(addr, section, field string) string {
	reply, err := Do(addr, "INFO", section)
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(reply, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	return ""
}

// Sha1Hex is the lower-case hex SHA1 of s (a script's SHA as EVALSHA
// names it).
func Sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
