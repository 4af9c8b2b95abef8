package projection

import (
	"bytes"
	"testing"
)

// FuzzApply feeds arbitrary commands (NUL-separated arguments, one command
// per line) to a projection: nothing may panic and every structure must
// stay sane.
func FuzzApply(f *testing.F) {
	for _, s := range []string{
		"SET\x00k\x00v\nAPPEND\x00k\x00xx\nSETRANGE\x00k\x0010\x00y",
		"RPUSH\x00l\x00a\x00b\nLINSERT\x00l\x00BEFORE\x00b\x00c\nLTRIM\x00l\x00-2\x00-1\nLMOVE\x00l\x00l\x00LEFT\x00RIGHT",
		"ZADD\x00z\x00inf\x00a\x00-1.5e1\x00b\nZUNIONSTORE\x00d\x002\x00z\x00z\x00WEIGHTS\x000\x001\nZRANGESTORE\x00e\x00d\x00(a\x00+\x00BYLEX",
		"SADD\x00s\x001\x002\nSINTERSTORE\x00t\x00s\x00s\nSMOVE\x00s\x00t\x001\nCOPY\x00s\x00u\x00DB\x003",
		"HSET\x00h\x00f\x00v\nHINCRBY\x00h\x00n\x00-9223372036854775808\nHDEL\x00h\x00f\x00n",
		"MULTI\nSWAPDB\x000\x001\nFLUSHALL\nEXEC\nPEXPIREAT\x00k\x000\x00GT",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzFeed(t, Options{NumDBs: 4, Stripes: 16, Buckets: 16}, data) })
}

// fuzzFeed applies data (NUL-separated arguments, one command per line)
// to a new projection with opts and fails unless every structure is sane
// afterwards; errors from the commands themselves are expected. It returns
// the projection for further checks.
func fuzzFeed(t *testing.T, opts Options, data []byte) *Projection {
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	lk := p.NewLink()
	for _, line := range bytes.Split(data, []byte("\n")) {
		_ = lk.Feed(bytes.Split(line, []byte{0}))
	}
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
	return p
}
