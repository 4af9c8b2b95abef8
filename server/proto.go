package server

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
)

// The request reader.
//
// vdr parses client requests itself instead of with redcon's Reader
// (tidwall/redcon redcon.go readCommands): that reader accepts any bulk
// length and multibulk count and grows its buffer without bound, and
// copies every command. This one enforces Redis's limits before buffering
// (proto-max-bulk-len, the unauthenticated limits of processMultibulkBuffer
// in src/networking.c) and hands out arguments that point into its buffer.
//
// Request forms (src/networking.c processMultibulkBuffer / processInlineBuffer):
//
//	multibulk:  *<argc>\r\n  then argc times  $<len>\r\n<len bytes>\r\n
//	inline:     arg arg "quoted\x41" 'single'\n      (sdssplitargs rules)
//
// Lifetime rule: the [][]byte returned by next, and every slice in it, is
// valid only until the following call to next; copy what you keep.
//
// A request of more than bigArgc arguments (EXISTS or MGET of a million
// keys) is parsed differently: each argument, once whole, is copied into
// an arena of 64 KiB blocks and the bytes it came in are consumed at once,
// so the read buffer stays one read chunk wide instead of holding the
// whole request, and the [][]byte is built as the arguments arrive rather
// than in one pass over a million offsets when the last byte comes. Per
// argument that costs a slice header (24 bytes) and the argument's bytes,
// about what Redis spends on an robj and its sds (processMultibulkBuffer
// copies arguments under PROTO_MBULK_BIG_ARG too).

// Limits of src/server.h.
const (
	protoInlineMaxSize  = 64 * 1024 // PROTO_INLINE_MAX_SIZE
	unauthMultibulkMax  = 10        // processMultibulkBuffer: "unauthenticated multibulk length"
	unauthBulkMax       = 16384     // "unauthenticated bulk length"
	readChunk           = 16 * 1024 // PROTO_IOBUF_LEN
	maxIntMultibulk     = 1<<31 - 1 // INT_MAX
	defaultMaxBulkBytes = 512 << 20 // proto-max-bulk-len default

	// bigArgc is the argument count past which a request is parsed into
	// the arena (Redis sizes argv for at most 1024 arguments before it
	// grows it: processMultibulkBuffer).
	bigArgc = 1024
	// arenaBlock is the size of one arena block; an argument over a
	// quarter of it gets an allocation of its own.
	arenaBlock = 64 << 10
)

// protoError is a request that breaks the protocol; the connection replies
// "-ERR Protocol error: <msg>" and closes, as Redis does.
type protoError struct{ msg string }

// Error returns the text Redis sends after "-ERR ".
func (e *protoError) Error() string { return "Protocol error: " + e.msg }

// ErrProtocol is what errors.Is matches for every protocol error.
var ErrProtocol = errors.New("server: protocol error")

// Is makes errors.Is(err, ErrProtocol) true for every protocol error.
func (e *protoError) Is(target error) bool { return target == ErrProtocol }

type reader struct {
	rd       io.Reader
	buf      []byte
	r, w     int
	need     int // bytes that must be buffered before parsing again
	args     [][]byte
	head     mbState // the request at r, parsed as far as it has arrived
	ahead    mbState // scratch for parsing requests beyond r (hintAhead)
	headers  int64   // argument headers parsed: tests check none is parsed twice
	maxBulk  int64
	maxMulti int64
	authed   func() bool
	nread    int64
	arena    []byte        // the current block of big requests' arguments (copyArg)
	done     *bigArgs      // a whole big request, for take
	netIn    *atomic.Int64 // the server's total_net_input_bytes, counted as read; may be nil
}

// addRead counts n bytes read from the socket.
func (rd *reader) addRead(n int) {
	rd.nread += int64(n)
	if rd.netIn != nil && n > 0 {
		rd.netIn.Add(int64(n))
	}
}

func newReader(rd io.Reader, maxBulk, maxMulti int64, authed func() bool) *reader {
	return &reader{rd: rd, buf: make([]byte, readChunk), maxBulk: maxBulk, maxMulti: maxMulti, authed: authed}
}

// next returns the next request's arguments. beforeBlock runs whenever no
// complete request is buffered and next must wait on the network (the
// connection flushes its pending replies there: that is what makes
// pipelining work). Empty requests (blank inline lines, "*0") are skipped.
func (rd *reader) next(beforeBlock func() error) ([][]byte, error) {
	for {
		args, err := rd.buffered()
		if err != nil || args != nil {
			return args, err
		}
		if err := beforeBlock(); err != nil {
			return nil, err
		}
		m, err := rd.rd.Read(rd.room())
		rd.w += m
		rd.addRead(m)
		if err != nil && m == 0 {
			return nil, err
		}
	}
}

// buffered returns the next complete request already in the buffer, or
// nil, nil when more bytes must arrive first. It never reads: the event
// loop (loop_linux.go) fills the buffer itself through room. The same
// lifetime rule as next applies.
func (rd *reader) buffered() ([][]byte, error) {
	args, big, err := rd.take()
	if big != nil {
		args = big.flatten()
	}
	return args, err
}

// take is buffered that leaves a big request (more than bigArgc
// arguments) in the pieces it was parsed into: the event loop flattens
// it where it runs it, off the loop (loop_linux.go offload). One of args
// and big is set, or neither (nothing complete yet, or an error).
func (rd *reader) take() (args [][]byte, big *bigArgs, err error) {
	for rd.w-rd.r >= rd.need {
		args, n, err := rd.parse(rd.buf[rd.r:rd.w])
		if err != nil {
			return nil, nil, err
		}
		if n == 0 {
			break
		}
		// n bytes are consumed: a request (run it unless it is empty),
		// a whole big request (in rd.done), or whole arguments of a big
		// request still arriving (parse has set rd.need from the new
		// start).
		rd.r += n
		if len(args) > 0 {
			return args, nil, nil
		}
		if big := rd.done; big != nil {
			rd.done = nil
			return nil, big, nil
		}
	}
	return nil, nil, nil
}

// room moves the unparsed bytes to the front of the buffer, grows it when
// it is full, and returns the free tail to read into (never empty). The
// caller adds what it read to rd.w (and rd.nread). It invalidates the
// arguments returned before.
//
// The buffer grows with what arrives, never with what a request declares:
// at most doubling, and only when full, so it never holds more than twice
// the bytes a client has sent (plus one read chunk). A declared bulk
// length of 500 MB followed by nothing costs 16 KB, not 500 MB of zeroed
// memory; a real 500 MB argument costs about 20 doublings whose copies add
// up to its size once more. (Redis reserves the declared length, but its
// allocator leaves untouched pages out of RSS; Go zeroes them.)
func (rd *reader) room() []byte {
	if rd.r > 0 {
		copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.w -= rd.r
		rd.r = 0
	}
	if len(rd.buf) == 0 {
		rd.buf = make([]byte, readChunk)
	}
	if rd.w == len(rd.buf) {
		n := 2 * len(rd.buf)
		if rd.need > len(rd.buf) && rd.need < n {
			n = rd.need
		}
		nb := make([]byte, n)
		copy(nb, rd.buf[:rd.w])
		rd.buf = nb
	} else if rd.w == 0 && len(rd.buf) > 4*readChunk {
		// Drop a buffer grown for one big request.
		rd.buf = make([]byte, readChunk)
	}
	return rd.buf[rd.w:]
}

// release drops the buffers of a closed connection at once (the reader
// itself may stay reachable for a while).
func (rd *reader) release() {
	rd.buf, rd.args, rd.r, rd.w, rd.need = nil, nil, 0, 0, 0
	rd.head, rd.ahead = mbState{}, mbState{}
	rd.arena, rd.done = nil, nil
}

// mbState is how far a multibulk request has been parsed: a request with
// millions of arguments arrives over many reads, and each read parses
// only what is new (re-parsing from its start made it quadratic).
// Offsets are relative to where the request starts, so they survive room
// moving the buffer.
type mbState struct {
	count int64  // arguments announced; 0: the header is not parsed yet
	pos   int    // where the next argument's header starts
	spans []span // the arguments parsed so far
	// big: count > bigArgc, parsed into args (arena copies) as the
	// arguments arrive, and rd.r moves past every whole argument.
	big  bool
	args *bigArgs
}

type span struct{ start, end int }

func (st *mbState) reset() {
	st.count, st.pos, st.big = 0, 0, false
	st.spans = st.spans[:0]
	if cap(st.spans) > bigArgc {
		st.spans = nil // drop what one huge request grew
	}
	st.args = nil // handed out (big), never reused
}

// bigArgs holds a big request's arguments in chunks of bigChunk, so that
// collecting a million of them never copies the ones collected before
// (appending to one slice did, in steps of up to 20 MB on the loop);
// flatten makes the one [][]byte commands take.
type bigArgs struct {
	chunks [][][]byte
	n      int
}

const bigChunk = 4096

func (ba *bigArgs) add(a []byte) {
	if ba.n%bigChunk == 0 {
		ba.chunks = append(ba.chunks, make([][]byte, 0, bigChunk))
	}
	last := len(ba.chunks) - 1
	ba.chunks[last] = append(ba.chunks[last], a)
	ba.n++
}

// flatten returns the arguments as one slice and drops the chunks.
func (ba *bigArgs) flatten() [][]byte {
	args := make([][]byte, 0, ba.n)
	for i, ch := range ba.chunks {
		args = append(args, ch...)
		ba.chunks[i] = nil
	}
	ba.chunks = nil
	return args
}

// copyArg copies a whole argument of a big request into the arena.
func (rd *reader) copyArg(p []byte) []byte {
	if len(p) > arenaBlock/4 {
		return append([]byte(nil), p...)
	}
	if cap(rd.arena)-len(rd.arena) < len(p) {
		// The full block stays alive through the arguments in it.
		rd.arena = make([]byte, 0, arenaBlock)
	}
	n := len(rd.arena)
	rd.arena = append(rd.arena, p...)
	return rd.arena[n:len(rd.arena):len(rd.arena)]
}

// parse parses one request from b, which starts at the request at r: the
// arguments, the bytes consumed (0: incomplete, rd.need says how many are
// needed), or a protocol error. What it parsed of an incomplete multibulk
// request is kept for the next call.
func (rd *reader) parse(b []byte) ([][]byte, int, error) {
	rd.need = 0
	return rd.parseWith(b, &rd.head)
}

// parseAhead is parse for a request beyond r; it keeps nothing. A big
// request reports 0 bytes (incomplete): the look-ahead stops there.
func (rd *reader) parseAhead(b []byte) ([][]byte, int, error) {
	defer rd.ahead.reset()
	return rd.parseWith(b, &rd.ahead)
}

func (rd *reader) parseWith(b []byte, st *mbState) ([][]byte, int, error) {
	if len(b) == 0 {
		return nil, 0, nil
	}
	if st.big {
		return rd.parseBig(b, st)
	}
	if b[0] != '*' {
		return rd.parseInline(b)
	}
	if st.count == 0 {
		cr := bytes.IndexByte(b, '\r')
		if cr < 0 || cr+1 >= len(b) {
			if len(b) > protoInlineMaxSize {
				return nil, 0, &protoError{"too big mbulk count string"}
			}
			return nil, 0, nil
		}
		count, ok := parseLL(b[1:cr])
		if !ok || count > maxIntMultibulk || count > rd.maxMulti {
			return nil, 0, &protoError{"invalid multibulk length"}
		}
		if count > unauthMultibulkMax && !rd.authed() {
			return nil, 0, &protoError{"unauthenticated multibulk length"}
		}
		if count <= 0 {
			return rd.args[:0], cr + 2, nil
		}
		if count > bigArgc {
			if st == &rd.ahead {
				return nil, 0, nil
			}
			// The header is consumed now; the arguments as they come.
			st.count, st.pos, st.big = count, 0, true
			st.args = &bigArgs{}
			return nil, cr + 2, nil
		}
		st.count, st.pos = count, cr+2
	}
	pos := st.pos
	for i := int64(len(st.spans)); i < st.count; i++ {
		if pos >= len(b) {
			return nil, 0, nil
		}
		start, end, ok, err := rd.argHeader(b, pos)
		if err != nil || !ok {
			return nil, 0, err
		}
		if end+2 > len(b) {
			// Remember how much must arrive before trying again, so a
			// big argument is not re-parsed on every read.
			rd.need = end + 2
			return nil, 0, nil
		}
		// Like Redis, the two bytes after the data are skipped unchecked.
		st.spans = append(st.spans, span{start, end})
		rd.headers++
		pos = end + 2
		st.pos = pos
	}
	args := rd.args[:0]
	for _, sp := range st.spans {
		args = append(args, b[sp.start:sp.end:sp.end])
	}
	rd.args = args
	st.reset()
	return args, pos, nil
}

// parseBig parses the arguments of a big request that are whole in b (b
// starts where the previous call stopped), copies them into the arena
// and reports them consumed; once the last one is in, the request goes
// to rd.done.
func (rd *reader) parseBig(b []byte, st *mbState) ([][]byte, int, error) {
	pos := 0
	for int64(st.args.n) < st.count {
		if pos >= len(b) {
			return nil, pos, nil
		}
		start, end, ok, err := rd.argHeader(b, pos)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			return nil, pos, nil
		}
		if end+2 > len(b) {
			rd.need = end + 2 - pos // from where the next call starts
			return nil, pos, nil
		}
		st.args.add(rd.copyArg(b[start:end]))
		rd.headers++
		pos = end + 2
	}
	rd.done = st.args
	st.reset()
	return nil, pos, nil
}

// argHeader parses the "$<len>\r\n" at b[pos:]: where the data starts
// and ends (which may be past b); ok is false while the header has not
// fully arrived.
func (rd *reader) argHeader(b []byte, pos int) (start, end int, ok bool, err error) {
	cr := bytes.IndexByte(b[pos:], '\r')
	if cr < 0 || pos+cr+1 >= len(b) {
		if len(b)-pos > protoInlineMaxSize {
			return 0, 0, false, &protoError{"too big bulk count string"}
		}
		return 0, 0, false, nil
	}
	cr += pos
	if b[pos] != '$' {
		return 0, 0, false, &protoError{"expected '$', got '" + string(b[pos]) + "'"}
	}
	n, valid := parseLL(b[pos+1 : cr])
	if !valid || n < 0 || n > rd.maxBulk {
		return 0, 0, false, &protoError{"invalid bulk length"}
	}
	if n > unauthBulkMax && !rd.authed() {
		return 0, 0, false, &protoError{"unauthenticated bulk length"}
	}
	start = cr + 2
	return start, start + int(n), true, nil
}

func (rd *reader) parseInline(b []byte) ([][]byte, int, error) {
	// Redis finds the line's end with strchr, which stops at a NUL byte:
	// a NUL before the newline leaves the request incomplete (until it
	// grows past the inline limit).
	nl := bytes.IndexByte(b, '\n')
	if z := bytes.IndexByte(b, 0); z >= 0 && (nl < 0 || z < nl) {
		nl = -1
	}
	if nl < 0 {
		if len(b) > protoInlineMaxSize {
			return nil, 0, &protoError{"too big inline request"}
		}
		return nil, 0, nil
	}
	line := b[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := splitArgs(line)
	if !ok {
		return nil, 0, &protoError{"unbalanced quotes in request"}
	}
	return args, nl + 1, nil
}

func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// splitArgs splits an inline request as sdssplitargs (src/sds.c) does:
// blanks separate arguments, "…" supports \xHH \n \r \t \b \a escapes,
// '…' supports \', and a closing quote must be followed by a blank. A NUL
// byte ends the line, as the C string would.
func splitArgs(line []byte) ([][]byte, bool) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	var out [][]byte
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return out, true
		}
		inq, insq, done := false, false, false
		cur := []byte{}
		for !done {
			ch := at(p)
			switch {
			case inq:
				switch {
				case ch == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)):
					cur = append(cur, hexVal(at(p+2))<<4|hexVal(at(p+3)))
					p += 3
				case ch == '\\' && at(p+1) != 0:
					p++
					e := at(p)
					switch e {
					case 'n':
						e = '\n'
					case 'r':
						e = '\r'
					case 't':
						e = '\t'
					case 'b':
						e = '\b'
					case 'a':
						e = '\a'
					}
					cur = append(cur, e)
				case ch == '"':
					if at(p+1) != 0 && !isSpace(at(p+1)) {
						return nil, false
					}
					done = true
				case ch == 0:
					return nil, false
				default:
					cur = append(cur, ch)
				}
			case insq:
				switch {
				case ch == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case ch == '\'':
					if at(p+1) != 0 && !isSpace(at(p+1)) {
						return nil, false
					}
					done = true
				case ch == 0:
					return nil, false
				default:
					cur = append(cur, ch)
				}
			default:
				switch ch {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, ch)
				}
			}
			if at(p) != 0 {
				p++
			}
		}
		out = append(out, cur)
	}
}

// parseLL parses a decimal as Redis's string2ll.
func parseLL(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) > 1 && (b[0] == '0' || (b[0] == '-' && b[1] == '0')) {
		return 0, false
	}
	if b[0] == '+' {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<63)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}
