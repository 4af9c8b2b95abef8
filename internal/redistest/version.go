package redistest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ServerVersion is the version of the redis-server the tests run
// (Binary(tb, "redis-server")), as its --version reports it.
type ServerVersion struct {
	Valkey              bool // a Valkey build (Major/Minor/Patch are Valkey's)
	Major, Minor, Patch int
}

// String is "7.2.6" for Redis and "valkey-8.0.1" for Valkey, the form
// compat.Parse reads.
func (v ServerVersion) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Valkey {
		return "valkey-" + s
	}
	return s
}

// AtLeast reports whether v is major.minor or later in its own line
// (Redis or Valkey numbering).
func (v ServerVersion) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

var (
	versionMu    sync.Mutex
	versionCache = map[string]ServerVersion{}
	tlsCache     = map[string]bool{}
)

var versionRE = regexp.MustCompile(`^(Redis|Valkey|KeyDB) server v=(\d+)\.(\d+)\.(\d+)`)

// Version returns the version of the redis-server the tests run, so that
// a test can name what it ran against (it logs it) or ask what that
// server has. It skips or fails like Binary when there is no server.
func Version(tb testing.TB) ServerVersion {
	tb.Helper()
	bin := Binary(tb, "redis-server")
	versionMu.Lock()
	defer versionMu.Unlock()
	if v, ok := versionCache[bin]; ok {
		return v
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		tb.Fatalf("redistest: %s --version: %v", bin, err)
	}
	m := versionRE.FindStringSubmatch(strings.TrimSpace(string(out)))
	if m == nil {
		tb.Fatalf("redistest: %s --version: unrecognised %q", bin, out)
	}
	v := ServerVersion{Valkey: m[1] == "Valkey"}
	v.Major, _ = strconv.Atoi(m[2])
	v.Minor, _ = strconv.Atoi(m[3])
	v.Patch, _ = strconv.Atoi(m[4])
	versionCache[bin] = v
	tb.Logf("redistest: redis-server is %s (%s)", v, bin)
	return v
}

// RequireTLS skips the test when the redis-server the tests run was built
// without TLS (the builds in ../shared/redis-builds are; Debian's is not).
// Under CI it still skips when ServerEnv chose the build — a missing
// capability of that real server, not a missing install — but fails when
// the default server lacks TLS.
func RequireTLS(tb testing.TB) {
	tb.Helper()
	bin := Binary(tb, "redis-server")
	versionMu.Lock()
	has, ok := tlsCache[bin]
	versionMu.Unlock()
	if !ok {
		has = probeTLS(tb, bin)
		versionMu.Lock()
		tlsCache[bin] = has
		versionMu.Unlock()
	}
	if has {
		return
	}
	if os.Getenv(ServerEnv) == "" && os.Getenv("CI") != "" {
		tb.Fatalf("redistest: %s was built without TLS, and CI must not skip TLS tests", bin)
	}
	tb.Skipf("redistest: %s (%s) was built without TLS (BUILD_TLS=no); this test needs a TLS-capable server", bin, Version(tb))
}

// probeTLS starts bin with a TLS port and no certificate: a TLS build
// refuses to start for the missing certificate, a build without TLS for
// the missing TLS support. Either way it exits at once.
func probeTLS(tb testing.TB, bin string) bool {
	tb.Helper()
	port, err := FreePort()
	if err != nil {
		tb.Fatalf("redistest: free port: %v", err)
	}
	dir := tb.TempDir()
	cmd := exec.Command(bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--save", "",
		"--appendonly", "no", "--dir", dir, "--daemonize", "no")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("redistest: %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	s := out.String()
	for _, no := range []string{"Failed finding TLS support", "connection type tls", "TLS is not supported", "not compiled with TLS"} {
		if strings.Contains(s, no) {
			return false
		}
	}
	return strings.Contains(s, "tls-cert-file") || strings.Contains(s, "Failed to configure TLS")
}
