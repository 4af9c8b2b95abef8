package replica

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/redistest"
)

func TestSentinelMapHost(t *testing.T) {
	so := &SentinelOptions{HostMap: map[string]string{"10.0.0.1": "127.0.0.1", "10.0.0.2:6379": "lb:16379"}}
	for in, want := range map[[2]string]string{
		{"10.0.0.1", "7000"}: "127.0.0.1:7000",
		{"10.0.0.2", "6379"}: "lb:16379",
		{"10.0.0.2", "6380"}: "10.0.0.2:6380",
		{"10.0.0.3", "1"}:    "10.0.0.3:1",
	} {
		if got := so.mapHost(in[0], in[1]); got != want {
			t.Errorf("mapHost(%s, %s) = %s, want %s", in[0], in[1], got, want)
		}
	}
}

// TestSentinelReplicaRole: with Role "replica" the client replicates the
// healthy replica the sentinel lists (sparing the primary), and writes on
// the primary still arrive, with the primary's offsets.
func TestSentinelReplicaRole(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	rep := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	s := redistest.StartSentinel(t, fmt.Sprintf("sentinel monitor grp 127.0.0.1 %d 1", primary.Port))
	redistest.WaitFor(t, 20*time.Second, "the sentinel sees the replica linked", func() bool {
		r, _ := redistest.Do(s.Addr(), "SENTINEL", "replicas", "grp")
		return strings.Contains(r, "master-link-status\r\n$2\r\nok")
	})
	rec := newRecorder()
	c := realClient(t, Options{Sentinel: &SentinelOptions{Addrs: []string{s.Addr()}, MasterName: "grp", Role: "replica"}, Handler: rec})
	rc := redis.NewClient(&redis.Options{Addr: primary.Addr(), Protocol: 2})
	defer rc.Close()
	incrs(t, rc, 20)
	converge(t, c, rec, primary.Addr(), "")
	if c.Addr() != rep.Addr() {
		t.Fatalf("replicating %s, want the replica %s", c.Addr(), rep.Addr())
	}
	if n := redistest.InfoField(primary.Addr(), "replication", "connected_slaves"); n != "1" {
		t.Errorf("the primary has %s replicas, want 1 (the Redis replica only)", n)
	}
}

// TestSentinelHostMap: the primary's announced address is unreachable as
// such (here: reachable only through a forwarding port), and the host map
// sends the client to the reachable one.
func TestSentinelHostMap(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	s := redistest.StartSentinel(t, fmt.Sprintf("sentinel monitor grp 127.0.0.1 %d 1", primary.Port))
	fwd := forward(t, primary.Addr())
	rec := newRecorder()
	c := realClient(t, Options{Sentinel: &SentinelOptions{Addrs: []string{s.Addr()}, MasterName: "grp",
		HostMap: map[string]string{primary.Addr(): fwd}}, Handler: rec})
	rc := redis.NewClient(&redis.Options{Addr: primary.Addr(), Protocol: 2})
	defer rc.Close()
	incrs(t, rc, 5)
	converge(t, c, rec, primary.Addr(), "")
	if c.Addr() != fwd {
		t.Fatalf("connected to %s, want the mapped %s", c.Addr(), fwd)
	}
}

// forward listens on a free port and relays every connection to addr.
func forward(t *testing.T, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				continue
			}
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return ln.Addr().String()
}

// TestSentinelTLS: discovery through a sentinel's TLS port, verified
// against the test CA; a foreign CA is refused.
func TestSentinelTLS(t *testing.T) {
	redistest.RequireTLS(t)
	dir := t.TempDir()
	ca, cert, key := redistest.TestCA(t, dir, "sent")
	otherCA, _, _ := redistest.TestCA(t, dir, "other")
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	tlsPort, err := redistest.FreePort()
	requireNoError(t, err)
	// redistest's plain port stays for its readiness PING; the client
	// uses the TLS one.
	redistest.StartSentinel(t, fmt.Sprintf("sentinel monitor grp 127.0.0.1 %d 1", primary.Port),
		fmt.Sprintf("tls-port %d", tlsPort), "tls-cert-file "+cert, "tls-key-file "+key,
		"tls-ca-cert-file "+ca, "tls-auth-clients no")
	tlsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
	rec := newRecorder()
	c := realClient(t, Options{Sentinel: &SentinelOptions{Addrs: []string{tlsAddr}, MasterName: "grp", TLS: &TLSOptions{CAFile: ca}}, Handler: rec})
	rc := redis.NewClient(&redis.Options{Addr: primary.Addr(), Protocol: 2})
	defer rc.Close()
	incrs(t, rc, 5)
	converge(t, c, rec, primary.Addr(), "")

	bad := newRecorder()
	realClient(t, Options{Sentinel: &SentinelOptions{Addrs: []string{tlsAddr}, MasterName: "grp", TLS: &TLSOptions{CAFile: otherCA}}, Handler: bad})
	waitFor(t, 10*time.Second, "a TLS error", func() bool {
		bad.mu.Lock()
		defer bad.mu.Unlock()
		return len(bad.errs) > 0
	})
	bad.mu.Lock()
	defer bad.mu.Unlock()
	if !strings.Contains(bad.errs[0].Error(), "TLS handshake with sentinel") {
		t.Fatalf("error %v, want a TLS handshake failure", bad.errs[0])
	}
}
