package server

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMonitorDifferential opens MONITOR on a real Redis replica and on
// vdr, both replicating one primary, runs the same primary writes and
// client commands against both, and compares the monitor lines with the
// timestamp and the clients' ports masked (the primary's address stays:
// both show the master client by the primary's ip:port).
func TestMonitorDifferential(t *testing.T) {
	sp := startSurfacePair(t, []string{"--replica-priority", "0"}, Options{}, "")
	primary, replica, node := sp.primary, sp.replica, sp.node
	p := dialRaw(t, primary.Addr())
	// WAIT on the primary returns once both replicas applied everything
	// (and fed it to their monitors); nothing it does shows on a monitor.
	synced := func() {
		t.Helper()
		if r := p.dos("WAIT", "2", "10000"); r != ":2\r\n" {
			t.Fatalf("WAIT: %q", r)
		}
	}
	addrs := []string{replica.Addr(), node.Addr()}
	var mons [2]*rawConn
	for i, a := range addrs {
		mons[i] = dialRaw(t, a)
		if r := mons[i].dos("MONITOR"); r != "+OK\r\n" {
			t.Fatalf("MONITOR on %s: %q", a, r)
		}
	}
	primaryWrites := [][]string{
		{"SET", "k", "a b\"\n\x00\xc3\xa9\t\\"},
		{"MULTI"}, {"SET", "a", "1"}, {"INCR", "b"}, {"EXEC"},
		{"EXPIRE", "k", "1000"},
		{"INCRBYFLOAT", "f", "1.5"},
		{"SELECT", "2"}, {"HSET", "h", "f", "v"}, {"SELECT", "0"},
		{"PUBLISH", "ch", "msg"},
		{"DEL", "a", "nosuch"},
	}
	for _, w := range primaryWrites {
		p.dos(w...)
	}
	synced()
	// Client commands, each batch on its own connection to both servers.
	clientRuns := [][][]string{
		{{"GET", "k"}, {"MGET", "a", "b", "nosuch"}},
		{{"AUTH", "secret"}},
		{{"HELLO", "2", "AUTH", "user", "pass"}},
		{{"CONFIG", "GET", "maxmemory"}, {"CLIENT", "ID"}},
		{{"SELECT", "3"}, {"GET", "x"}, {"SELECT", "2"}, {"HGETALL", "h"}},
		{{"EVAL_RO", "return redis.call('get','k')", "0"}},
		{{"MULTI"}, {"GET", "a"}, {"STRLEN", "k"}, {"EXEC"}},
		{{"NOSUCHCOMMAND", "x"}, {"GET"}, {"SET", "x", "y"}},
		{{"PING"}, {"ECHO", "\x01\x7f"}, {"TYPE", "f"}},
	}
	for _, run := range clientRuns {
		for _, a := range addrs {
			c := dialRaw(t, a)
			for _, cmd := range run {
				c.dos(cmd...)
			}
			c.nc.Close()
		}
	}
	p.dos("SET", "last", "1")
	synced()
	for _, a := range addrs {
		c := dialRaw(t, a)
		c.dos("ECHO", "done")
		c.nc.Close()
	}
	ts := regexp.MustCompile(`^\+\d+\.\d{6} \[(\d+) ([^\]]+)\] `)
	var got [2][]string
	for i, m := range mons {
		for {
			m.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := m.br.ReadString('\n')
			if err != nil {
				t.Fatalf("monitor %s: %v after %q", addrs[i], err, got[i])
			}
			sm := ts.FindStringSubmatch(line)
			if sm == nil {
				t.Fatalf("monitor %s: line %q", addrs[i], line)
			}
			who := "client"
			switch {
			case sm[2] == primary.Addr():
				who = "primary"
			case sm[2] == "lua":
				who = "lua"
			}
			rest := line[len(sm[0]):]
			if who == "primary" && strings.EqualFold(rest, "\"ping\"\r\n") {
				continue // the primary's keep-alive; vdr's stream reader keeps it
			}
			got[i] = append(got[i], "["+sm[1]+" "+who+"] "+rest)
			if strings.EqualFold(rest, "\"echo\" \"done\"\r\n") {
				break
			}
		}
	}
	want, have := strings.Join(got[0], ""), strings.Join(got[1], "")
	if want != have {
		t.Fatalf("monitor lines differ%s\nredis:\n%s\nvdr:\n%s", firstDiff(want, have), want, have)
	}
	if n := len(got[0]); n < 30 {
		t.Fatalf("only %d lines compared:\n%s", n, want)
	}
	t.Logf("%d monitor lines equal", len(got[0]))
}

// TestMonitorPrimaryPing: the primary's PINGs (repl-ping-replica-period)
// show on a monitor as on a Redis replica's, after the commands before
// them and in the database the stream last selected.
func TestMonitorPrimaryPing(t *testing.T) {
	sp := startSurfacePair(t, nil, Options{}, "")
	p := dialRaw(t, sp.primary.Addr())
	addrs := []string{sp.replica.Addr(), sp.node.Addr()}
	var mons [2]*rawConn
	for i, a := range addrs {
		mons[i] = dialRaw(t, a)
		if r := mons[i].dos("MONITOR"); r != "+OK\r\n" {
			t.Fatalf("MONITOR on %s: %q", a, r)
		}
	}
	p.dos("SELECT", "5")
	p.dos("SET", "x", "1")
	if r := p.dos("CONFIG", "SET", "repl-ping-replica-period", "1"); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", r)
	}
	ts := regexp.MustCompile(`^\+\d+\.\d{6} `)
	var got [2]string
	for i, m := range mons {
		seenSet := false
		deadline := time.Now().Add(10 * time.Second)
		for got[i] == "" {
			m.nc.SetReadDeadline(deadline)
			line, err := m.br.ReadString('\n')
			if err != nil {
				t.Fatalf("monitor %s: %v before a PING", addrs[i], err)
			}
			line = ts.ReplaceAllString(line, "")
			switch {
			case strings.Contains(line, `"set" "x" "1"`) || strings.Contains(line, `"SET" "x" "1"`):
				seenSet = true
			case seenSet && strings.Contains(strings.ToLower(line), `"ping"`):
				got[i] = line
			}
		}
	}
	if want := "[5 " + sp.primary.Addr() + `] "ping"` + "\r\n"; got[0] != want {
		t.Fatalf("the Redis replica shows %q, want %q", got[0], "[5 "+sp.primary.Addr()+`] "ping"`)
	}
	if got[1] != got[0] {
		t.Errorf("vdr shows %q, the Redis replica %q", got[1], got[0])
	}
}
