package rdbparse

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"testing"
)

// addCorpus seeds a fuzz target with the corpus files.
func addCorpus(f *testing.F) {
	for _, cf := range corpusFiles(f) {
		data, err := os.ReadFile(cf.path)
		if err == nil && len(data) <= 64<<10 {
			f.Add(data)
		}
	}
}

// checkErr fails on errors that are none of the package's sentinels.
func checkErr(t *testing.T, err error) {
	if err == nil {
		return
	}
	for _, s := range []error{ErrTruncated, ErrCorrupt, ErrChecksum, ErrUnsupportedVersion, ErrUnsupported} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error matches no sentinel: %v", err)
}

// FuzzParse parses arbitrary bytes (checksum off, so that mutations reach
// the decoders) through two read paths; they must agree, and nothing may
// panic or allocate beyond the limits.
func FuzzParse(f *testing.F) {
	addCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := &Options{SkipChecksum: true, MaxStringBytes: 1 << 20, BatchSize: 3}
		r1 := &recorder{batchSize: 3}
		err1 := Parse(bytes.NewReader(data), r1, opts)
		checkErr(t, err1)
		// The same input in two halves through a tiny buffer.
		half := len(data) / 2
		r2 := &recorder{batchSize: 3}
		err2 := Parse(bufio.NewReaderSize(splitReader(data, half), 16), r2, opts)
		if (err1 == nil) != (err2 == nil) || r1.dump() != r2.dump() {
			t.Fatalf("read paths disagree: %v / %v", err1, err2)
		}
	})
}

// FuzzDecodeDump decodes arbitrary payloads, with the checksum both
// checked and ignored.
func FuzzDecodeDump(f *testing.F) {
	for _, p := range dumpSeeds() {
		f.Add(p)
	}
	addCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := &Options{SkipChecksum: true, MaxStringBytes: 1 << 20, BatchSize: 2}
		r1, r2 := &recorder{batchSize: 2}, &recorder{batchSize: 2}
		_, err := DecodeDump(data, r1, opts)
		checkErr(t, err)
		// Again, on a parser reused from the pool: same result.
		_, err2 := DecodeDump(data, r2, opts)
		if (err == nil) != (err2 == nil) || r1.dump() != r2.dump() {
			t.Fatalf("second decode differs: %v / %v", err, err2)
		}
		_, err = DecodeDump(data, NopHandler{}, nil)
		checkErr(t, err)
	})
}

// dumpSeeds returns DUMP payloads built from the corpus objects: each
// key's bytes from a small corpus file, with a DUMP footer.
func dumpSeeds() [][]byte {
	var out [][]byte
	add := func(obj []byte, ver int) {
		p := append([]byte{}, obj...)
		p = append(p, byte(ver), byte(ver>>8))
		crc := CRC64(p)
		for i := 0; i < 8; i++ {
			p = append(p, byte(crc>>(8*i)))
		}
		out = append(out, p)
	}
	add([]byte{TypeString, 3, 'a', 'b', 'c'}, 10)
	add([]byte{TypeSetIntset, 12, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0}, 10)
	add([]byte{TypeList, 2, 1, 'a', 0xc0, 5}, 9)
	add([]byte{TypeZSet2, 1, 1, 'm', 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, 10)
	add([]byte{TypeHash, 1, 1, 'f', 1, 'v'}, 10)
	add([]byte{TypeListQuicklist2, 1, 1, 3, 'b', 'i', 'g'}, 11)
	add([]byte{TypeHashListpack, 13, 13, 0, 0, 0, 2, 0, 0x81, 'f', 2, 0x81, 'v', 2, 0xff}, 11)
	return out
}
