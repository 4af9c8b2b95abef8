// Package repltest is a minimal raw replication-link reader for tests: it
// connects to a real primary the way a replica does (PING, REPLCONF
// listening-port, REPLCONF capa, PSYNC ? -1), saves the RDB payload, and
// then returns the propagated commands one by one, sending REPLCONF ACK
// every second so the primary keeps the link.
//
// It is not the replica client (that is package replica): no reconnects,
// no partial resync, no offsets beyond what ACK needs.
package repltest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrProtocol is a reply the link reader did not expect.
var ErrProtocol = errors.New("repltest: protocol error")

// maxBulk bounds any length read from the wire.
const maxBulk = 1 << 30

// Link is one replication connection.
type Link struct {
	conn   net.Conn
	addr   string // the primary's
	br     *bufio.Reader
	wmu    sync.Mutex
	ReplID string
	Offset int64  // offset after the last command returned by Next
	RDB    []byte // the RDB payload of the full sync
	done   chan struct{}
	once   sync.Once
}

// Options selects the transfer form.
type Options struct {
	// DiskRDB omits "capa eof", so the primary sends "$<len>" (a disk-based
	// RDB) instead of the diskless "$EOF:<mark>" form.
	DiskRDB bool
}

// Attach connects to primaryAddr and performs a full sync; it fails the
// test on error and closes the link in t.Cleanup.
func Attach(tb testing.TB, primaryAddr string, opts ...Options) *Link {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	l, err := attach(primaryAddr, o)
	if err != nil {
		tb.Fatalf("repltest: attach %s: %v", primaryAddr, err)
	}
	tb.Cleanup(l.Close)
	return l
}

func attach(addr string, o Options) (*Link, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	l := &Link{conn: conn, addr: addr, br: bufio.NewReaderSize(conn, 64<<10), done: make(chan struct{})}
	capa := []string{"REPLCONF", "capa", "eof", "capa", "psync2"}
	if o.DiskRDB {
		capa = []string{"REPLCONF", "capa", "psync2"}
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	for _, cmd := range [][]string{{"PING"}, {"REPLCONF", "listening-port", "1"}, capa} {
		if err := l.send(cmd...); err != nil {
			return nil, err
		}
		line, err := l.line()
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(line, "+") {
			return nil, fmt.Errorf("%v: %q: %w", cmd, line, ErrProtocol)
		}
	}
	if err := l.send("PSYNC", "?", "-1"); err != nil {
		return nil, err
	}
	line, err := l.skipKeepalives()
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "+FULLRESYNC" {
		return nil, fmt.Errorf("PSYNC reply %q: %w", line, ErrProtocol)
	}
	l.ReplID = f[1]
	if l.Offset, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return nil, fmt.Errorf("offset %q: %w", f[2], ErrProtocol)
	}
	if line, err = l.skipKeepalives(); err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(line, "$EOF:"):
		mark := []byte(line[5:])
		if len(mark) != 40 {
			return nil, fmt.Errorf("EOF mark %q: %w", line, ErrProtocol)
		}
		var buf bytes.Buffer
		for !bytes.HasSuffix(buf.Bytes(), mark) {
			b, err := l.br.ReadByte()
			if err != nil {
				return nil, err
			}
			buf.WriteByte(b)
			if buf.Len() > maxBulk {
				return nil, fmt.Errorf("RDB too large: %w", ErrProtocol)
			}
		}
		l.RDB = buf.Bytes()[:buf.Len()-40]
	case strings.HasPrefix(line, "$"):
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > maxBulk {
			return nil, fmt.Errorf("RDB length %q: %w", line, ErrProtocol)
		}
		l.RDB = make([]byte, n)
		if _, err := io.ReadFull(l.br, l.RDB); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("RDB header %q: %w", line, ErrProtocol)
	}
	conn.SetDeadline(time.Time{})
	go l.acker()
	return l, nil
}

// skipKeepalives reads the next line, skipping the bare "\n" keepalives a
// primary sends while it prepares the RDB.
func (l *Link) skipKeepalives() (string, error) {
	for {
		line, err := l.line()
		if err != nil || line != "" {
			return line, err
		}
	}
}

func (l *Link) line() (string, error) {
	s, err := l.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// WaitOnline waits until the primary lists this link as an online
// replica in INFO replication (the link announces listening-port 1).
//
// Having read the whole RDB is not enough: a diskless primary keeps the
// replica waiting for its BGSAVE child to be reaped (up to a cron tick
// after the transfer), and a FLUSHALL in that window kills the child
// and drops the replica (Redis 7.4 logs "Background transfer terminated
// by signal 10"). A test that writes to the primary right after Attach
// calls this first.
func (l *Link) WaitOnline(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if l.online() {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("repltest: %s did not list the link online within %v", l.addr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *Link) online() bool {
	c, err := net.DialTimeout("tcp", l.addr, 2*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n")); err != nil {
		return false
	}
	br := bufio.NewReader(c)
	head, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "$") {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	if err != nil || n < 0 || n > maxBulk {
		return false
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return false
	}
	for _, line := range strings.Split(string(body), "\r\n") {
		if strings.HasPrefix(line, "slave") && strings.Contains(line, ",port=1,state=online,") {
			return true
		}
	}
	return false
}

func (l *Link) send(args ...string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_, err := l.conn.Write(b.Bytes())
	return err
}

func (l *Link) acker() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			l.wmu.Lock()
			off := l.Offset
			l.wmu.Unlock()
			if l.send("REPLCONF", "ACK", strconv.FormatInt(off, 10)) != nil {
				return
			}
		}
	}
}

// Next returns the next propagated command. It blocks until one arrives
// or timeout passes (then it returns an error wrapping os.ErrDeadlineExceeded).
func (l *Link) Next(timeout time.Duration) ([][]byte, error) {
	l.conn.SetReadDeadline(time.Now().Add(timeout))
	n := int64(0)
	line, err := l.line()
	if err != nil {
		return nil, err
	}
	n += int64(len(line)) + 2
	if len(line) < 2 || line[0] != '*' {
		return nil, fmt.Errorf("command header %q: %w", line, ErrProtocol)
	}
	argc, err := strconv.Atoi(line[1:])
	if err != nil || argc < 1 || argc > 1<<20 {
		return nil, fmt.Errorf("argc %q: %w", line, ErrProtocol)
	}
	argv := make([][]byte, argc)
	for i := range argv {
		h, err := l.line()
		if err != nil {
			return nil, err
		}
		n += int64(len(h)) + 2
		if len(h) < 2 || h[0] != '$' {
			return nil, fmt.Errorf("bulk header %q: %w", h, ErrProtocol)
		}
		sz, err := strconv.Atoi(h[1:])
		if err != nil || sz < 0 || sz > maxBulk {
			return nil, fmt.Errorf("bulk length %q: %w", h, ErrProtocol)
		}
		argv[i] = make([]byte, sz+2)
		if _, err := io.ReadFull(l.br, argv[i]); err != nil {
			return nil, err
		}
		argv[i] = argv[i][:sz]
		n += int64(sz) + 2
	}
	l.wmu.Lock()
	l.Offset += n
	l.wmu.Unlock()
	return argv, nil
}

// Close closes the connection.
func (l *Link) Close() {
	l.once.Do(func() {
		close(l.done)
		l.conn.Close()
	})
}
