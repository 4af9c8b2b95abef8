package bench

import (
	"bufio"
	"fmt"
	"github.com/vdr-project/vdr/internal/resp"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// proc is one process the harness started: a redis-server (primary or
// replica) or vdr. Every proc is stopped by the harness before it returns.
type proc struct {
	name    string
	cmd     *exec.Cmd
	port    int
	http    string // vdr's HTTP address
	log     string
	started time.Time
	done    chan struct{}
}

func (p *proc) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startProc(name, dir, bin string, args []string, port int, logPath string) (*proc, error) {
	p := &proc{name: name, port: port, log: logPath, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	lf, err := os.Create(logPath + ".out")
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout, p.cmd.Stderr = lf, lf
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	go func() { p.cmd.Wait(); lf.Close(); close(p.done) }()
	return p, nil
}

// redisServer is the redis-server the harness runs: VDR_REDIS_SERVER (as
// the tests take it), or the one on PATH.
func redisServer() string {
	if b := os.Getenv("VDR_REDIS_SERVER"); b != "" {
		return b
	}
	return "redis-server"
}

// startRedis runs redis-server on a free port with extra config args and
// waits until it answers PING (a replica answers PING while syncing).
func startRedis(name, dir string, extra ...string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(d, "redis.log")
	args := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", d, "--logfile", logPath, "--daemonize", "no",
	}, extra...)
	p, err := startProc(name, d, redisServer(), args, port, logPath)
	if err != nil {
		return nil, err
	}
	if err := waitUntil(15*time.Second, func() bool { return pingOK(p.addr()) }); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s did not answer PING: %w", name, err)
	}
	return p, nil
}

// startVDR runs the vdr binary replicating primary, serving on a free port,
// with its HTTP endpoint on another free port. It does not wait.
func startVDR(bin, dir, primary string, extra ...string) (*proc, error) {
	return startVDRArgs(bin, dir, append([]string{"--primary", primary, "--log-level", "warn"}, extra...)...)
}

// startVDRArgs runs the vdr binary with args plus a free serving port and
// HTTP port.
func startVDRArgs(bin, dir string, extra ...string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	hport, err := freePort()
	if err != nil {
		return nil, err
	}
	d := filepath.Join(dir, "vdr")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	httpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(hport))
	args := append([]string{"--port", strconv.Itoa(port), "--http", httpAddr}, extra...)
	p, err := startProc("vdr", d, bin, args, port, filepath.Join(d, "vdr.log"))
	if err != nil {
		return nil, err
	}
	p.http = httpAddr
	return p, nil
}

func pingOK(addr string) bool {
	c, err := resp.Dial(addr, 500*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	r, err := c.Do("PING")
	return err == nil && (r.Str == "PONG" || strings.HasPrefix(r.Str, "LOADING"))
}

// vdrReady reports whether vdr's /readyz answers 200.
func vdrReady(httpAddr string) bool {
	cl := http.Client{Timeout: 500 * time.Millisecond}
	resp, err := cl.Get("http://" + httpAddr + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// replicaReady reports whether a Redis replica finished its sync.
func replicaReady(addr string) bool {
	m, err := resp.Info(addr, "replication")
	return err == nil && m["master_link_status"] == "up" && m["master_sync_in_progress"] == "0"
}

func waitUntil(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %v", timeout)
}

// memStatus reads VmRSS and VmHWM (peak RSS) of pid in bytes.
func memStatus(pid int) (rss, peak int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak
}

// cpuTime returns the CPU time (user and system) process pid has used,
// from /proc/pid/stat; 0 when it cannot be read.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')'. utime and stime are fields 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux this runs on.
const clockTicks = 100

// loadAvg returns the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
