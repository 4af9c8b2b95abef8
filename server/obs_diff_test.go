package server

import (
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
