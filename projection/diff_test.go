package projection

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/internal/repltest"
	wl "github.com/vdr-project/vdr/internal/workload"
	"github.com/vdr-project/vdr/rdbparse"
)

// workload is the seeded generator of random client commands over a small
// keyspace (internal/workload, shared with the server package's tests).
type workload = wl.W

// runDifferential drives a real primary with a seeded workload, applies
// what the primary propagated to a projection, and compares every key.
func runDifferential(t *testing.T, seed int64, ops int) {
	runDifferentialMix(t, seed, ops, nil)
}

// runDifferentialMix is runDifferential with extra commands mixed into the
// core workload (see workload.Extra).
func runDifferentialMix(t *testing.T, seed int64, ops int, extra func(w *workload) []string) {
	t.Logf("seed %d (reproduce with SEED=%d)", seed, seed)
	// Odd seeds run with small encoding thresholds (set on the primary,
	// the replica and the projection alike) and the lazyfree options that
	// turn DELs into UNLINKs.
	var conf []string
	if seed%2 != 0 {
		conf = []string{"--hash-max-listpack-entries", "8", "--hash-max-listpack-value", "16",
			"--zset-max-listpack-entries", "6", "--zset-max-listpack-value", "10",
			"--set-max-intset-entries", "5",
			"--hll-sparse-max-bytes", "200",
			"--lazyfree-lazy-expire", "yes", "--lazyfree-lazy-user-del", "yes", "--lazyfree-lazy-server-del", "yes"}
	}
	// No 5 s wait before a diskless full sync (repl-diskless-sync-delay).
	srv := redistest.Start(t, append([]string{"--repl-diskless-sync-delay", "0"}, conf...)...)
	// The reference replica attaches when the projection does, so both
	// start from the same RDB (a string's embstr/raw encoding, for one, is
	// not carried by an RDB: only a replica that saw the APPEND says raw).
	rep := redistest.Start(t, conf...)
	rc := dialRedis(t, srv.Addr())
	w := wl.New(seed)
	w.Extra = extra
	pending := 0
	run := func(ops int) {
		for i := 0; i < ops; i++ {
			if w.Rand().IntN(25) == 0 {
				rc.send("MULTI")
				n := 2 + w.Rand().IntN(4)
				for j := 0; j < n; j++ {
					c := w.Cmd()
					if c[0] == "SELECT" || strings.HasPrefix(c[0], "B") {
						c = []string{"INCR", w.Key()}
					}
					rc.send(c...)
				}
				rc.send("EXEC")
				pending += n + 2
			} else {
				rc.send(w.Cmd()...)
				pending++
			}
			if pending > 64 {
				rc.drain(t, pending)
				pending = 0
			}
			if w.Rand().IntN(100) == 0 {
				// DUMP a key and RESTORE it elsewhere (the primary makes a
				// relative TTL absolute: RESTORE … ABSTTL on the link).
				rc.drain(t, pending)
				pending = 0
				if payload, ok := rc.do(t, "DUMP", w.Key()).(string); ok {
					c := []string{"RESTORE", w.Key(), "0", payload, "REPLACE"}
					if w.Rand().IntN(2) == 0 {
						c[2] = strconv.FormatInt(w.TTLMs(), 10)
					}
					rc.do(t, c...)
				}
			}
			if w.Rand().IntN(500) == 0 {
				rc.drain(t, pending)
				pending = 0
				time.Sleep(30 * time.Millisecond) // let some short TTLs pass
			}
		}
		rc.drain(t, pending)
		pending = 0
	}
	// A third of the workload runs before the projection attaches: it
	// arrives as the full sync's RDB, loaded through rdbparse and a Loader.
	run(ops / 3)
	if r := rep.Do(t, "REPLICAOF", "127.0.0.1", strconv.Itoa(srv.Port)); !strings.HasPrefix(r, "+OK") {
		t.Fatalf("REPLICAOF: %q", r)
	}
	// Both full syncs must see the same snapshot: the workload stays
	// paused until the replica has loaded its RDB and we have ours.
	redistest.WaitFor(t, 30*time.Second, "reference replica synced", func() bool {
		return redistest.InfoField(rep.Addr(), "replication", "master_link_status") == "up"
	})
	link := repltest.Attach(t, srv.Addr())
	// Before the workload resumes: a FLUSHALL could still drop the link.
	link.WaitOnline(t, 10*time.Second)
	p, err := New(Options{NumDBs: 16, OnUnknown: Resync}) // any divergence stops the test at its command
	if err != nil {
		t.Fatal(err)
	}
	if seed%2 != 0 {
		p.SetEncodingConfig(serverEncodings(t, EncodingConfig{HashMaxListpackEntries: 8, HashMaxListpackValue: 16,
			ZSetMaxListpackEntries: 6, ZSetMaxListpackValue: 10, SetMaxIntsetEntries: 5,
			HLLSparseMaxBytes: 200}))
	} else {
		p.SetEncodingConfig(serverEncodings(t, p.EncodingConfig()))
	}
	ld := p.BeginLoad(LoadOptions{})
	if err := rdbparse.Parse(bytes.NewReader(link.RDB), loadHandler{ld: ld}, nil); err != nil {
		t.Fatalf("parse the full sync RDB: %v", err)
	}
	if err := ld.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Logf("full sync: %d keys loaded", p.Stats().LoadedKeys)
	lk := p.NewLink()
	applied := make(chan error, 8)
	marker := "sync-" + strconv.FormatInt(seed, 10)
	var history []string // every command fed, with its db, for failure reports (racy: debugging only)
	rejected := 0        // commands from the primary the reference replica rejected, seen so far
	var rejectedMu sync.Mutex
	rejectedCmds := map[string]int{} // those commands by name (the projection counts them as failed)
	go func() {
		for {
			argv, err := link.Next(30 * time.Second)
			if err == nil {
				history = append(history, fmt.Sprintf("db%d %q", lk.DB(), argv))
			}
			if err != nil {
				applied <- err
				return
			}
			if eq(argv[0], "publish") && len(argv) == 3 && string(argv[2]) == marker {
				applied <- nil // a checkpoint: everything before it is applied
				continue
			}
			if err := lk.Feed(argv); err != nil {
				if replicaRejected(rep, argv, &rejected) {
					rejectedMu.Lock()
					rejectedCmds[strings.ToLower(string(argv[0]))]++
					rejectedMu.Unlock()
					// The reference replica failed this command too: the
					// primary's stream does not match its own data here
					// (Redis decides; both skip it and are compared later).
					continue
				}
				var rel []string
				for _, h := range history {
					if len(argv) > 1 && strings.Contains(h, strconv.Quote(string(argv[1]))) || strings.Contains(h, "SWAPDB") || strings.Contains(h, "FLUSH") || strings.Contains(h, "MOVE") {
						rel = append(rel, h)
					}
				}
				if len(rel) > 40 {
					rel = rel[len(rel)-40:]
				}
				applied <- fmt.Errorf("apply %q: %w; history of the key:\n%s", argv, err, strings.Join(rel, "\n"))
				return
			}
		}
	}()
	// The rest runs in three legs; after each, the projection and a real
	// replica of the same primary are compared key by key. The projection
	// must answer as a replica does (a primary's own encodings can differ,
	// e.g. INCRBYFLOAT's embstr "3" arrives as SET … KEEPTTL, an int).
	rest := ops - ops/3
	n := 0
	for leg := 0; leg < 3; leg++ {
		run(rest / 3)
		rc.do(t, "PUBLISH", "x", marker)
		select {
		case err := <-applied:
			if err != nil {
				log := srv.Log()
				if len(log) > 2000 {
					log = log[len(log)-2000:]
				}
				t.Fatalf("%v\nprimary log (tail):\n%s", err, log)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("timeout waiting for the sync marker")
		}
		if err := p.sane(); err != nil {
			t.Fatal(err)
		}
		waitReplica(t, srv, rep)
		n += compareWithRedis(t, p, dialRedis(t, rep.Addr()), []int{0, 1, 2}, nil)
		if t.Failed() {
			if k := os.Getenv("DEBUG_KEY"); k != "" {
				for _, h := range history {
					if strings.Contains(h, strconv.Quote(k)) || strings.Contains(h, "SWAPDB") || strings.Contains(h, "FLUSH") {
						t.Log(h)
					}
				}
			}
			t.FailNow()
		}
	}
	st := p.Stats()
	// The projection counts a failed command by its own name; the replica
	// reports a failure inside MULTI/EXEC against EXEC, so only the totals
	// can be matched.
	rejectedMu.Lock()
	var nFailed, nRejected uint64
	for _, n := range st.Failed {
		nFailed += n
	}
	for _, n := range rejectedCmds {
		nRejected += uint64(n)
	}
	if len(rejectedCmds) > 0 {
		t.Logf("the reference replica rejected these commands of the stream too: %v (the projection: %v)", rejectedCmds, st.Failed)
	}
	rejectedMu.Unlock()
	if len(st.Unknown) > 0 || nFailed != nRejected {
		t.Errorf("unexpected unknown/failed commands: %v %v (the reference replica rejected %d)", st.Unknown, st.Failed, nRejected)
	}
	t.Logf("seed %d: %d ops, %d key comparisons, applied %d command kinds (%d RESTOREs)", seed, ops, n, len(st.Applied), st.Applied["restore"])
	if n == 0 {
		t.Error("nothing compared")
	}
}

// waitReplica waits until rep has processed everything srv propagated.
func waitReplica(t *testing.T, srv, rep *redistest.Server) {
	t.Helper()
	redistest.WaitFor(t, 30*time.Second, "replica catches up", func() bool {
		want := redistest.InfoField(srv.Addr(), "replication", "master_repl_offset")
		got := redistest.InfoField(rep.Addr(), "replication", "slave_repl_offset")
		return want != "" && want == got && redistest.InfoField(rep.Addr(), "replication", "master_link_status") == "up"
	})
}

func TestDifferential(t *testing.T) {
	forSeeds(t, 8, 5000, 40, 20000, func(t *testing.T, seed int64, ops int) { runDifferential(t, seed, ops) })
}

// forSeeds runs fn as one subtest per seed, starting from SEED or a
// seed taken from the clock: seeds × ops by default, longSeeds × longOps
// with VDR_LONG set; SEED= runs that seed alone, and VDR_SEEDS / VDR_OPS
// override the counts.
func forSeeds(t *testing.T, seeds, ops, longSeeds, longOps int, fn func(t *testing.T, seed int64, ops int)) {
	if os.Getenv("VDR_LONG") != "" {
		seeds, ops = longSeeds, longOps
	}
	base := seedFromEnv(t, time.Now().UnixNano()%1_000_000)
	if os.Getenv("SEED") != "" {
		seeds = 1
	}
	if v, err := strconv.Atoi(os.Getenv("VDR_SEEDS")); err == nil && v > 0 {
		seeds = v
	}
	if v, err := strconv.Atoi(os.Getenv("VDR_OPS")); err == nil && v > 0 {
		ops = v
	}
	for i := 0; i < seeds; i++ {
		seed := base + int64(i)
		t.Run("seed="+strconv.FormatInt(seed, 10), func(t *testing.T) { fn(t, seed, ops) })
	}
}

var _ = errors.Is

// replicaRejected reports whether the reference replica also failed to
// apply argv: a Redis 7 replica logs "== CRITICAL == This replica is
// sending an error to its master: … after processing the command '<name>'"
// for every command of its primary's stream that fails. This happens
// when the primary's stream does not match its own data (seen with a long
// seed of the bits workload: a RENAMENX of a key the stream never created
// in that database); vdr must then do what the replica does, not more.
// seen counts the replica's rejections already matched.
func replicaRejected(rep *redistest.Server, argv [][]byte, seen *int) bool {
	want := "after processing the command '" + strings.ToLower(string(argv[0])) + "'"
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := 0
		for _, l := range strings.Split(rep.Log(), "\n") {
			if strings.Contains(l, "sending an error to its master") {
				n++
				if n > *seen && strings.Contains(l, want) {
					*seen = n
					return true
				}
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
