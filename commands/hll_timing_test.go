package commands

import (
	"strconv"
	"testing"
)

// BenchmarkPFCOUNT measures PFCOUNT through Exec: a single key with a
// valid cache, a single key whose cache is invalid (a full estimate each
// time; vdr does not write the cache on reads), and the union of two
// dense HLLs.
func BenchmarkPFCOUNT(b *testing.B) {
	env := newTestEnv(b)
	for _, k := range []string{"cached", "sparse", "dense1", "dense2"} {
		n := 100
		if k == "dense1" || k == "dense2" {
			n = 5000
		}
		argv := [][]byte{[]byte("PFADD"), []byte(k)}
		for i := 0; i < n; i++ {
			argv = append(argv, []byte(k+":"+strconv.Itoa(i)))
		}
		if err := env.Proj.Apply(0, argv); err != nil {
			b.Fatal(err)
		}
	}
	if err := env.Proj.Apply(0, [][]byte{[]byte("PFCOUNT"), []byte("cached")}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"cached", []string{"PFCOUNT", "cached"}},
		{"sparse", []string{"PFCOUNT", "sparse"}},
		{"dense", []string{"PFCOUNT", "dense1"}},
		{"union_of_2_dense", []string{"PFCOUNT", "dense1", "dense2"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			argv := make([][]byte, len(bc.args))
			n := 0
			for i, a := range bc.args {
				argv[i] = []byte(a)
				n += len(a)
			}
			c := NewCtx(env, NewClient(1, "a", "b"))
			c.W.Reset()
			Exec(c, argv)
			if r := string(c.W.Bytes()); len(r) == 0 || r[0] != ':' {
				b.Fatalf("%q: %q", bc.args, r)
			}
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				c.W.Reset()
				Exec(c, argv)
			}
		})
	}
}
