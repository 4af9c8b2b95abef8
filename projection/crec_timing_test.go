package projection

import (
	"fmt"
	"testing"
)

// BenchmarkCRecReads times reads of small collections held as packed
// records (crec.go: a view of the struct is built on each Get) against
// the same keys folded (their struct in memory), both loaded from one
// snapshot: ten 20-character elements, fields or members.
func BenchmarkCRecReads(b *testing.B) {
	src := newTestProjection(b, nil)
	rpush, hset, zadd, sadd := args("RPUSH l"), args("HSET h"), args("ZADD z"), args("SADD s")
	for i := 0; i < 10; i++ {
		v := []byte(fmt.Sprintf("Zm9vYmFy%012d", i*7919))
		rpush = append(rpush, v)
		hset = append(hset, []byte(fmt.Sprintf("field%d", i)), v)
		zadd = append(zadd, []byte(fmt.Sprint(i)), v)
		sadd = append(sadd, v)
	}
	for _, c := range [][][]byte{rpush, hset, zadd, sadd} {
		if err := src.Apply(0, c); err != nil {
			b.Fatal(err)
		}
	}
	file := snapshotFile(b, src)
	out := make([]byte, 0, 1024)
	field, member := []byte("field7"), []byte(fmt.Sprintf("Zm9vYmFy%012d", 7*7919))
	for _, rec := range []bool{true, false} {
		p := loadWithout(b, file, &noCRec, !rec)
		name := "record"
		if !rec {
			name = "folded"
		}
		for _, k := range []string{"l", "h", "z", "s"} {
			if tag, _ := slotTag(p, k); (rep(tag) == "crec") != rec {
				b.Fatalf("%s loaded as %s", k, rep(tag))
			}
		}
		for _, bc := range []struct {
			name string
			key  [][]byte
			read func(x Value)
		}{
			{"LRANGE_10", args("l"), func(x Value) {
				x.ListRange(0, -1, func(_ int, e []byte) bool { out = append(out, e...); return true })
			}},
			{"LINDEX", args("l"), func(x Value) {
				e, _ := x.ListIndex(5)
				out = append(out, e...)
			}},
			{"HGETALL_10", args("h"), func(x Value) {
				x.HashEach(func(f, val []byte) bool { out = append(append(out, f...), val...); return true })
			}},
			{"HGET", args("h"), func(x Value) {
				val, _ := x.HashGet(field)
				out = append(out, val...)
			}},
			{"ZSCORE", args("z"), func(x Value) {
				s, _ := x.ZScore(member)
				out = fmt.Appendf(out[:0], "%g", s)
			}},
			{"SISMEMBER", args("s"), func(x Value) {
				if x.SetContains(member) {
					out = append(out, 1)
				}
			}},
		} {
			b.Run(bc.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
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
