package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/vdr-project/vdr/internal/resp"
)

// Write forwarding (Options.ForwardWrites): a write command is sent to the
// primary over a small pool of connections and its reply relayed raw. The
// primary's reply is read as one complete RESP value (any RESP2/RESP3
// type, nested) so the connection stays in sync.

// ErrForward wraps forwarding failures.
var ErrForward = errors.New("server: forwarding failed")

const forwardTimeout = 10 * time.Second

// maxForwardReply bounds a relayed reply.
const maxForwardReply = 512 << 20

type fconn struct {
	nc   net.Conn
	br   *bufio.Reader
	addr string // the primary it was dialled to
}

// A forwarder sends writes to the primary the replica link follows now
// (current, when set: REPLICAOF and Sentinel move it), dropping pooled
// connections to a previous one. A -READONLY reply means the server it
// reached is a replica now (demoted in a failover): demoted is told, so
// the link re-discovers the primary at once.
type forwarder struct {
	addr, user, pass string
	current          func() string
	demoted          func()
	pool             chan *fconn
}

func newForwarder(addr, user, pass string, size int) *forwarder {
	return &forwarder{addr: addr, user: user, pass: pass, pool: make(chan *fconn, size)}
}

// target is the primary to forward to now.
func (f *forwarder) target() string {
	if f.current != nil {
		if a := f.current(); a != "" {
			return a
		}
	}
	return f.addr
}

func (f *forwarder) dial() (*fconn, error) {
	addr := f.target()
	nc, err := net.DialTimeout("tcp", addr, forwardTimeout)
	if err != nil {
		return nil, err
	}
	fc := &fconn{nc: nc, br: bufio.NewReader(nc), addr: addr}
	if f.pass != "" {
		args := [][]byte{[]byte("AUTH"), []byte(f.pass)}
		if f.user != "" {
			args = [][]byte{[]byte("AUTH"), []byte(f.user), []byte(f.pass)}
		}
		reply, err := fc.roundTrip(args)
		if err != nil {
			nc.Close()
			return nil, err
		}
		if len(reply) > 0 && reply[0] == '-' {
			nc.Close()
			return nil, fmt.Errorf("%w: AUTH: %s", ErrForward, bytes.TrimSpace(reply[1:]))
		}
	}
	return fc, nil
}

func (fc *fconn) roundTrip(args [][]byte) ([]byte, error) {
	b := resp.AppendArray(nil, args)
	fc.nc.SetDeadline(time.Now().Add(forwardTimeout))
	if _, err := fc.nc.Write(b); err != nil {
		return nil, err
	}
	var out []byte
	if err := readReply(fc.br, &out, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// readReply appends one complete RESP value to out.
func readReply(br *bufio.Reader, out *[]byte, depth int) error {
	if depth > 64 {
		return fmt.Errorf("%w: reply nested too deep", ErrForward)
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return fmt.Errorf("%w: bad reply line", ErrForward)
	}
	*out = append(*out, line...)
	if len(*out) > maxForwardReply {
		return fmt.Errorf("%w: reply too large", ErrForward)
	}
	n, _ := parseLL(line[1 : len(line)-2])
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		if n > maxForwardReply {
			return fmt.Errorf("%w: reply too large", ErrForward)
		}
		start := len(*out)
		*out = append(*out, make([]byte, n+2)...)
		_, err := ioReadFull(br, (*out)[start:])
		return err
	case '*', '~', '>':
		for i := int64(0); i < n; i++ {
			if err := readReply(br, out, depth+1); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := int64(0); i < 2*n; i++ {
			if err := readReply(br, out, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func ioReadFull(br *bufio.Reader, b []byte) (int, error) {
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

func (f *forwarder) do(args [][]byte) ([]byte, error) {
	var fc *fconn
	select {
	case fc = <-f.pool:
		if fc.addr != f.target() { // the primary moved
			fc.nc.Close()
			fc = nil
		}
	default:
	}
	if fc == nil {
		var err error
		if fc, err = f.dial(); err != nil {
			return nil, err
		}
	}
	reply, err := fc.roundTrip(args)
	if err != nil {
		fc.nc.Close()
		return nil, err
	}
	if bytes.HasPrefix(reply, []byte("-READONLY")) && f.demoted != nil {
		f.demoted()
	}
	select {
	case f.pool <- fc:
	default:
		fc.nc.Close()
	}
	return reply, nil
}

func (f *forwarder) close() {
	for {
		select {
		case fc := <-f.pool:
			fc.nc.Close()
		default:
			return
		}
	}
}
