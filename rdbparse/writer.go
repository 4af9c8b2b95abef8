package rdbparse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Writer writes an RDB file that Redis 7 and this package both load. It uses
// the plain, non-compact encodings (RDB_TYPE_STRING, LIST, SET, ZSET_2,
// HASH), which every Redis since 2.x reads and Redis converts to its compact
// encodings on load; the file is larger than Redis's own but simple to
// stream, one element at a time, with no whole-key buffering.
//
// Usage: NewWriter, Aux…, then per database SelectDB followed by keys
// (String, or Begin + Elem/Pair/Member calls), then Close, which writes the
// EOF opcode and the CRC-64. Errors are sticky: the first one is returned
// by Close (and by Err).
//
// The writer does not check that a collection receives as many elements as
// Begin announced; the caller must send exactly that many.
type Writer struct {
	bw    *bufio.Writer
	crc   uint64
	err   error
	buf   [16]byte
	kind  Kind
	count uint64 // elements still expected for the open collection

	minExpire int64 // BeginHashMetadata's minimum field TTL
	noCRC     bool  // a record writer (NewRecordWriter): no checksum kept
}

// WriterVersion is the RDB version Writer declares: Redis 7.0's, so any
// Redis from 7.0 on loads the file.
const WriterVersion = 10

// NewWriter starts an RDB file on w, writing the magic and version.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{bw: bufio.NewWriterSize(w, 64<<10)}
	wr.raw([]byte(fmt.Sprintf("REDIS%04d", WriterVersion)))
	return wr
}

// Err returns the first error the writer met.
func (w *Writer) Err() error { return w.err }

func (w *Writer) raw(p []byte) {
	if w.err != nil {
		return
	}
	if !w.noCRC {
		w.crc = crc64Update(w.crc, p)
	}
	_, w.err = w.bw.Write(p)
}

func (w *Writer) byte1(b byte) { w.buf[0] = b; w.raw(w.buf[:1]) }

// encLen writes an RDB length: 6-bit, 14-bit, 32-bit or 64-bit form.
func (w *Writer) encLen(n uint64) {
	switch {
	case n < 1<<6:
		w.byte1(byte(n))
	case n < 1<<14:
		w.buf[0], w.buf[1] = 0x40|byte(n>>8), byte(n)
		w.raw(w.buf[:2])
	case n <= math.MaxUint32:
		w.buf[0] = 0x80
		binary.BigEndian.PutUint32(w.buf[1:], uint32(n))
		w.raw(w.buf[:5])
	default:
		w.buf[0] = 0x81
		binary.BigEndian.PutUint64(w.buf[1:], n)
		w.raw(w.buf[:9])
	}
}

func (w *Writer) encString(s []byte) {
	w.encLen(uint64(len(s)))
	w.raw(s)
}

// Aux writes an auxiliary field (RDB_OPCODE_AUX), such as repl-id.
func (w *Writer) Aux(key, value string) {
	w.byte1(OpcodeAux)
	w.encString([]byte(key))
	w.encString([]byte(value))
}

// SelectDB starts database db, with its size hints (RDB_OPCODE_RESIZEDB).
func (w *Writer) SelectDB(db int, keys, expires uint64) {
	w.byte1(OpcodeSelectDB)
	w.encLen(uint64(db))
	w.byte1(OpcodeResizeDB)
	w.encLen(keys)
	w.encLen(expires)
}

func (w *Writer) keyHeader(key []byte, expireMs int64, rdbType byte) {
	if w.count != 0 && w.err == nil {
		w.err = fmt.Errorf("rdbparse: writer: %d elements of the previous key missing", w.count)
	}
	if expireMs >= 0 {
		w.byte1(OpcodeExpireTimeMs)
		binary.LittleEndian.PutUint64(w.buf[:8], uint64(expireMs))
		w.raw(w.buf[:8])
	}
	w.byte1(rdbType)
	w.encString(key)
}

// String writes a string key. expireMs is an absolute Unix time in ms, or
// -1 for none.
func (w *Writer) String(key, value []byte, expireMs int64) {
	w.keyHeader(key, expireMs, TypeString)
	w.encString(value)
}

// Begin starts a collection key of kind (KindList, KindSet, KindZSet or
// KindHash) with n elements, which must follow as n calls of Elem (list,
// set), Member (zset) or Pair (hash).
func (w *Writer) Begin(kind Kind, key []byte, n uint64, expireMs int64) {
	var t byte
	switch kind {
	case KindList:
		t = TypeList
	case KindSet:
		t = TypeSet
	case KindZSet:
		t = TypeZSet2
	case KindHash:
		t = TypeHash
	default:
		if w.err == nil {
			w.err = errors.New("rdbparse: writer: Begin takes a list, set, zset or hash")
		}
		return
	}
	w.keyHeader(key, expireMs, t)
	w.encLen(n)
	w.kind, w.count = kind, n
}

func (w *Writer) next(kind Kind) bool {
	if w.err != nil {
		return false
	}
	if w.kind != kind || w.count == 0 {
		w.err = fmt.Errorf("rdbparse: writer: unexpected %s element", kind)
		return false
	}
	w.count--
	return true
}

// Elem writes one list element or set member.
func (w *Writer) Elem(e []byte) {
	if w.kind == KindSet && w.next(KindSet) || w.kind != KindSet && w.next(KindList) {
		w.encString(e)
	}
}

// Member writes one sorted-set member with its score.
func (w *Writer) Member(m []byte, score float64) {
	if w.next(KindZSet) {
		w.encString(m)
		binary.LittleEndian.PutUint64(w.buf[:8], math.Float64bits(score))
		w.raw(w.buf[:8])
	}
}

// Pair writes one hash field and its value.
func (w *Writer) Pair(field, value []byte) {
	if w.next(KindHash) {
		w.encString(field)
		w.encString(value)
	}
}

// Close writes RDB_OPCODE_EOF and the CRC-64, and flushes. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	if w.count != 0 && w.err == nil {
		w.err = fmt.Errorf("rdbparse: writer: %d elements of the last key missing", w.count)
	}
	w.byte1(OpcodeEOF)
	if w.err != nil {
		return w.err
	}
	binary.LittleEndian.PutUint64(w.buf[:8], w.crc)
	if _, err := w.bw.Write(w.buf[:8]); err != nil {
		return err
	}
	return w.bw.Flush()
}

// BeginHashMetadata starts a hash with field TTLs as RDB_TYPE_HASH_METADATA
// (Redis 7.4): n fields must follow as PairTTL calls. minExpireMs is the
// earliest field TTL (absolute Unix ms; every TTL passed to PairTTL must be
// ≥ it). The file still declares WriterVersion: this package reads type 24
// in any version, and no Redis older than 7.4 could hold the value anyway.
func (w *Writer) BeginHashMetadata(key []byte, n uint64, expireMs, minExpireMs int64) {
	w.keyHeader(key, expireMs, TypeHashMetadata)
	binary.LittleEndian.PutUint64(w.buf[:8], uint64(minExpireMs))
	w.raw(w.buf[:8])
	w.encLen(n)
	w.kind, w.count, w.minExpire = KindHash, n, minExpireMs
}

// PairTTL writes one field of a BeginHashMetadata hash with its absolute
// TTL in Unix ms, or -1 for none.
func (w *Writer) PairTTL(field, value []byte, expireMs int64) {
	if !w.next(KindHash) {
		return
	}
	switch {
	case expireMs < 0:
		w.encLen(0)
	case expireMs < w.minExpire:
		w.err = fmt.Errorf("rdbparse: writer: field TTL %d before the minimum %d", expireMs, w.minExpire)
		return
	default:
		w.encLen(uint64(expireMs-w.minExpire) + 1)
	}
	w.encString(field)
	w.encString(value)
}

// Function writes one function library (RDB_OPCODE_FUNCTION2 and its
// code); Redis writes them after the AUX fields, before any key.
func (w *Writer) Function(code []byte) {
	w.byte1(OpcodeFunction2)
	w.encString(code)
}
