package projection

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestBitfieldEdges runs BITFIELD, SETBIT and BITOP commands at the
// overflow edges on a real redis-server and through Apply, comparing the
// string after each one (and the overflow results Redis reports, through
// the bytes they leave).
func TestBitfieldEdges(t *testing.T) {
	srv := redistest.Start(t)
	rc := dialRedis(t, srv.Addr())
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	seed := seedFromEnv(t, time.Now().UnixNano()%1_000_000)
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(uint64(seed), 9))
	edges := []string{"0", "1", "-1", "2", "-2", "127", "128", "-128", "-129", "255", "256",
		"9223372036854775807", "-9223372036854775808", "9223372036854775806", "-9223372036854775807",
		"4611686018427387904", "-4611686018427387904"}
	var cmds [][]string
	for i := 0; i < 600; i++ {
		c := []string{"BITFIELD", "k"}
		for n := 1 + r.IntN(3); n > 0; n-- {
			bits := 1 + r.IntN(64)
			typ := "i" + strconv.Itoa(bits)
			if r.IntN(2) == 0 && bits < 64 {
				typ = "u" + strconv.Itoa(bits)
			}
			if r.IntN(3) == 0 {
				c = append(c, "OVERFLOW", []string{"WRAP", "SAT", "FAIL"}[r.IntN(3)])
			}
			op := []string{"SET", "INCRBY"}[r.IntN(2)]
			c = append(c, op, typ, strconv.Itoa(r.IntN(80)), edges[r.IntN(len(edges))])
		}
		cmds = append(cmds, c)
		switch r.IntN(10) {
		case 0:
			cmds = append(cmds, []string{"SETBIT", "k", strconv.Itoa(r.IntN(200)), strconv.Itoa(r.IntN(2))})
		case 1:
			cmds = append(cmds, []string{"BITOP", []string{"AND", "OR", "XOR"}[r.IntN(3)], "d", "k", "d", "missing"})
		case 2:
			cmds = append(cmds, []string{"BITOP", "NOT", "k", "d"})
		case 3:
			cmds = append(cmds, []string{"BITOP", "AND", "d", "missing"}) // empty: deletes d
		}
	}
	for _, c := range cmds {
		rep := rc.do(t, c...)
		if _, isErr := rep.(redisErr); isErr {
			continue // refused by Redis: never on a link
		}
		argv := make([][]byte, len(c))
		for i, a := range c {
			argv[i] = []byte(a)
		}
		if err := p.Apply(0, argv); err != nil {
			t.Fatalf("Apply %q: %v", c, err)
		}
		for _, k := range []string{"k", "d"} {
			want, _ := rc.do(t, "GET", k).(string)
			var got string
			p.View(0, [][]byte{[]byte(k)}, func(v *View) { got = string(v.Get([]byte(k)).Bytes()) })
			if want != got {
				t.Fatalf("after %q, %s:\n redis %x\n  proj %x", c, k, want, got)
			}
		}
	}
}
