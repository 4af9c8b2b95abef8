package rdbparse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// reader reads the RDB's bytes through a window on a bufio.Reader's buffer
// (Peek), so that the common small reads cost no copy and no call, and the
// CRC is computed over whole windows. Consumed bytes are Discarded from the
// bufio.Reader only when the window is refilled or at the end, so the
// bufio.Reader's position is exactly the RDB's end once parsing is done.
//
// Slices returned by next are valid only until the next read.
type reader struct {
	br      *bufio.Reader // nil: win is the whole input (DecodeDump)
	win     []byte        // bytes available; win[:pos] consumed
	pos     int
	base    int64 // input offset of win[0]
	crc     uint64
	crcOn   bool
	scratch []byte // for reads larger than the bufio.Reader's buffer
	pubOff  *atomic.Int64
}

// offset returns the input offset of the next unread byte.
func (r *reader) offset() int64 { return r.base + int64(r.pos) }

// release hashes and discards the consumed part of the window.
func (r *reader) release() {
	if r.pos == 0 {
		return
	}
	if r.crcOn {
		r.crc = crc64Update(r.crc, r.win[:r.pos])
	}
	r.base += int64(r.pos)
	if r.br != nil {
		r.br.Discard(r.pos) // cannot fail: the bytes are buffered
		r.win = nil
	} else {
		r.win = r.win[r.pos:]
	}
	r.pos = 0
	if r.pubOff != nil {
		r.pubOff.Store(r.base)
	}
}

// readErr turns a read error into ErrTruncated (end of input) or wraps it.
func (r *reader) readErr(n int, err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("rdbparse: reading %d bytes at offset %d: %w", n, r.offset(), ErrTruncated)
	}
	return fmt.Errorf("rdbparse: reading %d bytes at offset %d: %w", n, r.offset(), err)
}

// next returns the next n bytes and consumes them. The slice is valid
// until the next call on r.
func (r *reader) next(n int) ([]byte, error) {
	if len(r.win)-r.pos >= n {
		b := r.win[r.pos : r.pos+n]
		r.pos += n
		return b, nil
	}
	return r.nextSlow(n)
}

func (r *reader) nextSlow(n int) ([]byte, error) {
	r.release()
	if r.br == nil {
		return nil, r.readErr(n, io.ErrUnexpectedEOF)
	}
	if n <= r.br.Size() {
		if _, err := r.br.Peek(n); err != nil {
			return nil, r.readErr(n, err)
		}
		r.win, _ = r.br.Peek(r.br.Buffered())
		r.pos = n
		return r.win[:n], nil
	}
	if cap(r.scratch) < n {
		r.scratch = make([]byte, n)
	}
	buf := r.scratch[:n]
	if err := r.readFull(buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// readFull fills dst from the input, bypassing the window (for big
// strings). The window must be empty (call release first).
func (r *reader) readFull(dst []byte) error {
	r.release()
	if r.br == nil {
		if len(r.win) < len(dst) {
			return r.readErr(len(dst), io.ErrUnexpectedEOF)
		}
		copy(dst, r.win)
		r.pos = len(dst)
		return nil
	}
	got, err := io.ReadFull(r.br, dst)
	if r.crcOn {
		r.crc = crc64Update(r.crc, dst[:got])
	}
	r.base += int64(got)
	if r.pubOff != nil {
		r.pubOff.Store(r.base)
	}
	if err != nil {
		return r.readErr(len(dst)-got, err)
	}
	return nil
}

// appendBytes appends the next n bytes to dst.
func (r *reader) appendBytes(dst []byte, n int) ([]byte, error) {
	if len(r.win)-r.pos >= n {
		dst = append(dst, r.win[r.pos:r.pos+n]...)
		r.pos += n
		return dst, nil
	}
	if n <= 4096 || r.br == nil {
		b, err := r.next(n)
		if err != nil {
			return dst, err
		}
		return append(dst, b...), nil
	}
	// Big: read straight into dst's spare capacity.
	l := len(dst)
	dst = grow(dst, n)
	if err := r.readFull(dst[l : l+n]); err != nil {
		return dst[:l], err
	}
	return dst[:l+n], nil
}

// skip consumes n bytes.
func (r *reader) skip(n int64) error {
	for n > 0 {
		c := n
		if c > 32<<10 {
			c = 32 << 10
		}
		if _, err := r.next(int(c)); err != nil {
			return err
		}
		n -= c
	}
	return nil
}

func (r *reader) byte1() (byte, error) {
	if r.pos < len(r.win) {
		b := r.win[r.pos]
		r.pos++
		return b, nil
	}
	b, err := r.nextSlow(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *reader) u32le() (uint32, error) {
	b, err := r.next(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *reader) u64le() (uint64, error) {
	b, err := r.next(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// grow returns b with room for n more bytes (len unchanged).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), 2*cap(b)+n)
	copy(nb, b)
	return nb
}
