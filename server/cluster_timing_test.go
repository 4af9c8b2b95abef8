package server

import (
	"strconv"
	"testing"

	"github.com/vdr-project/vdr/internal/keyslot"
)

// BenchmarkClusterCountKeysInSlot times CLUSTER COUNTKEYSINSLOT, which
// visits every key of the database (the projection keeps no index by
// slot), through a vdr server.
func BenchmarkClusterCountKeysInSlot(b *testing.B) {
	for _, n := range []int{10000, 1000000} {
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) {
			p := newProjection(b)
			for i := range n {
				p.Apply(0, bs("SET", "k:"+strconv.Itoa(i), "v"))
			}
			s := startVDR(b, Options{Projection: p, ClusterMode: true})
			c := dialRaw(b, s.Addr())
			req := encodeCmd(bs("CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(keyslot.OfString("k:1")))...)
			b.ReportAllocs()
			b.SetBytes(int64(n)) // "bytes" are keys visited
			b.ResetTimer()
			for range b.N {
				c.send(req)
				c.read()
			}
		})
	}
}
