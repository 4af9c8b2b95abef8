package redistest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vdr-project/vdr/internal/compat"
)

// The servers of the other personalities (Redis 7.2, 7.4, Valkey 7.2,
// 8.0) are not installed: they are built in a folder of their own, one
// sub-folder per release (redis-7.2.6/redis-server, valkey-8.0.1/…). That
// folder is $VDR_REDIS_BUILDS, else the first shared/redis-builds found
// beside the working directory or one of its parents (../shared/… of a
// checkout). Redis 7.0 is the redis-server on PATH.

// ServerFor returns the path of the redis-server of personality v, or
// skips the test naming the missing server (fails it under CI).
func ServerFor(tb testing.TB, v compat.Version) string {
	tb.Helper()
	if v == compat.Redis70 {
		return Binary(tb, "redis-server")
	}
	folder := "redis-" + v.String()
	if v.Valkey {
		folder = v.String() // "valkey-8.0.1"
	}
	var p string
	if d := BuildsDir(); d != "" {
		p = filepath.Join(d, folder, "redis-server")
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	msg := "redistest: no " + folder + "/redis-server (set VDR_REDIS_BUILDS to the folder of the server builds)"
	if os.Getenv("CI") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// StartVersion is Start with the redis-server of personality v.
func StartVersion(tb testing.TB, v compat.Version, args ...string) *Server {
	tb.Helper()
	return start(tb, ServerFor(tb, v), false, args)
}
