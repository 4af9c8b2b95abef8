package replica

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestRealTLS: sync over TLS with the certificate verified against the
// test CA; a foreign CA is refused unless verification is skipped.
func TestRealTLS(t *testing.T) {
	redistest.RequireTLS(t)
	dir := t.TempDir()
	ca, cert, key := redistest.TestCA(t, dir, "good")
	otherCA, _, _ := redistest.TestCA(t, dir, "other")
	tlsPort, err := redistest.FreePort()
	requireNoError(t, err)
	// redistest passes --port itself (plain TCP, used for its readiness
	// PING); the TLS listener is an extra port.
	srv := redistest.Start(t, "--tls-port", fmt.Sprint(tlsPort), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", ca, "--tls-auth-clients", "optional", "--repl-diskless-sync-delay", "0")
	tlsAddr := net.JoinHostPort("127.0.0.1", fmt.Sprint(tlsPort))
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
	defer rc.Close()
	populate(t, rc, "t:", 50)

	t.Run("verified", func(t *testing.T) {
		rec := newRecorder()
		c := realClient(t, Options{Primary: tlsAddr, Handler: rec, TLS: &TLSOptions{CAFile: ca}})
		converge(t, c, rec, srv.Addr(), "")
	})
	t.Run("client-cert-and-server-name", func(t *testing.T) {
		rec := newRecorder()
		c := realClient(t, Options{Primary: tlsAddr, Handler: rec, TLS: &TLSOptions{CAFile: ca, CertFile: cert, KeyFile: key, ServerName: "redis.test"}})
		converge(t, c, rec, srv.Addr(), "")
	})
	t.Run("unknown-ca", func(t *testing.T) {
		rec := newRecorder()
		realClient(t, Options{Primary: tlsAddr, Handler: rec, TLS: &TLSOptions{CAFile: otherCA}})
		waitFor(t, 10*time.Second, "a TLS error", func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			return len(rec.errs) > 0
		})
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if !strings.Contains(rec.errs[0].Error(), "certificate") || rec.begins != 0 {
			t.Fatalf("error %v, want a certificate error", rec.errs[0])
		}
	})
	t.Run("insecure-skip-verify", func(t *testing.T) {
		rec := newRecorder()
		c := realClient(t, Options{Primary: tlsAddr, Handler: rec, TLS: &TLSOptions{CAFile: otherCA, InsecureSkipVerify: true}})
		converge(t, c, rec, srv.Addr(), "")
	})
}
