package server

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestAuthFailuresRecorded compares what failed AUTHs leave behind on vdr
// and on a real Redis with the same requirepass: the replies, ACL LOG's
// entries (grouped, with Redis's fields, in Redis's order), the error
// counters, and the closing of an unauthenticated client that pipelines
// thousands of guesses.
func TestAuthFailuresRecorded(t *testing.T) {
	redis := redistest.Start(t)
	if r := redis.Do(t, "CONFIG", "SET", "requirepass", "s3cret"); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET requirepass: %q", r)
	}
	srv := startVDR(t, Options{RequirePass: "s3cret"})
	for _, addr := range []string{redis.Addr(), srv.Addr()} {
		c := dialRaw(t, addr)
		for _, cmd := range [][]string{{"AUTH", "wrong"}, {"AUTH", "wrong"}, {"AUTH", "alice", "pw"}, {"HELLO", "3", "AUTH", "default", "nope"}} {
			if r := c.dos(cmd...); !strings.HasPrefix(r, "-WRONGPASS ") {
				t.Fatalf("%s: %v: %q", addr, cmd, r)
			}
		}
	}
	admin := func(addr string) *rawConn {
		c := dialRaw(t, addr)
		if r := c.dos("AUTH", "s3cret"); r != "+OK\r\n" {
			t.Fatalf("AUTH: %q", r)
		}
		return c
	}
	ra, va := admin(redis.Addr()), admin(srv.Addr())
	// client-info and age-seconds differ by nature (ids, ports, time).
	varying := regexp.MustCompile(`(client-info\r\n\$\d+\r\n)[^\r]*|(age-seconds\r\n\$\d+\r\n)[^\r]*`)
	norm := func(s string) string {
		s = varying.ReplaceAllString(s, "$1$2")
		return regexp.MustCompile(`\$\d+\r\n(\r\n)`).ReplaceAllString(s, "$$?$1")
	}
	want, got := norm(ra.dos("ACL", "LOG")), norm(va.dos("ACL", "LOG"))
	if want != got {
		t.Errorf("ACL LOG:\nredis %q\nvdr   %q", want, got)
	}
	if !strings.Contains(got, "count\r\n:2\r\n") || !strings.Contains(got, "username\r\n$5\r\nalice") {
		t.Errorf("ACL LOG does not group the two AUTH failures of the default user: %q", got)
	}
	for _, cmd := range [][]string{{"ACL", "LOG", "1"}, {"ACL", "LOG", "-1"}, {"ACL", "LOG", "x"}, {"ACL", "WHOAMI"}} {
		if w, g := norm(ra.dos(cmd...)), norm(va.dos(cmd...)); w != g {
			t.Errorf("%v: redis %q, vdr %q", cmd, w, g)
		}
	}
	field := func(c *rawConn, name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `:(\S*)`).FindStringSubmatch(c.dos("INFO", "stats"))
		if m == nil {
			return ""
		}
		return m[1]
	}
	if w, g := field(ra, "total_error_replies"), field(va, "total_error_replies"); w != g || w == "" {
		t.Errorf("INFO total_error_replies: redis %s, vdr %s", w, g)
	}

	// 20,000 pipelined guesses: both close the connection before
	// answering them all, and keep serving everyone else.
	guesses := bytes.Repeat([]byte("*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n"), 20000)
	for name, addr := range map[string]string{"redis": redis.Addr(), "vdr": srv.Addr()} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go nc.Write(guesses)
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, _ := io.ReadAll(nc)
		nc.Close()
		if n := bytes.Count(got, []byte("WRONGPASS")); n >= 20000 {
			t.Errorf("%s answered all %d guesses", name, n)
		}
		admin(addr)
	}
	if r := va.dos("ACL", "LOG", "1"); !regexp.MustCompile(`count\r\n:([1-9]\d{2,3})\r\n`).MatchString(r) {
		t.Errorf("ACL LOG after the pipelined guesses: %q", r)
	}
	if r := va.dos("ACL", "LOG", "RESET"); r != "+OK\r\n" {
		t.Errorf("ACL LOG RESET: %q", r)
	}
	if r := va.dos("ACL", "LOG"); r != "*0\r\n" {
		t.Errorf("ACL LOG after RESET: %q", r)
	}
}
