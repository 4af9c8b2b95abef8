package hll

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// conn is a minimal RESP2 client for these tests: replies come back as
// []byte (bulk), int64, string (status), error, or nil.
type conn struct {
	tb testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dial(tb testing.TB, addr string) *conn {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	return &conn{tb: tb, nc: nc, br: bufio.NewReader(nc)}
}

func (c *conn) do(args ...[]byte) any {
	c.tb.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n", len(a))
		b.Write(a)
		b.WriteString("\r\n")
	}
	if _, err := c.nc.Write(b.Bytes()); err != nil {
		c.tb.Fatal(err)
	}
	line, err := c.br.ReadString('\n')
	if err != nil || len(line) < 3 {
		c.tb.Fatalf("read reply: %q %v", line, err)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body
	case '-':
		return errors.New(body)
	case ':':
		n, _ := strconv.ParseInt(body, 10, 64)
		return n
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := ioFull(c.br, buf); err != nil {
			c.tb.Fatal(err)
		}
		return buf[:n]
	}
	c.tb.Fatalf("unexpected reply %q", line)
	return nil
}

func ioFull(br *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := br.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (c *conn) dos(args ...string) any {
	c.tb.Helper()
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return c.do(bs...)
}

func testSeed(t *testing.T) int64 {
	if s := os.Getenv("SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("SEED=%q: %v", s, err)
		}
		return v
	}
	return time.Now().UnixNano() % 1_000_000
}

func TestNewMatchesRedis(t *testing.T) {
	srv := redistest.Start(t)
	c := dial(t, srv.Addr())
	c.dos("PFADD", "k")
	got, _ := c.dos("GET", "k").([]byte)
	want, updated, err := PFAdd(nil, nil, DefaultSparseMaxBytes)
	if err != nil || !updated || !bytes.Equal(got, want) {
		t.Fatalf("empty HLL (updated %v, err %v):\n redis %x\n   hll %x", updated, err, got, want)
	}
}

func TestPatLen(t *testing.T) {
	// Known properties: every register index is in range and the count is
	// in 1..Q+1; the same element always lands in the same place.
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10000; i++ {
		e := make([]byte, r.IntN(40))
		for j := range e {
			e[j] = byte(r.Uint32())
		}
		idx, cnt := PatLen(e)
		idx2, cnt2 := PatLen(e)
		if idx < 0 || idx >= Registers || cnt < 1 || cnt > Q+1 || idx != idx2 || cnt != cnt2 {
			t.Fatalf("PatLen(%x) = %d, %d", e, idx, cnt)
		}
	}
}

// model mirrors a few keys of a real redis-server: every command goes to
// both, then the values are compared byte for byte.
type model struct {
	t         *testing.T
	c         *conn
	vals      map[string][]byte
	sparseMax int
}

func (m *model) check(key string) {
	m.t.Helper()
	got := m.c.dos("GET", key)
	want := m.vals[key]
	if got == nil && want == nil {
		return
	}
	gb, _ := got.([]byte)
	if !bytes.Equal(gb, want) {
		m.t.Fatalf("key %s differs (redis %d bytes, hll %d bytes):\n redis %x\n   hll %x", key, len(gb), len(want), head(gb), head(want))
	}
}

func head(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

func (m *model) pfadd(key string, elems [][]byte) {
	m.t.Helper()
	args := append([][]byte{[]byte("PFADD"), []byte(key)}, elems...)
	rep := m.c.do(args...)
	nb, updated, err := PFAdd(m.vals[key], elems, m.sparseMax)
	if err != nil {
		m.t.Fatalf("PFAdd: %v", err)
	}
	m.vals[key] = nb
	want := int64(0)
	if updated {
		want = 1
	}
	if rep != want {
		m.t.Fatalf("PFADD %s: redis %v, hll %v", key, rep, want)
	}
	m.check(key)
}

func (m *model) pfcount(keys ...string) {
	m.t.Helper()
	rep := m.c.dos(append([]string{"PFCOUNT"}, keys...)...)
	var got uint64
	if len(keys) == 1 {
		v := m.vals[keys[0]]
		if v != nil {
			var err error
			if got, _, err = PFCount(v); err != nil {
				m.t.Fatal(err)
			}
		}
	} else {
		var vals [][]byte
		for _, k := range keys {
			if v := m.vals[k]; v != nil {
				vals = append(vals, v)
			}
		}
		var err error
		if got, err = PFCountMulti(vals); err != nil {
			m.t.Fatal(err)
		}
	}
	if rep != int64(got) {
		m.t.Fatalf("PFCOUNT %v: redis %v, hll %d", keys, rep, got)
	}
	for _, k := range keys {
		m.check(k)
	}
}

func (m *model) pfmerge(dest string, srcs ...string) {
	m.t.Helper()
	if rep := m.c.dos(append([]string{"PFMERGE", dest}, srcs...)...); rep != "OK" {
		m.t.Fatalf("PFMERGE: %v", rep)
	}
	var vals [][]byte
	for _, k := range append([]string{dest}, srcs...) {
		if v := m.vals[k]; v != nil {
			vals = append(vals, v)
		}
	}
	nb, err := PFMerge(m.vals[dest], vals, m.sparseMax)
	if err != nil {
		m.t.Fatal(err)
	}
	m.vals[dest] = nb
	m.check(dest)
}

func (m *model) todense(key string) {
	m.t.Helper()
	m.c.dos("PFDEBUG", "TODENSE", key)
	nb, err := ToDense(m.vals[key])
	if err != nil {
		m.t.Fatal(err)
	}
	m.vals[key] = nb
	m.check(key)
}

// TestCommandsMatchRedis runs random PFADD/PFCOUNT/PFMERGE/PFDEBUG
// sequences against redis-server and this package side by side, with the
// default hll-sparse-max-bytes and small ones that promote early.
func TestCommandsMatchRedis(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	ops := 400
	if os.Getenv("VDR_LONG") != "" {
		ops = 5000
	}
	for _, smax := range []int{DefaultSparseMaxBytes, 300, 40} {
		t.Run("sparse-max="+strconv.Itoa(smax), func(t *testing.T) {
			srv := redistest.Start(t, "--hll-sparse-max-bytes", strconv.Itoa(smax))
			m := &model{t: t, c: dial(t, srv.Addr()), vals: map[string][]byte{}, sparseMax: smax}
			r := rand.New(rand.NewPCG(uint64(seed), uint64(smax)))
			keys := []string{"a", "b", "c", "d", "e", "f"}
			elem := func() []byte {
				if r.IntN(3) == 0 {
					return []byte("e" + strconv.Itoa(r.IntN(500)))
				}
				e := make([]byte, r.IntN(30))
				for j := range e {
					e[j] = byte(r.Uint32())
				}
				return e
			}
			for i := 0; i < ops; i++ {
				k := keys[r.IntN(len(keys))]
				switch n := r.IntN(20); {
				case n < 12:
					var elems [][]byte
					cnt := r.IntN(6)
					if r.IntN(30) == 0 {
						cnt = 20 + r.IntN(300) // reach the dense threshold
					}
					for j := 0; j < cnt; j++ {
						elems = append(elems, elem())
					}
					m.pfadd(k, elems)
				case n < 15:
					m.pfcount(k)
				case n < 17:
					m.pfcount(keys[:1+r.IntN(len(keys))]...)
				case n < 19:
					m.pfmerge(k, keys[r.IntN(len(keys))], keys[r.IntN(len(keys))])
				default:
					if m.vals[k] != nil {
						m.todense(k)
					}
				}
			}
			dense := 0
			for _, v := range m.vals {
				if v != nil && v[4] == Dense {
					dense++
				}
			}
			t.Logf("%d ops, %d of %d keys dense", ops, dense, len(m.vals))
		})
	}
}

// TestCountLarge compares PFCOUNT with Redis over a range of cardinalities,
// where the estimator's every branch matters.
func TestCountLarge(t *testing.T) {
	srv := redistest.Start(t)
	c := dial(t, srv.Addr())
	var b []byte
	n := 0
	for _, target := range []int{1, 10, 100, 1000, 5000, 20000, 60000} {
		var elems [][]byte
		for ; n < target; n++ {
			elems = append(elems, []byte("x"+strconv.Itoa(n)))
		}
		args := append([][]byte{[]byte("PFADD"), []byte("k")}, elems...)
		c.do(args...)
		var err error
		if b, _, err = PFAdd(b, elems, DefaultSparseMaxBytes); err != nil {
			t.Fatal(err)
		}
		got, err := Count(b)
		if err != nil {
			t.Fatal(err)
		}
		if rep := c.dos("PFCOUNT", "k"); rep != int64(got) {
			t.Fatalf("%d elements: redis %v, hll %d", n, rep, got)
		}
		gb, _ := c.dos("GET", "k").([]byte)
		SetCache(b, got)
		if !bytes.Equal(gb, b) {
			t.Fatalf("%d elements: bytes differ", n)
		}
	}
}

func TestCheck(t *testing.T) {
	f := func(name string, b []byte, want error) {
		t.Helper()
		if err := Check(b); !errors.Is(err, want) && !(err == nil && want == nil) {
			t.Errorf("%s: Check = %v, want %v", name, err, want)
		}
	}
	f("new", New(), nil)
	f("short", []byte("HYLL"), ErrNotHLL)
	f("magic", append([]byte("HYLX"), New()[4:]...), ErrNotHLL)
	bad := New()
	bad[4] = 2
	f("encoding", bad, ErrNotHLL)
	d, _ := ToDense(New())
	f("dense", d, nil)
	f("dense-short", d[:len(d)-1], ErrNotHLL)
	// A sparse value whose runs do not cover every register is corrupt.
	s := New()[:HdrSize+1]
	s[HdrSize] = 0x3f // ZERO of 64
	if _, err := Count(s); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short runs: Count = %v", err)
	}
	if _, _, err := Add(s, []byte("x"), DefaultSparseMaxBytes); err == nil {
		// may land in the covered part; it must not panic either way
		t.Log("add into a short run succeeded")
	}
}

// TestCorruptMatchesRedis writes damaged sparse HLLs (SET of raw bytes, as
// SETBIT or SETRANGE on an HLL key would leave them) and checks that
// PFADD, PFCOUNT and PFMERGE fail or succeed as in Redis and leave the
// same bytes: a replica applies what the primary did, corrupt or not.
func TestCorruptMatchesRedis(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	srv := redistest.Start(t)
	c := dial(t, srv.Addr())
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	base, _, _ := PFAdd(nil, [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d")}, DefaultSparseMaxBytes)
	cases := [][]byte{
		append(append([]byte(nil), base[:HdrSize]...), 0x40),             // one cut XZERO
		append(append([]byte(nil), base[:HdrSize]...), 0x3f, 0x3f),       // runs too short
		append(append([]byte(nil), base...), 0x83),                       // runs too long
		append(append([]byte(nil), base[:HdrSize]...), 0x7f, 0xff, 0x7f), // too long, then a cut XZERO
	}
	for i := 0; i < 40; i++ {
		b := append([]byte(nil), base...)
		b[HdrSize+r.IntN(len(b)-HdrSize)] ^= byte(1 << r.IntN(8))
		cases = append(cases, b)
	}
	errOf := func(v any) bool { _, ok := v.(error); return ok }
	failed := 0
	for i, v := range cases {
		for _, op := range []string{"pfadd", "pfcount", "pfmerge"} {
			c.do([]byte("SET"), []byte("k"), v)
			mine := append([]byte(nil), v...)
			var rep any
			var err error
			switch op {
			case "pfadd":
				elems := [][]byte{[]byte("e" + strconv.Itoa(r.IntN(1000))), []byte("f" + strconv.Itoa(r.IntN(1000)))}
				rep = c.do([]byte("PFADD"), []byte("k"), elems[0], elems[1])
				mine, _, err = PFAdd(mine, elems, DefaultSparseMaxBytes)
			case "pfcount":
				rep = c.dos("PFCOUNT", "k")
				var n uint64
				n, _, err = PFCount(mine)
				if err == nil && rep != int64(n) {
					t.Errorf("case %d %x: PFCOUNT redis %v, hll %d", i, v, rep, n)
				}
			case "pfmerge":
				rep = c.dos("PFMERGE", "k", "k")
				mine, err = PFMerge(mine, [][]byte{mine}, DefaultSparseMaxBytes)
			}
			if err != nil {
				failed++
			}
			if errOf(rep) != (err != nil) {
				t.Errorf("case %d %x %s: redis %v, hll err %v", i, v, op, rep, err)
				continue
			}
			got, _ := c.dos("GET", "k").([]byte)
			if !bytes.Equal(got, mine) {
				t.Errorf("case %d %x %s (err %v): bytes\n redis %x\n   hll %x", i, v, op, err, head(got), head(mine))
			}
		}
	}
	t.Logf("%d cases, %d operations failed as in Redis", len(cases), failed)
	if failed == 0 {
		t.Error("no corrupt case was detected")
	}
}

func TestDenseDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	regs := make([]byte, DenseSize-HdrSize)
	for i := range regs {
		regs[i] = byte(r.Uint32())
	}
	var out Regs
	denseDecode(regs, &out)
	for i, v := range out {
		if v != denseGet(regs, i) {
			t.Fatalf("register %d: %d, denseGet %d", i, v, denseGet(regs, i))
		}
	}
}
