package server

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/internal/workload"
)

// The keyspace notification differential: one real primary feeds a real
// Redis 7.0 replica and vdr (a Node, over PSYNC), both with
// notify-keyspace-events KEAn; a PSUBSCRIBE '__key*__:*' client on each
// (one RESP2, one RESP3) records every message, and the seeded random
// write workload of the projection differential (every type, keyspace
// commands, MULTI units, RESTORE, FLUSHDB/FLUSHALL, SWAPDB, expiries the
// primary propagates as DEL/UNLINK) runs on the primary. The two message
// sequences must be equal byte for byte, in order.

const notifyClasses = "KEAn"

// subscriber records the raw frames a PSUBSCRIBE connection receives.
type subscriber struct {
	nc     net.Conn
	mu     sync.Mutex
	frames [][]byte
	err    error
	done   chan struct{}
}

func subscribe(t *testing.T, addr string, resp3 bool) *subscriber {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	br := bufio.NewReader(nc)
	do := func(args ...string) string {
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(encodeCmd(bs(args...)...)); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := readValue(br, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if resp3 {
		if r := do("HELLO", "3"); !strings.HasPrefix(r, "%") {
			t.Fatalf("HELLO 3: %q", r)
		}
	}
	if r := do("PSUBSCRIBE", "__key*__:*"); !strings.Contains(r, "psubscribe") {
		t.Fatalf("PSUBSCRIBE: %q", r)
	}
	nc.SetDeadline(time.Time{})
	s := &subscriber{nc: nc, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			var out bytes.Buffer
			if err := readValue(br, &out); err != nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
				return
			}
			s.mu.Lock()
			s.frames = append(s.frames, out.Bytes())
			s.mu.Unlock()
		}
	}()
	return s
}

// until waits for a frame containing mark and returns the frames before it.
func (s *subscriber) until(t *testing.T, mark string) [][]byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		for i, f := range s.frames {
			if bytes.Contains(f, []byte(mark)) {
				out := s.frames[:i]
				s.mu.Unlock()
				return out
			}
		}
		n, err := len(s.frames), s.err
		s.mu.Unlock()
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("no %q after %d frames (%v)", mark, n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// primaryConn pipelines the workload's commands to the primary.
type primaryConn struct {
	c       *rawConn
	pending int
}

func (p *primaryConn) send(args ...string) {
	p.c.send(encodeCmd(bs(args...)...))
	p.pending++
	if p.pending > 64 {
		p.drain()
	}
}

func (p *primaryConn) drain() {
	for ; p.pending > 0; p.pending-- {
		p.c.read()
	}
}

func (p *primaryConn) do(args ...string) []byte {
	p.drain()
	return p.c.do(bs(args...)...)
}

// bulkPayload returns the bytes of a RESP bulk reply ($n\r\n…\r\n).
func bulkPayload(r []byte) (string, bool) {
	if len(r) < 4 || r[0] != '$' || r[1] == '-' {
		return "", false
	}
	i := bytes.Index(r, []byte("\r\n"))
	return string(r[i+2 : len(r)-2]), true
}

func TestNotifyDifferential(t *testing.T) {
	sd := seed(t)
	ops := 10000
	if s := os.Getenv("VDR_NOTIFY_OPS"); s != "" {
		ops, _ = strconv.Atoi(s)
	}
	runNotifyDifferential(t, sd, ops)
}

func runNotifyDifferential(t *testing.T, sd int64, ops int) {
	// Odd seeds turn DELs of expired and deleted keys into UNLINKs.
	var conf []string
	if sd%2 != 0 {
		conf = []string{"--lazyfree-lazy-expire", "yes", "--lazyfree-lazy-user-del", "yes", "--lazyfree-lazy-server-del", "yes"}
	}
	primary := redistest.Start(t, append([]string{"--repl-diskless-sync-delay", "0"}, conf...)...)
	replica := redistest.Start(t, append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(primary.Port),
		"--replica-priority", "0", "--notify-keyspace-events", notifyClasses}, conf...)...)
	node := startNodeServing(t, primary.Addr(), replicaOptions{}, Options{NotifyKeyspaceEvents: notifyClasses})
	redistest.WaitFor(t, 15*time.Second, "links up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up"
	})
	if r := redistest.InfoField(primary.Addr(), "replication", "connected_slaves"); r != "2" {
		redistest.WaitFor(t, 15*time.Second, "two replicas", func() bool {
			return redistest.InfoField(primary.Addr(), "replication", "connected_slaves") == "2"
		})
	}
	subs := [2][2]*subscriber{} // [redis, vdr][resp2, resp3]
	for i, addr := range []string{replica.Addr(), node.Addr()} {
		subs[i][0] = subscribe(t, addr, false)
		subs[i][1] = subscribe(t, addr, true)
	}

	w := workload.New(sd)
	w.Extra = workload.Mix(workload.Bits, workload.SortGeo, workload.Streams())
	r := w.Rand()
	p := &primaryConn{c: dialRaw(t, primary.Addr())}
	// CONFIG SET on both, between two writes both replicas have applied:
	// a quarter of the run uses another set of classes.
	classes := []string{"Kgl", "E$shzxt", "KEg", "AK", "Enx", "Klszh", "KEA"}
	setClasses := func(v string) {
		// The pause stops the primary's active expiry too, so no DEL
		// reaches one replica before its CONFIG SET and the other after.
		if r := p.do("CLIENT", "PAUSE", "20000", "WRITE"); string(r) != "+OK\r\n" {
			t.Fatalf("CLIENT PAUSE: %q", r)
		}
		want := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
		redistest.WaitFor(t, 20*time.Second, "replicas caught up", func() bool {
			return redistest.InfoField(replica.Addr(), "replication", "slave_repl_offset") == want &&
				redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == want
		})
		for _, addr := range []string{replica.Addr(), node.Addr()} {
			if r, err := redistest.Do(addr, "CONFIG", "SET", "notify-keyspace-events", v); err != nil || r != "+OK\r\n" {
				t.Fatalf("CONFIG SET notify-keyspace-events %s on %s: %q %v", v, addr, r, err)
			}
		}
		if r := p.do("CLIENT", "UNPAUSE"); string(r) != "+OK\r\n" {
			t.Fatalf("CLIENT UNPAUSE: %q", r)
		}
		t.Logf("notify-keyspace-events %s", v)
	}
	// First every command the catalog names, once or in the forms whose
	// events differ, so that each path is compared whatever the seed.
	for _, c := range notifyCatalog {
		if c[0] == "DUMP+RESTORE" {
			if payload, ok := bulkPayload(p.do("DUMP", c[1])); ok {
				p.send("RESTORE", c[2], "0", payload, "REPLACE")
			} else {
				t.Fatalf("DUMP %s: no payload", c[1])
			}
			continue
		}
		p.send(c...)
	}
	p.do("FLUSHALL")
	for i := 0; i < ops; i++ {
		switch i {
		case ops / 2:
			setClasses(classes[r.IntN(len(classes))])
		case ops * 3 / 4:
			setClasses(notifyClasses)
		}
		if i == ops*5/8 {
			// The rest runs the core types only: on the 16 shared keys
			// their rarer events (SMOVE, S*STORE, LINSERT, HDEL emptying
			// a hash…) need the collisions with other types to be few.
			w.Extra = nil
		}
		switch {
		case r.IntN(25) == 0:
			p.send("MULTI")
			for j := 2 + r.IntN(4); j > 0; j-- {
				c := w.Cmd()
				if c[0] == "SELECT" || strings.HasPrefix(c[0], "B") {
					c = []string{"INCR", w.Key()}
				}
				p.send(c...)
			}
			p.send("EXEC")
		case r.IntN(100) == 0:
			// DUMP a key and RESTORE it elsewhere (the primary makes a
			// relative TTL absolute: RESTORE … ABSTTL on the link).
			if payload, ok := bulkPayload(p.do("DUMP", w.Key())); ok {
				c := []string{"RESTORE", w.Key(), "0", payload, "REPLACE"}
				if r.IntN(2) == 0 {
					c[2] = strconv.FormatInt(w.TTLMs(), 10)
				}
				p.send(c...)
			}
		default:
			p.send(w.Cmd()...)
		}
		if r.IntN(500) == 0 {
			p.drain()
			time.Sleep(30 * time.Millisecond) // let some short TTLs pass
		}
	}
	p.drain()
	mark := "notify-end-" + strconv.FormatInt(sd, 10)
	p.do("SELECT", "0")
	p.do("PUBLISH", "__keyevent@0__:"+mark, "end")

	var total int
	names := [2]string{"RESP2", "RESP3"}
	for proto := 0; proto < 2; proto++ {
		want := subs[0][proto].until(t, mark)
		got := subs[1][proto].until(t, mark)
		total += len(want)
		compareFrames(t, names[proto], want, got)
	}
	counts := map[string]int{}
	for _, f := range subs[0][0].until(t, mark) {
		if i := bytes.Index(f, []byte("__keyevent@")); i >= 0 {
			ev := f[i:]
			ev = ev[bytes.Index(ev, []byte("__:"))+3:]
			counts[string(ev[:bytes.IndexByte(ev, '\r')])]++
		}
	}
	t.Logf("seed %d: %d ops, %d messages compared; events: %v", sd, ops, total, counts)
	if total < ops/2 {
		t.Errorf("only %d messages for %d ops", total, ops)
	}
}

// compareFrames reports the first difference of two message sequences
// with some context.
func compareFrames(t *testing.T, proto string, want, got [][]byte) {
	t.Helper()
	for i := 0; i < len(want) || i < len(got); i++ {
		if i < len(want) && i < len(got) && bytes.Equal(want[i], got[i]) {
			continue
		}
		var b strings.Builder
		for j := max(0, i-8); j < i+8; j++ {
			var w, g string
			if j < len(want) {
				w = strconv.Quote(string(want[j]))
			}
			if j < len(got) {
				g = strconv.Quote(string(got[j]))
			}
			mark := "  "
			if j == i {
				mark = "> "
			}
			fmt.Fprintf(&b, "%s%5d redis %s\n        vdr   %s\n", mark, j, w, g)
		}
		t.Fatalf("%s: messages differ at %d (redis sent %d, vdr %d):\n%s", proto, i, len(want), len(got), b.String())
	}
}

// notifyCatalog is a fixed write sequence covering every event path of
// the commands a primary propagates (and those it rewrites first).
var notifyCatalog = func() [][]string {
	var out [][]string
	for _, line := range strings.Split(`
SET s1 a
SET s1 b EX 100
SET s1 c KEEPTTL
SET s1 d NX
SET s2 e XX
SET s2 e PX 10 GET
SETNX s3 v
SETNX s3 w
SETEX s4 100 v
PSETEX s5 100000 v
GETSET s3 x
MSET m1 a m2 b
MSETNX m1 a m9 b
MSETNX m8 a m9 b
APPEND a1 x
APPEND a1 yz
SETRANGE r1 5 ab
SETRANGE r1 0 ""
SETRANGE r9 0 ""
INCR n1
DECR n1
INCRBY n1 10
DECRBY n2 3
INCRBYFLOAT f1 1.5
GETDEL n2
GETDEL n2
GETEX s1 PX 100000
GETEX s1 PERSIST
SETBIT b1 7 1
SETBIT b1 7 1
SETBIT b1 100 0
BITFIELD b2 SET u8 0 255 INCRBY u8 0 1
BITFIELD b2 OVERFLOW FAIL INCRBY u8 0 1000
BITFIELD b2 GET u8 0
BITOP OR b3 b1 b2
BITOP AND b3 nosuch1 nosuch2
PFADD h1 a b c
PFADD h1 a
PFADD h2
PFMERGE h3 h1 h2
PFMERGE h3
LPUSH l1 a b c
RPUSH l1 d
LPUSHX l1 e
RPUSHX l9 e
LINSERT l1 BEFORE a z
LINSERT l1 AFTER nope z
LSET l1 0 q
LREM l1 0 nope
LREM l1 1 q
LTRIM l1 0 -1
LTRIM l1 1 2
LPOP l1
RPOP l1 0
RPOP l1 5
RPUSH l2 a b c
RPOPLPUSH l2 l3
LMOVE l2 l2 LEFT RIGHT
LMOVE l2 l3 LEFT LEFT
LMOVE l2 l3 RIGHT RIGHT
LMPOP 2 nosuch l3 LEFT COUNT 1
RPUSH l4 a
BLPOP l4 0
SADD st1 a b c 1 2
SADD st1 a
SREM st1 nope
SREM st1 a
SMOVE st1 st2 b
SMOVE st1 st2 nope
SMOVE st1 st1 c
SPOP st1
SPOP st1 10
SADD st3 a b
SADD st4 b c
SINTERSTORE st5 st3 st4
SUNIONSTORE st6 st3 st4
SDIFFSTORE st7 st3 st4
SINTERSTORE st5 st3 nosuch
SDIFFSTORE st7 nosuch st3
SDIFFSTORE st8 nosuch st3
ZADD z1 1 a 2 b 3 c
ZADD z1 1 a
ZADD z1 NX 5 a
ZADD z1 XX CH 5 a
ZADD z1 GT 1 a
ZADD z1 INCR 1 a
ZINCRBY z1 0 a
ZINCRBY z1 1 a
ZREM z1 nope
ZREM z1 a
ZADD z1 1 d 2 e 3 f
ZREMRANGEBYSCORE z1 100 200
ZREMRANGEBYSCORE z1 1 1
ZREMRANGEBYRANK z1 0 0
ZADD zl 0 a 0 b 0 c
ZREMRANGEBYLEX zl [a [a
ZREMRANGEBYLEX zl - +
ZPOPMIN z1
ZPOPMAX z1 0
ZPOPMAX z1 10
ZADD z2 1 a 2 b
ZADD z3 1 b 2 c
ZUNIONSTORE z4 2 z2 z3
ZINTERSTORE z5 2 z2 z3
ZDIFFSTORE z6 2 z2 z3
ZINTERSTORE z5 2 z2 nosuch
ZDIFFSTORE z6 2 nosuch z2
ZRANGESTORE z7 z2 0 -1
ZRANGESTORE z7 z2 5 6
ZMPOP 1 z2 MIN COUNT 5
BZPOPMIN z3 0
HSET hs1 f v g w
HSET hs1 f v
HMSET hs1 x y
HSETNX hs1 f v
HSETNX hs1 n v
HINCRBY hs1 c 5
HINCRBYFLOAT hs1 c 0.5
HDEL hs1 nope
HDEL hs1 f g
HDEL hs1 x n c
XADD x1 1-1 a 1
XADD x1 MAXLEN 1 2-1 a 2
XADD x1 MAXLEN 5 3-1 a 3
XADD x9 NOMKSTREAM 1-1 a 1
XTRIM x1 MAXLEN 5
XTRIM x1 MAXLEN 0
XADD x1 4-1 a 4
XADD x1 5-1 a 5
XDEL x1 1-1
XDEL x1 4-1
XGROUP CREATE x1 g1 0
XGROUP CREATE x2 g1 $ MKSTREAM
XGROUP SETID x1 g1 $
XGROUP CREATECONSUMER x1 g1 c1
XGROUP CREATECONSUMER x1 g1 c1
XGROUP SETID x1 g1 0
XREADGROUP GROUP g1 c2 COUNT 1 STREAMS x1 >
XCLAIM x1 g1 c3 0 5-1
XAUTOCLAIM x1 g1 c4 0 0
XACK x1 g1 5-1
XGROUP DELCONSUMER x1 g1 c1
XGROUP DELCONSUMER x1 g1 nope
XGROUP DESTROY x1 g1
XGROUP DESTROY x1 g1
XSETID x1 9-0
DEL s1 nope s2
UNLINK s3
EXPIRE s4 100
EXPIRE s4 100 NX
PEXPIRE s4 -1
EXPIRE nope 10
PERSIST s5
EXPIRE s5 10
PERSIST s5
RENAME m1 m2
RENAME m2 m2
RENAMENX m2 m9
RENAMENX m2 m3
MOVE m3 1
MOVE m9 1
COPY m8 c1
COPY m8 c1
COPY m8 c1 REPLACE
COPY m8 c2 DB 2
SWAPDB 0 1
SWAPDB 0 1
DUMP+RESTORE st6 rs1
DUMP+RESTORE z4 rs1
SORT l3 ALPHA STORE so1
SORT nosuch STORE so1
GEOADD g1 13.361389 38.115556 a 15.087269 37.502669 b
GEOSEARCHSTORE g2 g1 FROMLONLAT 15 37 BYRADIUS 200 km
GEORADIUS g1 15 37 200 km STORE g3
GEORADIUS g1 0 0 1 km STORE g3
GEORADIUSBYMEMBER g1 a 300 km STOREDIST g4
MULTI
SET t1 a
PUBLISH __keyx__:app in-unit
LPUSH t2 a
DEL t1
EXEC
PUBLISH __keyx__:app alone
SELECT 1
SET db1 a
MOVE db1 0
SELECT 0
FLUSHDB
SET f1 a
SELECT 2
SET f2 b
FLUSHALL ASYNC
SELECT 0
`, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		f := strings.Fields(line)
		for i, x := range f {
			if x == `""` {
				f[i] = ""
			}
		}
		out = append(out, f)
	}
	return out
}()
