package server

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/keyslot"
	"github.com/vdr-project/vdr/internal/redistest"
)

// startClusterNode starts a redis-server (bin) as a one-node cluster that
// owns every slot, as vdr's ClusterMode presents itself. Its bus port is
// a free port of its own (the default, port+10000, may be past 65535).
// The node turns its cluster state ok only some time after it started
// (CLUSTER_WRITABLE_DELAY): call the returned wait before using it.
func startClusterNode(t *testing.T, bin string) (s *redistest.Server, wait func()) {
	t.Helper()
	bus, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s = redistest.StartBinary(t, bin, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-port", strconv.Itoa(bus), "--cluster-announce-ip", "127.0.0.1")
	if r := s.Do(t, "CLUSTER", "ADDSLOTSRANGE", "0", strconv.Itoa(keyslot.Slots-1)); r != "+OK\r\n" {
		t.Fatalf("ADDSLOTSRANGE: %q", r)
	}
	return s, func() {
		t.Helper()
		redistest.WaitFor(t, 15*time.Second, "cluster_state:ok", func() bool {
			r, _ := redistest.Do(s.Addr(), "CLUSTER", "INFO")
			return strings.Contains(r, "cluster_state:ok")
		})
	}
}

// renderRESP turns one raw RESP2/RESP3 value into text that shows its
// types (int:5, bulk:"x", map[2]{…}), so replies can be normalized with
// plain string edits whatever the lengths of what they replace.
func renderRESP(b []byte) string {
	var sb strings.Builder
	renderValue(&sb, b)
	return sb.String()
}

func renderValue(sb *strings.Builder, b []byte) []byte {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 1 {
		sb.WriteString("?" + strconv.Quote(string(b)))
		return nil
	}
	head, rest := string(b[1:i]), b[i+2:]
	n, _ := strconv.Atoi(head)
	switch b[0] {
	case '+':
		sb.WriteString("status:" + head)
	case '-':
		sb.WriteString("error:" + head)
	case ':':
		sb.WriteString("int:" + head)
	case '_':
		sb.WriteString("null")
	case '$', '=':
		if n < 0 {
			sb.WriteString("nil")
			return rest
		}
		if n+2 > len(rest) {
			sb.WriteString("?short")
			return nil
		}
		kind := "bulk:"
		if b[0] == '=' {
			kind = "verbatim:"
		}
		sb.WriteString(kind + strconv.Quote(string(rest[:n])))
		return rest[n+2:]
	case '*', '~', '%':
		m := n
		if b[0] == '%' {
			m = 2 * n
		}
		sb.WriteString(fmt.Sprintf("%c%d[", b[0], n))
		for j := 0; j < m; j++ {
			if j > 0 {
				sb.WriteString(" ")
			}
			rest = renderValue(sb, rest)
		}
		sb.WriteString("]")
	default:
		sb.WriteString("?" + strconv.Quote(string(b)))
		return nil
	}
	return rest
}

// clusterSide is one server of the comparison with what its replies
// carry of its own: node and shard IDs and port.
type clusterSide struct {
	c         *rawConn
	id, shard string
	port      int
	name      string
}

var (
	busPortRE    = regexp.MustCompile(`@\d+ `)
	replOffsetRE = regexp.MustCompile(`(bulk:"replication-offset" )int:\d+`)
)

// normalize replaces what legitimately differs between two one-node
// clusters: IDs, ports, the bus port and the replication offset. Ports
// are replaced only in the replies that give addresses (a slot number
// may equal a port).
func (s *clusterSide) normalize(r string, addrs bool) string {
	r = strings.ReplaceAll(r, s.id, "<id>")
	if s.shard != "" {
		r = strings.ReplaceAll(r, s.shard, "<shard>")
	}
	if !addrs {
		return r
	}
	p := strconv.Itoa(s.port)
	r = strings.ReplaceAll(r, "int:"+p, "int:<port>")
	r = strings.ReplaceAll(r, ":"+p+"@", ":<port>@")
	r = busPortRE.ReplaceAllString(r, "@<cport> ")
	return replOffsetRE.ReplaceAllString(r, "${1}int:<offset>")
}

// ask sends args (with "<id>" standing for the side's node ID) and
// returns the normalized reply; GETKEYSINSLOT's keys are sorted, as
// their order is the server's own.
func (s *clusterSide) ask(args []string) string {
	args = slices.Clone(args)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "<id>", s.id)
	}
	r := renderRESP([]byte(s.c.dos(args...)))
	if len(args) > 1 && strings.EqualFold(args[1], "getkeysinslot") && strings.HasPrefix(r, "*") {
		if i := strings.IndexByte(r, '['); i > 0 && strings.HasSuffix(r, "]") {
			keys := strings.Fields(r[i+1 : len(r)-1])
			slices.Sort(keys)
			r = r[:i+1] + strings.Join(keys, " ") + "]"
		}
	}
	addrs := len(args) == 2 && slices.Contains([]string{"SLOTS", "SHARDS", "NODES"}, strings.ToUpper(args[1]))
	return s.normalize(r, addrs)
}

// TestClusterModeDifferential compares vdr in ClusterMode, replicating a
// plain primary, with a real one-node cluster of the same version that
// owns every slot and holds the same keys: CLUSTER SLOTS, SHARDS, NODES,
// INFO, MYID, KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT and their errors,
// READONLY, READWRITE, ASKING, SELECT, in RESP2 and RESP3.
func TestClusterModeDifferential(t *testing.T) {
	for _, vb := range versionBuilds {
		t.Run(vb.name, func(t *testing.T) {
			t.Parallel() // each waits ~2 s for its cluster node to turn ok
			clusterDiff(t, vb)
		})
	}
}

func clusterDiff(t *testing.T, vb versionBuild) {
	bin := redistest.VersionBinary(t, vb.folder)
	real, realReady := startClusterNode(t, bin)
	primary := redistest.StartBinary(t, bin, "--repl-diskless-sync-delay", "0")
	node := startNodeServing(t, primary.Addr(), replicaOptions{}, Options{ClusterMode: true})

	// The same keys on both: a few slots with several keys, one with one.
	keys := []string{"foo", "{foo}a", "{foo}b", "{foo}c", "bar", "{bar}x", "solo", "k:1", "k:2", "k:3"}
	for i := range 40 {
		keys = append(keys, "user:"+strconv.Itoa(i))
	}
	pc := dialRaw(t, primary.Addr())
	set := func(c *rawConn) {
		for _, k := range keys {
			if r := c.dos("SET", k, "v:"+k); r != "+OK\r\n" {
				t.Fatalf("SET %s: %q", k, r)
			}
		}
	}
	set(pc)
	pc.dos("SELECT", "1")
	pc.dos("SET", "db1key", "x") // not in the cluster's db 0: SELECT 1 is refused anyway
	want := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 15*time.Second, "vdr caught up", func() bool {
		return redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == want
	})

	realReady()
	set(dialRaw(t, real.Addr()))
	side := func(addr, name string, port int) *clusterSide {
		s := &clusterSide{c: dialRaw(t, addr), port: port, name: name}
		id := s.c.dos("CLUSTER", "MYID")
		if !strings.HasPrefix(id, "$40\r\n") {
			t.Fatalf("%s CLUSTER MYID: %q", name, id)
		}
		s.id = id[5:45]
		if sh := s.c.dos("CLUSTER", "MYSHARDID"); strings.HasPrefix(sh, "$40\r\n") {
			s.shard = sh[5:45]
		}
		return s
	}
	rs := side(real.Addr(), "redis", real.Port)
	_, vport, _ := net.SplitHostPort(node.Addr())
	vp, _ := strconv.Atoi(vport)
	vs := side(node.Addr(), "vdr", vp)
	if (rs.shard == "") != (vs.shard == "") {
		t.Errorf("CLUSTER MYSHARDID: redis %q, vdr %q", rs.shard, vs.shard)
	}

	slot := func(k string) string { return strconv.Itoa(keyslot.OfString(k)) }
	cmds := [][]string{
		{"CLUSTER", "SLOTS"}, {"CLUSTER", "SHARDS"}, {"CLUSTER", "NODES"}, {"CLUSTER", "INFO"},
		{"CLUSTER", "MYID"}, {"CLUSTER", "MYSHARDID"}, {"CLUSTER", "LINKS"},
		{"CLUSTER", "KEYSLOT", "foo"}, {"CLUSTER", "KEYSLOT", "{foo}zz"}, {"CLUSTER", "KEYSLOT", ""},
		{"CLUSTER", "KEYSLOT", "{}x"}, {"CLUSTER", "KEYSLOT"}, {"CLUSTER", "KEYSLOT", "a", "b"},
		{"CLUSTER", "COUNTKEYSINSLOT", slot("foo")}, {"CLUSTER", "COUNTKEYSINSLOT", slot("solo")},
		{"CLUSTER", "COUNTKEYSINSLOT", slot("bar")}, {"CLUSTER", "COUNTKEYSINSLOT", "0"},
		{"CLUSTER", "COUNTKEYSINSLOT", "16384"}, {"CLUSTER", "COUNTKEYSINSLOT", "-1"},
		{"CLUSTER", "COUNTKEYSINSLOT", "x"}, {"CLUSTER", "COUNTKEYSINSLOT", "99999999999999999999"},
		{"CLUSTER", "COUNTKEYSINSLOT"},
		{"CLUSTER", "GETKEYSINSLOT", slot("foo"), "10"}, {"CLUSTER", "GETKEYSINSLOT", slot("foo"), "4"},
		{"CLUSTER", "GETKEYSINSLOT", slot("foo"), "0"}, {"CLUSTER", "GETKEYSINSLOT", slot("solo"), "1"},
		{"CLUSTER", "GETKEYSINSLOT", slot("bar"), "100"}, {"CLUSTER", "GETKEYSINSLOT", "1", "1"},
		{"CLUSTER", "GETKEYSINSLOT", "-1", "1"}, {"CLUSTER", "GETKEYSINSLOT", "16384", "1"},
		{"CLUSTER", "GETKEYSINSLOT", "1", "-1"}, {"CLUSTER", "GETKEYSINSLOT", "x", "1"},
		{"CLUSTER", "GETKEYSINSLOT", "1", "x"}, {"CLUSTER", "GETKEYSINSLOT", "1"},
		{"CLUSTER", "REPLICAS", "<id>"}, {"CLUSTER", "SLAVES", "<id>"}, {"CLUSTER", "REPLICAS", "nosuch"},
		{"CLUSTER", "COUNT-FAILURE-REPORTS", "<id>"}, {"CLUSTER", "COUNT-FAILURE-REPORTS", "nosuch"},
		{"CLUSTER", "NOSUCH"}, {"CLUSTER"}, {"CLUSTER", "SLOTS", "x"}, {"CLUSTER", "SHARDS", "x"},
		{"READONLY"}, {"READWRITE"}, {"ASKING"}, {"READONLY", "x"}, {"ASKING", "x"},
		{"SELECT", "0"}, {"SELECT", "1"}, {"SELECT", "x"}, {"SELECT", "-1"}, {"SELECT", "99"},
		{"GET", "foo"}, {"GET", "{bar}x"}, {"DBSIZE"}, {"INFO", "cluster"}, {"CONFIG", "GET", "cluster-enabled"},
		{"CLUSTER", "SLOT-STATS", "SLOTSRANGE", slot("foo"), slot("foo")}, {"CLUSTER", "SLOT-STATS", "SLOTSRANGE", "5050", "5070"},
		{"CLUSTER", "SLOT-STATS", "SLOTSRANGE", "5", "1"}, {"CLUSTER", "SLOT-STATS", "SLOTSRANGE", "0", "16384"},
		{"CLUSTER", "SLOT-STATS", "SLOTSRANGE", "x", "1"}, {"CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "LIMIT", "5"},
		{"CLUSTER", "SLOT-STATS", "ORDERBY", "KEY-COUNT", "LIMIT", "3", "ASC"}, {"CLUSTER", "SLOT-STATS", "ORDERBY", "key-count"},
		{"CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "DESC", "LIMIT", "2"}, {"CLUSTER", "SLOT-STATS", "ORDERBY", "cpu-usec"},
		{"CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "LIMIT", "0"}, {"CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "LIMIT", "x"},
		{"CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "ASC", "DESC"}, {"CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "LIMIT"},
		{"CLUSTER", "SLOT-STATS", "ORDERBY", "key-count", "LIMIT", "1", "LIMIT", "2"}, {"CLUSTER", "SLOT-STATS", "NOSUCH", "1", "2"},
		{"CLUSTER", "SLOT-STATS", "SLOTSRANGE", "1"},
		{"HELLO", "3"},
		{"CLUSTER", "SLOT-STATS", "SLOTSRANGE", slot("foo"), slot("foo")},
		{"CLUSTER", "SLOTS"}, {"CLUSTER", "SHARDS"}, {"CLUSTER", "NODES"}, {"CLUSTER", "INFO"},
		{"CLUSTER", "GETKEYSINSLOT", slot("foo"), "10"}, {"CLUSTER", "LINKS"}, {"INFO", "cluster"},
	}
	bad := 0
	for _, args := range cmds {
		want, got := rs.ask(args), vs.ask(args)
		if args[0] == "HELLO" {
			// The client IDs differ, and vdr says it is a replica; the
			// mode is what cluster clients look at.
			if !strings.Contains(got, `bulk:"mode" bulk:"cluster"`) || !strings.Contains(want, `bulk:"mode" bulk:"cluster"`) {
				t.Errorf("HELLO 3: redis %s\n vdr %s", want, got)
			}
			continue
		}
		if want != got {
			bad++
			t.Errorf("%q:\n redis %s\n vdr   %s%s", args, want, got, firstDiff(want, got))
		}
	}
	t.Logf("%s: %d commands compared, %d differ", vb.name, len(cmds), bad)
	if info := vs.c.dos("INFO", "server"); !strings.Contains(info, "_mode:cluster") {
		t.Errorf("vdr INFO server has no redis_mode:cluster (server_mode on Valkey 8)")
	}
}
