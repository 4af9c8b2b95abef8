package server

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/redistest"
)

// TestPersonalitiesMatchServers runs, for every personality, a primary
// and a real replica of that server version and vdr replicating from the
// same primary, and compares what identifies the version: COMMAND COUNT,
// LIST, INFO and DOCS of every command and subcommand (RESP2 and RESP3),
// the commands and subcommands that version lacks, HELLO (and its NOAUTH
// error), LOLWUT, HELP texts, CONFIG GET, and INFO's field names.
func TestPersonalitiesMatchServers(t *testing.T) {
	for _, v := range compat.Supported {
		t.Run(v.Name(), func(t *testing.T) { testPersonality(t, v) })
	}
}

var helloID = regexp.MustCompile(`\$2\r\nid\r\n:\d+\r\n`)

func testPersonality(t *testing.T, v compat.Version) {
	primary := redistest.StartVersion(t, v)
	rs := redistest.StartVersion(t, v, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	node := startNode(t, primary.Addr(), replicaOptions{})
	up := func(addr string) bool { return redistest.InfoField(addr, "replication", "master_link_status") == "up" }
	redistest.WaitFor(t, 15*time.Second, "both replicas linked", func() bool { return up(rs.Addr()) && up(node.Addr()) })
	if got := node.srv.env.Version.Load(); got != v {
		t.Fatalf("vdr answers as %s, the primary is %s", got, v)
	}
	for _, w := range [][]string{{"SET", "str", "hello"}, {"RPUSH", "l", "a", "b", "a"}, {"HSET", "h", "a", "1", "b", "2"}, {"ZADD", "z", "1", "a", "2.5", "b"}} {
		primary.Do(t, w...)
	}
	off := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 15*time.Second, "both replicas caught up", func() bool {
		return redistest.InfoField(rs.Addr(), "replication", "slave_repl_offset") == off &&
			redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == off
	})
	rc, vc := dialRaw(t, rs.Addr()), dialRaw(t, node.Addr())
	same := func(what string, args ...string) {
		t.Helper()
		want, got := rc.dos(args...), vc.dos(args...)
		if what == "hello" {
			want, got = helloID.ReplaceAllString(want, "ID"), helloID.ReplaceAllString(got, "ID")
		}
		if want != got {
			t.Errorf("%s %q:\n %s %.400q\n    vdr %.400q", v, args, v, want, got)
		}
	}
	same("hello", "HELLO", "3")
	same("hello", "HELLO", "2")

	same("", "COMMAND", "COUNT")
	same("", "LOLWUT")
	for _, c := range [][]string{
		{"foobar", "a"}, {"GET"}, {"CLIENT", "NOSUCH"}, {"CLIENT", "KILL"},
		{"CLIENT", "NO-TOUCH", "on"}, {"CLIENT", "SETINFO", "lib-name", "x"}, {"CLIENT", "CAPA", "redirect"},
		{"HTTL", "h", "FIELDS", "1", "f"}, {"HPTTL", "h", "FIELDS", "1", "f"}, {"HPERSIST", "h", "FIELDS", "1", "f"},
		{"HEXPIRE", "h", "10", "FIELDS", "1", "f"}, {"HSETEX", "h", "FIELDS", "1", "f", "v"},
		{"WAITAOF", "0", "0", "0"}, {"CLUSTER", "MYSHARDID"}, {"COMMAND", "GETKEYS", "GET"},
		{"CLIENT", "HELP"}, {"COMMAND", "HELP"}, {"CONFIG", "HELP"}, {"OBJECT", "HELP"}, {"MEMORY", "HELP"}, {"PUBSUB", "HELP"}, {"XINFO", "HELP"},
		{"CONFIG", "GET", "lazyfree-lazy-user-del"}, {"CONFIG", "GET", "io-threads-do-reads"}, {"CONFIG", "GET", "repl-backlog-size"},
		{"CONFIG", "GET", "hide-user-data-from-log"},
		{"ZRANK", "z", "m", "WITHSCORE"}, {"ZREVRANK", "z", "m", "WITHSCORE"}, {"WAIT", "0", "x"},
		{"BITCOUNT", "s", "0"}, {"BITCOUNT", "s", "0", "1", "BAD"},
		{"READONLY"}, {"GET", "k"}, {"SET", "k", "v"}, {"READWRITE"}, {"GET", "k"}, {"MULTI"}, {"GET", "k"}, {"EXEC"},
		{"LPOS", "l", "a", "RANK", "-9223372036854775808"}, {"DUMP", "str"},
		{"HSCAN", "h", "0", "NOVALUES"}, {"HSCAN", "h", "0", "MATCH", "a*", "NOVALUES"}, {"ZSCAN", "z", "0", "NOSCORES"},
		{"HSCAN", "nosuch", "0", "NOVALUES"}, {"ZSCAN", "z", "0", "NOVALUES"}, {"SCAN", "0", "NOVALUES"}, {"SSCAN", "s", "0", "NOVALUES"},
		{"BITCOUNT", "s", "x", "1"}, {"BITCOUNT", "s", "0", "1", "BIT"}, {"ZRANK", "z", "m", "BAD"}, {"ZRANK", "z", "m", "WITHSCORE", "x"},
		{"COMMAND", "GETKEYS", "SET", "a", "b"}, {"COMMAND", "GETKEYS", "HTTL", "h", "FIELDS", "1", "f"},
		{"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b"}, {"COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b"},
		{"COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "GET"}, {"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "a", "GET", "u8", "0"},
		{"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "a", "SET", "u8", "0", "1"}, {"COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "RIGHT"},
	} {
		same("", c...)
	}
	// COMMAND LIST: Redis lists in dict order, so compare as sets.
	list := func(c *rawConn) []string {
		var names []string
		for _, l := range strings.Split(c.dos("COMMAND", "LIST"), "\r\n") {
			if l != "" && l[0] != '*' && l[0] != '$' {
				names = append(names, l)
			}
		}
		sort.Strings(names)
		return names
	}
	if want, got := list(rc), list(vc); strings.Join(want, " ") != strings.Join(got, " ") {
		t.Errorf("%s COMMAND LIST: %d names, vdr %d", v, len(want), len(got))
	}
	// CONFIG GET *: the same parameter names.
	cfgNames := func(c *rawConn) string {
		var names []string
		lines := strings.Split(c.dos("CONFIG", "GET", "*"), "\r\n")
		for i := 2; i < len(lines); i += 4 {
			names = append(names, lines[i])
		}
		sort.Strings(names)
		return strings.Join(names, " ")
	}
	if want, got := cfgNames(rc), cfgNames(vc); want != got {
		t.Errorf("%s CONFIG GET * names:\n %s %s\n    vdr %s", v, v, want, got)
	}
	// Every command and subcommand of the version, one by one.
	var names []string
	for _, cmd := range commands.CommandsOf(v) {
		if len(cmd.Subcommands) == 0 {
			names = append(names, cmd.Name)
		}
		for _, sub := range cmd.Subcommands {
			names = append(names, sub.Name)
		}
	}
	for _, proto := range []string{"2", "3"} {
		rc.dos("HELLO", proto)
		vc.dos("HELLO", proto)
		fails := 0
		for _, name := range names {
			for _, sub := range []string{"INFO", "DOCS"} {
				want, got := rc.dos("COMMAND", sub, name), vc.dos("COMMAND", sub, name)
				if want != got && fails < 5 {
					fails++
					t.Errorf("%s RESP%s COMMAND %s %s:\n %s %.300q\n    vdr %.300q", v, proto, sub, name, v, want, got)
				}
			}
		}
	}
	// INFO everything: the same sections with the same field names in
	// the same order (values differ; vdr adds vdr_* fields).
	fields := func(c *rawConn, vdr bool) map[string]string {
		out := map[string]string{}
		sec := ""
		for _, l := range strings.Split(c.dos("INFO", "everything"), "\r\n") {
			switch {
			case strings.HasPrefix(l, "# "):
				sec = l[2:]
				out[sec] = ""
			case sec == "Commandstats" || sec == "Latencystats" || sec == "Errorstats" || sec == "Keyspace":
			case strings.Contains(l, ":"):
				name := l[:strings.IndexByte(l, ':')]
				if vdr && strings.HasPrefix(name, "vdr_") {
					continue
				}
				out[sec] += name + " "
			}
		}
		return out
	}
	// CLIENT INFO: the same field names.
	clientFields := func(c *rawConn) string {
		var names []string
		for _, f := range strings.Fields(c.dos("CLIENT", "INFO")) {
			if i := strings.IndexByte(f, '='); i > 0 {
				names = append(names, f[:i])
			}
		}
		return strings.Join(names, " ")
	}
	if want, got := clientFields(rc), clientFields(vc); want != got {
		t.Errorf("%s CLIENT INFO fields:\n %s %s\n    vdr %s", v, v, want, got)
	}
	for _, f := range []string{"redis_version", "server_name", "valkey_version", "redis_mode", "server_mode"} {
		if want, got := redistest.InfoField(rs.Addr(), "server", f), redistest.InfoField(node.Addr(), "server", f); want != got {
			t.Errorf("%s INFO %s: %q, vdr %q", v, f, want, got)
		}
	}
	want, got := fields(rc, false), fields(vc, true)
	for sec, w := range want {
		if got[sec] != w {
			t.Errorf("%s INFO %s fields:\n %s %s\n    vdr %s", v, sec, v, w, got[sec])
		}
	}
	for sec := range got {
		if _, ok := want[sec]; !ok {
			t.Errorf("%s INFO: vdr has section %s", v, sec)
		}
	}

	// Before AUTH, against a vdr whose personality comes from
	// Options.Compat (no primary).
	rs.Do(t, "CONFIG", "SET", "requirepass", "pw")
	s := startVDR(t, Options{Compat: v, RequirePass: "pw"})
	rc, vc = dialRaw(t, rs.Addr()), dialRaw(t, s.Addr())
	same("hello", "HELLO", "3")
	same("", "GET", "k")
	same("", "FOOBAR", "k")
	same("", "AUTH", "pw")
	same("hello", "HELLO", "3")
	same("", "LOLWUT")
}
