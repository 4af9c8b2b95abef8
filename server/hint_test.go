//go:build linux

package server

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// TestHintAheadLeavesReaderAlone checks that the look-ahead that hints a
// pipeline's keys consumes nothing: the reader's position and the bytes it
// waits for are the same after it, and every request then runs in order,
// including one split at the end of the buffer.
func TestHintAheadLeavesReaderAlone(t *testing.T) {
	p := newProjection(t)
	for _, kv := range [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}} {
		if err := p.Apply(0, bs("SET", kv[0], kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	s := startVDR(t, Options{Projection: p, EventLoops: 1})
	l := s.loops[0]
	c := s.newLoopConn(l, -1, "test", "test")
	full := string(encodeCmd(bs("GET", "a")...)) + string(encodeCmd(bs("MGET", "b", "c", "zz")...)) +
		string(encodeCmd(bs("PING")...)) + string(encodeCmd(bs("GET", "c")...))
	partial := string(encodeCmd(bs("GET", strings.Repeat("k", 100))...))
	in := full + partial[:20]
	n := copy(c.rd.room(), in)
	c.rd.w += n
	r, w, need := c.rd.r, c.rd.w, c.rd.need
	// GET a and MGET b c zz are hinted; PING is not a keyed read, so the
	// look-ahead stops there.
	if n := l.hintAhead(c); n != 4 {
		t.Errorf("hintAhead hinted %d keys, want 4", n)
	}
	if c.rd.r != r || c.rd.w != w || c.rd.need != need {
		t.Fatalf("hintAhead moved the reader: r %d→%d w %d→%d need %d→%d", r, c.rd.r, w, c.rd.w, need, c.rd.need)
	}
	var got [][]string
	for {
		args, err := c.rd.buffered()
		if err != nil {
			t.Fatal(err)
		}
		if args == nil {
			break
		}
		var a []string
		for _, x := range args {
			a = append(a, string(x))
		}
		got = append(got, a)
	}
	want := "[[GET a] [MGET b c zz] [PING] [GET c]]"
	if g := fmtArgs(got); g != want {
		t.Fatalf("requests after hintAhead: %s, want %s", g, want)
	}
	if c.rd.r != len(full) {
		t.Fatalf("reader stopped at %d, want %d (the partial request stays buffered)", c.rd.r, len(full))
	}
}

func fmtArgs(reqs [][]string) string {
	var b bytes.Buffer
	b.WriteString("[")
	for i, r := range reqs {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("[" + strings.Join(r, " ") + "]")
	}
	b.WriteString("]")
	return b.String()
}

// TestPipelineAcrossSelect pipelines reads around a SELECT in one write:
// the look-ahead stops at the SELECT (it hints the client's current
// database only), and each read must still see its own database.
func TestPipelineAcrossSelect(t *testing.T) {
	p := newProjection(t)
	for db, v := range []string{"zero", "one"} {
		if err := p.Apply(db, bs("SET", "k", v)); err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(db, bs("RPUSH", "l", v, v)); err != nil {
			t.Fatal(err)
		}
	}
	s := startVDR(t, Options{Projection: p, EventLoops: 1})
	c := dialRaw(t, s.Addr())
	var req bytes.Buffer
	for _, cmd := range [][]string{
		{"GET", "k"}, {"LRANGE", "l", "0", "-1"}, {"MGET", "k", "l", "k"},
		{"SELECT", "1"},
		{"GET", "k"}, {"LRANGE", "l", "0", "0"}, {"EXISTS", "k", "l", "x"},
		{"SELECT", "0"}, {"GET", "k"},
	} {
		req.Write(encodeCmd(bs(cmd...)...))
	}
	want := "$4\r\nzero\r\n*2\r\n$4\r\nzero\r\n$4\r\nzero\r\n*3\r\n$4\r\nzero\r\n$-1\r\n$4\r\nzero\r\n+OK\r\n" +
		"$3\r\none\r\n*1\r\n$3\r\none\r\n:2\r\n+OK\r\n$4\r\nzero\r\n"
	if _, err := c.nc.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c.br, got); err != nil {
		t.Fatalf("reading replies: %v (got %q)", err, got)
	}
	if string(got) != want {
		t.Fatalf("replies\n%q\nwant\n%q", got, want)
	}
}

// TestBusyPollThenSleep checks that a loop polls for BusyPoll after a
// batch and then sleeps in epoll_wait again: busy polling must never
// become a loop that burns its CPU while idle.
func TestBusyPollThenSleep(t *testing.T) {
	const poll = 300 * time.Millisecond
	s := startVDR(t, Options{EventLoops: 1, BusyPoll: poll})
	l := s.loops[0]
	c := dialRaw(t, s.Addr())
	waitUntil(t, 5*time.Second, "the loop to sleep after the connection", func() bool {
		before := l.sleeps.Load()
		time.Sleep(2 * poll)
		return l.sleeps.Load() > before
	})
	start := time.Now()
	if got := c.dos("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	// Counted from the reply on: until it, a sweep's timer may wake the
	// idle loop, which then sleeps again without a batch to poll after.
	before := l.sleeps.Load()
	time.Sleep(poll / 10)
	if el := time.Since(start); el < poll/2 && l.sleeps.Load() != before {
		// Still inside the poll window, the loop must not have slept.
		t.Errorf("the loop slept %v after a request, within its %v busy poll", el, poll)
	}
	waitUntil(t, 10*poll, "the loop to sleep after its busy poll", func() bool { return l.sleeps.Load() > before })

	off := startVDR(t, Options{EventLoops: 1, BusyPoll: -1})
	lo := off.loops[0]
	co := dialRaw(t, off.Addr())
	before = lo.sleeps.Load()
	if got := co.dos("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	waitUntil(t, 2*time.Second, "a loop without busy poll to sleep at once", func() bool { return lo.sleeps.Load() > before })
}

// TestSpinGauge checks the busy-poll gauge: polls that keep finding work
// keep it on, a run of misses turns it off, and an occasional retry turns
// it back on once polls find work again.
func TestSpinGauge(t *testing.T) {
	g := spinGauge{level: spinGaugeMax}
	for i := 0; i < 100; i++ {
		if !g.worth() {
			t.Fatalf("batch %d: no poll while every poll hits", i)
		}
		g.done(true)
	}
	// One miss in three: still worth it? 2 hits (+2) per miss (-4) drains it.
	misses := 0
	for i := 0; i < 100 && g.worth(); i++ {
		hit := i%3 != 0
		if !hit {
			misses++
		}
		g.done(hit)
	}
	if g.worth() {
		t.Fatalf("still polling after %d misses at one in three", misses)
	}
	polls := 0
	for i := 0; i < 10*spinRetryBatches; i++ {
		if g.worth() {
			polls++
			g.done(false)
		}
	}
	if polls != 10 {
		t.Fatalf("%d retries in %d batches of misses, want 10", polls, 10*spinRetryBatches)
	}
	// A retry that hits turns polling back on.
	for !g.worth() {
	}
	g.done(true)
	if !g.worth() {
		t.Fatal("a hit on a retry did not turn polling back on")
	}
}
