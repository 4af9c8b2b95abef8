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
	for i := 0; i < ops; i++ {
		switch i {
		case ops / 2:
			setClasses(classes[r.IntN(len(classes))])
		case ops * 3 / 4:
			setClasses(notifyClasses)
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
