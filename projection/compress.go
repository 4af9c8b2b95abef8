package projection

import (
	"encoding/binary"
	"sync"

	"github.com/pierrec/lz4/v4"
)

// Optional compression of string values (Options.CompressValues): the
// record holds a coded form (textpack.go) whose payload is the uvarint of
// the value's length, then the value as one LZ4 block
// (github.com/pierrec/lz4/v4's block format, no frame).

// compressor is one goroutine's LZ4 state and output buffer; pooled, as
// the applier and a loader compress on their own goroutines.
type compressor struct {
	c   lz4.Compressor
	out []byte
}

var compressors = sync.Pool{New: func() any { return new(compressor) }}

// compress returns val's coded form (textpack.go: codec byte codecLZ4,
// flag in it) in z's buffer, valid until z's next use, or false when
// compressing saves nothing.
func (z *compressor) compress(val []byte, flag byte) ([]byte, bool) {
	need := 1 + binary.MaxVarintLen64 + lz4.CompressBlockBound(len(val))
	if cap(z.out) < need {
		z.out = make([]byte, need)
	}
	out := z.out[:need]
	out[0] = flag | codecLZ4<<2
	w := 1 + binary.PutUvarint(out[1:], uint64(len(val)))
	n, err := z.c.CompressBlock(val, out[w:])
	if err != nil || n == 0 || w+n >= len(val) {
		return nil, false
	}
	return out[:w+n], true
}

// appendLZ4 appends the n bytes an LZ4 coded form's payload (after the
// codec byte) holds to dst.
func appendLZ4(dst, payload []byte, n int) []byte {
	_, w := binary.Uvarint(payload)
	if w <= 0 {
		return dst
	}
	dst = append(dst, make([]byte, n)...)[:len(dst)]
	m, err := lz4.UncompressBlock(payload[w:], dst[len(dst):len(dst)+n])
	if err != nil {
		return dst // the projection wrote it: not reached
	}
	return dst[:len(dst)+m]
}
