package replica

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	respenc "github.com/vdr-project/vdr/internal/resp"
)

// bigBulkBytes is the size above which a bulk string is read in growing
// chunks instead of being allocated at its announced length, so a primary
// that announces 512 MiB and sends 10 bytes costs 1 MiB, not 512.
const bigBulkBytes = 1 << 20

// maxReplyDepth bounds nested arrays in a handshake or Sentinel reply.
const maxReplyDepth = 8

// maxReplyElems bounds one array in a handshake or Sentinel reply.
const maxReplyElems = 1 << 16

// reader reads RESP from the primary. Commands are decoded into an arena
// that is reused once their batch was delivered: slices handed out stay
// valid until reset, or until the second rotate after they were read.
// When the arena grows it is replaced, not copied, so older slices keep
// pointing at the old (unchanged) memory.
//
// Two arenas alternate (rotate), because the stream delivers a batch
// from inside a socket read, while a command may be half decoded: that
// command's bytes must survive, the delivered ones may be overwritten.
type reader struct {
	br           *bufio.Reader
	src          *hookReader // what br reads from
	maxBulk      int64
	maxMultibulk int64

	arena, spare    []byte
	args, spareArgs [][]byte
	cur             [][]byte // the command being decoded
	gen             int      // rotations so far
	cmdGen          int      // gen when the command being decoded started
	inCommand       bool
}

// newReader returns a reader of src with a bufio.Reader of
// o.ReadBufferBytes.
func newReader(src io.Reader, o *Options) *reader {
	h := &hookReader{r: src}
	return &reader{br: bufio.NewReaderSize(h, o.ReadBufferBytes), src: h,
		maxBulk: o.MaxBulkBytes, maxMultibulk: o.MaxMultibulkLen}
}

// hookReader calls before ahead of every read of the socket: the stream
// uses it to deliver the commands it holds before it may block, even
// when the buffer ends in the middle of a command.
// When last is set, every read that returns bytes stores the time in it
// (Client.LastRead: the primary's PINGs and newlines count, as every byte
// resets Redis's master->lastinteraction).
type hookReader struct {
	r      io.Reader
	before func() error
	last   *atomic.Int64 // Unix ns of the last read that returned bytes
	count  *atomic.Int64 // bytes read (Options.ReadBytes), or nil
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.before != nil {
		if err := h.before(); err != nil {
			return 0, err
		}
	}
	n, err := h.r.Read(p)
	if n > 0 && h.count != nil {
		h.count.Add(int64(n))
	}
	if n > 0 && h.last != nil {
		h.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// reset forgets every slice handed out: only when nothing is live.
func (r *reader) reset() {
	r.arena = r.arena[:0]
	r.args = r.args[:0]
}

// rotate switches to the other arena and empties it, when that is safe:
// every command decoded before the previous rotation was delivered (the
// caller's promise) and the command being decoded, if any, started after
// it. It reports whether it rotated.
func (r *reader) rotate() bool {
	if r.inCommand && r.cmdGen != r.gen {
		return false
	}
	r.arena, r.spare = r.spare[:0], r.arena
	r.args, r.spareArgs = r.spareArgs[:0], r.args
	r.gen++ // a command in progress now straddles both: no more rotation until it ends
	return true
}

// quote shows at most 32 bytes of bad input in an error.
func quote(b []byte) string {
	if len(b) > 32 {
		return strconv.Quote(string(b[:32])) + "…"
	}
	return strconv.Quote(string(b))
}

// readLine reads one line and returns it without its "\r\n", plus the
// number of bytes consumed. A line must end in "\r\n" and fit in the
// bufio.Reader's buffer.
func (r *reader) readLine() (line []byte, n int, err error) {
	b, err := r.br.ReadSlice('\n')
	n = len(b)
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, n, fmt.Errorf("%w: line longer than %d bytes: %s", ErrProtocol, r.br.Size(), quote(b))
		}
		if errors.Is(err, io.EOF) && n > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, n, err
	}
	if n < 2 || b[n-2] != '\r' {
		return nil, n, fmt.Errorf("%w: line not ended by CRLF: %s", ErrProtocol, quote(b))
	}
	return b[:n-2], n, nil
}

// parseInt parses a RESP length or integer: an optional '-' and 1 to 18
// decimal digits (no '+', no spaces), so it can't overflow.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// readCommand reads one command of the replication stream: a RESP array of
// bulk strings (anything else is ErrProtocol). It returns the argv (valid
// until reset; nil for an empty array "*0", which Redis also accepts and
// ignores) and the exact number of bytes consumed, for offset accounting.
func (r *reader) readCommand() (argv [][]byte, n int64, err error) {
	line, ln, err := r.readLine()
	n = int64(ln)
	if err != nil {
		return nil, n, err
	}
	if len(line) == 0 || line[0] != '*' {
		return nil, n, fmt.Errorf("%w: expected a RESP array in the command stream, got %s", ErrProtocol, quote(line))
	}
	count, ok := parseInt(line[1:])
	if !ok {
		return nil, n, fmt.Errorf("%w: invalid multibulk length %s", ErrProtocol, quote(line))
	}
	if count <= 0 {
		return nil, n, nil
	}
	if count > r.maxMultibulk {
		return nil, n, fmt.Errorf("%w: multibulk length %d > %d", ErrTooLarge, count, r.maxMultibulk)
	}
	r.inCommand, r.cmdGen = true, r.gen
	defer func() { r.inCommand = false }()
	clear(r.cur)
	r.cur = r.cur[:0]
	for i := int64(0); i < count; i++ {
		line, ln, err := r.readLine()
		n += int64(ln)
		if err != nil {
			return nil, n, unexpected(err)
		}
		if len(line) == 0 || line[0] != '$' {
			return nil, n, fmt.Errorf("%w: expected '$', got %s", ErrProtocol, quote(line))
		}
		size, ok := parseInt(line[1:])
		if !ok || size < 0 {
			return nil, n, fmt.Errorf("%w: invalid bulk length %s", ErrProtocol, quote(line))
		}
		if size > r.maxBulk {
			return nil, n, fmt.Errorf("%w: bulk length %d > %d", ErrTooLarge, size, r.maxBulk)
		}
		arg, err := r.readBulkBody(int(size))
		n += int64(len(arg))
		if err != nil {
			return nil, n, err
		}
		n += 2
		r.cur = append(r.cur, arg[:size:size])
	}
	// The argv goes to the current arena's list whole, so it is one
	// contiguous slice even when a rotation happened while decoding.
	start := len(r.args)
	r.args = append(r.args, r.cur...)
	return r.args[start:len(r.args):len(r.args)], n, nil
}

// readBulkBody reads size bytes plus the "\r\n" that must follow, and
// returns the size bytes. Small ones go to the arena.
func (r *reader) readBulkBody(size int) ([]byte, error) {
	need := size + 2
	var buf []byte
	if size > bigBulkBytes {
		var err error
		buf, err = readGrowing(r.br, need)
		if err != nil {
			return buf, err
		}
	} else {
		if cap(r.arena)-len(r.arena) < need {
			r.arena = make([]byte, 0, max(2*cap(r.arena), need, 4096))
		}
		at := len(r.arena)
		r.arena = r.arena[:at+need]
		buf = r.arena[at : at+need : at+need]
		// The read may rotate the arena (see stream.run): buf stays valid.
		if m, err := io.ReadFull(r.br, buf); err != nil {
			return buf[:m], unexpected(err)
		}
	}
	if buf[size] != '\r' || buf[size+1] != '\n' {
		return buf[:size], fmt.Errorf("%w: bulk string of %d bytes not followed by CRLF", ErrProtocol, size)
	}
	return buf[:size], nil
}

// readGrowing reads exactly n bytes, growing its buffer as bytes arrive
// (never more than twice what was received).
func readGrowing(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, bigBulkBytes)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), n))
			copy(grown, buf)
			buf = grown
		}
		k := min(cap(buf), n) - len(buf)
		m, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, unexpected(err)
		}
	}
	return buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// replyError is an error reply ("-ERR …") from the primary or a sentinel.
type replyError string

func (e replyError) Error() string { return string(e) }

// readReply reads one RESP2 reply for the handshake and Sentinel: a
// simple string (string), an error (replyError), an integer (int64), a
// bulk string ([]byte, copied), a null (nil) or an array ([]any).
func (r *reader) readReply() (any, error) { return r.readReplyDepth(0) }

func (r *reader) readReplyDepth(depth int) (any, error) {
	line, _, err := r.readLine()
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, fmt.Errorf("%w: empty reply line", ErrProtocol)
	}
	switch line[0] {
	case '+':
		return string(line[1:]), nil
	case '-':
		return replyError(line[1:]), nil
	case ':':
		v, ok := parseInt(line[1:])
		if !ok {
			return nil, fmt.Errorf("%w: invalid integer reply %s", ErrProtocol, quote(line))
		}
		return v, nil
	case '$':
		size, ok := parseInt(line[1:])
		if !ok || size < -1 {
			return nil, fmt.Errorf("%w: invalid bulk length %s", ErrProtocol, quote(line))
		}
		if size == -1 {
			return nil, nil
		}
		if size > r.maxBulk {
			return nil, fmt.Errorf("%w: bulk length %d > %d", ErrTooLarge, size, r.maxBulk)
		}
		buf, err := readGrowing(r.br, int(size)+2)
		if err != nil {
			return nil, err
		}
		if buf[size] != '\r' || buf[size+1] != '\n' {
			return nil, fmt.Errorf("%w: bulk reply not followed by CRLF", ErrProtocol)
		}
		return buf[:size], nil
	case '*':
		count, ok := parseInt(line[1:])
		if !ok || count < -1 {
			return nil, fmt.Errorf("%w: invalid array length %s", ErrProtocol, quote(line))
		}
		if count == -1 {
			return nil, nil
		}
		if count > maxReplyElems || depth >= maxReplyDepth {
			return nil, fmt.Errorf("%w: array reply of %d elements at depth %d", ErrTooLarge, count, depth)
		}
		out := make([]any, 0, count)
		for i := int64(0); i < count; i++ {
			v, err := r.readReplyDepth(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: unknown reply %s", ErrProtocol, quote(line))
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte { return appendArray(b, args) }

// appendArray appends args as a RESP array of bulk strings.
func appendArray[T string | []byte](b []byte, args []T) []byte { return respenc.AppendArray(b, args) }
