package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// The operator's surface against a real Redis 7.0.15 replica of the same
// primary: INFO's field names per section and the values that are
// deterministic, SLOWLOG entries, LATENCY's reply shapes and CONFIG SET's
// errors.

// obsPair is a primary, a Redis replica of it and a vdr node on it.
type obsPair struct {
	primary, replica *redistest.Server
	node             *Node
}

func startObsPair(t *testing.T, replicaArgs ...string) *obsPair {
	t.Helper()
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1", "--enable-debug-command", "yes")
	args := append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0"}, replicaArgs...)
	replica := redistest.Start(t, args...)
	node := startNode(t, primary.Addr(), replicaOptions{})
	redistest.WaitFor(t, 15*time.Second, "links up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up"
	})
	return &obsPair{primary, replica, node}
}

// sync waits until both replicas have everything the primary wrote.
func (p *obsPair) sync(t *testing.T) {
	t.Helper()
	want, _ := strconv.ParseInt(redistest.InfoField(p.primary.Addr(), "replication", "master_repl_offset"), 10, 64)
	redistest.WaitFor(t, 20*time.Second, "replicas caught up", func() bool {
		a, _ := strconv.ParseInt(redistest.InfoField(p.replica.Addr(), "replication", "slave_repl_offset"), 10, 64)
		b, _ := strconv.ParseInt(redistest.InfoField(p.node.Addr(), "replication", "slave_repl_offset"), 10, 64)
		return a >= want && b >= want
	})
}

// infoSections parses an INFO reply (RESP2 bulk) into section → field →
// value, keeping each section's field order in order[section].
func infoSections(t *testing.T, reply string) (fields map[string]map[string]string, order map[string][]string) {
	t.Helper()
	if !strings.HasPrefix(reply, "$") {
		t.Fatalf("INFO reply %.100q", reply)
	}
	body := reply[strings.Index(reply, "\r\n")+2:]
	fields, order = map[string]map[string]string{}, map[string][]string{}
	sec := ""
	for _, l := range strings.Split(body, "\r\n") {
		switch {
		case l == "":
		case strings.HasPrefix(l, "# "):
			sec = strings.ToLower(l[2:])
			fields[sec] = map[string]string{}
		default:
			k, v, _ := strings.Cut(l, ":")
			fields[sec][k] = v
			order[sec] = append(order[sec], k)
		}
	}
	return fields, order
}

// infoOnlyRedis are the fields of a Redis 7.0 replica's INFO that vdr
// leaves out, with the reason. It is empty: vdr writes every field of the
// personality's INFO (commands/versions_gen.go's layout), the ones it has
// no value for (a fork's copy-on-write, an AOF) with a fresh replica's.
var infoOnlyRedis = map[string]string{}

// infoOnlyVDR are the fields vdr adds.
var infoOnlyVDR = map[string]bool{"vdr_version": true}

// TestInfoParity compares INFO everything of vdr and of a Redis replica
// after the same commands: the field names of every section, and the
// values the commands determine (commandstats counts, errorstats,
// latencystats' commands, connected_clients, blocked_clients,
// slave_priority, master_last_io_seconds_ago on an idle primary).
func TestInfoParity(t *testing.T) {
	p := startObsPair(t)
	prim := dialRaw(t, p.primary.Addr())
	prim.dos("SET", "k", "v")
	prim.dos("HSET", "h", "f", "v")
	prim.dos("XADD", "s", "1-1", "f", "v")
	p.sync(t)

	servers := []struct {
		name string
		addr string
	}{{"redis", p.replica.Addr()}, {"vdr", p.node.Addr()}}
	conns := make([]*rawConn, len(servers))
	for i, s := range servers {
		conns[i] = dialRaw(t, s.addr)
	}
	// The same commands on both, each reply compared.
	script := [][]string{
		{"CONFIG", "RESETSTAT"},
		{"GET", "k"}, {"GET", "k"}, {"GET", "missing"},
		{"HGET", "k", "f"},              // WRONGTYPE: failed
		{"GET"},                         // arity: rejected
		{"SET", "x", "1"},               // READONLY: rejected
		{"NOSUCHCOMMAND", "a"},          // ERR, no command row
		{"CONFIG", "GET", "maxclients"}, // a subcommand
		{"CONFIG", "NOSUCH"},            // unknown subcommand
		{"EXISTS", "k", "h"},
		{"MULTI"}, {"GET", "k"}, {"HGET", "k", "f"}, {"EXEC"},
		{"XRANGE", "s", "-", "+"},
		{"INCR"}, // arity: rejected
	}
	for _, cmd := range script {
		want := conns[0].dos(cmd...)
		got := conns[1].dos(cmd...)
		if want != got {
			t.Errorf("%q: redis %q, vdr %q", cmd, want, got)
		}
	}
	var fields [2]map[string]map[string]string
	for i := range servers {
		fields[i], _ = infoSections(t, conns[i].dos("INFO", "everything"))
	}
	// Field names, section by section.
	var secs []string
	for s := range fields[0] {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	for i := range servers {
		var got []string
		for s := range fields[i] {
			got = append(got, s)
		}
		sort.Strings(got)
		if !slices.Equal(got, secs) {
			t.Errorf("%s sections %q, redis %q", servers[i].name, got, secs)
		}
	}
	for _, sec := range secs {
		if sec == "keyspace" || sec == "commandstats" || sec == "latencystats" || sec == "errorstats" {
			continue // compared by value below
		}
		for k := range fields[0][sec] {
			if _, ok := fields[1][sec][k]; !ok && infoOnlyRedis[k] == "" {
				t.Errorf("INFO %s: vdr lacks %s (redis: %s)", sec, k, fields[0][sec][k])
			}
		}
		for k := range fields[1][sec] {
			if _, ok := fields[0][sec][k]; !ok && !infoOnlyVDR[k] {
				t.Errorf("INFO %s: vdr has %s, redis does not", sec, k)
			}
		}
	}
	// commandstats: the counts (not the times).
	counts := func(m map[string]string) map[string]string {
		out := map[string]string{}
		re := regexp.MustCompile(`usec=\d+,usec_per_call=[0-9.]+,`)
		for k, v := range m {
			out[k] = re.ReplaceAllString(v, "")
		}
		return out
	}
	if a, b := counts(fields[0]["commandstats"]), counts(fields[1]["commandstats"]); !mapsEqual(a, b) {
		t.Errorf("commandstats differ:\nredis %v\n  vdr %v", a, b)
	}
	if a, b := fields[0]["errorstats"], fields[1]["errorstats"]; !mapsEqual(a, b) {
		t.Errorf("errorstats differ:\nredis %v\n  vdr %v", a, b)
	}
	keysOf := func(m map[string]string) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	if a, b := keysOf(fields[0]["latencystats"]), keysOf(fields[1]["latencystats"]); !slices.Equal(a, b) {
		t.Errorf("latencystats commands differ:\nredis %q\n  vdr %q", a, b)
	}
	pct := regexp.MustCompile(`^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$`)
	for k, v := range fields[1]["latencystats"] {
		if !pct.MatchString(v) {
			t.Errorf("vdr %s:%s", k, v)
		}
	}
	for _, f := range []string{"total_error_replies", "keyspace_hits", "keyspace_misses"} {
		if a, b := fields[0]["stats"][f], fields[1]["stats"][f]; a != b {
			t.Errorf("%s: redis %s, vdr %s", f, a, b)
		}
	}
	for _, f := range []string{"slave_priority", "master_link_status", "slave_read_only"} {
		if a, b := fields[0]["replication"][f], fields[1]["replication"][f]; a != b {
			t.Errorf("%s: redis %s, vdr %s", f, a, b)
		}
	}
	// CPU: real numbers, not zeros.
	if v := fields[1]["cpu"]["used_cpu_user"]; v == "0.000000" || !regexp.MustCompile(`^\d+\.\d{6}$`).MatchString(v) {
		t.Errorf("vdr used_cpu_user:%s", v)
	}

	// connected_clients: this connection and the primary link, on both
	// (other connections of the test have closed; wait for the servers
	// to notice).
	for i, s := range servers {
		redistest.WaitFor(t, 5*time.Second, s.name+" connected_clients:2", func() bool {
			f, _ := infoSections(t, conns[i].dos("INFO", "clients"))
			return f["clients"]["connected_clients"] == "2"
		})
	}
	// blocked_clients while an XREAD BLOCK waits, on both.
	for i, s := range servers {
		bc := dialRaw(t, s.addr)
		bc.send(encodeCmd(bs("XREAD", "BLOCK", "0", "STREAMS", "s", "$")...))
		redistest.WaitFor(t, 5*time.Second, s.name+" blocked_clients:1", func() bool {
			f, _ := infoSections(t, conns[i].dos("INFO", "clients"))
			return f["clients"]["blocked_clients"] == "1"
		})
	}
	// master_last_io_seconds_ago: the primary PINGs every second, so on an
	// idle link it stays at most 1 s behind (+1 for rounding).
	time.Sleep(3 * time.Second)
	for i, s := range servers {
		f, _ := infoSections(t, conns[i].dos("INFO", "replication"))
		n, err := strconv.Atoi(f["replication"]["master_last_io_seconds_ago"])
		if err != nil || n > 2 {
			t.Errorf("%s master_last_io_seconds_ago:%s after 3 s idle with repl-ping-replica-period 1", s.name, f["replication"]["master_last_io_seconds_ago"])
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// respNode is a parsed RESP value: a string (status, bulk, error, integer
// as text) or a list (array, map as key, value, …).
type respNode struct {
	kind byte // '+', '-', ':', '$', '*', '%', '=', '_'
	s    string
	list []respNode
}

func parseRESP(t *testing.T, b string) respNode {
	t.Helper()
	n, rest := parseRESPAt(t, b)
	if rest != "" {
		t.Fatalf("trailing bytes %q", rest)
	}
	return n
}

func parseRESPAt(t *testing.T, b string) (respNode, string) {
	t.Helper()
	i := strings.Index(b, "\r\n")
	if i < 1 {
		t.Fatalf("bad RESP %.80q", b)
	}
	head, rest := b[1:i], b[i+2:]
	n := respNode{kind: b[0]}
	switch b[0] {
	case '+', '-', ':', '_':
		n.s = head
	case '$', '=':
		l, _ := strconv.Atoi(head)
		if l < 0 {
			n.kind = '_'
			return n, rest
		}
		n.s, rest = rest[:l], rest[l+2:]
	case '*', '%':
		l, _ := strconv.Atoi(head)
		if b[0] == '%' {
			l *= 2
		}
		for j := 0; j < l; j++ {
			var c respNode
			c, rest = parseRESPAt(t, rest)
			n.list = append(n.list, c)
		}
	default:
		t.Fatalf("unexpected RESP type %q", b[0])
	}
	return n, rest
}

// TestSlowlogDiff: with slowlog-log-slower-than 0 both log every command;
// SLOWLOG GET's entries agree in all but ids, times and durations (the
// arguments as truncated, the client's address form and name).
func TestSlowlogDiff(t *testing.T) {
	p := startObsPair(t)
	p.primary.Do(t, "SET", "k", "v")
	p.sync(t)
	long := strings.Repeat("x", 300)
	many := []string{"MGET"}
	for i := 0; i < 40; i++ {
		many = append(many, "key"+strconv.Itoa(i))
	}
	script := [][]string{
		{"CONFIG", "SET", "slowlog-log-slower-than", "0"},
		{"SLOWLOG", "RESET"},
		{"CLIENT", "SETNAME", "obs"},
		{"GET", "k"},
		{"GET", long},
		many,
		{"AUTH", "secret"},
		{"HELLO", "2", "AUTH", "default", "secret"},
		{"CONFIG", "SET", "requirepass", "pw", "slowlog-max-len", "abc"},
		{"SLOWLOG", "LEN"},
		{"SLOWLOG", "GET", "-2"},
		{"SLOWLOG", "GET", "x"},
		{"SLOWLOG", "NOSUCH"},
		{"SLOWLOG", "HELP"},
	}
	// HELLO's reply has the client ID: only its slow log entry is compared.
	skipReply := map[string]bool{"HELLO": true}
	addrs := []string{p.replica.Addr(), p.node.Addr()}
	var gets [2]respNode
	var replies [2][]string
	for i, addr := range addrs {
		c := dialRaw(t, addr)
		for _, cmd := range script {
			replies[i] = append(replies[i], c.dos(cmd...))
		}
		gets[i] = parseRESP(t, c.dos("SLOWLOG", "GET", "-1"))
	}
	for j, cmd := range script {
		if !skipReply[cmd[0]] && replies[0][j] != replies[1][j] {
			t.Errorf("%q: redis %q, vdr %q", cmd, replies[0][j], replies[1][j])
		}
	}
	shape := func(n respNode) []string {
		var out []string
		for _, e := range n.list {
			if len(e.list) != 6 {
				t.Fatalf("entry of %d fields", len(e.list))
			}
			var args []string
			for _, a := range e.list[3].list {
				args = append(args, a.s)
			}
			addr := e.list[4].s
			if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(addr) {
				t.Errorf("client address %q", addr)
			}
			for _, f := range e.list[:3] {
				if f.kind != ':' {
					t.Errorf("id/time/duration %q not an integer", f.s)
				}
			}
			out = append(out, strings.Join(args, " ")+" | "+e.list[5].s)
		}
		return out
	}
	if a, b := shape(gets[0]), shape(gets[1]); !slices.Equal(a, b) {
		t.Errorf("SLOWLOG GET -1:\nredis %q\n  vdr %q", a, b)
	}
	if len(gets[1].list) < 10 {
		t.Errorf("vdr logged %d entries", len(gets[1].list))
	}
	// slowlog-max-len trims, and -1 switches it off, on both.
	for _, addr := range addrs {
		c := dialRaw(t, addr)
		c.dos("CONFIG", "SET", "slowlog-max-len", "2")
		c.dos("GET", "k")
		if r := c.dos("SLOWLOG", "LEN"); r != ":2\r\n" {
			t.Errorf("%s SLOWLOG LEN after max-len 2: %q", addr, r)
		}
		c.dos("CONFIG", "SET", "slowlog-log-slower-than", "-1", "slowlog-max-len", "128")
		c.dos("SLOWLOG", "RESET")
		c.dos("GET", "k")
		if r := c.dos("SLOWLOG", "LEN"); r != ":0\r\n" {
			t.Errorf("%s SLOWLOG LEN when off: %q", addr, r)
		}
	}
}

// TestConfigSetDiff: CONFIG SET's replies, word for word, on a Redis
// replica and on vdr (unknown and immutable names, bad values, several
// pairs at once being all or nothing), CONFIG GET of what was set, and
// what the settings do (requirepass for new connections, maxclients).
func TestConfigSetDiff(t *testing.T) {
	p := startObsPair(t)
	script := [][]string{
		{"CONFIG", "SET", "nosuch", "1"},
		{"CONFIG", "SET", "databases", "1"},
		{"CONFIG", "SET", "daemonize", "yes"},
		{"CONFIG", "SET", "slowlog-max-len"},
		{"CONFIG", "SET", "slowlog-max-len", "-1"},
		{"CONFIG", "SET", "slowlog-max-len", "x"},
		{"CONFIG", "SET", "slowlog-log-slower-than", "-2"},
		{"CONFIG", "SET", "latency-tracking", "maybe"},
		{"CONFIG", "SET", "latency-tracking-info-percentiles", "50 101"},
		{"CONFIG", "SET", "latency-tracking-info-percentiles", "50 abc"},
		{"CONFIG", "SET", "timeout", "-1"},
		{"CONFIG", "SET", "maxclients", "0"},
		{"CONFIG", "SET", "slowlog-max-len", "7", "slowlog-max-len", "8"},
		{"CONFIG", "SET", "slowlog-max-len", "7", "nosuch", "8"},
		{"CONFIG", "SET", "slowlog-max-len", "7", "pidfile", "8"},
		{"CONFIG", "SET", "slowlog-max-len", "7", "latency-monitor-threshold", "x"},
		{"CONFIG", "GET", "slowlog-max-len"},
		{"CONFIG", "SET", "SLOWLOG-MAX-LEN", "7", "latency-monitor-threshold", "5", "latency-tracking-info-percentiles", "50 99.99 100"},
		{"CONFIG", "GET", "slowlog-max-len"},
		{"CONFIG", "GET", "latency-monitor-threshold"},
		{"CONFIG", "GET", "latency-tracking-info-percentiles"},
		{"CONFIG", "SET", "slave-serve-stale-data", "no", "tracking-table-max-keys", "10"},
		{"CONFIG", "GET", "replica-serve-stale-data"},
		{"CONFIG", "GET", "tracking-table-max-keys"},
		{"CONFIG", "SET", "timeout", "100", "maxclients", "50"},
		{"CONFIG", "GET", "timeout"},
		{"CONFIG", "GET", "maxclients"},
		{"CONFIG", "SET", "lua-time-limit", "150"},
		{"CONFIG", "GET", "busy-reply-threshold"},
		{"CONFIG", "GET", "lua-time-limit"},
		{"CONFIG", "SET", "latency-tracking", "no"},
		{"GET", "k"},
		{"INFO", "latencystats"},
		{"CONFIG", "SET", "requirepass", "pw"},
		{"GET", "k"}, // this connection was authenticated (nopass) before
	}
	addrs := []string{p.replica.Addr(), p.node.Addr()}
	var replies [2][]string
	for i, addr := range addrs {
		c := dialRaw(t, addr)
		for _, cmd := range script {
			replies[i] = append(replies[i], c.dos(cmd...))
		}
		// A new connection needs the password now.
		n := dialRaw(t, addr)
		replies[i] = append(replies[i], n.dos("GET", "k"), n.dos("AUTH", "pw"), n.dos("GET", "k"))
	}
	for j := range replies[0] {
		if replies[0][j] != replies[1][j] {
			what := []string{"new connection"}
			if j < len(script) {
				what = script[j]
			}
			t.Errorf("%q: redis %q, vdr %q", what, replies[0][j], replies[1][j])
		}
	}
}

// TestLatencyDiff: the LATENCY subcommands' replies on a Redis replica
// and on vdr after the same slow command (a SORT_RO of a 100k-member set),
// compared in shape (the event, the kinds of every field, the report's
// wording) where times differ, and byte for byte where they do not.
func TestLatencyDiff(t *testing.T) {
	p := startObsPair(t)
	prim := dialRaw(t, p.primary.Addr())
	for i := 0; i < 100; i++ {
		args := []string{"SADD", "big"}
		for j := 0; j < 1000; j++ {
			args = append(args, strconv.Itoa((i*1000+j)*7919%1000003))
		}
		prim.dos(args...)
	}
	prim.dos("SET", "k", "v")
	p.sync(t)
	addrs := []string{p.replica.Addr(), p.node.Addr()}
	var out [2]map[string]string
	for i, addr := range addrs {
		c := dialRaw(t, addr)
		out[i] = map[string]string{}
		do := func(name string, args ...string) string {
			r := c.dos(args...)
			out[i][name] = r
			return r
		}
		do("help", "LATENCY", "HELP")
		do("doctor-off", "LATENCY", "DOCTOR")
		do("graph-none", "LATENCY", "GRAPH", "command")
		do("history-none", "LATENCY", "HISTORY", "command")
		do("set", "CONFIG", "SET", "latency-monitor-threshold", "1")
		if r := c.dos("SORT_RO", "big", "LIMIT", "0", "1"); !strings.HasPrefix(r, "*1\r\n") {
			t.Fatalf("SORT: %q", r)
		}
		do("latest", "LATENCY", "LATEST")
		do("history", "LATENCY", "HISTORY", "command")
		do("graph", "LATENCY", "GRAPH", "command")
		do("doctor", "LATENCY", "DOCTOR")
		do("reset-none", "LATENCY", "RESET", "nosuch")
		do("reset", "LATENCY", "RESET")
		do("latest-empty", "LATENCY", "LATEST")
		do("resetstat", "CONFIG", "RESETSTAT")
		for j := 0; j < 5; j++ {
			c.dos("GET", "k")
		}
		do("histogram", "LATENCY", "HISTOGRAM", "get", "nosuch", "config")
		do("hello3", "HELLO", "3")
		do("histogram3", "LATENCY", "HISTOGRAM", "get")
		do("nosub", "LATENCY", "NOSUCH")
	}
	for _, name := range []string{"help", "doctor-off", "graph-none", "history-none", "set", "reset-none", "reset", "latest-empty", "resetstat", "nosub"} {
		if out[0][name] != out[1][name] {
			t.Errorf("%s: redis %q, vdr %q", name, out[0][name], out[1][name])
		}
	}
	digits := regexp.MustCompile(`\d+`)
	shape := func(s string) string {
		var b strings.Builder
		var walk func(n respNode)
		walk = func(n respNode) {
			b.WriteByte(n.kind)
			switch {
			case n.kind == ':':
			case n.list != nil || n.kind == '*' || n.kind == '%':
				b.WriteString(strconv.Itoa(len(n.list)) + "[")
				for _, c := range n.list {
					walk(c)
				}
				b.WriteByte(']')
			default:
				b.WriteString(digits.ReplaceAllString(n.s, "N"))
			}
		}
		walk(parseRESP(t, s))
		return b.String()
	}
	for _, name := range []string{"latest", "history", "graph"} {
		if a, b := shape(out[0][name]), shape(out[1][name]); a != b {
			t.Errorf("%s shape: redis %s, vdr %s", name, a, b)
		}
	}
	if !strings.Contains(out[1]["latest"], "command") {
		t.Errorf("vdr LATENCY LATEST %q", out[1]["latest"])
	}
	// DOCTOR: the same report up to the advice that depends on the
	// machine (transparent huge pages).
	cut := func(s string) string {
		s, _, _ = strings.Cut(s, "- I detected a non zero amount of anonymous huge pages")
		return digits.ReplaceAllString(s, "N")
	}
	if a, b := cut(out[0]["doctor"]), cut(out[1]["doctor"]); a != b {
		t.Errorf("DOCTOR:\nredis %q\n  vdr %q", a, b)
	}
	// HISTOGRAM: the commands, calls and cumulative counts agree; the
	// buckets are Redis's (1, 2, 4, 8, 16, 33, 66 … µs).
	labels := map[string]bool{}
	for m := 10; m < 31; m++ {
		labels[strconv.FormatInt((int64(1)<<m+int64(1)<<(m-7)-1)/1000, 10)] = true
	}
	for i, name := range []string{"histogram", "histogram3"} {
		var names [2][]string
		for j := range addrs {
			n := parseRESP(t, out[j][name])
			for k := 0; k+1 < len(n.list); k += 2 {
				cmd, h := n.list[k].s, n.list[k+1].list
				names[j] = append(names[j], cmd)
				if len(h) != 4 || h[0].s != "calls" || h[2].s != "histogram_usec" {
					t.Errorf("%d %s: %q", j, name, out[j][name])
					continue
				}
				bk := h[3].list
				for k := 0; k+1 < len(bk); k += 2 {
					if !labels[bk[k].s] {
						t.Errorf("%d %s: bucket %s", j, name, bk[k].s)
					}
				}
				if last := bk[len(bk)-1].s; last != h[1].s {
					t.Errorf("%d %s %s: cumulative ends at %s of %s calls", j, name, cmd, last, h[1].s)
				}
				if cmd == "get" && h[1].s != "5" {
					t.Errorf("%d %s: get calls %s", j, name, h[1].s)
				}
			}
			sort.Strings(names[j])
		}
		if !slices.Equal(names[0], names[1]) {
			t.Errorf("%s commands: redis %q, vdr %q", name, names[0], names[1])
		}
		if a, b := shape(out[0][name]), shape(out[1][name]); strings.Count(a, "%") != strings.Count(b, "%") {
			t.Errorf("%s (%d) shape: redis %s, vdr %s", name, i, a, b)
		}
	}
}

// TestMetricsCommandStats: /metrics carries INFO commandstats' counts
// (calls, failed, rejected, time), the CPU and network series.
func TestMetricsCommandStats(t *testing.T) {
	primary := redistest.Start(t)
	primary.Do(t, "SET", "k", "v")
	node := startNodeWith(t, NodeOptions{Server: Options{Port: RandomPort}, Replica: &replicaOptions{Primary: primary.Addr()}, HTTPAddr: "127.0.0.1:0"})
	redistest.WaitFor(t, 15*time.Second, "link up", func() bool {
		return redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up"
	})
	c := dialRaw(t, node.Addr())
	c.dos("CONFIG", "RESETSTAT")
	c.dos("GET", "k")
	c.dos("GET", "k")
	c.dos("HGET", "k", "f")
	c.dos("GET")
	resp, err := http.Get("http://" + node.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`vdr_client_command_calls_total{command="get"} 2`,
		`vdr_client_command_calls_total{command="hget"} 1`,
		`vdr_client_command_failed_total{command="hget"} 1`,
		`vdr_client_command_rejected_total{command="get"} 1`,
		`vdr_client_command_seconds_total{command="get"} `,
		`vdr_cpu_seconds_total{mode="user"} `,
		`vdr_net_input_bytes_total `,
		`vdr_error_replies_total{code="WRONGTYPE"} 1`,
		`vdr_command_duration_seconds_count `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
}

// TestConfigRewriteSettings: CONFIG REWRITE writes what CONFIG SET
// changed into vdr's config file: a line of the same name (or alias) is
// replaced, a new one appended, every other line kept.
func TestConfigRewriteSettings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vdr.conf")
	in := "# vdr\nport 6380\nslave-serve-stale-data yes\nsome-unknown-line 1\nslowlog-max-len 10\n"
	if err := os.WriteFile(p, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startVDR(t, Options{Projection: newProjection(t), ConfigFile: p})
	c := dialRaw(t, s.Addr())
	for _, cmd := range [][]string{
		{"CONFIG", "SET", "slowlog-max-len", "5", "replica-serve-stale-data", "no"},
		{"CONFIG", "SET", "latency-tracking-info-percentiles", "50 99", "timeout", "30"},
		{"CONFIG", "REWRITE"},
	} {
		if r := c.dos(cmd...); r != "+OK\r\n" {
			t.Fatalf("%q: %q", cmd, r)
		}
	}
	got, _ := os.ReadFile(p)
	want := "# vdr\nport 6380\nreplica-serve-stale-data no\nsome-unknown-line 1\nslowlog-max-len 5\n" +
		"latency-tracking-info-percentiles \"50 99\"\ntimeout 30\n"
	if string(got) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", got, want)
	}
}

// TestInstantaneousMetrics: under a steady load, INFO's instantaneous_*
// are the load's rate (Redis's 16 samples of 100 ms), and they fall back
// to 0 once the load stops.
func TestInstantaneousMetrics(t *testing.T) {
	s := startVDR(t, Options{Projection: newProjection(t)})
	c := dialRaw(t, s.Addr())
	field := func(name string) float64 {
		f, _ := infoSections(t, c.dos("INFO", "stats"))
		v, err := strconv.ParseFloat(f["stats"][name], 64)
		if err != nil {
			t.Fatalf("%s: %q", name, f["stats"][name])
		}
		return v
	}
	var batch []byte
	for i := 0; i < 100; i++ {
		batch = append(batch, encodeCmd(bs("PING")...)...)
	}
	start := time.Now()
	n := 0
	for time.Since(start) < 2*time.Second {
		c.send(batch)
		for i := 0; i < 100; i++ {
			c.read()
		}
		n += 100
		time.Sleep(5 * time.Millisecond)
	}
	rate := float64(n) / time.Since(start).Seconds()
	if ops := field("instantaneous_ops_per_sec"); ops < rate/3 || ops > rate*3 {
		t.Errorf("instantaneous_ops_per_sec %v, the load ran at %.0f/s", ops, rate)
	}
	if kb := field("instantaneous_input_kbps"); kb <= 0 {
		t.Errorf("instantaneous_input_kbps %v under load", kb)
	}
	if kb := field("instantaneous_output_kbps"); kb <= 0 {
		t.Errorf("instantaneous_output_kbps %v under load", kb)
	}
	// Idle for longer than the 16 samples (1.6 s): back to 0.
	time.Sleep(2 * time.Second)
	if ops := field("instantaneous_ops_per_sec"); ops != 0 {
		t.Errorf("instantaneous_ops_per_sec %v after 2 s idle", ops)
	}
}
