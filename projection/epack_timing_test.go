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
		keyL, keyH := args("l"), args("h")
		b.Run("LRANGE_10/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(200)
			for i := 0; i < b.N; i++ {
				p.View(0, keyL, func(v *View) {
					out = out[:0]
					v.Get(keyL[0]).ListRange(0, -1, func(_ int, e []byte) bool { out = append(out, e...); return true })
				})
			}
		})
		b.Run("HGETALL_10/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(200)
			for i := 0; i < b.N; i++ {
				p.View(0, keyH, func(v *View) {
					out = out[:0]
					v.Get(keyH[0]).HashEach(func(f, val []byte) bool { out = append(append(out, f...), val...); return true })
				})
			}
		})
		field := []byte("field7")
		b.Run("HGET/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(20)
			for i := 0; i < b.N; i++ {
				p.View(0, keyH, func(v *View) {
					val, _ := v.Get(keyH[0]).HashGet(field)
					out = append(out[:0], val...)
				})
			}
		})
	}
}
