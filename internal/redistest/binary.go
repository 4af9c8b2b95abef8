package redistest

import (
	"os"
	"path/filepath"
	"testing"
)

// StartBinary is Start with a given redis-server binary (another Redis
// or Valkey version, by path). When the file does not exist the test is
// skipped with a message naming it, or fails under CI.
func StartBinary(tb testing.TB, path string, args ...string) *Server {
	tb.Helper()
	if !BinaryExists(path) {
		missing(tb, path)
	}
	return start(tb, path, false, args)
}

// BinaryExists reports whether path is an existing regular file.
func BinaryExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// missing skips the test for want of the server binary at path, or fails
// it under CI, which must run every version.
func missing(tb testing.TB, path string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("redistest: %s not found, and CI must not skip", path)
	}
	tb.Skipf("redistest: %s not found; skipping (%s)", path, filepath.Base(filepath.Dir(path)))
}

// VersionBinary returns the redis-server of one version folder under the
// directory named by $VDR_REDIS_BUILDS (default ../shared/redis-builds
// relative to the module root's parent, as the README describes), such as
// "redis-7.4.1" or "valkey-8.0.1". An empty folder means the redis-server
// on PATH.
func VersionBinary(tb testing.TB, folder string) string {
	tb.Helper()
	if folder == "" {
		return Binary(tb, "redis-server")
	}
	return filepath.Join(BuildsDir(), folder, "redis-server")
}

// BuildsDir is where the other versions' servers are: $VDR_REDIS_BUILDS,
// else "shared/redis-builds" beside the repository's directory (found by
// walking up from the working directory to go.mod).
func BuildsDir() string {
	if d := os.Getenv("VDR_REDIS_BUILDS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", "redis-builds")
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "redis-builds")
		}
		if filepath.Dir(d) == d {
			return filepath.Join("..", "shared", "redis-builds")
		}
	}
}
