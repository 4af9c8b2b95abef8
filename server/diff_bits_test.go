package server

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// bitsDataset writes bitmaps and HyperLogLogs (sparse, dense, with valid
// and invalid cached cardinalities, one corrupt) plus a few keys of other
// kinds for the type errors, through f.
func bitsDataset(tb testing.TB, r *rand.Rand, f feeder) []string {
	tb.Helper()
	var keys []string
	w := func(argv ...string) { f.write(tb, 0, argv...) }
	for i := 0; i < 8; i++ {
		k := "bm:" + strconv.Itoa(i)
		keys = append(keys, k)
		for j := 0; j < 5+r.IntN(40); j++ {
			w("SETBIT", k, strconv.Itoa(r.IntN(400)), strconv.Itoa(r.IntN(2)))
		}
		switch i % 4 {
		case 1:
			w("BITFIELD", k, "SET", "i16", "#3", strconv.Itoa(r.IntN(60000)-30000), "OVERFLOW", "SAT", "INCRBY", "u7", "100", "120")
		case 2:
			w("SETRANGE", k, strconv.Itoa(r.IntN(30)), "hello")
			w("APPEND", k, "\xff\x00\x81")
		case 3:
			w("BITOP", "XOR", k, k, "bm:0")
		}
	}
	w("BITOP", "NOT", "bm:not", "bm:1")
	w("SET", "bm:embstr", "abc")
	keys = append(keys, "bm:not", "bm:embstr")
	for i := 0; i < 10; i++ {
		k := "hll:" + strconv.Itoa(i)
		keys = append(keys, k)
		n := []int{0, 1, 5, 30, 200, 800, 3000, 20000, 10, 100}[i]
		argv := []string{"PFADD", k}
		for j := 0; j < n; j++ {
			argv = append(argv, strconv.Itoa(r.IntN(1_000_000)))
			if len(argv) == 502 || j == n-1 {
				w(argv...)
				argv = argv[:2]
			}
		}
		if n == 0 {
			w("PFADD", k)
		}
		if i%3 == 0 {
			w("PFCOUNT", k) // refreshes the cache on the primary, propagated
		}
	}
	w("PFDEBUG", "TODENSE", "hll:8")
	w("PFMERGE", "hll:merged", "hll:2", "hll:3", "hll:missing")
	w("PFMERGE", "hll:merged-dense", "hll:4", "hll:7")
	// A valid header over runs that do not cover the registers.
	w("SET", "hll:corrupt", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x3f\x3f")
	w("SET", "str:plain", "not an hll")
	w("SET", "str:int", "12345")
	w("RPUSH", "list:0", "a", "b")
	keys = append(keys, "hll:merged", "hll:merged-dense", "hll:corrupt", "str:plain", "str:int", "list:0")
	f.sync(tb)
	return keys
}

// bitsReads returns a random read over keys; pfcount selects PFCOUNT,
// which a Redis replica may answer by writing the cache into its copy, so
// it runs only after every other read.
func bitsReads(r *rand.Rand, keys []string, pfcount bool) []string {
	k := func() string {
		if r.IntN(12) == 0 {
			return "missing"
		}
		return keys[r.IntN(len(keys))]
	}
	num := func() string {
		if r.IntN(8) == 0 {
			return []string{"-1", "-5", "abc", "9223372036854775807", "#2"}[r.IntN(5)]
		}
		return strconv.Itoa(r.IntN(120) - 20)
	}
	unit := func(argv []string) []string {
		if r.IntN(3) == 0 {
			return append(argv, []string{"BYTE", "BIT", "bit", "x"}[r.IntN(4)])
		}
		return argv
	}
	if pfcount {
		argv := []string{"PFCOUNT"}
		for n := 1 + r.IntN(3); n > 0; n-- {
			argv = append(argv, k())
		}
		return argv
	}
	switch r.IntN(8) {
	case 0:
		return []string{"GET", k()}
	case 1:
		return []string{"GETBIT", k(), num()}
	case 2:
		if r.IntN(3) == 0 {
			return []string{"BITCOUNT", k()}
		}
		return unit([]string{"BITCOUNT", k(), num(), num()})
	case 3:
		argv := []string{"BITPOS", k(), strconv.Itoa(r.IntN(2))}
		switch r.IntN(3) {
		case 0:
			return argv
		case 1:
			return append(argv, num())
		}
		return unit(append(argv, num(), num()))
	case 4:
		argv := []string{"BITFIELD_RO", k()}
		for n := 1 + r.IntN(3); n > 0; n-- {
			t := []string{"i", "u"}[r.IntN(2)] + strconv.Itoa(1+r.IntN(64))
			argv = append(argv, "GET", t, num())
		}
		return argv
	case 5:
		return []string{"OBJECT", "ENCODING", k()}
	case 6:
		return []string{"STRLEN", k()}
	}
	return []string{"GETRANGE", k(), num(), num()}
}

// TestDifferentialBits compares bitmap and HyperLogLog reads (GET, GETBIT,
// BITCOUNT, BITPOS, BITFIELD_RO, OBJECT ENCODING, PFCOUNT) between vdr
// and a real replica, raw replies byte for byte in RESP2 and RESP3.
func TestDifferentialBits(t *testing.T) {
	sd := seed(t)
	r := rand.New(rand.NewPCG(uint64(sd), 0xb175))
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0")
	redistest.WaitFor(t, 15*time.Second, "replica link up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up"
	})
	proj := newProjection(t)
	ver := asPrimary(t, proj, primary.Addr()) // before any write: encodings are chosen as writes apply
	f := &applyFeed{primary: dialRaw(t, primary.Addr()), proj: proj}
	keys := bitsDataset(t, r, f)
	vdr := startVDR(t, Options{Projection: proj, Compat: ver})
	compareBitsReads(t, r, keys, replica.Addr(), vdr.Addr())
}

// TestDifferentialBitsViaReplica is TestDifferentialBits with vdr fed by
// its own replication link (NewNode): a few keys arrive in the full
// sync's RDB, the rest (PFCOUNT cache writes included) as commands.
func TestDifferentialBitsViaReplica(t *testing.T) {
	sd := seed(t)
	r := rand.New(rand.NewPCG(uint64(sd), 0xb176))
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	pc := dialRaw(t, primary.Addr())
	for i := 0; i < 4; i++ { // in the RDB
		k := "rdb:hll:" + strconv.Itoa(i)
		args := []string{"PFADD", k}
		for j := 0; j < []int{3, 40, 400, 4000}[i]; j++ {
			args = append(args, strconv.Itoa(r.IntN(1_000_000)))
		}
		pc.dos(args...)
		pc.dos("SETBIT", "rdb:bm:"+strconv.Itoa(i), strconv.Itoa(r.IntN(500)), "1")
	}
	pc.dos("PFCOUNT", "rdb:hll:1")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0")
	node, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, Replica: &replicaOptions{Primary: primary.Addr()},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	redistest.WaitFor(t, 15*time.Second, "links up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up"
	})
	f := &nodeFeed{primary: pc, addr: primary.Addr(), vdrAddr: node.Addr()}
	keys := bitsDataset(t, r, f)
	for i := 0; i < 4; i++ {
		keys = append(keys, "rdb:hll:"+strconv.Itoa(i), "rdb:bm:"+strconv.Itoa(i))
	}
	compareBitsReads(t, r, keys, replica.Addr(), node.Addr())
}

// compareBitsReads compares bitmap and HLL reads between a Redis replica
// (redisAddr) and vdr (vdrAddr).
func compareBitsReads(t *testing.T, r *rand.Rand, keys []string, redisAddr, vdrAddr string) {
	t.Helper()
	// Every key once, so each kind of value is certainly covered: its
	// bytes and encoding before any PFCOUNT (a Redis replica writes a
	// refreshed cache into its own copy; vdr leaves that to the primary),
	// then its count alone and with another key.
	everyKey := func(reads [][]string) {
		rc, vc := dialRaw(t, redisAddr), dialRaw(t, vdrAddr)
		for _, k := range keys {
			for _, args := range reads {
				args = append([]string(nil), args...)
				for i := range args {
					if args[i] == "KEY" {
						args[i] = k
					}
				}
				if want, got := rc.dos(args...), vc.dos(args...); want != got {
					t.Errorf("%q:\n redis: %.300q\n   vdr: %.300q%s", args, want, got, firstDiff(want, got))
				}
			}
		}
	}
	everyKey([][]string{{"GET", "KEY"}, {"OBJECT", "ENCODING", "KEY"}, {"BITCOUNT", "KEY"}})
	compared := 0
	for _, pf := range []bool{false, true} {
		for _, proto := range []string{"2", "3"} {
			rc, vc := dialRaw(t, redisAddr), dialRaw(t, vdrAddr)
			if proto == "3" {
				rc.dos("HELLO", "3")
				vc.dos("HELLO", "3")
			}
			n := 1500
			if pf {
				n = 300
			}
			fails := 0
			for i := 0; i < n && fails < maxDiffFails(); i++ {
				args := bitsReads(r, keys, pf)
				if !pf && args[0] == "GET" && i%2 == 0 {
					args = []string{"MULTI"} // a transaction of reads, compared whole at EXEC
					rc.dos(args...)
					vc.dos(args...)
					for j := 0; j < 3; j++ {
						q := bitsReads(r, keys, false)
						if want, got := rc.dos(q...), vc.dos(q...); want != got {
							t.Errorf("queued %q: redis %q, vdr %q", q, want, got)
						}
					}
					args = []string{"EXEC"}
				}
				want, got := rc.dos(args...), vc.dos(args...)
				compared++
				if want != got {
					fails++
					t.Errorf("RESP%s %q:\n redis: %.300q\n   vdr: %.300q%s", proto, args, want, got, firstDiff(want, got))
				}
			}
		}
	}
	everyKey([][]string{{"PFCOUNT", "KEY"}, {"PFCOUNT", "KEY", "hll:5"}})
	vc := dialRaw(t, vdrAddr)
	if r := vc.dos("PFCOUNT", "hll:corrupt"); !strings.HasPrefix(r, "-INVALIDOBJ") {
		t.Errorf("PFCOUNT of a corrupt HLL: %q", r)
	}
	t.Logf("%d replies compared", compared)
}
