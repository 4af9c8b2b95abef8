package server

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestSentinelFailoverWithVdr runs a real failover with vdr attached as a
// replica: three sentinels, a primary A, a Redis replica B and vdr
// replicating A. SENTINEL FAILOVER under a write loop promotes B (never
// vdr: it announces replica-priority 0) and sends vdr REPLICAOF B inside
// Sentinel's MULTI. vdr must follow at once (before REPLICAOF worked it
// stayed on A, serving writes that were later discarded), and vdr must
// end with B's data exactly. That the failover does not wait for vdr is
// checked by what Sentinel reports, not by a clock: it publishes
// +slave-reconf-done for vdr's address and ends the failover normally
// (+failover-end, never +failover-end-for-timeout), with the
// failover-timeout at 60 s. BenchmarkSentinelFailover measures how long
// it takes with and without vdr.
func TestSentinelFailoverWithVdr(t *testing.T) {
	g := startFailoverGroup(t, withVdr, 60*time.Second)
	_, vdrPort, _ := net.SplitHostPort(g.node.Addr())
	if p := sentinelReplicas(t, g.sentinels[0])[vdrPort]["slave-priority"]; p != "0" {
		t.Errorf("sentinel sees vdr's replica-priority as %q, want 0 (never promote)", p)
	}
	res := g.failover(t)
	t.Logf("+switch-master %.2f s after SENTINEL FAILOVER; events %q", res.took.Seconds(), res.events)
	if !strings.HasSuffix(res.switched, " "+strconv.Itoa(g.b.Port)) {
		t.Fatalf("+switch-master %q: not B", res.switched)
	}
	reconf, ended := false, false
	for _, ev := range res.events {
		switch {
		case strings.HasPrefix(ev, "+slave-reconf-done ") && strings.Contains(ev, ":"+vdrPort+" "):
			reconf = true
		case strings.HasPrefix(ev, "+failover-end-for-timeout "):
			t.Errorf("Sentinel ended the failover on its timeout: %q", ev)
		case strings.HasPrefix(ev, "+failover-end "):
			ended = true
		}
	}
	if !reconf || !ended {
		t.Errorf("no +slave-reconf-done for vdr (:%s) or no +failover-end before +switch-master: %q", vdrPort, res.events)
	}
	// A third of the timeout: a failover that waited for it cannot pass.
	if res.took > 20*time.Second {
		t.Errorf("the failover took %v: Sentinel waited for vdr", res.took)
	}
	g.stopWrites()

	node, b := g.node, g.b
	if got := redistest.InfoField(node.Addr(), "replication", "master_port"); got != strconv.Itoa(b.Port) {
		t.Fatalf("vdr replicates port %s, want B's %d", got, b.Port)
	}
	off := redistest.InfoField(b.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 15*time.Second, "vdr caught up with B", func() bool {
		return redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == off
	})
	for i := 0; i < 20; i++ {
		k := "n:" + strconv.Itoa(i)
		want, _ := redistest.Do(b.Addr(), "GET", k)
		if got, _ := redistest.Do(node.Addr(), "GET", k); got != want {
			t.Errorf("GET %s: vdr %q, B %q", k, got, want)
		}
	}
	if dv, db := redistest.InfoField(node.Addr(), "keyspace", "db0"), redistest.InfoField(b.Addr(), "keyspace", "db0"); dv != db {
		t.Errorf("keyspace: vdr %s, B %s", dv, db)
	}
}

// failoverGroup is a Sentinel-monitored group: a primary A, a Redis
// replica B, a third replica of A when asked for (vdr, node, or a second
// Redis replica, c), three sentinels that know all of them, and a loop of
// INCRs on the current primary.
type failoverGroup struct {
	a, b      *redistest.Server
	node      *Node
	c         *redistest.Server
	sentinels []string
	primary   atomic.Pointer[string]
	stop      atomic.Bool
	wg        sync.WaitGroup
}

// The third replica of a failoverGroup.
const (
	withNone       = iota // A and B only
	withVdr               // vdr
	withRedisThird        // a Redis replica in vdr's place
)

func startFailoverGroup(tb testing.TB, third int, failoverTimeout time.Duration) *failoverGroup {
	tb.Helper()
	g := &failoverGroup{}
	common := []string{"--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"}
	g.a = redistest.Start(tb, common...)
	replicaOfA := append(common, "--replicaof", "127.0.0.1", strconv.Itoa(g.a.Port))
	g.b = redistest.Start(tb, replicaOfA...)
	thirdPort := ""
	switch third {
	case withVdr:
		g.node = startNode(tb, g.a.Addr(), replicaOptions{})
		_, thirdPort, _ = net.SplitHostPort(g.node.Addr())
	case withRedisThird:
		g.c = redistest.Start(tb, append(replicaOfA, "--replica-priority", "0")...)
		thirdPort = strconv.Itoa(g.c.Port)
	}
	for i := 0; i < 3; i++ {
		s := redistest.StartSentinel(tb,
			fmt.Sprintf("sentinel monitor grp 127.0.0.1 %d 2", g.a.Port),
			"sentinel down-after-milliseconds grp 1000",
			fmt.Sprintf("sentinel failover-timeout grp %d", failoverTimeout.Milliseconds()),
			"sentinel parallel-syncs grp 2")
		g.sentinels = append(g.sentinels, s.Addr())
	}
	// A replica's master-link-status turns "ok" once a sentinel has read
	// its INFO (what it announces, replica-priority included); before
	// that the sentinel shows defaults.
	redistest.WaitFor(tb, 40*time.Second, "every sentinel connected to the replicas, read their INFO and knows the others", func() bool {
		for _, s := range g.sentinels {
			reps := sentinelReplicas(tb, s)
			m, _ := redistest.Do(s, "SENTINEL", "master", "grp")
			b, third := reps[strconv.Itoa(g.b.Port)], reps[thirdPort]
			if b["flags"] != "slave" || b["master-link-status"] != "ok" ||
				(thirdPort != "" && (third["flags"] != "slave" || third["master-link-status"] != "ok")) ||
				!strings.Contains(m, "num-other-sentinels\r\n$1\r\n2\r\n") {
				return false
			}
		}
		return true
	})
	pa := g.a.Addr()
	g.primary.Store(&pa)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for i := 0; !g.stop.Load(); i++ {
			redistest.Do(*g.primary.Load(), "INCR", "n:"+strconv.Itoa(i%20))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	tb.Cleanup(g.stopWrites)
	return g
}

// stopWrites ends the write loop (after a failover, on B for another
// half second).
func (g *failoverGroup) stopWrites() {
	if g.stop.Load() {
		return
	}
	time.Sleep(500 * time.Millisecond)
	g.stop.Store(true)
	g.wg.Wait()
}

type failoverResult struct {
	took     time.Duration // SENTINEL FAILOVER → +switch-master
	switched string        // +switch-master's payload
	events   []string      // the leader's events before it, "channel payload"
}

// failover sends SENTINEL FAILOVER to the first sentinel, which leads the
// failover and publishes its steps, and waits for its +switch-master; the
// write loop then writes to B.
func (g *failoverGroup) failover(tb testing.TB) failoverResult {
	tb.Helper()
	sub, err := net.Dial("tcp", g.sentinels[0])
	if err != nil {
		tb.Fatal(err)
	}
	defer sub.Close()
	channels := []string{"+switch-master", "+slave-reconf-done", "+failover-end", "+failover-end-for-timeout"}
	fmt.Fprintf(sub, "SUBSCRIBE %s\r\n", strings.Join(channels, " "))
	type event struct{ channel, payload string }
	events := make(chan event, 16)
	subscribed := make(chan struct{})
	go func() {
		// A pub/sub message is *3 $7 message $n channel $n payload; a
		// confirmation *3 $9 subscribe $n channel :count.
		br := bufio.NewReader(sub)
		read := func() string { l, _ := br.ReadString('\n'); return strings.TrimSpace(l) }
		confirmed := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				close(events)
				return
			}
			switch strings.TrimSpace(line) {
			case "subscribe":
				if confirmed++; confirmed == len(channels) {
					close(subscribed)
				}
			case "message":
				read()
				ch := read()
				read()
				events <- event{ch, read()}
			}
		}
	}()
	select {
	case <-subscribed:
	case <-time.After(5 * time.Second):
		tb.Fatal("SUBSCRIBE on the sentinel was not confirmed")
	}
	var res failoverResult
	start := time.Now()
	if r, _ := redistest.Do(g.sentinels[0], "SENTINEL", "FAILOVER", "grp"); r != "+OK\r\n" {
		tb.Fatalf("SENTINEL FAILOVER: %q", r)
	}
	timeout := time.After(90 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				tb.Fatal("the sentinel closed the subscription")
			}
			if ev.channel == "+switch-master" {
				res.took, res.switched = time.Since(start), ev.payload
				pb := g.b.Addr()
				g.primary.Store(&pb)
				return res
			}
			res.events = append(res.events, ev.channel+" "+ev.payload)
		case <-timeout:
			tb.Fatalf("no +switch-master within 90 s; events %q", res.events)
		}
	}
}

// sentinelReplicas returns SENTINEL REPLICAS grp as port → field → value.
func sentinelReplicas(t testing.TB, sentinel string) map[string]map[string]string {
	t.Helper()
	r, err := redistest.Do(sentinel, "SENTINEL", "replicas", "grp")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	var cur map[string]string
	var key string
	lines := strings.Split(r, "\r\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "*") && i > 0:
			cur, key = map[string]string{}, ""
		case strings.HasPrefix(l, "$") && i+1 < len(lines):
			i++
			if cur == nil {
				continue
			}
			if key == "" {
				key = lines[i]
				continue
			}
			cur[key] = lines[i]
			if key == "port" {
				out[lines[i]] = cur
			}
			key = ""
		}
	}
	return out
}

// TestSentinelNeverPromotesVdr: with vdr as the primary's only replica, a
// dead primary cannot be replaced — Sentinel refuses vdr (priority 0) and
// aborts the failover with -failover-abort-no-good-slave.
func TestSentinelNeverPromotesVdr(t *testing.T) {
	a := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1")
	node := startNode(t, a.Addr(), replicaOptions{})
	_, vdrPort, _ := net.SplitHostPort(node.Addr())
	var sentinels []string
	for i := 0; i < 3; i++ {
		s := redistest.StartSentinel(t,
			fmt.Sprintf("sentinel monitor grp 127.0.0.1 %d 2", a.Port),
			"sentinel down-after-milliseconds grp 1000",
			"sentinel failover-timeout grp 5000")
		sentinels = append(sentinels, s.Addr())
	}
	redistest.WaitFor(t, 40*time.Second, "the sentinels see vdr", func() bool {
		for _, s := range sentinels {
			if sentinelReplicas(t, s)[vdrPort]["flags"] != "slave" {
				return false
			}
		}
		return true
	})
	// The sentinel that wins the election runs the failover and publishes
	// its events: listen to all three.
	events := make(chan string, 16)
	for _, addr := range sentinels {
		sub, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		fmt.Fprintf(sub, "SUBSCRIBE -failover-abort-no-good-slave +promoted-slave\r\n")
		go func() {
			// A pub/sub message is *3 $7 message $n channel $n payload.
			br := bufio.NewReader(sub)
			read := func() string { l, _ := br.ReadString('\n'); return strings.TrimSpace(l) }
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimSpace(line) == "message" {
					read()
					events <- read()
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	a.Stop()
	select {
	case ev := <-events:
		if ev != "-failover-abort-no-good-slave" {
			t.Fatalf("sentinel event %q: vdr was promoted", ev)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("no failover attempt within 40 s")
	}
}
