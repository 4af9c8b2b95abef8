package server

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// parseAllBuffered parses data as the event loop does: room gives the
// free tail, the bytes "arrive" in pieces of the given sizes (then the
// rest), and buffered returns the complete requests. The rendering and
// the final error are those of parseAll.
func parseAllBuffered(rd *reader, data []byte, sizes []int) (string, error) {
	var out bytes.Buffer
	for {
		for {
			args, err := rd.buffered()
			if err != nil {
				return out.String(), err
			}
			if args == nil {
				break
			}
			out.WriteByte('[')
			for _, a := range args {
				out.Write(a)
				out.WriteByte('|')
			}
			out.WriteByte(']')
		}
		if len(data) == 0 {
			return out.String(), io.EOF
		}
		n := len(data)
		if len(sizes) > 0 {
			n = max(1, min(sizes[0], n))
			sizes = sizes[1:]
		}
		b := rd.room()
		if len(b) == 0 {
			return out.String(), errors.New("room returned no space")
		}
		n = copy(b, data[:n])
		rd.w += n
		data = data[n:]
	}
}

// TestReaderBufferedEverySplit checks that the event loop's way of
// parsing (room + buffered, no io.Reader) gives what next gives, with the
// input split in two at every byte and also one byte at a time.
func TestReaderBufferedEverySplit(t *testing.T) {
	authed := func() bool { return true }
	for _, in := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n*-1\r\nPING\r\n",
		"\r\n\n  \nPING a  b\nECHO \"a\\x41\\n\" 'it\\'s'\r\n",
		"*1\r\n$3\r\nabcXY*1\r\n$4\r\nPING\r\n",
		"*1\r\n$" + "40" + "\r\n" + strings.Repeat("z", 40) + "\r\nPING\r\n",
		"PING\r\n*1\r\n$101\r\n",
		"PING\r\n*1001\r\n",
		"PING\r\n*1\r\n+x\r\n",
		"PING\r\nset \"a\"b\r\n",
		"*1\r\n$3\r\nGET\r\n" + strings.Repeat("x", 200),
	} {
		want, wantErr := parseAll(newReader(&chunkReader{data: []byte(in)}, 100, 1000, authed))
		check := func(name string, sizes []int) {
			t.Helper()
			rd := newReader(nil, 100, 1000, authed)
			rd.buf = make([]byte, 8) // small, so that room must grow it
			got, err := parseAllBuffered(rd, []byte(in), sizes)
			if got != want || errors.Is(err, ErrProtocol) != errors.Is(wantErr, ErrProtocol) {
				t.Errorf("%q %s: got %q (%v) want %q (%v)", in, name, got, err, want, wantErr)
			}
		}
		for i := 1; i <= len(in); i++ {
			check("split at "+strconv.Itoa(i), []int{i})
		}
		ones := make([]int, len(in))
		for i := range ones {
			ones[i] = 1
		}
		check("byte by byte", ones)
	}
}

// FuzzReaderBuffered checks that the event loop's parsing agrees with
// next on arbitrary input in arbitrary pieces, and never panics.
func FuzzReaderBuffered(f *testing.F) {
	for _, s := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "PING\r\n", "*1\r\n$-1\r\n", "ECHO \"a\\x41\" 'b'\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\n", "*99999999999999999999\r\n",
	} {
		f.Add([]byte(s), uint8(3), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		authed := func() bool { return true }
		want, errW := parseAll(newReader(&chunkReader{data: data}, 1<<16, 1<<10, authed))
		got, errG := parseAllBuffered(newReader(nil, 1<<16, 1<<10, authed), data, []int{int(a), int(b), int(a) + int(b)})
		if want != got || errors.Is(errW, ErrProtocol) != errors.Is(errG, ErrProtocol) {
			t.Fatalf("next %q (%v) != buffered %q (%v)", want, errW, got, errG)
		}
	})
}
