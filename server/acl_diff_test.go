package server

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/redistest"
)

// aclTestUsers are declared the same way on both servers: redis.conf
// "user" directives (--user on redis-server's command line) and
// Options.Users on vdr.
var aclTestUsers = []string{
	"alice on >pa ~k:* +@read -keys",
	"bob on >pb %R~r:* %W~w:* +@all -@dangerous",
	"carol on >pc resetchannels &news.* &lit +@pubsub +ping",
	"dave on nopass ~k:1 +get (~s:* +@string) (%R~r:* +mget)",
	"eve on >pe ~* -@all +get +config|get +client +select|0",
	"frank off >pf ~* +@all",
}

// aclRuleRun matches the command rules of one selector in ACL LIST or
// GETUSER output.
var aclRuleRun = regexp.MustCompile(`[+-]@all[^\r()"]*`)

// normACLRules sorts the single-command rules of every selector: Redis
// emits them in its command dict's order, which is seeded at random per
// process (categories come first, in a fixed order, and stay as they
// are). The length does not change, so RESP framing stays valid.
func normACLRules(s string) string {
	return aclRuleRun.ReplaceAllStringFunc(s, func(run string) string {
		trail := ""
		if strings.HasSuffix(run, " ") {
			trail = " "
		}
		toks := strings.Fields(run)
		i := 1
		for i < len(toks) && (strings.HasPrefix(toks[i], "+@") || strings.HasPrefix(toks[i], "-@")) {
			i++
		}
		sort.Strings(toks[i:])
		return strings.Join(toks, " ") + trail
	})
}

// sortedArray sorts the elements of a flat array reply (ACL CAT
// <category>, whose order is the dict's too).
func sortedArray(s string) string {
	lines := strings.Split(s, "\r\n")
	if len(lines) < 2 {
		return s
	}
	var items []string
	for i := 1; i+1 < len(lines); i += 2 {
		items = append(items, lines[i]+"\r\n"+lines[i+1])
	}
	sort.Strings(items)
	return lines[0] + "\r\n" + strings.Join(items, "\r\n") + "\r\n"
}

var (
	aclLogVarying = regexp.MustCompile(`(age-seconds\r\n[$,]\d*\r?\n?)[^\r]*|(timestamp-(?:created|last-updated)\r\n:)\d+`)
	aclLogClient  = regexp.MustCompile(`client-info\r\n\$\d+\r\n[^\r]*`)
	clientFields  = regexp.MustCompile(` (?:cmd|user|db|multi)=\S*`)
)

// normACLLog masks what differs by nature in ACL LOG entries (ages,
// timestamps; in client-info everything but the command, user, db and
// multi state) and the lengths that follow.
func normACLLog(s string) string {
	s = aclLogClient.ReplaceAllStringFunc(s, func(m string) string {
		return "client-info\r\n$?\r\n" + strings.Join(clientFields.FindAllString(m, -1), "")
	})
	s = aclLogVarying.ReplaceAllString(s, "$1$2")
	return regexp.MustCompile(`\$\d+\r\n(\r\n)`).ReplaceAllString(s, "$$?$1")
}

// TestACLDifferential configures the same users on a real Redis 7.0
// replica and on vdr replicating the same primary, then has each user
// run the same commands on both: replies (NOPERM texts for commands,
// keys, channels, inside MULTI and in scripts; READONLY after ACL for
// allowed writes; the data for allowed reads) must be byte for byte the
// same, and so must ACL GETUSER / LIST / USERS / CAT / DRYRUN and ACL LOG
// (client-info and ages masked).
func TestACLDifferential(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	args := []string{"--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0"}
	for _, u := range aclTestUsers {
		args = append(append(args, "--user"), strings.Fields(u)...)
	}
	replica := redistest.Start(t, args...)
	node := startNodeServing(t, primary.Addr(), replicaOptions{}, Options{Users: aclTestUsers})
	redistest.WaitFor(t, 15*time.Second, "links up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up"
	})
	f := &nodeFeed{primary: dialRaw(t, primary.Addr()), addr: primary.Addr(), vdrAddr: node.Addr()}
	for _, w := range [][]string{
		{"SET", "k:1", "v1"}, {"SET", "k:2", "v2"}, {"SET", "r:1", "rv"}, {"SET", "w:1", "wv"},
		{"SET", "s:1", "sv"}, {"SET", "x", "xv"}, {"HSET", "k:h", "f", "v"},
	} {
		f.write(t, 0, w...)
	}
	f.sync(t)

	rc0, vc0 := dialRaw(t, replica.Addr()), dialRaw(t, node.Addr())
	if w, g := rc0.dos("ACL", "LOG", "RESET"), vc0.dos("ACL", "LOG", "RESET"); w != g {
		t.Fatalf("ACL LOG RESET: %q %q", w, g)
	}

	type step struct {
		user, pass string
		cmds       [][]string
	}
	c := func(a ...string) []string { return a }
	steps := []step{
		{"alice", "pa", [][]string{
			c("ACL", "WHOAMI"), c("GET", "k:1"), c("GET", "x"), c("MGET", "k:1", "k:2"), c("MGET", "k:1", "x"),
			c("HGET", "k:h", "f"), c("EXISTS", "k:1", "x"), c("KEYS", "k:1"), c("SET", "k:1", "z"),
			c("DEL", "k:1"), c("PING"), c("CONFIG", "GET", "maxmemory"), c("PUBLISH", "news.a", "hi"),
			c("EVAL", "return 1", "0"), c("MULTI"), c("GET", "k:1"), c("GET", "x"), c("EXEC"),
			c("MULTI"), c("GET", "k:1"), c("EXEC"), c("ACL", "LIST"),
		}},
		{"bob", "pb", [][]string{
			c("ACL", "WHOAMI"), c("GET", "r:1"), c("GET", "w:1"), c("SET", "w:1", "z"), c("SET", "r:1", "z"),
			c("EXISTS", "w:1"), c("EXISTS", "x"), c("APPEND", "r:1", "z"), c("GETRANGE", "r:1", "0", "1"),
			c("COPY", "r:1", "w:2"), c("COPY", "w:1", "r:2"), c("FLUSHALL"), c("KEYS", "*"), c("PUBLISH", "any", "m"),
			c("EVAL", "return redis.call('get', KEYS[1])", "1", "r:1"),
			c("EVAL", "return redis.call('get', KEYS[1])", "1", "k:1"),
			c("EVAL", "return redis.call('get', 'k:1')", "0"),
			c("EVAL", "return redis.pcall('flushall')", "0"),
			c("CLIENT", "KILL", "ID", "999999"), c("CONFIG", "SET", "maxmemory", "1"),
		}},
		{"carol", "pc", [][]string{
			c("PUBLISH", "news.x", "m"), c("PUBLISH", "lit", "m"), c("PUBLISH", "other", "m"),
			c("PSUBSCRIBE", "news.a*"), c("GET", "k:1"), c("PING"),
			c("SUBSCRIBE", "news.1", "other"), c("PSUBSCRIBE", "news.*"),
		}},
		{"dave", "anything", [][]string{
			c("GET", "k:1"), c("GET", "k:2"), c("GET", "s:1"), c("STRLEN", "s:1"), c("MGET", "s:1", "r:1"),
			c("MGET", "r:1"), c("MGET", "r:1", "k:1"), c("SET", "s:1", "v"), c("HGET", "k:h", "f"),
		}},
		{"eve", "pe", [][]string{
			c("GET", "x"), c("SELECT", "0"), c("SELECT", "1"), c("CONFIG", "GET", "maxmemory"), c("CONFIG", "SET", "port", "1"),
			c("CLIENT", "ID"), c("SET", "x", "y"), c("ACL", "WHOAMI"),
		}},
		{"frank", "pf", nil},
		{"nobody", "x", nil},
	}
	norm := func(s string) string {
		// Client IDs and the script's SHA-based error lines are the same on
		// both; CLIENT ID is not.
		return regexp.MustCompile(`^:\d+\r\n$`).ReplaceAllString(s, ":N\r\n")
	}
	for _, st := range steps {
		rc, vc := dialRaw(t, replica.Addr()), dialRaw(t, node.Addr())
		if w, g := rc.dos("AUTH", st.user, st.pass), vc.dos("AUTH", st.user, st.pass); w != g {
			t.Errorf("%s: AUTH: redis %q, vdr %q", st.user, w, g)
			continue
		}
		for _, cmd := range st.cmds {
			w, g := norm(rc.dos(cmd...)), norm(vc.dos(cmd...))
			if cmd[0] == "ACL" && cmd[1] == "LIST" {
				w, g = normACLRules(w), normACLRules(g)
			}
			if w != g {
				t.Errorf("%s: %q:\nredis %q\nvdr   %q", st.user, cmd, w, g)
			}
		}
	}
	// HELLO AUTH with a user.
	for _, h := range [][]string{{"HELLO", "2", "AUTH", "alice", "pa"}, {"HELLO", "2", "AUTH", "alice", "bad"}} {
		w, g := dialRaw(t, replica.Addr()).dos(h...), dialRaw(t, node.Addr()).dos(h...)
		if strings.HasPrefix(w, "-") || strings.HasPrefix(g, "-") {
			if w != g {
				t.Errorf("%q: redis %q, vdr %q", h, w, g)
			}
		} else if !strings.HasPrefix(g, "*14\r\n") {
			t.Errorf("%q: vdr %q", h, g)
		}
	}

	// The admin's view: the default user is nopass on both.
	rc, vc := dialRaw(t, replica.Addr()), dialRaw(t, node.Addr())
	admin := [][]string{
		c("ACL", "USERS"), c("ACL", "LIST"), c("ACL", "WHOAMI"), c("ACL", "CAT"), c("ACL", "CAT", "nosuch"),
		c("ACL", "GETUSER", "nobody"), c("ACL", "HELP"), c("ACL", "GENPASS", "0"), c("ACL", "GENPASS", "x"),
		c("ACL", "LOAD"), c("ACL", "SAVE"), c("ACL", "DELUSER", "default"),
		c("ACL", "DRYRUN", "alice", "get", "k:1"), c("ACL", "DRYRUN", "alice", "get", "x"),
		c("ACL", "DRYRUN", "alice", "set", "k:1", "v"), c("ACL", "DRYRUN", "carol", "publish", "x", "m"),
		c("ACL", "DRYRUN", "nobody", "get", "x"), c("ACL", "DRYRUN", "alice", "nosuch"),
		c("ACL", "DRYRUN", "alice", "get"), c("ACL", "DRYRUN", "bob", "set", "w:1", "v"),
		c("ACL", "DRYRUN", "bob", "set", "r:1", "v"), c("ACL", "DRYRUN", "dave", "mget", "r:1", "s:1"),
		c("ACL", "DRYRUN", "eve", "select", "0"), c("ACL", "DRYRUN", "eve", "select", "1"),
	}
	for _, u := range aclTestUsers {
		admin = append(admin, c("ACL", "GETUSER", strings.Fields(u)[0]))
	}
	admin = append(admin, c("ACL", "GETUSER", "default"))
	// Rules: each is tried on a scratch user on both; errors must read
	// the same, and the resulting user too.
	for _, rule := range []string{
		"on", "off", "nopass", "resetpass", ">p1", "<p1", "<nosuch", "#" + strings.Repeat("a", 64), "#abc",
		"!" + strings.Repeat("b", 64), "~a", "%R~r*", "%W~w*", "%RW~b*", "%W~r*", "%X~x", "~a b", "~*", "~a", "allkeys", "resetkeys",
		"&*", "&c", "allchannels", "resetchannels", "+get", "-get", "+config|get", "+config|nosuch", "+select|0",
		"+config|get|x", "+get|", "+nosuch", "-nosuch", "+@read", "-@write", "+@nosuch", "allcommands",
		"nocommands", "reset", "(~s* +get)", "(+nosuch)", "clearselectors", "bogus",
		"sanitize-payload", "skip-sanitize-payload", "+@all", "-@all", "+@hash", "-@hash", "+@fast", "-@slow",
	} {
		admin = append(admin, c("ACL", "SETUSER", "scratch", rule), c("ACL", "GETUSER", "scratch"), c("ACL", "LIST"))
	}
	admin = append(admin,
		c("ACL", "SETUSER", "sel", "on", "(~a*", "+get)", "(%R~b*", "+@read", "&ch)"), c("ACL", "GETUSER", "sel"),
		c("ACL", "SETUSER", "sel2", "(~a*", "+get"), c("ACL", "SETUSER", "bad user"),
		c("ACL", "SETUSER", "cats", "+@all", "-@dangerous", "-@admin", "+flushall", "-get"), c("ACL", "GETUSER", "cats"),
		c("ACL", "SETUSER", "cats2", "+@read", "+@write", "-@keyspace", "+del", "+client|id"), c("ACL", "GETUSER", "cats2"),
		c("ACL", "DELUSER", "scratch", "sel", "nosuch"), c("ACL", "USERS"),
		c("ACL", "LOG"), c("ACL", "LOG", "2"),
	)
	for _, cmd := range admin {
		w, g := rc.dos(cmd...), vc.dos(cmd...)
		switch {
		case cmd[1] == "LIST" || cmd[1] == "GETUSER":
			w, g = normACLRules(w), normACLRules(g)
		case cmd[1] == "LOG":
			w, g = normACLLog(w), normACLLog(g)
		}
		if w != g {
			t.Errorf("%q:\nredis %q\nvdr   %q", cmd, w, g)
		}
		if testing.Verbose() {
			t.Logf("%q: %q", cmd, g)
		}
	}
	for _, f := range []string{"acl_access_denied_auth", "acl_access_denied_cmd", "acl_access_denied_key", "acl_access_denied_channel"} {
		w, g := redistest.InfoField(replica.Addr(), "stats", f), redistest.InfoField(node.Addr(), "stats", f)
		if w != g { // 7.2+ fields: absent from both under 7.0
			t.Errorf("INFO %s: redis %q, vdr %q", f, w, g)
		}
	}
	for _, cmd := range [][]string{{"CLIENT", "KILL", "USER", "nosuch"}, {"CLIENT", "KILL", "USER", "alice"}, {"CLIENT", "KILL", "USER", "alice"}} {
		if w, g := rc.dos(cmd...), vc.dos(cmd...); w != g {
			t.Errorf("%q: redis %q, vdr %q", cmd, w, g)
		}
	}
	// RESP3: GETUSER's flags are a set, ACL LOG's age a double.
	rc.dos("HELLO", "3")
	vc.dos("HELLO", "3")
	for _, cmd := range [][]string{{"ACL", "GETUSER", "dave"}, {"ACL", "GETUSER", "nobody"}, {"ACL", "LOG", "1"}, {"ACL", "DRYRUN", "alice", "get", "x"}} {
		w, g := normACLLog(normACLRules(rc.dos(cmd...))), normACLLog(normACLRules(vc.dos(cmd...)))
		if w != g {
			t.Errorf("RESP3 %q:\nredis %q\nvdr   %q", cmd, w, g)
		}
	}
	for _, cat := range []string{"read", "write", "keyspace", "dangerous", "pubsub", "scripting", "connection"} {
		w, g := sortedArray(rc.dos("ACL", "CAT", cat)), sortedArray(vc.dos("ACL", "CAT", cat))
		if w != g {
			t.Errorf("ACL CAT %s:\nredis %q\nvdr   %q", cat, w, g)
		}
	}
	// Rules changed between MULTI and EXEC: EXEC checks each queued
	// command again (execCommand), and logs the denial with context multi.
	var seqs [2][]string
	for i, addr := range []string{replica.Addr(), node.Addr()} {
		d, adm := dialRaw(t, addr), dialRaw(t, addr)
		seqs[i] = []string{d.dos("AUTH", "dave", "x"), d.dos("MULTI"), d.dos("GET", "k:1"), d.dos("GET", "s:1"),
			adm.dos("ACL", "SETUSER", "dave", "-get"), d.dos("EXEC"), normACLLog(adm.dos("ACL", "LOG", "1")),
			adm.dos("ACL", "SETUSER", "dave", "+get")}
	}
	if strings.Join(seqs[0], "") != strings.Join(seqs[1], "") {
		t.Errorf("EXEC after the rules changed:\nredis %q\nvdr   %q", seqs[0], seqs[1])
	}
	if g := vc.dos("ACL", "GENPASS"); !regexp.MustCompile(`^\$64\r\n[0-9a-f]{64}\r\n$`).MatchString(g) {
		t.Errorf("ACL GENPASS: %q", g)
	}
	if g := vc.dos("ACL", "GENPASS", "5"); !regexp.MustCompile(`^\$2\r\n[0-9a-f]{2}\r\n$`).MatchString(g) {
		t.Errorf("ACL GENPASS 5: %q", g)
	}
}

// TestACLDeluserKillsClients checks that ACL DELUSER closes the
// connections of the users it deletes, as on Redis, and that a changed
// channel permission closes the subscribers it no longer allows.
func TestACLDeluserKillsClients(t *testing.T) {
	for name, addr := range map[string]string{
		"redis": redistest.Start(t, "--user", "zed", "on", ">pz", "~*", "&*", "+@all").Addr(),
		"vdr":   startVDR(t, Options{Users: []string{"zed on >pz ~* &* +@all"}, Compat: versionOf(t, redistest.Start(t).Addr())}).Addr(),
	} {
		zc, sub, admin := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
		if r := zc.dos("AUTH", "zed", "pz"); r != "+OK\r\n" {
			t.Fatalf("%s: AUTH: %q", name, r)
		}
		if r := sub.dos("AUTH", "zed", "pz"); r != "+OK\r\n" {
			t.Fatalf("%s: AUTH: %q", name, r)
		}
		if r := sub.dos("SUBSCRIBE", "chan"); !strings.Contains(r, "chan") {
			t.Fatalf("%s: SUBSCRIBE: %q", name, r)
		}
		if r := admin.dos("ACL", "SETUSER", "zed", "resetchannels", "&other"); r != "+OK\r\n" {
			t.Fatalf("%s: SETUSER: %q", name, r)
		}
		closed := func(c *rawConn) bool {
			c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			var b [64]byte
			_, err := c.nc.Read(b[:])
			return err != nil
		}
		if !closed(sub) {
			t.Errorf("%s: the subscriber whose channel was revoked is still connected", name)
		}
		if r := zc.dos("PING"); r != "+PONG\r\n" {
			t.Errorf("%s: PING before DELUSER: %q", name, r)
		}
		if r := admin.dos("ACL", "DELUSER", "zed"); r != ":1\r\n" {
			t.Fatalf("%s: DELUSER: %q", name, r)
		}
		if !closed(zc) {
			t.Errorf("%s: the deleted user's connection is still open", name)
		}
		if r := admin.dos("PING"); r != "+PONG\r\n" {
			t.Errorf("%s: admin PING: %q", name, r)
		}
		// The default user gets a password: connections made before keep
		// running (clientSetDefaultAuth authenticated them), new ones and
		// RESET ones must AUTH.
		fresh := dialRaw(t, addr)
		if r := fresh.dos("PING"); r != "+PONG\r\n" {
			t.Fatalf("%s: PING: %q", name, r)
		}
		got := []string{admin.dos("ACL", "SETUSER", "default", ">dpw"), admin.dos("PING"), fresh.dos("PING"),
			dialRaw(t, addr).dos("PING"), dialRaw(t, addr).dos("AUTH", "wrong"), admin.dos("RESET"), admin.dos("PING"),
			admin.dos("AUTH", "dpw"), admin.dos("PING"), admin.dos("ACL", "WHOAMI"),
			admin.dos("ACL", "SETUSER", "default", "off"), dialRaw(t, addr).dos("AUTH", "dpw"), admin.dos("PING")}
		want := []string{"+OK\r\n", "+PONG\r\n", "+PONG\r\n", "-NOAUTH Authentication required.\r\n",
			"-WRONGPASS invalid username-password pair or user is disabled.\r\n", "+RESET\r\n",
			"-NOAUTH Authentication required.\r\n", "+OK\r\n", "+PONG\r\n", "$7\r\ndefault\r\n", "+OK\r\n",
			"-WRONGPASS invalid username-password pair or user is disabled.\r\n", "+PONG\r\n"}
		if strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("%s: after the default user got a password:\n got %q\nwant %q", name, got, want)
		}
	}
}

// TestACLFile loads users from an aclfile on both servers, changes them,
// ACL SAVEs, edits the file and ACL LOADs it: replies and the files
// written must match (up to the order of single-command rules).
func TestACLFile(t *testing.T) {
	dir := t.TempDir()
	content := "user default on nopass ~* &* +@all\nuser ann on >pw ~a:* resetchannels +@read\n"
	rf, vf := filepath.Join(dir, "redis.acl"), filepath.Join(dir, "vdr.acl")
	for _, p := range []string{rf, vf} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	redis := redistest.Start(t, "--aclfile", rf)
	srv := startVDR(t, Options{ACLFile: vf, Compat: versionOf(t, redis.Addr())})
	rc, vc := dialRaw(t, redis.Addr()), dialRaw(t, srv.Addr())
	same := func(cmd ...string) {
		t.Helper()
		w, g := normACLRules(rc.dos(cmd...)), normACLRules(vc.dos(cmd...))
		if w != g {
			t.Errorf("%q:\nredis %q\nvdr   %q", cmd, w, g)
		}
	}
	same("ACL", "LIST")
	same("ACL", "SETUSER", "ben", "on", ">b", "%R~b:*", "+@string", "-get")
	same("ACL", "SAVE")
	rb, _ := os.ReadFile(rf)
	vb, _ := os.ReadFile(vf)
	if normACLRules(string(rb)) != normACLRules(string(vb)) {
		t.Errorf("saved files differ:\nredis %q\nvdr   %q", rb, vb)
	}
	ann := dialRaw(t, srv.Addr())
	if r := ann.dos("AUTH", "ann", "pw"); r != "+OK\r\n" {
		t.Fatalf("AUTH ann: %q", r)
	}
	bad := "user default on nopass ~* &* +@all\nuser ann on >pw ~a:* +nosuch\nbogus line\nuser ann on\n"
	for _, p := range []string{rf, vf} {
		os.WriteFile(p, []byte(strings.ReplaceAll(bad, "PATH", p)), 0o644)
	}
	w, g := rc.dos("ACL", "LOAD"), vc.dos("ACL", "LOAD")
	if strings.ReplaceAll(w, rf, "F") != strings.ReplaceAll(g, vf, "F") {
		t.Errorf("ACL LOAD of a bad file:\nredis %q\nvdr   %q", w, g)
	}
	good := "user default on nopass ~* &* +@all\nuser cy on >c ~c:* +@hash\n"
	for _, p := range []string{rf, vf} {
		os.WriteFile(p, []byte(good), 0o644)
	}
	same("ACL", "LOAD")
	same("ACL", "LIST")
	// ann's connection is gone with the users ACL LOAD replaced.
	ann.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [16]byte
	if _, err := ann.nc.Read(b[:]); err == nil {
		t.Errorf("ann's connection survived ACL LOAD")
	}
	if _, err := New(Options{Port: RandomPort, ACLFile: vf, Users: []string{"x on"}}); err == nil {
		t.Errorf("aclfile with user directives was accepted")
	}
}

// versionOf is the personality of the Redis at addr.
func versionOf(tb testing.TB, addr string) compat.Version {
	tb.Helper()
	v, ok := compat.FromInfo(redistest.InfoField(addr, "server", "redis_version"), redistest.InfoField(addr, "server", "valkey_version"))
	if !ok {
		tb.Fatalf("no version in INFO server of %s", addr)
	}
	return v
}

// TestACLDryrunRandom builds random users from a pool of rules on a real
// Redis and on vdr (the same ACL SETUSER on both: the same error or OK),
// then asks ACL DRYRUN about random commands, keys and channels: every
// answer must be the same, and so must ACL GETUSER.
func TestACLDryrunRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(seed(t)), 0xac1))
	redis := redistest.Start(t)
	srv := startVDR(t, Options{Compat: versionOf(t, redis.Addr())})
	rc, vc := dialRaw(t, redis.Addr()), dialRaw(t, srv.Addr())
	rules := []string{
		"+@read", "-@read", "+@write", "-@write", "+@string", "-@string", "+@hash", "+@keyspace", "-@keyspace",
		"+@dangerous", "-@dangerous", "+@admin", "-@admin", "+@pubsub", "-@pubsub", "+@fast", "-@slow", "+@scripting",
		"+@all", "-@all", "allcommands", "nocommands", "+get", "-get", "+set", "-set", "+client", "-client",
		"+client|id", "-client|kill", "+config|get", "+select|0", "+select|1", "+object|encoding", "-object",
		"~*", "~a*", "~b?", "%R~r*", "%W~w*", "%RW~x*", "resetkeys", "allkeys", "&*", "&ch*", "&lit", "resetchannels",
		"allchannels", "(~s* +get)", "(%R~q* +@read)", "(&c* +publish)", "clearselectors", "reset",
	}
	keys := []string{"a1", "b2", "bb", "r1", "w1", "x1", "s1", "q1", "zz"}
	chans := []string{"ch1", "lit", "other", "ch*"}
	cmds := func() []string {
		k := func() string { return keys[r.IntN(len(keys))] }
		ch := func() string { return chans[r.IntN(len(chans))] }
		switch r.IntN(16) {
		case 0:
			return []string{"get", k()}
		case 1:
			return []string{"set", k(), "v"}
		case 2:
			return []string{"mget", k(), k(), k()}
		case 3:
			return []string{"copy", k(), k()}
		case 4:
			return []string{"hget", k(), "f"}
		case 5:
			return []string{"exists", k(), k()}
		case 6:
			return []string{"publish", ch(), "m"}
		case 7:
			return []string{"subscribe", ch(), ch()}
		case 8:
			return []string{"psubscribe", ch()}
		case 9:
			return []string{"select", strconv.Itoa(r.IntN(3))}
		case 10:
			return []string{"client", []string{"id", "kill", "list", "info"}[r.IntN(4)]}
		case 11:
			return []string{"config", "get", "maxmemory"}
		case 12:
			return []string{"object", "encoding", k()}
		case 13:
			return []string{"eval", "return 1", "1", k()}
		case 14:
			return []string{"set", k(), "v", "get"}
		}
		return []string{"lmove", k(), k(), "left", "right"}
	}
	fails := 0
	for u := 0; u < 60 && fails < maxDiffFails(); u++ {
		name := "u" + strconv.Itoa(u)
		set := []string{"ACL", "SETUSER", name}
		for n := 1 + r.IntN(6); n > 0; n-- {
			set = append(set, rules[r.IntN(len(rules))])
		}
		if w, g := rc.dos(set...), vc.dos(set...); w != g {
			t.Errorf("%q: redis %q, vdr %q", set, w, g)
			fails++
			continue
		}
		if w, g := normACLRules(rc.dos("ACL", "GETUSER", name)), normACLRules(vc.dos("ACL", "GETUSER", name)); w != g {
			t.Errorf("%q then GETUSER:\nredis %q\nvdr   %q", set, w, g)
			fails++
		}
		for i := 0; i < 30; i++ {
			q := append([]string{"ACL", "DRYRUN", name}, cmds()...)
			if w, g := rc.dos(q...), vc.dos(q...); w != g {
				t.Errorf("%q after %q: redis %q, vdr %q", q, set, w, g)
				fails++
			}
		}
	}
}
