package replica

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/redistest"
)

// testCA writes a CA and a server certificate for 127.0.0.1 signed by it
// into dir, and returns the file names.
func testCA(t testing.TB, dir, name string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	requireNoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	requireNoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	requireNoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	requireNoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"redis.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	requireNoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	requireNoError(t, err)
	write := func(file, typ string, b []byte) string {
		p := filepath.Join(dir, file)
		requireNoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600))
		return p
	}
	return write(name+"-ca.pem", "CERTIFICATE", caDER), write(name+"-cert.pem", "CERTIFICATE", der), write(name+"-key.pem", "EC PRIVATE KEY", keyDER)
}

// TestRealTLS: sync over TLS with the certificate verified against the
// test CA; a foreign CA is refused unless verification is skipped.
func TestRealTLS(t *testing.T) {
	redistest.RequireTLS(t)
	dir := t.TempDir()
	ca, cert, key := testCA(t, dir, "good")
	otherCA, _, _ := testCA(t, dir, "other")
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
