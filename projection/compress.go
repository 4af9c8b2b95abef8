package projection

import (
	"encoding/binary"
	"sync"

	"github.com/pierrec/lz4/v4"
)

// Optional compression of string values (Options.CompressValues): the
// record holds the uvarint of the value's length, then the value as one
// LZ4 block (github.com/pierrec/lz4/v4's block format, no frame).

// compressor is one goroutine's LZ4 state and output buffer; pooled, as
// the applier and a loader compress on their own goroutines.
type compressor struct {
	c   lz4.Compressor
	out []byte
}

var compressors = sync.Pool{New: func() any { return new(compressor) }}

// compress returns val compressed, in z's buffer (valid until z's next
// use), or false when compressing saves nothing.
func (z *compressor) compress(val []byte) ([]byte, bool) {
	need := binary.MaxVarintLen64 + lz4.CompressBlockBound(len(val))
	if cap(z.out) < need {
		z.out = make([]byte, need)
	}
	out := z.out[:need]
	w := binary.PutUvarint(out, uint64(len(val)))
	n, err := z.c.CompressBlock(val, out[w:])
	if err != nil || n == 0 || w+n >= len(val) {
		return nil, false
	}
	return out[:w+n], true
}

// lz4Value decompresses a stored value (see compressValue) into a new
// slice.
func lz4Value(b []byte) []byte {
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return nil
	}
	out := make([]byte, n)
	m, err := lz4.UncompressBlock(b[w:], out)
	if err != nil {
		return nil // the projection wrote it: not reached
	}
	return out[:m]
}
