package replica

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/redistest"
)

// populate writes keys of every type, in several encodings, into db 0
// and db 3 of the primary.
func populate(t testing.TB, rc *redis.Client, prefix string, big int) {
	t.Helper()
	ctx := context.Background()
	for _, db := range []int{0, 3} {
		p := rc.Pipeline()
		p.Do(ctx, "SELECT", db)
		pre := fmt.Sprintf("%sdb%d:", prefix, db)
		p.Set(ctx, pre+"str", "hello", 0)
		p.Set(ctx, pre+"int", 12345, 0)
		p.Set(ctx, pre+"exp", "soon", time.Hour)
		p.Set(ctx, pre+"bigstr", strings.Repeat("x", 20000), 0)
		p.RPush(ctx, pre+"list", "a", "b", "c")
		p.SAdd(ctx, pre+"intset", 1, 2, 3)
		p.SAdd(ctx, pre+"set", "a", "b", "c")
		p.HSet(ctx, pre+"hash", "f1", "v1", "f2", "v2")
		p.ZAdd(ctx, pre+"zset", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -2, Member: "b"})
		p.XAdd(ctx, &redis.XAddArgs{Stream: pre + "stream", ID: "1-1", Values: []string{"f", "v"}})
		p.XAdd(ctx, &redis.XAddArgs{Stream: pre + "stream", ID: "2-1", Values: []string{"f", "w", "g", "x"}})
		p.XGroupCreate(ctx, pre+"stream", "grp", "0")
		var many []any
		var zs []redis.Z
		var hv []any
		for i := 0; i < big; i++ {
			many = append(many, fmt.Sprintf("element-%d", i))
			zs = append(zs, redis.Z{Score: float64(i) / 3, Member: fmt.Sprintf("m%d", i)})
			hv = append(hv, fmt.Sprintf("field%d", i), strings.Repeat("v", i%70))
		}
		if big > 0 {
			p.RPush(ctx, pre+"biglist", many...)
			p.SAdd(ctx, pre+"bigset", many...)
			p.ZAdd(ctx, pre+"bigzset", zs...)
			p.HSet(ctx, pre+"bighash", hv...)
		}
		_, err := p.Exec(ctx)
		requireNoError(t, err)
	}
}

// primaryData reads every key of dbs 0..15 from the primary in the
// recorder's canonical form.
func primaryData(t testing.TB, addr, password string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for db := 0; db < 16; db++ {
		rc := redis.NewClient(&redis.Options{Addr: addr, DB: db, Password: password, Protocol: 2})
		keys, err := rc.Keys(ctx, "*").Result()
		requireNoError(t, err)
		for _, k := range keys {
			typ, err := rc.Type(ctx, k).Result()
			requireNoError(t, err)
			v := &value{kind: typ, set: map[string]bool{}, hash: map[string]string{}, zset: map[string]float64{}}
			switch typ {
			case "string":
				v.str, err = rc.Get(ctx, k).Result()
			case "list":
				v.list, err = rc.LRange(ctx, k, 0, -1).Result()
			case "set":
				var m []string
				m, err = rc.SMembers(ctx, k).Result()
				for _, x := range m {
					v.set[x] = true
				}
			case "hash":
				v.hash, err = rc.HGetAll(ctx, k).Result()
			case "zset":
				var zs []redis.Z
				zs, err = rc.ZRangeWithScores(ctx, k, 0, -1).Result()
				for _, z := range zs {
					v.zset[z.Member.(string)] = z.Score
				}
			case "stream":
				var xs []redis.XMessage
				xs, err = rc.XRange(ctx, k, "-", "+").Result()
				for _, x := range xs {
					s := x.ID
					var fields []string
					for f := range x.Values {
						fields = append(fields, f)
					}
					sort.Strings(fields) // the map loses the order; the test data uses sorted fields
					for _, f := range fields {
						s += " " + f + " " + fmt.Sprint(x.Values[f])
					}
					v.strm = append(v.strm, s)
				}
			}
			requireNoError(t, err)
			out[strconv.Itoa(db)+"/"+k] = v.canon()
		}
		rc.Close()
	}
	return out
}

func diffData(got, want map[string]string) string {
	var d []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			d = append(d, "missing "+k)
		} else if g != w {
			d = append(d, fmt.Sprintf("%s: got %.80q want %.80q", k, g, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d = append(d, "extra "+k)
		}
	}
	sort.Strings(d)
	if len(d) > 10 {
		d = append(d[:10], fmt.Sprintf("… %d more", len(d)-10))
	}
	return strings.Join(d, "\n")
}

func masterOffset(addr string) int64 {
	n, _ := strconv.ParseInt(redistest.InfoField(addr, "replication", "master_repl_offset"), 10, 64)
	return n
}

// converge waits until the client applied the primary's whole stream,
// then compares the recorded data with the primary's.
func converge(t testing.TB, c *Client, rec *recorder, addr, password string) {
	t.Helper()
	var want map[string]string
	var diff string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mo := masterOffset(addr)
		if c.Offset() == mo && c.State() == StateStreaming {
			want = primaryData(t, addr, password)
			diff = diffData(rec.snapshot(), want)
			if mo == masterOffset(addr) && diff == "" {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("not converged: client offset %d, primary %d, state %v\n%s", c.Offset(), masterOffset(addr), c.State(), diff)
}

func realClient(t testing.TB, opts Options) *Client {
	t.Helper()
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 10 * time.Second
	}
	return startClient(t, opts, nil)
}

// writeSome runs simple writes the recorder can apply, in db 0 and 3.
func writeSome(t testing.TB, rc *redis.Client, n int, tag string) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		p := rc.Pipeline()
		p.Set(ctx, tag+":s:"+strconv.Itoa(i%7), strconv.Itoa(i), 0)
		p.Incr(ctx, tag+":counter")
		p.RPush(ctx, tag+":list", i)
		p.SAdd(ctx, tag+":set", i%5)
		p.HSet(ctx, tag+":hash", "f"+strconv.Itoa(i%3), i)
		if i%10 == 9 {
			p.Del(ctx, tag+":s:"+strconv.Itoa(i%7))
		}
		_, err := p.Exec(ctx)
		requireNoError(t, err)
	}
	// One MULTI/EXEC unit in another db.
	_, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "SELECT", 3)
		p.Incr(ctx, tag+":txcounter")
		p.Set(ctx, tag+":txkey", "v", 0)
		return nil
	})
	requireNoError(t, err)
}

// TestRealFullSync: full sync of a primary holding every type, diskless
// or not, with a diskless delay (keepalives), then streaming; the
// recorded data equals the primary, WAIT counts the client, and at rest
// INFO shows the client's offset equal to master_repl_offset.
func TestRealFullSync(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"diskless", []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}},
		{"disk", []string{"--repl-diskless-sync", "no"}},
		{"diskless-delay-keepalives", []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t, tc.args...)
			rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
			defer rc.Close()
			populate(t, rc, "k:", 300)
			rec := newRecorder()
			c := realClient(t, Options{Primary: srv.Addr(), Handler: rec, ListeningPort: 4242})
			converge(t, c, rec, srv.Addr(), "")
			st := c.Stats()
			if st.FullSyncs != 1 || st.LastFullSyncRDB <= 0 || st.LastFullSyncTime <= 0 {
				t.Fatalf("stats %+v", st)
			}
			if strings.Contains(tc.name, "keepalives") && st.Keepalives == 0 {
				t.Fatalf("no keepalive seen during a 2 s diskless delay: %+v", st)
			}
			p := c.SyncProgress()
			if p.Active || p.Bytes != st.LastFullSyncRDB || p.Keys != 2*(10+4) || (tc.name == "disk") != (p.Total == p.Bytes) {
				t.Fatalf("progress %+v, stats %+v", p, st)
			}
			writeSome(t, rc, 50, "w")
			converge(t, c, rec, srv.Addr(), "")
			if n := setAndWait(t, rc, 2*time.Second); n != 1 {
				t.Fatalf("WAIT 1: %d", n)
			}
			// At rest the primary lists us, announced port, our offset.
			// Valkey 8 appends type=replica (a dual-channel sync lists
			// its RDB channel as type=rdb-channel); other versions' extra
			// fields are ignored.
			mo := masterOffset(srv.Addr())
			want := fmt.Sprintf("ip=127.0.0.1,port=4242,state=online,offset=%d,lag=0", mo)
			redistest.WaitFor(t, 5*time.Second, "INFO slave0 offset = master_repl_offset", func() bool {
				rest, ok := strings.CutPrefix(redistest.InfoField(srv.Addr(), "replication", "slave0"), want)
				return ok && (rest == "" || rest == ",type=replica")
			})
			if _, _, _, incrs := rec.counts(); incrs != 52 { // 50 + the unit's + setAndWait's
				t.Fatalf("applied %d INCRs, want 52", incrs)
			}
			if c.Addr() != srv.Addr() {
				t.Fatalf("Addr %q, want %q", c.Addr(), srv.Addr())
			}
		})
	}
}

// TestRealWaitAfterApply: WAIT on the primary counts the client only once
// the handler applied the write.
func TestRealWaitAfterApply(t *testing.T) {
	srv := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	rec := newRecorder()
	var gate sync.Mutex
	var blocked atomic.Bool
	rec.failCmds = func([]Command) error {
		if blocked.Load() {
			rec.mu.Unlock() // let the test read the recorder meanwhile
			gate.Lock()
			gate.Unlock()
			rec.mu.Lock()
		}
		return nil
	}
	c := realClient(t, Options{Primary: srv.Addr(), Handler: rec})
	waitFor(t, 10*time.Second, "streaming", func() bool { return c.State() == StateStreaming })
	gate.Lock()
	blocked.Store(true)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
	defer rc.Close()
	if n := setAndWait(t, rc, 300*time.Millisecond); n != 0 {
		t.Fatalf("WAIT while the handler holds the write: %d, want 0", n)
	}
	blocked.Store(false)
	gate.Unlock()
	// WAIT on the same connection (WAIT waits for the connection's own
	// last write).
	if n := setAndWait(t, rc, 5*time.Second); n != 1 {
		t.Fatalf("WAIT after apply: %d, want 1", n)
	}
	if _, _, _, incrs := rec.counts(); incrs != 2 {
		t.Fatalf("applied %d INCRs, want 2", incrs)
	}
}

// TestRealAuth: requirepass, and an ACL user with only the replication
// commands; a wrong password is a clear ErrAuth.
func TestRealAuth(t *testing.T) {
	t.Run("requirepass", func(t *testing.T) {
		srv := redistest.Start(t, "--repl-diskless-sync-delay", "0")
		srv.Do(t, "CONFIG", "SET", "requirepass", "s3cret")
		rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "s3cret", Protocol: 2})
		defer rc.Close()
		populate(t, rc, "a:", 0)
		rec := newRecorder()
		c := realClient(t, Options{Primary: srv.Addr(), Handler: rec, Password: "s3cret"})
		writeSome(t, rc, 5, "p")
		waitFor(t, 10*time.Second, "synced", func() bool { return c.State() == StateStreaming })
		if diff := diffDataEventually(t, c, rec, srv.Addr(), "s3cret"); diff != "" {
			t.Fatal(diff)
		}
	})
	t.Run("acl-user", func(t *testing.T) {
		srv := redistest.Start(t, "--repl-diskless-sync-delay", "0")
		srv.Do(t, "ACL", "SETUSER", "repl", "on", ">replpw", "+psync", "+replconf", "+ping")
		rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
		defer rc.Close()
		populate(t, rc, "u:", 0)
		rec := newRecorder()
		c := realClient(t, Options{Primary: srv.Addr(), Handler: rec, Username: "repl", Password: "replpw"})
		writeSome(t, rc, 5, "q")
		converge(t, c, rec, srv.Addr(), "")
	})
	t.Run("wrong-password", func(t *testing.T) {
		srv := redistest.Start(t)
		srv.Do(t, "ACL", "SETUSER", "repl", "on", ">replpw", "+psync", "+replconf", "+ping")
		rec := newRecorder()
		realClient(t, Options{Primary: srv.Addr(), Handler: rec, Username: "repl", Password: "nope"})
		waitFor(t, 10*time.Second, "an auth error", func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			return len(rec.errs) > 0
		})
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if !errors.Is(rec.errs[0], ErrAuth) {
			t.Fatalf("error %v, want ErrAuth", rec.errs[0])
		}
	})
}

// setAndWait runs INCR then WAIT 1 on one connection and returns WAIT's
// count.
func setAndWait(t testing.TB, rc *redis.Client, timeout time.Duration) int64 {
	t.Helper()
	ctx := context.Background()
	conn := rc.Conn()
	defer conn.Close()
	requireNoError(t, conn.Incr(ctx, "waitcounter").Err())
	n, err := conn.Wait(ctx, 1, timeout).Result()
	requireNoError(t, err)
	return n
}

func diffDataEventually(t testing.TB, c *Client, rec *recorder, addr, pw string) string {
	t.Helper()
	var diff string
	for i := 0; i < 200; i++ {
		if diff = diffData(rec.snapshot(), primaryData(t, addr, pw)); diff == "" {
			return ""
		}
		time.Sleep(25 * time.Millisecond)
	}
	return diff
}

// TestRealKeyFilter: only the chosen db and prefixes are delivered.
func TestRealKeyFilter(t *testing.T) {
	srv := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
	defer rc.Close()
	populate(t, rc, "keep:", 0)
	populate(t, rc, "drop:", 0)
	rec := newRecorder()
	c := realClient(t, Options{Primary: srv.Addr(), Handler: rec, DBs: []int{3}, KeyPrefixes: []string{"keep:"}})
	writeSome(t, rc, 5, "keep:w")
	writeSome(t, rc, 5, "drop:w")
	waitFor(t, 10*time.Second, "caught up", func() bool { return c.Offset() == masterOffset(srv.Addr()) })
	want := map[string]string{}
	for k, v := range primaryData(t, srv.Addr(), "") {
		if strings.HasPrefix(k, "3/keep:") {
			want[k] = v
		}
	}
	if diff := diffData(rec.snapshot(), want); diff != "" {
		t.Fatal(diff)
	}
}

// TestRealStreamStartsAfterFullSync: a diskless Redis primary starts the
// command stream at the first REPLCONF ACK that comes after it has put
// the replica online, and ignores one that comes earlier; a client that
// reads the RDB fast sends its first ACK that early. With the periodic
// ACK an hour away, a write made right after the sync must still arrive:
// the client repeats its ACK until the stream shows life.
func TestRealStreamStartsAfterFullSync(t *testing.T) {
	for i := range 3 {
		srv := redistest.Start(t, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
		rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
		defer rc.Close()
		populate(t, rc, "k:", 10)
		rec := newRecorder()
		c := realClient(t, Options{Primary: srv.Addr(), Handler: rec, AckInterval: time.Hour})
		waitFor(t, 10*time.Second, "the full sync", func() bool { return c.State() == StateStreaming })
		requireNoError(t, rc.Set(context.Background(), "after", strconv.Itoa(i), 0).Err())
		// Without the repeated ACK the primary starts the stream on its own
		// after repl-ping-replica-period (10 s): 5 s tells the two apart.
		want := masterOffset(srv.Addr())
		waitFor(t, 5*time.Second, "the write made right after the sync", func() bool { return c.Offset() >= want })
		converge(t, c, rec, srv.Addr(), "")
		c.Stop()
	}
}
