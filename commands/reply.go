package commands

import (
	"math"
	"strconv"

	"github.com/vdr-project/vdr/internal/fpconv"
	"github.com/vdr-project/vdr/projection"
)

// Writer builds the RESP reply of a connection into one growing buffer,
// in RESP2 or RESP3 (Resp field, switched by HELLO). Handlers call its
// methods; only the server moves the bytes to a socket. The aggregate
// helpers choose the RESP2 or RESP3 form exactly as Redis 7.0's
// addReply* functions in src/networking.c do.
type Writer struct {
	b    []byte
	Resp int // 2 or 3
	// Doubles72: doubles are written as Redis 7.2+ and Valkey do (d2string:
	// Grisu2's shortest digits), not 7.0's "%.17g". Exec sets it from the
	// personality before each command.
	Doubles72 bool
	// errs are the codes of the error replies written since the last
	// TakeErrors ("ERR", "WRONGTYPE"…), for errorstats.
	errs []string
}

// TakeErrors returns the codes of the error replies written since the
// last call and forgets them; the slice is valid until the next Error.
func (w *Writer) TakeErrors() []string {
	e := w.errs
	w.errs = w.errs[:0]
	return e
}

// NewWriter returns a RESP2 writer.
func NewWriter() *Writer { return &Writer{Resp: 2} }

// Bytes returns the buffered reply bytes.
func (w *Writer) Bytes() []byte { return w.b }

// Len is the number of buffered bytes.
func (w *Writer) Len() int { return len(w.b) }

// Reset empties the buffer, dropping it when it grew large so one big reply
// does not pin memory for the connection's life (as redcon's Writer.Flush).
func (w *Writer) Reset() {
	if cap(w.b) > 256<<10 {
		w.b = nil
		return
	}
	w.b = w.b[:0]
}

// Truncate cuts the buffer back to n bytes (used to drop a partial reply).
func (w *Writer) Truncate(n int) { w.b = w.b[:n] }

func (w *Writer) crlf() { w.b = append(w.b, '\r', '\n') }

func (w *Writer) header(c byte, n int64) {
	w.b = append(w.b, c)
	w.b = strconv.AppendInt(w.b, n, 10)
	w.crlf()
}

// Raw appends bytes as they are.
func (w *Writer) Raw(p []byte) { w.b = append(w.b, p...) }

// RawString appends a string as it is.
func (w *Writer) RawString(s string) { w.b = append(w.b, s...) }

// Status writes a simple string: +s.
func (w *Writer) Status(s string) {
	w.b = append(w.b, '+')
	w.b = append(w.b, s...)
	w.crlf()
}

// OK writes +OK.
func (w *Writer) OK() { w.b = append(w.b, "+OK\r\n"...) }

// Error writes an error reply. msg starts with its code ("ERR …",
// "WRONGTYPE …"); a missing code gets "ERR " as in addReplyErrorLength.
// Newlines are replaced by spaces so the reply stays one line.
func (w *Writer) Error(msg string) {
	w.b = append(w.b, '-')
	if len(msg) == 0 || msg[0] == '-' {
		if len(msg) > 0 {
			msg = msg[1:]
		}
	}
	code := msg
	for i := 0; i < len(code); i++ {
		if code[i] == ' ' {
			code = code[:i]
			break
		}
	}
	w.errs = append(w.errs, code)
	start := len(w.b)
	w.b = append(w.b, msg...)
	for i := start; i < len(w.b); i++ {
		if w.b[i] == '\r' || w.b[i] == '\n' {
			w.b[i] = ' '
		}
	}
	w.crlf()
}

// Int writes :n.
func (w *Writer) Int(n int64) { w.header(':', n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(p []byte) {
	w.header('$', int64(len(p)))
	w.b = append(w.b, p...)
	w.crlf()
}

// BulkValue writes a string value as a bulk string, unpacking it (a
// packed value, projection's textpack.go) straight into the reply.
func (w *Writer) BulkValue(x projection.Value) {
	w.header('$', int64(x.Len()))
	w.b = x.AppendBytes(w.b)
	w.crlf()
}

// BulkString writes a bulk string from a Go string.
func (w *Writer) BulkString(s string) {
	w.header('$', int64(len(s)))
	w.b = append(w.b, s...)
	w.crlf()
}

// BulkInt writes an integer as a bulk string (addReplyBulkLongLong).
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string: $-1 in RESP2, _ in RESP3.
func (w *Writer) Null() {
	if w.Resp >= 3 {
		w.b = append(w.b, "_\r\n"...)
		return
	}
	w.b = append(w.b, "$-1\r\n"...)
}

// NullArray writes the null array: *-1 in RESP2, _ in RESP3.
func (w *Writer) NullArray() {
	if w.Resp >= 3 {
		w.b = append(w.b, "_\r\n"...)
		return
	}
	w.b = append(w.b, "*-1\r\n"...)
}

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.header('*', int64(n)) }

// Map writes a map header of n pairs: %n in RESP3, *2n in RESP2.
func (w *Writer) Map(n int) {
	if w.Resp >= 3 {
		w.header('%', int64(n))
		return
	}
	w.header('*', int64(2*n))
}

// Set writes a set header: ~n in RESP3, *n in RESP2.
func (w *Writer) Set(n int) {
	if w.Resp >= 3 {
		w.header('~', int64(n))
		return
	}
	w.header('*', int64(n))
}

// Push writes a push header: >n in RESP3, *n in RESP2.
func (w *Writer) Push(n int) {
	if w.Resp >= 3 {
		w.header('>', int64(n))
		return
	}
	w.header('*', int64(n))
}

// Bool writes #t/#f in RESP3 and :1/:0 in RESP2.
func (w *Writer) Bool(v bool) {
	if w.Resp >= 3 {
		if v {
			w.b = append(w.b, "#t\r\n"...)
		} else {
			w.b = append(w.b, "#f\r\n"...)
		}
		return
	}
	if v {
		w.b = append(w.b, ":1\r\n"...)
	} else {
		w.b = append(w.b, ":0\r\n"...)
	}
}

// AppendDouble formats d as Redis 7.0's addReplyDouble does: "%.17g", and
// "inf"/"-inf"/"nan" for the special values. 7.2+ and Valkey use
// fpconv.AppendD2String instead (AppendDoubleAs chooses).
func AppendDouble(b []byte, d float64) []byte {
	switch {
	case math.IsInf(d, 1):
		return append(b, "inf"...)
	case math.IsInf(d, -1):
		return append(b, "-inf"...)
	case math.IsNaN(d):
		return append(b, "nan"...)
	}
	// Fast path: an integral value below 1e15 prints as its digits under
	// %.17g (scores are often integers); -0 keeps its sign.
	if d == math.Trunc(d) && d > -1e15 && d < 1e15 && (d != 0 || !math.Signbit(d)) {
		return strconv.AppendInt(b, int64(d), 10)
	}
	return strconv.AppendFloat(b, d, 'g', 17, 64)
}

// AppendDoubleAs formats d as addReplyDouble does under the personality:
// d2string (7.2+, Valkey) when doubles72, else AppendDouble (7.0).
func AppendDoubleAs(b []byte, d float64, doubles72 bool) []byte {
	if doubles72 {
		return fpconv.AppendD2String(b, d)
	}
	return AppendDouble(b, d)
}

// Double writes a double: a bulk string in RESP2, ",d" in RESP3 — the same
// digits in both, in 7.0 ("%.17g") as in 7.2+ and Valkey 8 (d2string);
// see addReplyDouble in src/networking.c of each.
func (w *Writer) Double(d float64) {
	var tmp [40]byte
	s := AppendDoubleAs(tmp[:0], d, w.Doubles72)
	if w.Resp >= 3 {
		w.b = append(w.b, ',')
		w.b = append(w.b, s...)
		w.crlf()
		return
	}
	w.Bulk(s)
}

// Verbatim writes a verbatim string: "=len\r\ntxt:…" in RESP3 and a bulk
// string in RESP2 (addReplyVerbatim).
func (w *Writer) Verbatim(s string, ext string) {
	if w.Resp >= 3 {
		w.header('=', int64(len(s)+4))
		w.b = append(w.b, ext...)
		w.b = append(w.b, ':')
		w.b = append(w.b, s...)
		w.crlf()
		return
	}
	w.BulkString(s)
}

// BulkStrings writes an array of bulk strings.
func (w *Writer) BulkStrings(ss []string) {
	w.Array(len(ss))
	for _, s := range ss {
		w.BulkString(s)
	}
}

// Deferred marks a place for an aggregate header whose length is not yet
// known; finish it with SetArray/SetMap/SetSet.
type Deferred int

// Defer reserves a deferred aggregate header at the current position.
func (w *Writer) Defer() Deferred { return Deferred(len(w.b)) }

func (w *Writer) insertHeader(at Deferred, c byte, n int) {
	var tmp [24]byte
	h := append(tmp[:0], c)
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, '\r', '\n')
	pos := int(at)
	w.b = append(w.b, h...)
	copy(w.b[pos+len(h):], w.b[pos:len(w.b)-len(h)])
	copy(w.b[pos:], h)
}

// SetArray completes a deferred array of n elements.
func (w *Writer) SetArray(at Deferred, n int) { w.insertHeader(at, '*', n) }

// SetMap completes a deferred map of n pairs.
func (w *Writer) SetMap(at Deferred, n int) {
	if w.Resp >= 3 {
		w.insertHeader(at, '%', n)
		return
	}
	w.insertHeader(at, '*', 2*n)
}

// SetSet completes a deferred set of n elements.
func (w *Writer) SetSet(at Deferred, n int) {
	if w.Resp >= 3 {
		w.insertHeader(at, '~', n)
		return
	}
	w.insertHeader(at, '*', n)
}

// Bool01 writes :1 or :0 in every protocol (shared.cone / shared.czero).
func (w *Writer) Bool01(v bool) {
	if v {
		w.b = append(w.b, ":1\r\n"...)
	} else {
		w.b = append(w.b, ":0\r\n"...)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
