//go:build linux

package server

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestBigRequestOffLoop holds a huge command on its goroutine
// (offloadHook) and checks what the loop does meanwhile: it answers
// another client at once, keeps the huge command's client's next request
// until the command ends (then answers both, in order), and when that
// client is killed (CLIENT KILL) or resets its connection, it leaves it
// alone until the command ends, then closes it and goes on serving (the
// race detector watches the hand-over).
func TestBigRequestOffLoop(t *testing.T) {
	s := startVDR(t, Options{})
	req := encodeCmd(append(bs("EXISTS"), bytes.Split(bytes.Repeat([]byte("k "), 5000), []byte(" "))[:5000]...)...)
	ctl := dialRaw(t, s.Addr())
	for _, how := range []string{"served", "killed", "reset"} {
		entered, release := make(chan struct{}), make(chan struct{})
		hook := func() { close(entered); <-release }
		offloadHook.Store(&hook)
		c := dialRaw(t, s.Addr())
		id := strings.TrimSpace(strings.TrimPrefix(c.dos("CLIENT", "ID"), ":"))
		c.send(append(req, "PING\r\n"...))
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the command did not go off the loop", how)
		}
		if r := ctl.dos("PING"); r != "+PONG\r\n" {
			t.Fatalf("%s: another client's PING while the command runs: %q", how, r)
		}
		c.nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _ := c.br.Peek(1); len(n) > 0 {
			t.Fatalf("%s: a reply (%q) before the command ended", how, n)
		}
		switch how {
		case "killed":
			if r := ctl.dos("CLIENT", "KILL", "ID", id); r != ":1\r\n" {
				t.Fatalf("CLIENT KILL: %q", r)
			}
		case "reset":
			c.nc.(*net.TCPConn).SetLinger(0)
			c.nc.Close()
		}
		close(release)
		switch how {
		case "served":
			if r := string(c.read()) + string(c.read()); r != ":0\r\n+PONG\r\n" {
				t.Fatalf("replies %q", r)
			}
			c.nc.Close()
		case "killed": // the command's reply, then the close; never the PING
			c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			rest, err := io.ReadAll(c.br)
			if string(rest) != ":0\r\n" || err != nil {
				t.Fatalf("killed client read %q, %v", rest, err)
			}
		}
		offloadHook.Store(nil)
	}
	// An EXEC whose queue holds more than bigArgc arguments goes off the
	// loop too.
	entered, release := make(chan struct{}), make(chan struct{})
	hook := func() { close(entered); <-release }
	offloadHook.Store(&hook)
	c := dialRaw(t, s.Addr())
	half := encodeCmd(append(bs("EXISTS"), bytes.Split(bytes.Repeat([]byte("k "), 600), []byte(" "))[:600]...)...)
	c.send([]byte("MULTI\r\n"))
	c.send(half)
	c.send(half)
	c.send([]byte("EXEC\r\nPING\r\n"))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("EXEC of 1202 queued arguments did not go off the loop")
	}
	if r := ctl.dos("PING"); r != "+PONG\r\n" {
		t.Fatalf("another client's PING while EXEC runs: %q", r)
	}
	close(release)
	var got string
	for i := 0; i < 5; i++ {
		got += string(c.read())
	}
	if want := "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:0\r\n:0\r\n+PONG\r\n"; got != want {
		t.Fatalf("MULTI … EXEC: %q, want %q", got, want)
	}
	offloadHook.Store(nil)
	c.nc.Close()

	redistest.WaitFor(t, 10*time.Second, "only the control connection left", func() bool {
		return strings.Contains(ctl.dos("INFO", "clients"), "connected_clients:1\r\n")
	})
	if r := ctl.dos("PING"); r != "+PONG\r\n" {
		t.Fatalf("PING at the end: %q", r)
	}
}
