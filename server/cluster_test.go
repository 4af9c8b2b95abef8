package server

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/keyslot"
)

// clusterKeys fills a projection with n keys "k:<i>" and returns it with
// the keys of each slot.
func clusterKeys(t *testing.T, n int) (*Server, map[int][]string, func(Options) *Server) {
	t.Helper()
	p := newProjection(t)
	bySlot := map[int][]string{}
	for i := range n {
		k := "k:" + strconv.Itoa(i)
		if err := p.Apply(0, bs("SET", k, "v")); err != nil {
			t.Fatal(err)
		}
		bySlot[keyslot.OfString(k)] = append(bySlot[keyslot.OfString(k)], k)
	}
	start := func(o Options) *Server {
		o.Projection = p
		return startVDR(t, o)
	}
	return start(Options{ClusterMode: true}), bySlot, start
}

// TestClusterModeSlotKeys checks COUNTKEYSINSLOT and GETKEYSINSLOT over a
// database big enough that they run off the event loop (RunsLong), on
// the loops and on the goroutine-per-connection path, alone, pipelined
// with other commands (whose replies stay in order) and inside
// MULTI/EXEC (which reads through the transaction's view).
func TestClusterModeSlotKeys(t *testing.T) {
	const n = 40000 // past slotScanInline
	s, bySlot, start := clusterKeys(t, n)
	goroutines := start(Options{ClusterMode: true, EventLoops: EventLoopsDisabled})
	slots := []int{keyslot.OfString("k:0"), keyslot.OfString("k:777"), keyslot.OfString("k:39999"), 0, 16383}
	for _, srv := range []*Server{s, goroutines} {
		c := dialRaw(t, srv.Addr())
		for _, sl := range slots {
			ss := strconv.Itoa(sl)
			want := bySlot[sl]
			if r := c.dos("CLUSTER", "COUNTKEYSINSLOT", ss); r != ":"+strconv.Itoa(len(want))+"\r\n" {
				t.Fatalf("COUNTKEYSINSLOT %d: %q, want %d", sl, r, len(want))
			}
			got := bulkArray(t, c.do(bs("CLUSTER", "GETKEYSINSLOT", ss, "1000")...))
			slices.Sort(got)
			w := slices.Sorted(slices.Values(want))
			if !slices.Equal(got, w) {
				t.Fatalf("GETKEYSINSLOT %d: %q, want %q", sl, got, w)
			}
			if len(want) > 1 {
				got := bulkArray(t, c.do(bs("CLUSTER", "GETKEYSINSLOT", ss, "1")...))
				if len(got) != 1 || !slices.Contains(want, got[0]) {
					t.Fatalf("GETKEYSINSLOT %d 1: %q, want one of %q", sl, got, want)
				}
			}
		}
		// Pipelined: the slot scan's reply comes between its neighbours'.
		sl := strconv.Itoa(slots[0])
		c.send([]byte("PING a\r\n" + string(encodeCmd(bs("CLUSTER", "COUNTKEYSINSLOT", sl)...)) + "PING b\r\nGET k:0\r\n"))
		got := string(c.read()) + string(c.read()) + string(c.read()) + string(c.read())
		if want := "$1\r\na\r\n:" + strconv.Itoa(len(bySlot[slots[0]])) + "\r\n$1\r\nb\r\n$1\r\nv\r\n"; got != want {
			t.Fatalf("pipelined: %q, want %q", got, want)
		}
		// In a transaction.
		c.send([]byte("MULTI\r\n" + string(encodeCmd(bs("CLUSTER", "COUNTKEYSINSLOT", sl)...)) +
			string(encodeCmd(bs("CLUSTER", "GETKEYSINSLOT", sl, "1")...)) + "EXEC\r\n"))
		got = string(c.read()) + string(c.read()) + string(c.read())
		if got != "+OK\r\n+QUEUED\r\n+QUEUED\r\n" {
			t.Fatalf("MULTI: %q", got)
		}
		exec := string(c.read())
		if !strings.HasPrefix(exec, "*2\r\n:"+strconv.Itoa(len(bySlot[slots[0]]))+"\r\n*1\r\n$") {
			t.Fatalf("EXEC: %q", exec)
		}
	}
}

// TestClusterModeSlotStats checks Valkey 8.0's CLUSTER SLOT-STATS over a
// database big enough that it runs off the event loop: one scan counts
// every slot.
func TestClusterModeSlotStats(t *testing.T) {
	_, bySlot, start := clusterKeys(t, 40000)
	c := dialRaw(t, start(Options{ClusterMode: true, Compat: compat.Valkey80}).Addr())
	top, most := 0, 0
	for sl := range keyslot.Slots {
		if n := len(bySlot[sl]); n > most {
			top, most = sl, n
		}
	}
	stat := func(sl int) string {
		return fmt.Sprintf("*2\r\n:%d\r\n*2\r\n$9\r\nkey-count\r\n:%d\r\n", sl, len(bySlot[sl]))
	}
	if r, want := c.dos("CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "LIMIT", "1"), "*1\r\n"+stat(top); r != want {
		t.Fatalf("SLOT-STATS ORDERBY key-count LIMIT 1: %q, want %q", r, want)
	}
	want := "*3\r\n" + stat(100) + stat(101) + stat(102)
	if r := c.dos("CLUSTER", "SLOT-STATS", "SLOTSRANGE", "100", "102"); r != want {
		t.Fatalf("SLOT-STATS SLOTSRANGE 100 102: %q, want %q", r, want)
	}
}

// bulkArray decodes a RESP array of bulk strings.
func bulkArray(t *testing.T, b []byte) []string {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(string(b)))
	line, _ := br.ReadString('\n')
	if !strings.HasPrefix(line, "*") {
		t.Fatalf("not an array: %q", b)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	out := make([]string, 0, n)
	for range n {
		h, _ := br.ReadString('\n')
		m, err := strconv.Atoi(strings.TrimSpace(h[1:]))
		if err != nil || h[0] != '$' {
			t.Fatalf("not a bulk string: %q in %q", h, b)
		}
		v := make([]byte, m+2)
		ioFull(br, v)
		out = append(out, string(v[:m]))
	}
	return out
}

// TestClusterModeAddress checks the address vdr gives for itself: the
// announced one (cluster-announce-ip/-port, also shown by CONFIG GET),
// else the one the client connected to; a unix-socket client gets the
// bind address and the TCP port.
func TestClusterModeAddress(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "vdr.sock")
	s := startVDR(t, Options{ClusterMode: true, UnixSocket: sock})
	host, port, _ := net.SplitHostPort(s.Addr())
	c := dialRaw(t, s.Addr())
	want := fmt.Sprintf("*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$%d\r\n%s\r\n:%s\r\n$40\r\n", len(host), host, port)
	if r := c.dos("CLUSTER", "SLOTS"); !strings.HasPrefix(r, want) {
		t.Fatalf("CLUSTER SLOTS over TCP: %q, want %q…", r, want)
	}
	if r := c.dos("CLUSTER", "NODES"); !strings.Contains(r, " "+host+":"+port+"@0 myself,master - 0 0 0 connected 0-16383\n") {
		t.Fatalf("CLUSTER NODES: %q", r)
	}
	nc, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	u := &rawConn{tb: t, nc: nc, br: bufio.NewReader(nc)}
	t.Cleanup(func() { nc.Close() })
	if r := u.dos("CLUSTER", "SLOTS"); !strings.HasPrefix(r, want) {
		t.Fatalf("CLUSTER SLOTS over the unix socket: %q, want %q…", r, want)
	}

	// Over IPv6, where the loopback has it: no brackets in CLUSTER NODES,
	// as Redis writes ip:port.
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		v6 := startVDR(t, Options{ClusterMode: true, Bind: "::1"})
		_, port6, _ := net.SplitHostPort(v6.Addr())
		c6 := dialRaw(t, v6.Addr())
		if r := c6.dos("CLUSTER", "SLOTS"); !strings.Contains(r, "$3\r\n::1\r\n:"+port6+"\r\n") {
			t.Errorf("CLUSTER SLOTS over IPv6: %q", r)
		}
		if r := c6.dos("CLUSTER", "NODES"); !strings.Contains(r, " ::1:"+port6+"@0 ") {
			t.Errorf("CLUSTER NODES over IPv6: %q", r)
		}
	}

	a := startVDR(t, Options{ClusterMode: true, ClusterAnnounceIP: "10.9.8.7", ClusterAnnouncePort: 7001})
	c = dialRaw(t, a.Addr())
	if r := c.dos("CLUSTER", "SLOTS"); !strings.HasPrefix(r, "*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$8\r\n10.9.8.7\r\n:7001\r\n$40\r\n") {
		t.Fatalf("announced CLUSTER SLOTS: %q", r)
	}
	if r := c.dos("CLUSTER", "SHARDS"); !strings.Contains(r, "$4\r\nport\r\n:7001\r\n$2\r\nip\r\n$8\r\n10.9.8.7\r\n$8\r\nendpoint\r\n$8\r\n10.9.8.7\r\n") {
		t.Fatalf("announced CLUSTER SHARDS: %q", r)
	}
	if r := c.dos("CLUSTER", "NODES"); !strings.Contains(r, " 10.9.8.7:7001@0 ") {
		t.Fatalf("announced CLUSTER NODES: %q", r)
	}
	for name, v := range map[string]string{"cluster-enabled": "yes", "cluster-announce-ip": "10.9.8.7", "cluster-announce-port": "7001"} {
		want := fmt.Sprintf("*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(name), name, len(v), v)
		if r := c.dos("CONFIG", "GET", name); r != want {
			t.Errorf("CONFIG GET %s: %q, want %q", name, r, want)
		}
	}
	// The IDs are 40 hex characters, and stay the same for the process.
	id := c.dos("CLUSTER", "MYID")
	if len(id) != 5+40+2 || strings.Trim(id[5:45], "0123456789abcdef") != "" || c.dos("CLUSTER", "MYID") != id {
		t.Fatalf("CLUSTER MYID: %q", id)
	}
	if _, err := New(Options{ClusterMode: true, ClusterAnnouncePort: 70000}); err == nil {
		t.Fatal("New took cluster announce port 70000")
	}
}

// TestClusterModeOffAndAdmin checks both sides of the switch: off, what a
// replica of a non-cluster server answers; on, HELP, and an error for the
// subcommands that would change the cluster.
func TestClusterModeOffAndAdmin(t *testing.T) {
	off := dialRaw(t, startVDR(t, Options{}).Addr())
	for _, args := range [][]string{{"CLUSTER", "SLOTS"}, {"CLUSTER", "INFO"}, {"CLUSTER", "HELP"}, {"CLUSTER", "KEYSLOT", "x"},
		{"CLUSTER", "COUNTKEYSINSLOT", "1"}, {"READONLY"}, {"READWRITE"}, {"ASKING"}} {
		if r := off.dos(args...); r != "-ERR This instance has cluster support disabled\r\n" {
			t.Errorf("cluster mode off, %q: %q", args, r)
		}
	}
	if r := off.dos("SELECT", "1"); r != "+OK\r\n" {
		t.Errorf("cluster mode off, SELECT 1: %q", r)
	}
	if r := off.dos("INFO", "cluster"); !strings.Contains(r, "cluster_enabled:0") {
		t.Errorf("cluster mode off, INFO cluster: %q", r)
	}
	if r := off.dos("HELLO", "3"); !strings.Contains(r, "$4\r\nmode\r\n$10\r\nstandalone\r\n") {
		t.Errorf("cluster mode off, HELLO: %q", r)
	}

	on := dialRaw(t, startVDR(t, Options{ClusterMode: true}).Addr())
	help := on.dos("CLUSTER", "HELP")
	for _, sub := range []string{"SLOTS", "SHARDS", "NODES", "COUNTKEYSINSLOT <slot>", "GETKEYSINSLOT <slot> <count>"} {
		if !strings.Contains(help, "+"+sub) {
			t.Errorf("CLUSTER HELP lacks %s: %q", sub, help)
		}
	}
	for _, args := range [][]string{{"CLUSTER", "ADDSLOTS", "1"}, {"CLUSTER", "MEET", "127.0.0.1", "7000"},
		{"CLUSTER", "SETSLOT", "1", "STABLE"}, {"CLUSTER", "FAILOVER"}, {"CLUSTER", "RESET"}} {
		r := on.dos(args...)
		if !strings.HasPrefix(r, "-ERR CLUSTER "+args[1]+" is refused: vdr is a read replica") {
			t.Errorf("cluster mode on, %q: %q", args, r)
		}
	}
}
