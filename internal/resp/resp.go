// Package resp is a minimal RESP2 client for vdr's own tools (bench,
// vdr verify): one connection, pipelined sends, decoded replies. It is not
// a general client library: no pooling, no RESP3, no cluster.
package resp

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

// Conn is one client connection: enough to send pipelined commands and
// read their replies. Tools use it instead of a client library so that
// every server they talk to sees exactly the same bytes.
type Conn struct {
	c  net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
	to time.Duration
}

// Dial connects to addr; timeout bounds the dial and every later read or
// write.
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10), to: timeout}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Send buffers one command; Flush sends what is buffered.
func (c *Conn) Send(args ...string) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
}

// Flush sends the buffered commands.
func (c *Conn) Flush() error {
	c.c.SetDeadline(time.Now().Add(c.to))
	return c.w.Flush()
}

// Do sends one command and returns its reply.
func (c *Conn) Do(args ...string) (Reply, error) {
	c.Send(args...)
	if err := c.Flush(); err != nil {
		return Reply{}, err
	}
	return c.Read()
}

// Reply is a decoded RESP2 reply: a status, error or bulk string in Str
// (Null for a nil bulk or array), an integer in Num, or an array.
type Reply struct {
	Kind  byte // '+', '-', ':', '$', '*'
	Str   string
	Num   int64
	Null  bool
	Array []Reply
}

// Err returns the error reply as an error, nil for any other reply.
func (r Reply) Err() error {
	if r.Kind == '-' {
		return errors.New(r.Str)
	}
	return nil
}

// Read reads one reply.
func (c *Conn) Read() (Reply, error) {
	c.c.SetDeadline(time.Now().Add(c.to))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return Reply{}, err
	}
	if len(line) < 3 {
		return Reply{}, fmt.Errorf("resp: short reply %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-':
		return Reply{Kind: line[0], Str: body}, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		return Reply{Kind: ':', Num: n}, err
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return Reply{}, err
		}
		if n < 0 {
			return Reply{Kind: '$', Null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return Reply{}, err
		}
		return Reply{Kind: '$', Str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return Reply{}, err
		}
		if n < 0 {
			return Reply{Kind: '*', Null: true}, nil
		}
		out := Reply{Kind: '*', Array: make([]Reply, n)}
		for i := range out.Array {
			if out.Array[i], err = c.Read(); err != nil {
				return Reply{}, err
			}
		}
		return out, nil
	}
	return Reply{}, fmt.Errorf("resp: unexpected reply %q", line)
}

// Info returns the fields of one INFO section of the server at addr.
func Info(addr, section string) (map[string]string, error) {
	c, err := Dial(addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r, err := c.Do("INFO", section)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(r.Str, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = v
		}
	}
	return m, nil
}

// AppendArray appends args as a RESP array of bulk strings: a command as
// a client sends it, or as a primary propagates it.
func AppendArray[T string | []byte](b []byte, args []T) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
