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
// stayed on A, serving writes that were later discarded), the failover
// must not wait for its failover-timeout (60 s here), and vdr must end
// with B's data exactly.
func TestSentinelFailoverWithVdr(t *testing.T) {
	common := []string{"--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"}
	a := redistest.Start(t, common...)
	b := redistest.Start(t, append(common, "--replicaof", "127.0.0.1", strconv.Itoa(a.Port))...)
	node := startNode(t, a.Addr(), replicaOptions{})
	var sentinels []string
	for i := 0; i < 3; i++ {
		s := redistest.StartSentinel(t,
			fmt.Sprintf("sentinel monitor grp 127.0.0.1 %d 2", a.Port),
			"sentinel down-after-milliseconds grp 1000",
			"sentinel failover-timeout grp 60000",
			"sentinel parallel-syncs grp 2")
		sentinels = append(sentinels, s.Addr())
	}
	_, vdrPort, _ := net.SplitHostPort(node.Addr())
	redistest.WaitFor(t, 40*time.Second, "every sentinel connected to both replicas and knows the others", func() bool {
		for _, s := range sentinels {
			reps := sentinelReplicas(t, s)
			m, _ := redistest.Do(s, "SENTINEL", "master", "grp")
			if reps[strconv.Itoa(b.Port)]["flags"] != "slave" || reps[vdrPort]["flags"] != "slave" ||
				!strings.Contains(m, "num-other-sentinels\r\n$1\r\n2\r\n") {
				return false
			}
		}
		return true
	})
	if p := sentinelReplicas(t, sentinels[0])[vdrPort]["slave-priority"]; p != "0" {
		t.Errorf("sentinel sees vdr's replica-priority as %q, want 0 (never promote)", p)
	}

	// The write loop: INCRs on whichever server is the primary.
	var stop atomic.Bool
	var primary atomic.Pointer[string]
	pa := a.Addr()
	primary.Store(&pa)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			redistest.Do(*primary.Load(), "INCR", "n:"+strconv.Itoa(i%20))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	sub, err := net.Dial("tcp", sentinels[1])
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	fmt.Fprintf(sub, "SUBSCRIBE +switch-master\r\n")
	switched := make(chan string, 1)
	go func() {
		br := bufio.NewReader(sub)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "grp ") {
				switched <- strings.TrimSpace(line)
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if r, _ := redistest.Do(sentinels[0], "SENTINEL", "FAILOVER", "grp"); r != "+OK\r\n" {
		t.Fatalf("SENTINEL FAILOVER: %q", r)
	}
	select {
	case msg := <-switched:
		if !strings.HasSuffix(msg, " "+strconv.Itoa(b.Port)) {
			t.Fatalf("+switch-master %q: not B", msg)
		}
		t.Logf("+switch-master %.1f s after SENTINEL FAILOVER", time.Since(start).Seconds())
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("the failover took %v: Sentinel waited for vdr", d)
		}
	case <-time.After(50 * time.Second):
		t.Fatal("no +switch-master within 50 s")
	}
	pb := b.Addr()
	primary.Store(&pb)
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

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

// sentinelReplicas returns SENTINEL REPLICAS grp as port → field → value.
func sentinelReplicas(t *testing.T, sentinel string) map[string]map[string]string {
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
