package projection

import (
	"testing"
)

// FuzzApplyBits is FuzzApply seeded with bitmap and HyperLogLog commands,
// including ones that corrupt an HLL before it is used again: nothing may
// panic and the structures must stay sane.
func FuzzApplyBits(f *testing.F) {
	for _, s := range []string{
		"SETBIT\x00b\x00100\x001\nBITFIELD\x00b\x00OVERFLOW\x00SAT\x00INCRBY\x00i64\x00#1\x009223372036854775807\x00SET\x00u63\x000\x00-1\nBITOP\x00NOT\x00c\x00b",
		"BITOP\x00AND\x00d\x00missing\x00b\nBITOP\x00XOR\x00b\x00b\x00b\nBITFIELD\x00b\x00GET\x00u8\x000",
		"PFADD\x00h\x00a\x00b\x00c\nPFCOUNT\x00h\nPFMERGE\x00m\x00h\x00x\nPFDEBUG\x00TODENSE\x00m\nPFADD\x00m\x00z",
		"PFADD\x00h\x00a\nSETRANGE\x00h\x0016\x00\x40\nPFADD\x00h\x00b\x00c\nPFCOUNT\x00h\nPFMERGE\x00h\x00h",
		"PFADD\x00h\x00a\nSETBIT\x00h\x00100\x001\nPFADD\x00h\x00q\nAPPEND\x00h\x00\xff\xff\nPFCOUNT\x00h\x00h",
		"SET\x00s\x00HYLL\x00PFADD\x00s\x00x\nPFDEBUG\x00GETREG\x00s",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFeed(t, Options{NumDBs: 2, Stripes: 16, Buckets: 16, Encoding: EncodingConfig{HLLSparseMaxBytes: 60}}, data)
	})
}
