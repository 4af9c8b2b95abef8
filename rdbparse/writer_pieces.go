package rdbparse

import (
	"bufio"
	"io"
)

// An RDB can also be put together from pieces written apart: a header
// (NewWriterVersion, Aux, Function, then Flush rather than Close), key
// records written by NewRecordWriter, and the SELECTDB, RESIZEDB and
// EOF framing appended between and after them; the CRC-64 is then the
// assembler's (CRC64Update over every byte it sends). A copy-on-write snapshot
// writes its keys so, from more than one goroutine, in any order.

// NewRecordWriter returns a Writer for key records only: it writes no
// magic and keeps no checksum. Use String, Begin…, Stream and Flush.
func NewRecordWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 16<<10), noCRC: true}
}

// Flush writes what is buffered; the writer can go on after it. It
// returns the first error met.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.count != 0 {
		return nil // inside a collection: its elements follow
	}
	w.err = w.bw.Flush()
	return w.err
}

// AppendSelectDB appends RDB_OPCODE_SELECTDB db, and, when resize,
// RDB_OPCODE_RESIZEDB with the size hints.
func AppendSelectDB(b []byte, db int, resize bool, keys, expires uint64) []byte {
	b = appendLen(append(b, OpcodeSelectDB), uint64(db))
	if resize {
		b = appendLen(appendLen(append(b, OpcodeResizeDB), keys), expires)
	}
	return b
}

// CRC64Update extends crc, the RDB checksum of the bytes before p, with
// p.
func CRC64Update(crc uint64, p []byte) uint64 { return crc64Update(crc, p) }
