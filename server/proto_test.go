package server

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// chunkReader returns its data in pieces of the given sizes (then the rest).
type chunkReader struct {
	data  []byte
	sizes []int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = min(r.sizes[0], n)
		r.sizes = r.sizes[1:]
		if n == 0 {
			n = 1
		}
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// parseAll reads every request from rd, rendering them as one string, and
// the final error (io.EOF at a clean end).
func parseAll(rd *reader) (string, error) {
	var out bytes.Buffer
	for {
		args, err := rd.next(func() error { return nil })
		if err != nil {
			return out.String(), err
		}
		out.WriteByte('[')
		for _, a := range args {
			out.Write(a)
			out.WriteByte('|')
		}
		out.WriteByte(']')
	}
}

func TestReaderTable(t *testing.T) {
	f := func(in, want string, wantErr error) {
		t.Helper()
		rd := newReader(&chunkReader{data: []byte(in)}, 100, 1000, func() bool { return true })
		got, err := parseAll(rd)
		if got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
		if wantErr == nil {
			wantErr = io.EOF
		}
		if !errors.Is(err, wantErr) {
			t.Errorf("%q: err %v want %v", in, err, wantErr)
		}
	}
	f("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "[GET|k|]", nil)
	f("*0\r\n*-1\r\nPING\r\n", "[PING|]", nil)
	f("\r\n\n  \nPING a  b\n", "[PING|a|b|]", nil)
	f("*1\r\n$3\r\nabcXY", "[abc|]", nil) // Redis skips the 2 bytes after the data unchecked
	f("*1\r\n$101\r\n", "", ErrProtocol)
	f("*1001\r\n", "", ErrProtocol)
	f("*1\r\n+x\r\n", "", ErrProtocol)
	f("set \"a\"b\r\n", "", ErrProtocol)
	f("set 'a\r\n", "", ErrProtocol)
	f("ECHO \"\\x4g\"\r\n", "[ECHO|x4g|]", nil) // a bad \xHH escape keeps the x
}

// FuzzReader parses arbitrary input whole and split in two: both must
// agree, and nothing may panic.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "PING\r\n", "*1\r\n$-1\r\n", "ECHO \"a\\x41\" 'b'\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\n", "*99999999999999999999\r\n",
	} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		authed := func() bool { return true }
		whole, errW := parseAll(newReader(&chunkReader{data: data}, 1<<16, 1<<10, authed))
		if cut < 0 {
			cut = -cut
		}
		split, errS := parseAll(newReader(&chunkReader{data: data, sizes: []int{cut%(len(data)+1) + 1, 1, 2, 3}}, 1<<16, 1<<10, authed))
		if whole != split || errors.Is(errW, ErrProtocol) != errors.Is(errS, ErrProtocol) {
			t.Fatalf("whole %q (%v) != split %q (%v)", whole, errW, split, errS)
		}
	})
}
