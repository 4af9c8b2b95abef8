package replica

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkReader returns its input in reads of the sizes next gives.
type chunkReader struct {
	p    []byte
	next func() int
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if len(c.p) == 0 {
		return 0, io.EOF
	}
	n := min(len(b), len(c.p), max(c.next(), 1))
	copy(b, c.p[:n])
	c.p = c.p[n:]
	return n, nil
}

// splitReader returns p[:at] in the first read(s), then the rest.
func splitReader(p []byte, at int) io.Reader {
	return io.MultiReader(bytes.NewReader(p[:at]), bytes.NewReader(p[at:]))
}

type rawCmd struct {
	first, last int64
	argv        string
}

// decodeStream runs a stream over r (starting at offset 0) and returns
// every raw command, the handler's commands and the error that ended it.
func decodeStream(t testing.TB, r io.Reader, bufSize int) ([]rawCmd, *recorder, *stream, error) {
	t.Helper()
	o := (&Options{ReadBufferBytes: bufSize}).EnsureDefaults()
	rec := newRecorder()
	s := newStream(newReader(r, o), rec, nil, o.MaxBatch, 0, 0)
	var raws []rawCmd
	s.raw = func(argv [][]byte, first, last int64) {
		var parts []string
		for _, a := range argv {
			parts = append(parts, string(a))
		}
		raws = append(raws, rawCmd{first, last, strings.Join(parts, "\x00")})
	}
	err := s.run()
	return raws, rec, s, err
}

func checkCapture(t testing.TB, lines []logLine, raws []rawCmd, err error) {
	t.Helper()
	if !errors.Is(err, io.EOF) {
		t.Fatalf("stream ended with %v, want io.EOF", err)
	}
	if len(raws) != len(lines) {
		t.Fatalf("decoded %d commands, capture.log has %d", len(raws), len(lines))
	}
	for i, l := range lines {
		want := rawCmd{l.first, l.last, strings.Join(l.argv, "\x00")}
		if raws[i] != want {
			t.Fatalf("command %d: got %d..%d %q, want %d..%d %q", i, raws[i].first, raws[i].last, raws[i].argv, want.first, want.last, want.argv)
		}
	}
}

// TestStreamCapture decodes the real 7.0.15 capture, whole, byte by byte,
// split in two at many positions and in random chunks: every command and
// its offsets equal capture.log.
func TestStreamCapture(t *testing.T) {
	eachCapture(t, func(t *testing.T, cp *capture) {
		lines := cp.lines
		body := cp.Full[cp.Stream:]

		raws, rec, s, err := decodeStream(t, bytes.NewReader(body), 0)
		checkCapture(t, lines, raws, err)
		if s.appliedOff != lines[len(lines)-1].last {
			t.Fatalf("applied offset %d, want %d", s.appliedOff, lines[len(lines)-1].last)
		}
		// What the handler got: everything but SELECT, ping, REPLCONF, MULTI
		// and EXEC, with the DB of the last SELECT, each MULTI/EXEC unit alone.
		var want []logLine
		db := 0
		for _, l := range lines {
			switch strings.ToLower(l.argv[0]) {
			case "select":
				fmt.Sscan(l.argv[1], &db)
			case "ping", "replconf", "multi", "exec":
			default:
				want = append(want, l)
			}
		}
		if len(rec.cmds) != len(want) {
			t.Fatalf("handler got %d commands, want %d", len(rec.cmds), len(want))
		}
		for i, w := range want {
			c := rec.cmds[i]
			if c.Offset != w.last || string(bytes.Join(c.Argv, []byte("\x00"))) != strings.Join(w.argv, "\x00") {
				t.Fatalf("handler command %d: got %q at %d, want %q at %d", i, c.Argv, c.Offset, w.argv, w.last)
			}
		}
		// Units: each MULTI…EXEC of the log is exactly one call.
		units := 0
		for i := 0; i < len(lines); i++ {
			if !strings.EqualFold(lines[i].argv[0], "multi") {
				continue
			}
			j := i + 1
			for !strings.EqualFold(lines[j].argv[0], "exec") {
				j++
			}
			var inUnit []logLine
			for _, l := range lines[i+1 : j] {
				if !strings.EqualFold(l.argv[0], "select") {
					inUnit = append(inUnit, l)
				}
			}
			first := inUnit[0].last
			for _, call := range rec.calls {
				if call[0].Offset == first {
					if len(call) != len(inUnit) || call[len(call)-1].Offset != inUnit[len(inUnit)-1].last {
						t.Fatalf("unit at %d: delivered as a call of %d commands, want %d", first, len(call), len(inUnit))
					}
					units++
				}
			}
			i = j
		}
		if units == 0 {
			t.Fatal("no MULTI/EXEC unit checked")
		}

		t.Run("one-byte-reads", func(t *testing.T) {
			raws, _, _, err := decodeStream(t, iotest.OneByteReader(bytes.NewReader(body)), 512)
			checkCapture(t, lines, raws, err)
		})
		t.Run("split", func(t *testing.T) {
			// Every position under VDR_LONG=1 (~10 min with -race); by default
			// every position of the first commands and ~100 spread over the rest.
			var at []int
			for i := 0; i <= len(body); i++ {
				if os.Getenv("VDR_LONG") != "" || i < 100 || i%(len(body)/100) == 0 {
					at = append(at, i)
				}
			}
			for _, i := range at {
				raws, _, _, err := decodeStream(t, splitReader(body, i), 512)
				checkCapture(t, lines, raws, err)
			}
		})
		t.Run("random-chunks", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed(t), 0))
			for i := 0; i < 25; i++ {
				raws, _, _, err := decodeStream(t, &chunkReader{p: body, next: randChunks(rng, 1+rng.IntN(300))}, 512+rng.IntN(4096))
				checkCapture(t, lines, raws, err)
			}
		})
	})
}

func resp(args ...string) string { return string(appendCommand(nil, args...)) }

// TestStreamUnits checks SELECT, MULTI/EXEC grouping and offsets on a
// hand-made stream, including SELECT inside MULTI (7.2+).
func TestStreamUnits(t *testing.T) {
	in := resp("SELECT", "3") + resp("SET", "a", "1") + resp("ping") +
		resp("MULTI") + resp("SELECT", "5") + resp("INCR", "b") + resp("DEL", "c") + resp("EXEC") +
		resp("SET", "d", "2") + "*0\r\n" + resp("exec") + resp("SET", "e", "3")
	_, rec, s, err := decodeStream(t, strings.NewReader(in), 0)
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if s.appliedOff != int64(len(in)) || s.appliedDB != 5 {
		t.Fatalf("applied %d db %d, want %d db 5", s.appliedOff, s.appliedDB, len(in))
	}
	var got []string
	for _, call := range rec.calls {
		var parts []string
		for _, c := range call {
			parts = append(parts, fmt.Sprintf("%d:%s", c.DB, c.Argv[0]))
		}
		got = append(got, strings.Join(parts, ","))
	}
	want := "3:SET|5:INCR,5:DEL|5:SET,5:SET"
	if strings.Join(got, "|") != want {
		t.Fatalf("calls %q, want %q", strings.Join(got, "|"), want)
	}
	if rec.cmds[0].Offset != int64(len(resp("SELECT", "3")+resp("SET", "a", "1"))) {
		t.Fatalf("first command offset %d", rec.cmds[0].Offset)
	}
}

// TestStreamPartialTxn: a link cut inside MULTI applies nothing of the
// unit, and the applied offset stays before MULTI.
func TestStreamPartialTxn(t *testing.T) {
	pre := resp("SELECT", "0") + resp("SET", "a", "1")
	in := pre + resp("MULTI") + resp("INCR", "b") + resp("INC")[:7]
	_, rec, s, err := decodeStream(t, strings.NewReader(in), 0)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v, want unexpected EOF", err)
	}
	if s.appliedOff != int64(len(pre)) || len(rec.cmds) != 1 {
		t.Fatalf("applied %d (want %d), %d commands", s.appliedOff, len(pre), len(rec.cmds))
	}
}

// TestStreamHandlerError: a failing Commands call leaves the offset
// before the batch.
func TestStreamHandlerError(t *testing.T) {
	in := resp("SET", "a", "1") + resp("SET", "b", "2")
	o := (&Options{}).EnsureDefaults()
	rec := newRecorder()
	boom := errors.New("boom")
	rec.failCmds = func([]Command) error { return boom }
	s := newStream(newReader(strings.NewReader(in), o), rec, nil, 10, 100, 0)
	if err := s.run(); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if s.appliedOff != 100 {
		t.Fatalf("applied %d, want 100", s.appliedOff)
	}
}

// TestReadCommandBad feeds malformed and oversized input: each is a clear
// error, never a panic or a big allocation.
func TestReadCommandBad(t *testing.T) {
	f := func(name, in string, want error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			o := (&Options{MaxBulkBytes: 1 << 20, MaxMultibulkLen: 1000, ReadBufferBytes: 1024}).EnsureDefaults()
			rd := newReader(strings.NewReader(in), o)
			_, _, err := rd.readCommand()
			if !errors.Is(err, want) {
				t.Fatalf("err %v, want %v", err, want)
			}
		})
	}
	f("inline", "PING\r\n", ErrProtocol)
	f("simple-string", "+OK\r\n", ErrProtocol)
	f("bad-count", "*x\r\n", ErrProtocol)
	f("count-overflow", "*99999999999999999999\r\n", ErrProtocol)
	f("too-many", "*1001\r\n", ErrTooLarge)
	f("not-bulk", "*1\r\n:1\r\n", ErrProtocol)
	f("neg-bulk", "*1\r\n$-1\r\n", ErrProtocol)
	f("huge-bulk", "*1\r\n$2000000\r\n", ErrTooLarge)
	f("no-crlf-after-bulk", "*1\r\n$3\r\nabcXY", ErrProtocol)
	f("lf-only", "*1\n", ErrProtocol)
	f("long-line", "*1"+strings.Repeat("1", 2000)+"\r\n", ErrProtocol)
	f("truncated", "*2\r\n$3\r\nabc\r\n", io.ErrUnexpectedEOF)
	f("empty", "", io.EOF)

	// A bulk over bigBulkBytes announced but not sent costs what arrived.
	o := (&Options{}).EnsureDefaults()
	rd := newReader(strings.NewReader("*1\r\n$500000000\r\nabc"), o)
	if _, _, err := rd.readCommand(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v", err)
	}
}

// TestParsePsyncReply covers the replies to PSYNC.
func TestParsePsyncReply(t *testing.T) {
	id := strings.Repeat("a", 40)
	f := func(rep any, want error, full bool, replID string, off int64) {
		t.Helper()
		got, err := parsePsyncReply(rep)
		if !errors.Is(err, want) || (want == nil && (got.full != full || got.replID != replID || got.offset != off)) {
			t.Fatalf("%v: got %+v, %v", rep, got, err)
		}
	}
	f("FULLRESYNC "+id+" 42", nil, true, id, 42)
	f("CONTINUE", nil, false, "", 0)
	f("CONTINUE "+id, nil, false, id, 0)
	f("CONTINUE abc", ErrProtocol, false, "", 0)
	f("FULLRESYNC "+id+" -1", ErrProtocol, false, "", 0)
	f("FULLRESYNC short 1", ErrProtocol, false, "", 0)
	f("WHAT", ErrProtocol, false, "", 0)
	f(replyError("NOMASTERLINK Can't SYNC while not connected with my master"), ErrPrimaryNotReady, false, "", 0)
	f(replyError("LOADING Redis is loading the dataset in memory"), ErrPrimaryNotReady, false, "", 0)
	f(replyError("NOAUTH Authentication required."), ErrAuth, false, "", 0)
	f(replyError("ERR unknown command"), ErrPsyncRefused, false, "", 0)
	f(int64(3), ErrProtocol, false, "", 0)
}

// TestFilter checks the key-position rules.
func TestFilter(t *testing.T) {
	fl := newFilter(&Options{DBs: []int{0, 2}, KeyPrefixes: []string{"user:", "x"}})
	f := func(db int, want bool, args ...string) {
		t.Helper()
		var argv [][]byte
		for _, a := range args {
			argv = append(argv, []byte(a))
		}
		if got := fl.keepCommand(db, argv); got != want {
			t.Fatalf("db %d %q: keep %v, want %v", db, args, got, want)
		}
	}
	f(0, true, "SET", "user:1", "v")
	f(0, false, "SET", "other", "v")
	f(1, false, "SET", "user:1", "v")
	f(1, true, "FLUSHALL")
	f(0, true, "del", "a", "b", "user:2")
	f(0, false, "del", "a", "b")
	f(0, true, "MSET", "a", "user:x", "user:1", "v")
	f(0, false, "MSET", "a", "user:x", "b", "v")
	f(0, true, "RENAME", "a", "xb")
	f(0, true, "ZUNIONSTORE", "dst", "2", "a", "user:1")
	f(0, false, "ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "user:1", "x")
	f(0, true, "BITOP", "AND", "x1", "a")
	f(0, false, "BITOP", "xor", "a", "b")
	f(2, true, "PUBLISH", "ch", "m")
	if !fl.keepEntry(2, []byte("xyz")) || fl.keepEntry(1, []byte("xyz")) || fl.keepEntry(0, []byte("abc")) {
		t.Fatal("keepEntry")
	}
	var none *filter
	if !none.keepCommand(9, [][]byte{[]byte("SET"), []byte("k")}) || !none.keepEntry(9, nil) {
		t.Fatal("nil filter must keep everything")
	}
}
