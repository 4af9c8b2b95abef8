package server

import (
	"bytes"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// exchange sends payload on a fresh connection and returns what comes back
// within wait (and "<closed>" when the server closed the connection).
func exchange(t *testing.T, addr string, payload []byte, wait time.Duration) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(payload); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(wait)
	for {
		nc.SetReadDeadline(deadline)
		n, err := nc.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				out.WriteString("<closed>")
			}
			return out.String()
		}
	}
}

// TestEdgeRepliesMatchRedis compares raw replies to odd requests with a
// real Redis of the same configuration: EXEC refused before AUTH (Redis
// answers EXECABORT with the reason, not NOAUTH), a NUL byte in an inline
// request (Redis's strchr never finds the line's end, so nothing is run)
// and in a command name (errors print arguments as C strings).
func TestEdgeRepliesMatchRedis(t *testing.T) {
	redis := redistest.Start(t)
	if r := redis.Do(t, "CONFIG", "SET", "requirepass", "pw"); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET requirepass: %q", r)
	}
	srv := startVDR(t, Options{RequirePass: "pw"})
	for _, payload := range []string{
		"MULTI\r\nGET a\r\nEXEC\r\n",
		"EXEC\r\n",
		"EXEC extra\r\n",
		"AUTH pw\r\nEXEC\r\nMULTI\r\nEXEC x\r\nEXEC\r\n",
		"AUTH pw\r\nPI\x00NG\r\nPING\r\n",
		"AUTH pw\r\n*1\r\n$4\r\nPI\x00G\r\n",
		"AUTH pw\r\n*3\r\n$6\r\nCLIENT\r\n$4\r\nNO\x00X\r\n$1\r\nx\r\n",
		"AUTH pw\r\n*3\r\n$4\r\nNOPE\r\n$3\r\na\x00b\r\n$1\r\nc\r\n",
	} {
		want := exchange(t, redis.Addr(), []byte(payload), 300*time.Millisecond)
		got := exchange(t, srv.Addr(), []byte(payload), 300*time.Millisecond)
		if got != want {
			t.Errorf("%s:\nredis %q\nvdr   %q", strconv.Quote(payload), want, got)
		}
	}
}
