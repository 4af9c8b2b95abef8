package rdbparse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"testing"
	"testing/iotest"
)

// randomChunkReader returns at most a random number of bytes per Read.
type randomChunkReader struct {
	r   io.Reader
	rng *rand.Rand
	max int
}

func (c *randomChunkReader) Read(p []byte) (int, error) {
	n := 1 + c.rng.Intn(c.max)
	if n < len(p) {
		p = p[:n]
	}
	return c.r.Read(p)
}

// splitReader yields a then b: the input split at one byte.
func splitReader(data []byte, at int) io.Reader {
	return io.MultiReader(bytes.NewReader(data[:at]), bytes.NewReader(data[at:]))
}

func parseBytes(r io.Reader, opts *Options) (string, error) {
	rec := &recorder{}
	err := Parse(r, rec, opts)
	return rec.dump(), err
}

// TestSplitReads feeds every corpus file split at every byte (files up to
// 256 bytes, else at 32 random points), one byte at a time, and in random chunks through bufio.Readers
// of several sizes and batch sizes; the result must not change.
func TestSplitReads(t *testing.T) {
	rng := rand.New(rand.NewSource(seed(t)))
	for _, cf := range corpusFiles(t) {
		name := cf.name
		data, err := os.ReadFile(cf.path)
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := parseBytes(bytes.NewReader(data), nil)
		check := func(how string, got string, err error) {
			t.Helper()
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("%s %s: error %v, want %v", name, how, err, wantErr)
			}
			if got != want {
				t.Fatalf("%s %s: result differs", name, how)
			}
		}
		// Every split point of small files, 32 random ones of the others.
		var splits []int
		if len(data) <= 256 {
			for at := 0; at <= len(data); at++ {
				splits = append(splits, at)
			}
		} else {
			n := 32
			if len(data) > 16<<10 {
				n = 3 // big files: the random chunk readers below split them many times
			}
			for range n {
				splits = append(splits, rng.Intn(len(data)+1))
			}
		}
		for _, at := range splits {
			got, err := parseBytes(bufio.NewReaderSize(splitReader(data, at), 256), nil)
			check(fmt.Sprintf("split at %d", at), got, err)
		}
		got, err := parseBytes(iotest.OneByteReader(bytes.NewReader(data)), nil)
		check("one byte", got, err)
		got, err = parseBytes(iotest.HalfReader(bytes.NewReader(data)), nil)
		check("half", got, err)
		for _, size := range []int{16, 100 + rng.Intn(4000)} {
			br := bufio.NewReaderSize(&randomChunkReader{bytes.NewReader(data), rng, 1 + rng.Intn(300)}, size)
			got, err = parseBytes(br, nil)
			check("random chunks", got, err)
		}
		// Batch size must not change the merged content.
		for _, bs := range []int{1, 2, 7} {
			rec := &recorder{batchSize: bs}
			err := Parse(bytes.NewReader(data), rec, &Options{BatchSize: bs})
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("%s batch %d: %v", name, bs, err)
			}
			if wantErr == nil && rec.dump() != want {
				t.Fatalf("%s batch %d: result differs", name, bs)
			}
		}
	}
}

// TestTruncated cuts each small corpus file at every byte: the parse must
// fail with ErrTruncated (or, for the broken files, their own error),
// never panic.
func TestTruncated(t *testing.T) {
	rng := rand.New(rand.NewSource(seed(t)))
	for _, cf := range corpusFiles(t) {
		name := cf.name
		data, err := os.ReadFile(cf.path)
		if err != nil {
			t.Fatal(err)
		}
		if _, broken := corpusErrors[name]; broken {
			continue
		}
		p := NewParser(bytes.NewReader(data), NopHandler{}, nil)
		if err := p.Parse(); err != nil {
			t.Fatal(err)
		}
		end := int(p.Offset()) // the RDB's own length, without trailing bytes
		cuts := make([]int, 0, end)
		if end <= 1024 {
			for cut := 0; cut < end; cut++ {
				cuts = append(cuts, cut)
			}
		} else {
			for range 100 {
				cuts = append(cuts, rng.Intn(end))
			}
		}
		for _, cut := range cuts {
			err := Parse(bufio.NewReaderSize(bytes.NewReader(data[:cut]), 512), NopHandler{}, nil)
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s cut at %d of %d: %v, want ErrTruncated", name, cut, len(data), err)
			}
		}
	}
}

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }
