package projection

import (
	"fmt"
	"strconv"
	"testing"
)

// BenchmarkPackedReads reads a list of 10 elements and a hash of 10
// fields whose values are 20 base64 characters (packed to 16 bytes), the
// way a reply does (copying each element out), from a projection that
// packs them and from one with Options.PlainText: the cost of unpacking.
//
//	go test -run '^$' -bench PackedReads -benchtime 200ms -count 3 ./projection
func BenchmarkPackedReads(b *testing.B) {
	for _, plain := range []bool{false, true} {
		p, err := New(Options{PlainText: plain})
		if err != nil {
			b.Fatal(err)
		}
		rpush, hset := args("RPUSH l"), args("HSET h")
		for i := 0; i < 10; i++ {
			v := []byte(fmt.Sprintf("Zm9vYmFy%012d", i*7919))
			rpush = append(rpush, v)
			hset = append(hset, []byte("field"+strconv.Itoa(i)), v)
		}
		if err := p.Apply(0, rpush); err != nil {
			b.Fatal(err)
		}
		if err := p.Apply(0, hset); err != nil {
			b.Fatal(err)
		}
		name := "packed"
		if plain {
			name = "plain"
		}
		out := make([]byte, 0, 1024)
		keyL, keyH, field := args("l"), args("h"), []byte("field7")
		for _, bc := range []struct {
			name  string
			key   [][]byte
			bytes int64
			read  func(x Value)
		}{
			{"LRANGE_10", keyL, 200, func(x Value) {
				x.ListRange(0, -1, func(_ int, e []byte) bool { out = append(out, e...); return true })
			}},
			{"HGETALL_10", keyH, 200, func(x Value) {
				x.HashEach(func(f, val []byte) bool { out = append(append(out, f...), val...); return true })
			}},
			{"HGET", keyH, 20, func(x Value) {
				val, _ := x.HashGet(field)
				out = append(out, val...)
			}},
		} {
			b.Run(bc.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(bc.bytes)
				for i := 0; i < b.N; i++ {
					p.View(0, bc.key, func(v *View) {
						out = out[:0]
						bc.read(v.Get(bc.key[0]))
					})
				}
			})
		}
	}
}
