package redistest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
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

// Version returns the version of the redis-server the tests run, so that
// a test can name what it ran against (it logs it) or ask what that
// server has. It skips or fails like Binary when there is no server.
//
// It asks a running server's INFO: --version does not always tell Redis
// from Valkey (Valkey 7.2.7 prints "Server v=7.2.7").
func Version(tb testing.TB) ServerVersion {
	tb.Helper()
	bin := Binary(tb, "redis-server")
	versionMu.Lock()
	v, ok := versionCache[bin]
	versionMu.Unlock()
	if ok {
		return v
	}
	s := start(tb, bin, false, nil)
	defer s.Stop()
	reply, err := Do(s.Addr(), "INFO", "server")
	if err != nil {
		tb.Fatalf("redistest: INFO server of %s: %v", bin, err)
	}
	field := func(name string) string {
		for _, l := range strings.Split(reply, "\r\n") {
			if v, ok := strings.CutPrefix(l, name+":"); ok {
				return v
			}
		}
		return ""
	}
	num := field("redis_version")
	if vk := field("valkey_version"); vk != "" {
		v.Valkey, num = true, vk
	}
	parts := strings.SplitN(num, ".", 3)
	if len(parts) != 3 {
		tb.Fatalf("redistest: %s: unrecognised version %q in INFO", bin, num)
	}
	v.Major, _ = strconv.Atoi(parts[0])
	v.Minor, _ = strconv.Atoi(parts[1])
	v.Patch, _ = strconv.Atoi(parts[2])
	versionMu.Lock()
	versionCache[bin] = v
	versionMu.Unlock()
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
