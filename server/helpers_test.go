package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vdr-project/vdr/projection"
)

// startVDR starts a server on a random port and stops it at cleanup.
func startVDR(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Port == 0 {
		opts.Port = RandomPort
	}
	if opts.Logger == nil {
		opts.Logger = nil
	}
	if opts.EventLoops == 0 && os.Getenv("VDR_EVENTLOOP") == "0" {
		// VDR_EVENTLOOP=0 runs the tests on the goroutine-per-connection path.
		opts.EventLoops = EventLoopsDisabled
	}
	s, err := New(opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func newProjection(tb testing.TB) *projection.Projection {
	tb.Helper()
	p, err := projection.New(projection.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// rawConn is a test client that sends commands and reads raw replies.
type rawConn struct {
	tb testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(tb testing.TB, addr string) *rawConn {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { nc.Close() })
	return &rawConn{tb: tb, nc: nc, br: bufio.NewReaderSize(nc, 1<<16)}
}

func encodeCmd(args ...[]byte) []byte {
	var b []byte
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

func bs(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// do sends one command and returns the raw reply bytes.
func (c *rawConn) do(args ...[]byte) []byte {
	c.tb.Helper()
	c.send(encodeCmd(args...))
	return c.read()
}

func (c *rawConn) dos(args ...string) string { c.tb.Helper(); return string(c.do(bs(args...)...)) }

func (c *rawConn) send(b []byte) {
	c.tb.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		c.tb.Fatalf("write: %v", err)
	}
}

func (c *rawConn) read() []byte {
	c.tb.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out bytes.Buffer
	if err := readValue(c.br, &out); err != nil {
		c.tb.Fatalf("read reply: %v (so far %q)", err, out.String())
	}
	return out.Bytes()
}

// readValue reads one complete RESP2/RESP3 value.
func readValue(br *bufio.Reader, out *bytes.Buffer) error {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return err
	}
	out.Write(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := ioFull(br, buf); err != nil {
			return err
		}
		out.Write(buf)
	case '*', '~', '>':
		for i := 0; i < n; i++ {
			if err := readValue(br, out); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := readValue(br, out); err != nil {
				return err
			}
		}
	}
	return nil
}

func ioFull(br *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := br.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// seed returns the test seed: $SEED or the time, printed either way.
func seed(tb testing.TB) int64 {
	tb.Helper()
	if s := os.Getenv("SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			tb.Fatalf("bad SEED %q", s)
		}
		tb.Logf("SEED=%d (from environment)", v)
		return v
	}
	v := time.Now().UnixNano()
	tb.Logf("SEED=%d (rerun with SEED=%d)", v, v)
	return v
}

// startNode starts a vdr node replicating primary (a host:port) with the
// given replica options (Primary is filled in), serving on a random port
// and logging nowhere; it is closed when the test ends.
func startNode(tb testing.TB, primary string, ro replicaOptions) *Node {
	tb.Helper()
	return startNodeServing(tb, primary, ro, Options{})
}

// startNodeServing is startNode with server options (the port is random).
func startNodeServing(tb testing.TB, primary string, ro replicaOptions, so Options) *Node {
	tb.Helper()
	ro.Primary = primary
	so.Port = RandomPort
	return startNodeWith(tb, NodeOptions{Server: so, Replica: &ro})
}

// startNodeWith starts a node with o, logging nowhere when o.Logger is
// nil; it is closed when the test ends.
func startNodeWith(tb testing.TB, o NodeOptions) *Node {
	tb.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	node, err := NewNode(o)
	if err != nil {
		tb.Fatal(err)
	}
	if err := node.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { node.Close() })
	return node
}

// maxDiffFails is how many mismatches a differential loop reports before
// it stops: 20, or VDR_MAXFAILS (make test-matrix raises it, so that a
// version vdr does not answer as yet shows every kind of mismatch).
func maxDiffFails() int {
	if v, err := strconv.Atoi(os.Getenv("VDR_MAXFAILS")); err == nil && v > 0 {
		return v
	}
	return 20
}

// firstDiff shows where want (the real server's reply) and got (vdr's)
// first differ, with some context: the replies are printed truncated,
// and a difference past the cut would not show.
func firstDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(i-40, 0)
	return fmt.Sprintf("\n   first difference at byte %d: redis …%.120q  vdr …%.120q", i, want[from:], got[from:])
}
