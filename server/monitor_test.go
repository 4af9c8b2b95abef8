package server

import (
	"strings"
	"testing"
	"time"
)

// TestMonitorSlowReaderDropped: a monitor that never reads is
// disconnected once it owes more than OutputBufferLimit, and the client
// whose commands it was shown keeps getting its replies meanwhile.
func TestMonitorSlowReaderDropped(t *testing.T) {
	s := startVDR(t, Options{OutputBufferLimit: 64 << 10})
	mon := dialRaw(t, s.Addr())
	if r := mon.dos("MONITOR"); r != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	c := dialRaw(t, s.Addr())
	if r := c.dos("CLIENT", "LIST"); !strings.Contains(r, "flags=O ") || !strings.Contains(r, "cmd=monitor") {
		t.Fatalf("CLIENT LIST without the monitor: %q", r)
	}
	big := strings.Repeat("x", 64<<10)
	start := time.Now()
	dropped := false
	for i := 0; i < 2000 && !dropped; i++ {
		if r := c.dos("ECHO", big); len(r) != len(big)+10 {
			t.Fatalf("ECHO %d: %d bytes", i, len(r))
		}
		if i%50 == 49 {
			dropped = !strings.Contains(c.dos("CLIENT", "LIST"), "flags=O ")
		}
	}
	if !dropped {
		t.Fatalf("a monitor that does not read was not dropped after 2000 × 64 KiB")
	}
	t.Logf("dropped after %v", time.Since(start))
	// Its connection is closed: reading ends (after what the kernel held).
	mon.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1<<20)
	for {
		if _, err := mon.br.Read(buf); err != nil {
			if strings.Contains(err.Error(), "timeout") {
				t.Fatalf("the dropped monitor's connection stays open")
			}
			break
		}
	}
}

// TestMonitorCommand: MONITOR's replies and refusals.
func TestMonitorCommand(t *testing.T) {
	s := startVDR(t, Options{})
	c := dialRaw(t, s.Addr())
	c.dos("MULTI")
	c.dos("MONITOR")
	if r := c.dos("EXEC"); r != "*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n" {
		t.Fatalf("MONITOR in MULTI: %q", r)
	}
	if r := c.dos("MONITOR"); r != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	// A second MONITOR gets no reply (monitorCommand returns early); the
	// PING after it does, then shows on the monitor itself (fed after the
	// command ran, behind its reply).
	c.send(encodeCmd(bs("MONITOR")...))
	c.send(encodeCmd(bs("PING")...))
	if r := string(c.read()); r != "+PONG\r\n" {
		t.Fatalf("after a second MONITOR: %q", r)
	}
	if r := string(c.read()); !strings.HasSuffix(r, "\"PING\"\r\n") {
		t.Fatalf("PING's monitor line: %q", r)
	}
	// RESET leaves monitor mode.
	if r := string(c.dos("RESET")); r != "+RESET\r\n" {
		t.Fatalf("RESET: %q", r)
	}
	o := dialRaw(t, s.Addr())
	if r := o.dos("CLIENT", "LIST"); strings.Contains(r, "flags=O") {
		t.Fatalf("monitor after RESET: %q", r)
	}
}

// TestMonitorSparedByIdleTimeout: like Redis's monitors (CLIENT_SLAVE),
// a monitor is not closed by the idle timeout; a plain client is.
func TestMonitorSparedByIdleTimeout(t *testing.T) {
	s := startVDR(t, Options{IdleTimeout: 300 * time.Millisecond})
	mon, plain := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
	if r := mon.dos("MONITOR"); r != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	plain.dos("PING")
	time.Sleep(1500 * time.Millisecond)
	c := dialRaw(t, s.Addr())
	c.dos("ECHO", "still")
	mon.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		line, err := mon.br.ReadString('\n')
		if err != nil {
			t.Fatalf("the idle monitor: %v", err)
		}
		if strings.HasSuffix(line, "\"ECHO\" \"still\"\r\n") {
			break
		}
	}
	plain.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := plain.br.ReadByte(); err == nil {
		t.Fatalf("the idle plain client is still open")
	}
}

// TestMonitorLineOverLimit: a command whose line alone passes the output
// buffer limit drops the monitors (it could never be delivered), without
// quoting the whole argument.
func TestMonitorLineOverLimit(t *testing.T) {
	s := startVDR(t, Options{OutputBufferLimit: 64 << 10})
	mon := dialRaw(t, s.Addr())
	if r := mon.dos("MONITOR"); r != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	c := dialRaw(t, s.Addr())
	c.dos("ECHO", "small")
	c.dos("ECHO", strings.Repeat("\x01", 100<<10)) // 400 KiB quoted
	mon.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := mon.br.ReadString('\n')
	if err != nil || !strings.HasSuffix(line, "\"ECHO\" \"small\"\r\n") {
		t.Fatalf("first line %q %v", line, err)
	}
	if _, err := mon.br.ReadString('\n'); err == nil {
		t.Fatalf("the monitor got the over-limit line")
	}
	if r := c.dos("CLIENT", "LIST"); strings.Contains(r, "flags=O") {
		t.Fatalf("the monitor is still listed: %q", r)
	}
}
