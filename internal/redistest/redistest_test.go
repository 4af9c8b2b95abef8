package redistest

import (
	"strconv"
	"strings"
	"testing"
)

func TestStartAnswers(t *testing.T) {
	s := Start(t, "--databases", "4")
	if got := s.Do(t, "PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	if got := s.Do(t, "CONFIG", "GET", "databases"); !strings.Contains(got, "\r\n4\r\n") {
		t.Fatalf("extra config not applied: %q", got)
	}
	if got := s.Do(t, "SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	if got := s.Do(t, "GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET = %q", got)
	}
}

func TestTwoServersDistinctPorts(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Port == b.Port {
		t.Fatalf("same port %d twice", a.Port)
	}
	b.Stop()
	if !b.Exited() {
		t.Fatal("Stop did not end the process")
	}
	if got := a.Do(t, "PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
}

func TestReplicaAndSentinel(t *testing.T) {
	p := Start(t)
	r := Start(t, "--replicaof", "127.0.0.1", itoa(p.Port))
	p.Do(t, "SET", "x", "1")
	WaitFor(t, 10e9, "replica link up", func() bool {
		return InfoField(r.Addr(), "replication", "master_link_status") == "up"
	})
	sn := StartSentinel(t, "sentinel monitor m 127.0.0.1 "+itoa(p.Port)+" 1")
	got := sn.Do(t, "SENTINEL", "get-master-addr-by-name", "m")
	if !strings.Contains(got, itoa(p.Port)) {
		t.Fatalf("sentinel does not know the primary: %q", got)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestVersion(t *testing.T) {
	v := Version(t)
	if v.Major < 6 {
		t.Fatalf("version %s", v)
	}
	got := InfoField(Start(t).Addr(), "server", "redis_version")
	if vk := InfoField(Start(t).Addr(), "server", "valkey_version"); v.Valkey {
		got = vk
	}
	if want := strings.TrimPrefix(v.String(), "valkey-"); got != want {
		t.Fatalf("Version %s, INFO says %q", v, got)
	}
}

func TestRequireTLS(t *testing.T) {
	RequireTLS(t)
	t.Logf("%s has TLS", Version(t))
}

func TestTryStartReportsFailure(t *testing.T) {
	if _, err := TryStart(t, "--no-such-directive", "x"); err == nil || !strings.Contains(err.Error(), "exited at start") {
		t.Fatalf("TryStart with a bad directive: %v", err)
	}
}
