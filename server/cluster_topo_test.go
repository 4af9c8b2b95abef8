package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/keyslot"
	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/replica"
)

// fakeSeed is a cluster node that only answers CLUSTER SHARDS, with the
// topology the test sets: its "shards" may be plain redis-servers (PSYNC
// does not care), closed ports, or claim each other's slots.
type fakeSeed struct {
	ln       net.Listener
	mu       sync.Mutex
	shards   []fakeShard
	user     string // with password: AUTH user password is required first
	password string
}

type fakeShard struct {
	id, addr string
	slots    [][2]int
}

func startFakeSeed(t *testing.T) *fakeSeed {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSeed{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSeed) set(shards ...fakeShard) {
	f.mu.Lock()
	f.shards = shards
	f.mu.Unlock()
}

func (f *fakeSeed) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	f.mu.Lock()
	user, password := f.user, f.password
	f.mu.Unlock()
	authed := password == ""
	for {
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "*") {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		var argv []string
		for range n {
			br.ReadString('\n') // $len
			a, _ := br.ReadString('\n')
			argv = append(argv, strings.TrimSpace(a))
		}
		switch {
		case strings.EqualFold(argv[0], "auth"):
			authed = strings.Join(argv[1:], " ") == strings.TrimSpace(user+" "+password)
			if !authed {
				io.WriteString(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
				continue
			}
			io.WriteString(c, "+OK\r\n")
			continue
		case !authed:
			io.WriteString(c, "-NOAUTH Authentication required.\r\n")
			continue
		case len(argv) == 2 && strings.EqualFold(argv[0], "cluster") && strings.EqualFold(argv[1], "shards"):
			io.WriteString(c, f.reply())
			continue
		}
		io.WriteString(c, "-ERR unknown command\r\n")
	}
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

// reply renders CLUSTER SHARDS as Redis 7.0 does in RESP2.
func (f *fakeSeed) reply() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(f.shards))
	for _, s := range f.shards {
		b.WriteString("*4\r\n" + bulk("slots"))
		fmt.Fprintf(&b, "*%d\r\n", 2*len(s.slots))
		for _, r := range s.slots {
			fmt.Fprintf(&b, ":%d\r\n:%d\r\n", r[0], r[1])
		}
		host, port, _ := net.SplitHostPort(s.addr)
		b.WriteString(bulk("nodes") + "*1\r\n*14\r\n")
		b.WriteString(bulk("id") + bulk(s.id) + bulk("port") + ":" + port + "\r\n" + bulk("ip") + bulk(host) +
			bulk("endpoint") + bulk(host) + bulk("role") + bulk("master") + bulk("replication-offset") + ":0\r\n" +
			bulk("health") + bulk("online"))
	}
	return b.String()
}

// keyIn returns a key whose slot is in [lo, hi].
func keyIn(lo, hi int) string {
	for i := 0; ; i++ {
		k := "key:" + strconv.Itoa(i)
		if s := int(keyslot.Of([]byte(k))); s >= lo && s <= hi {
			return k
		}
	}
}

// TestClusterBadTopology: a seed that is not a cluster node is refused at
// start; a topology with an unreachable shard and slots two shards claim
// is served from the reachable shards once the grace passes (keys of the
// unreachable one answer as missing), /readyz stays unready, and each
// problem shows in the metrics; a shard that leaves the topology keeps
// its slots until another owns them.
func TestClusterBadTopology(t *testing.T) {
	plain := redistest.Start(t)
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, Cluster: &ClusterOptions{Seeds: []string{plain.Addr()}}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err == nil || !strings.Contains(err.Error(), "not a cluster node") {
		n.Close()
		t.Fatalf("a plain server as the seed: Start() = %v, want a not-a-cluster-node error", err)
	}

	a, b := redistest.Start(t, "--repl-diskless-sync-delay", "0"), redistest.Start(t, "--repl-diskless-sync-delay", "0")
	ka, kb := keyIn(100, 5460), keyIn(5461, 10922)
	a.Do(t, "SET", ka, "a")
	b.Do(t, "SET", kb, "b")
	closed, _ := redistest.FreePort()
	f := startFakeSeed(t)
	f.set(fakeShard{"a0", a.Addr(), [][2]int{{0, 5460}}},
		fakeShard{"b0", b.Addr(), [][2]int{{5461, 10922}, {0, 99}}}, // 0-99 also A's
		fakeShard{"c0", net.JoinHostPort("127.0.0.1", strconv.Itoa(closed)), [][2]int{{10923, 16383}}})
	node := startNodeWith(t, NodeOptions{
		Server: Options{Port: RandomPort},
		Cluster: &ClusterOptions{Seeds: []string{f.ln.Addr().String()}, RefreshInterval: 100 * time.Millisecond,
			UnreachableGrace: 500 * time.Millisecond, Link: replica.Options{BackoffMax: 100 * time.Millisecond}},
		HTTPAddr: "127.0.0.1:0",
		Logger:   testLogger(t),
	})
	redistest.WaitFor(t, 10*time.Second, "served without the unreachable shard", func() bool {
		r, _ := redistest.Do(node.Addr(), "GET", ka)
		return r == "$1\r\na\r\n"
	})
	if r, _ := redistest.Do(node.Addr(), "GET", kb); r != "$1\r\nb\r\n" {
		t.Errorf("GET %s (shard b) = %q", kb, r)
	}
	if r, _ := redistest.Do(node.Addr(), "REPLICAOF", "127.0.0.1", "6379"); !strings.HasPrefix(r, "-ERR vdr replicates a cluster") {
		t.Errorf("REPLICAOF = %q", r)
	}
	if r, _ := redistest.Do(node.Addr(), "MGET", ka, kb); r != "*2\r\n$1\r\na\r\n$1\r\nb\r\n" {
		t.Errorf("MGET across shards = %q", r)
	}
	if node.Ready() {
		t.Error("ready although a shard never synced")
	}
	metrics := scrape(t, node)
	for _, want := range []string{
		`vdr_cluster_slots_conflicting 100`,
		`vdr_cluster_topology_errors_total{reason="conflict"}`,
		`vdr_cluster_shard_synced{shard="0"} 1`,
		`vdr_cluster_shard_synced{shard="2"} 0`,
		`vdr_cluster_shard_link_up{node="127.0.0.1:` + strconv.Itoa(closed) + `",shard="2"} 0`,
		`vdr_cluster_shard_slots{shard="0"} 5361`, // 0-99 are claimed twice
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if r := redistest.InfoField(node.Addr(), "replication", "shard1"); !strings.Contains(r, "primary="+b.Addr()) || !strings.Contains(r, "synced=1") {
		t.Errorf("INFO replication shard1: %q", r)
	}

	// Shard b leaves the topology: its slots have no owner now, and its
	// keys keep serving until another shard owns them.
	f.set(fakeShard{"a0", a.Addr(), [][2]int{{0, 5460}}},
		fakeShard{"c0", net.JoinHostPort("127.0.0.1", strconv.Itoa(closed)), [][2]int{{10923, 16383}}})
	redistest.WaitFor(t, 5*time.Second, "slots without an owner counted", func() bool {
		return strings.Contains(scrape(t, node), "vdr_cluster_slots_unowned 5462")
	})
	if r, _ := redistest.Do(node.Addr(), "GET", kb); r != "$1\r\nb\r\n" {
		t.Errorf("GET %s after its shard left = %q, want it kept", kb, r)
	}
}

func scrape(t *testing.T, n *Node) string {
	t.Helper()
	resp, err := http.Get("http://" + n.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestClusterAuth: the topology reads and every shard's link authenticate
// with the link options' ACL user and password, as a single link does.
func TestClusterAuth(t *testing.T) {
	a, b := redistest.Start(t, "--repl-diskless-sync-delay", "0"), redistest.Start(t, "--repl-diskless-sync-delay", "0")
	ka, kb := keyIn(0, 8191), keyIn(8192, 16383)
	a.Do(t, "SET", ka, "v")
	b.Do(t, "SET", kb, "v")
	for _, s := range []*redistest.Server{a, b} {
		s.Do(t, "ACL", "SETUSER", "vdr", "on", ">pw", "~*", "&*", "+@all")
		s.Do(t, "ACL", "SETUSER", "default", "off")
	}
	f := startFakeSeed(t)
	f.mu.Lock()
	f.user, f.password = "vdr", "pw"
	f.mu.Unlock()
	f.set(fakeShard{"a0", a.Addr(), [][2]int{{0, 8191}}}, fakeShard{"b0", b.Addr(), [][2]int{{8192, 16383}}})
	node := startNodeWith(t, NodeOptions{
		Server:  Options{Port: RandomPort},
		Cluster: &ClusterOptions{Seeds: []string{f.ln.Addr().String()}, Link: replica.Options{Username: "vdr", Password: "pw"}},
		Logger:  testLogger(t),
	})
	redistest.WaitFor(t, 20*time.Second, "both shards synced", node.Ready)
	if r, _ := redistest.Do(node.Addr(), "MGET", ka, kb); r != "*2\r\n$1\r\nv\r\n$1\r\nv\r\n" {
		t.Errorf("MGET = %q", r)
	}

	// A wrong password: the seed refuses, and Start says so.
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort},
		Cluster: &ClusterOptions{Seeds: []string{f.ln.Addr().String()}, Link: replica.Options{Username: "vdr", Password: "no"}},
		Logger:  testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Start(); err != nil {
		t.Fatalf("Start with a wrong password: %v (want it to keep trying, unready)", err)
	}
	time.Sleep(300 * time.Millisecond)
	if n.Ready() {
		t.Error("ready with a wrong password")
	}
	if n.cluster.topoErrors[topoAuth].Load() == 0 {
		t.Error("the refused credentials are not counted")
	}
}

// TestClusterKeyPrefix: the key-prefix filter applies to every shard's
// full sync and stream.
func TestClusterKeyPrefix(t *testing.T) {
	a, b := redistest.Start(t, "--repl-diskless-sync-delay", "0"), redistest.Start(t, "--repl-diskless-sync-delay", "0")
	f := startFakeSeed(t)
	f.set(fakeShard{"a0", a.Addr(), [][2]int{{0, 8191}}}, fakeShard{"b0", b.Addr(), [][2]int{{8192, 16383}}})
	keyOn := func(prefix string, lo, hi int) string {
		for i := 0; ; i++ {
			if k := prefix + strconv.Itoa(i); int(keyslot.Of([]byte(k))) >= lo && int(keyslot.Of([]byte(k))) <= hi {
				return k
			}
		}
	}
	ua, xa, ub, xb := keyOn("user:", 0, 8191), keyOn("other:", 0, 8191), keyOn("user:", 8192, 16383), keyOn("other:", 8192, 16383)
	a.Do(t, "SET", ua, "1")
	a.Do(t, "SET", xa, "1")
	node := startNodeWith(t, NodeOptions{
		Server:  Options{Port: RandomPort},
		Cluster: &ClusterOptions{Seeds: []string{f.ln.Addr().String()}, Link: replica.Options{KeyPrefixes: []string{"user:"}}},
		Logger:  testLogger(t),
	})
	redistest.WaitFor(t, 20*time.Second, "both shards synced", node.Ready)
	b.Do(t, "SET", xb, "1") // on the stream, before the key waited for
	b.Do(t, "SET", ub, "1")
	redistest.WaitFor(t, 5*time.Second, ub+" streamed", func() bool {
		r, _ := redistest.Do(node.Addr(), "EXISTS", ub)
		return r == ":1\r\n"
	})
	if r, _ := redistest.Do(node.Addr(), "EXISTS", ua, xa, xb); r != ":1\r\n" {
		t.Errorf("EXISTS %s %s %s = %q, want only the first", ua, xa, xb, r)
	}

	// MONITOR shows a shard's stream with the address of its node.
	mon, err := net.Dial("tcp", node.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	io.WriteString(mon, "MONITOR\r\n")
	br := bufio.NewReader(mon)
	if l, _ := br.ReadString('\n'); l != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", l)
	}
	a.Do(t, "SET", ua, "2")
	mon.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("MONITOR never showed the SET from %s: %v", a.Addr(), err)
		}
		if strings.Contains(l, "[0 "+a.Addr()+"] \"SET\" \""+ua+"\" \"2\"") {
			break
		}
	}
}
