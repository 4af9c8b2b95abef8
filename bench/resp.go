package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// conn is a minimal RESP2 client connection: enough to send pipelined
// commands and read their replies. The harness avoids a client library so
// that both servers see exactly the same bytes.
type conn struct {
	c  net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
	to time.Duration
}

func dial(addr string, timeout time.Duration) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10), to: timeout}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// send buffers one command; flush sends what is buffered.
func (c *conn) send(args ...string) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
}

func (c *conn) flush() error {
	c.c.SetDeadline(time.Now().Add(c.to))
	return c.w.Flush()
}

// do sends one command and returns its reply.
func (c *conn) do(args ...string) (reply, error) {
	c.send(args...)
	if err := c.flush(); err != nil {
		return reply{}, err
	}
	return c.read()
}

// reply is a decoded RESP2 reply: a status/error/bulk as str (nil bulk:
// null), an integer, or an array.
type reply struct {
	kind  byte // '+', '-', ':', '$', '*'
	str   string
	num   int64
	null  bool
	array []reply
}

func (r reply) err() error {
	if r.kind == '-' {
		return errors.New(r.str)
	}
	return nil
}

func (c *conn) read() (reply, error) {
	c.c.SetDeadline(time.Now().Add(c.to))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return reply{}, err
	}
	if len(line) < 3 {
		return reply{}, fmt.Errorf("bench: short reply %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-':
		return reply{kind: line[0], str: body}, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		return reply{kind: ':', num: n}, err
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return reply{}, err
		}
		if n < 0 {
			return reply{kind: '$', null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return reply{}, err
		}
		return reply{kind: '$', str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return reply{}, err
		}
		if n < 0 {
			return reply{kind: '*', null: true}, nil
		}
		out := reply{kind: '*', array: make([]reply, n)}
		for i := range out.array {
			if out.array[i], err = c.read(); err != nil {
				return reply{}, err
			}
		}
		return out, nil
	}
	return reply{}, fmt.Errorf("bench: unexpected reply %q", line)
}

// info returns the fields of one INFO section as a map.
func info(addr, section string) (map[string]string, error) {
	c, err := dial(addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r, err := c.do("INFO", section)
	if err != nil {
		return nil, err
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(r.str, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = v
		}
	}
	return m, nil
}
