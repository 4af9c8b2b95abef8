package projection

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vdr-project/vdr/rdbparse"
)

// jsonLike returns a JSON document of about n bytes, with the repeated
// field names and varied values of real API payloads.
func jsonLike(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","email":"user%d@example.com","active":%v,"score":%.3f,"tags":["a%d","b%d"]}`,
			r.IntN(1e6), r.IntN(1e5), r.IntN(1e5), r.IntN(2) == 0, r.Float64()*100, r.IntN(50), r.IntN(50))
	}
	b.WriteString("]}")
	return b.Bytes()
}

// TestCompressValues: with CompressValues, a long value is stored
// compressed (MEMORY USAGE drops), reads give it back byte for byte, and
// the writes that keep, move, repack or edit it (EXPIRE, RENAME, APPEND,
// SETRANGE, a full-sync load) keep it right; short values and integers
// are stored as they are.
func TestCompressValues(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	doc := jsonLike(r, 1000)
	usage := func(p *Projection, key string) (n int64) {
		p.View(0, [][]byte{[]byte(key)}, func(v *View) { n = v.MemoryUsage([]byte(key), 0) })
		return n
	}
	check := func(p *Projection, key string, want []byte) {
		t.Helper()
		get(p, 0, key, func(x Value) {
			if !bytes.Equal(x.Bytes(), want) || x.Len() != len(want) {
				t.Errorf("%s: %d bytes back (Len %d), want %d", key, len(x.Bytes()), x.Len(), len(want))
			}
			if x.Encoding() != "raw" && len(want) > 44 {
				t.Errorf("%s: encoding %s", key, x.Encoding())
			}
		})
	}
	plain := newTestProjection(t, nil)
	p, err := New(Options{CompressValues: 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []*Projection{plain, p} {
		if err := q.Apply(0, [][]byte{[]byte("SET"), []byte("doc"), doc}); err != nil {
			t.Fatal(err)
		}
		mustApply(t, q, 0, "SET short abc", "SET n 12345678901234567")
	}
	if u, up := usage(p, "doc"), usage(plain, "doc"); u*4 > up*3 {
		t.Errorf("MEMORY USAGE of a %d-byte JSON value: %d compressed, %d plain", len(doc), u, up)
	}
	check(p, "doc", doc)
	check(p, "short", []byte("abc"))
	check(p, "n", []byte("12345678901234567"))

	mustApply(t, p, 0, "PEXPIREAT doc 99999999999999", "RENAME doc doc2")
	check(p, "doc2", doc)
	get(p, 0, "doc2", func(x Value) {
		if x.ExpireMs() != 99999999999999 {
			t.Errorf("expire %d after PEXPIREAT and RENAME", x.ExpireMs())
		}
	})
	if u := usage(p, "doc2"); u*4 > usage(plain, "doc")*3 {
		t.Errorf("doc2 no longer compressed after EXPIRE and RENAME: %d bytes", u)
	}
	mustApply(t, p, 0, "APPEND doc2 tail", "SETRANGE doc2 0 [")
	want := append([]byte("["), doc[1:]...)
	check(p, "doc2", append(want, "tail"...))

	ld := p.BeginLoad(LoadOptions{})
	if err := ld.Entry(&rdbparse.Entry{DB: 0, Key: []byte("loaded"), Kind: rdbparse.KindString, String: doc, ExpireMs: -1, Last: true}); err != nil {
		t.Fatal(err)
	}
	if err := ld.Commit(); err != nil {
		t.Fatal(err)
	}
	check(p, "loaded", doc)
	if u := usage(p, "loaded"); u*4 > usage(plain, "doc")*3 {
		t.Errorf("a loaded value is not compressed: %d bytes", u)
	}
	if err := p.sane(); err != nil {
		t.Fatal(err)
	}
}
