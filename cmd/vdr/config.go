package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
)

// setting is one configuration knob. The same name is the command-line flag
// (--name), the config-file directive (redis.conf style: "name value") and,
// upper-cased with dashes turned into underscores and a VDR_ prefix, the
// environment variable. Precedence: flag > environment > config file >
// default.
type setting struct {
	name  string
	group string
	def   string
	usage string
	kind  kind
}

type kind uint8

const (
	kString kind = iota
	kInt
	kBool
	kDuration
	kList  // comma-separated, or repeated in the config file
	kLines // repeated (flag or config file), one item per line
)

// repeated is a flag that may be given more than once (--user): the
// values joined by newlines.
type repeated struct{ v *string }

func (r repeated) String() string { return "" }
func (r repeated) Set(s string) error {
	if *r.v != "" {
		*r.v += "\n"
	}
	*r.v += s
	return nil
}

// groups orders the --help output.
var groups = []string{"Primary", "Serving", "Projection", "Snapshot", "Operations"}

var settings = []setting{
	{"primary", "Primary", "", "primary to replicate: host:port, redis://[user:pass@]host:port or rediss:// for TLS", kString},
	{"replicaof", "Primary", "", `primary as redis.conf writes it: "host port" (alternative to --primary)`, kString},
	{"masteruser", "Primary", "", "ACL user to authenticate to the primary with", kString},
	{"masterauth", "Primary", "", "password for the primary (prefer --masterauth-file)", kString},
	{"masterauth-file", "Primary", "", "file whose first line is the primary's password", kString},
	{"sentinel", "Primary", "", "Sentinel addresses (host:port,...); the primary is discovered from them", kList},
	{"sentinel-master", "Primary", "", "name of the master group Sentinel monitors", kString},
	{"sentinel-user", "Primary", "", "ACL user for the sentinels", kString},
	{"sentinel-password", "Primary", "", "password for the sentinels", kString},
	{"tls-sentinel", "Primary", "no", "connect to the sentinels with TLS (with the tls-ca-cert-file, tls-cert-file and tls-key-file of the primary)", kBool},
	{"sentinel-role", "Primary", "primary", "what to replicate of the group Sentinel names: primary, or replica (a healthy replica, sparing the primary)", kString},
	{"sentinel-host-map", "Primary", "", "rewrite addresses Sentinel announces: from=to,... (host or host:port on each side)", kList},
	{"cluster", "Primary", "", "replicate a whole Redis Cluster: addresses of some of its nodes (host:port,...); one link per shard, every slot in one keyspace", kList},
	{"cluster-replicate-from", "Primary", "primary", "with --cluster, what each shard's link replicates: primary, or replica (a healthy replica, sparing the primaries)", kString},
	{"cluster-refresh", "Primary", "5s", "with --cluster, how often the topology is read again (also at once when a shard's link fails)", kDuration},
	{"replica-announce-port", "Primary", "0", "port vdr announces to the primary (REPLCONF listening-port); 0 means the serving port", kInt},
	{"repl-ack-period", "Primary", "1s", "how often vdr acknowledges its applied offset (REPLCONF ACK)", kDuration},
	{"tls-replication", "Primary", "no", "connect to the primary with TLS (implied by rediss://)", kBool},
	{"tls-ca-cert-file", "Primary", "", "CA certificate(s) that sign the primary's certificate", kString},
	{"tls-cert-file", "Primary", "", "client certificate for the primary (mutual TLS)", kString},
	{"tls-key-file", "Primary", "", "client private key for the primary (mutual TLS)", kString},
	{"tls-server-name", "Primary", "", "server name to verify in the primary's certificate", kString},
	{"tls-insecure-skip-verify", "Primary", "no", "do not verify the primary's certificate (logs a warning)", kBool},

	{"rdb", "Serving", "", "serve this RDB file read-only instead of replicating a primary", kString},
	{"bind", "Serving", "127.0.0.1", "address to serve the Redis protocol on", kString},
	{"port", "Serving", "6380", "TCP port to serve on (0: no TCP; -1: a random free port)", kInt},
	{"unixsocket", "Serving", "", "also serve on this unix socket", kString},
	{"requirepass", "Serving", "", "password clients must AUTH with", kString},
	{"user", "Serving", "", `an ACL user, as redis.conf declares one: "alice on >pw ~k* +@read" (repeatable)`, kLines},
	{"aclfile", "Serving", "", "file of ACL users (ACL LOAD / ACL SAVE); not with --user", kString},
	{"maxclients", "Serving", "10000", "most concurrent client connections", kInt},
	{"event-loops", "Serving", "0", "epoll event loops serving clients (0: half the CPUs, at least one; -1: a goroutine per connection)", kInt},
	{"busy-poll", "Serving", "50us", "how long an event loop polls for more requests after a batch before it sleeps (0: sleep at once)", kDuration},
	{"timeout", "Serving", "0s", "close client connections idle this long (0: never)", kDuration},
	{"replica-serve-stale-data", "Serving", "yes", "serve data while the link to the primary is down (no: answer MASTERDOWN)", kBool},
	{"max-staleness", "Serving", "0s", "answer MASTERDOWN once the link has been down this long (0: never)", kDuration},
	{"notify-keyspace-events", "Serving", "", `keyspace events published for the writes applied, as Redis's setting ("KEA": all; empty: none)`, kString},
	{"repl-backlog-size", "Serving", "67108864", "bytes of the primary's stream kept for replicas of this vdr: how long a cut link may resume with a partial sync, and how far a replica may lag before it is dropped (allocated when the first replica attaches)", kInt},
	{"cluster-mode", "Serving", "no", "answer cluster-mode clients as a one-node Redis Cluster owning every slot (CLUSTER SLOTS, SHARDS, NODES, READONLY…), whatever vdr replicates", kBool},
	{"cluster-announce-ip", "Serving", "", "address CLUSTER SLOTS, SHARDS and NODES give for vdr (default: the one the client connected to)", kString},
	{"cluster-announce-port", "Serving", "0", "port CLUSTER SLOTS, SHARDS and NODES give for vdr (0: the one the client connected to)", kInt},
	{"downstream-filtered", "Serving", "no", "with --key-prefix or --dbs, serve replicas of this vdr its filtered data under a replication ID of its own (no: refuse them, as they would get a partial copy)", kBool},
	{"compat", "Serving", "", "server version to answer as until the primary tells its own, and with --rdb: " + compatNames() + " (default: " + compat.Default.Name() + ")", kString},

	{"databases", "Projection", "16", "number of databases", kInt},
	{"key-prefix", "Projection", "", "project only keys with one of these prefixes (comma-separated)", kList},
	{"dbs", "Projection", "", "project only these database numbers (comma-separated)", kList},
	{"pack-values", "Projection", "yes", "store string values made only of hex digits or base64 characters at 4 or 6 bits a character (an unpacking on every read of one)", kBool},
	{"compress-values", "Projection", "0", "store string values longer than this many bytes LZ4-compressed when that saves bytes (0: off): less memory for big text values, a decompression on every read of one", kInt},
	{"unknown-command", "Projection", "invalidate", "a command from the primary vdr cannot apply exactly: invalidate (remove the keys it names; flush its database when they are unknown) or resync (a full resync)", kString},

	{"snapshot-path", "Snapshot", "", "RDB snapshot written on shutdown and loaded on start, to resume with a partial sync", kString},
	{"snapshot-interval", "Snapshot", "0s", "also write the snapshot this often (0: only on shutdown)", kDuration},
	{"dir", "Snapshot", "", "directory SAVE and BGSAVE write dbfilename to when there is no snapshot-path (default: the working directory)", kString},
	{"dbfilename", "Snapshot", "dump.rdb", "file SAVE and BGSAVE write when there is no snapshot-path", kString},

	{"http", "Operations", "127.0.0.1:9380", "address for /metrics, /livez, /readyz (empty: off)", kString},
	{"pprof", "Operations", "no", "serve /debug/pprof on the HTTP address", kBool},
	{"enable-debug-command", "Operations", "no", "allow DEBUG (OBJECT, SLEEP, HELP): no, yes, or local (loopback and unix-socket clients)", kString},
	{"gc-percent", "Operations", "25", "GOGC between loads: how far the heap may grow past its live data before a collection, so how high RSS rises under overwrites and deletes (0: the runtime's, the GOGC environment variable or 100)", kInt},
	{"huge-pages", "Operations", "yes", "back the dense parts of the heap with transparent huge pages (Linux madvise MADV_COLLAPSE): faster random reads of a big keyspace", kBool},
	{"slowlog-log-slower-than", "Operations", "10000", "SLOWLOG records commands that run at least this many microseconds (-1: none, 0: all)", kInt},
	{"slowlog-max-len", "Operations", "128", "entries SLOWLOG keeps", kInt},
	{"latency-monitor-threshold", "Operations", "0", "LATENCY records events (slow commands, apply batches, full-sync swaps) of at least this many milliseconds (0: off)", kInt},
	{"latency-tracking", "Operations", "yes", "per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM)", kBool},
	{"latency-tracking-info-percentiles", "Operations", "50 99 99.9", "the percentiles INFO latencystats shows", kString},
	{"tracking-table-max-keys", "Serving", "1000000", "keys CLIENT TRACKING remembers at most (0: no limit)", kInt},
	{"busy-reply-threshold", "Serving", "5000", "stop a script after it ran this many milliseconds (Redis's lua-time-limit; 0: 5000)", kInt},
	{"log-format", "Operations", "text", "log format: text or json", kString},
	{"log-level", "Operations", "info", "log level: debug, info, warn, error", kString},
	{"config", "Operations", "", "config file (redis.conf syntax, these names)", kString},
}

// Config is the parsed configuration, all values validated.
type Config struct {
	values map[string]string // raw value of every setting, after precedence
	source map[string]string // where each value came from, for error messages

	PrimaryAddr    string
	PrimaryUser    string
	PrimaryPass    string
	PrimaryTLS     bool
	Sentinels      []string
	SentinelMaster string
	Cluster        []string // --cluster seeds

	Port      int
	Databases int
	Compat    compat.Version // zero: not set
	KeyPrefix []string
	DBs       []int
	HTTPAddr  string
}

// configError is an invalid setting: main prints it as one line and exits 2.
type configError struct {
	name, msg string
}

func (e *configError) Error() string {
	return fmt.Sprintf("vdr: invalid setting %q: %s", e.name, e.msg)
}

// compatNames lists the --compat values: "7.0, 7.2, …, valkey-8.0".
func compatNames() string {
	var names []string
	for _, v := range compat.Supported {
		names = append(names, v.Name())
	}
	return strings.Join(names, ", ")
}

// parseCompat reads a --compat value: one of the supported personalities'
// names (7.0 … valkey-8.0) or a full version of one ("7.2.6").
func parseCompat(s string) (compat.Version, error) {
	v, err := compat.Parse(s)
	if err != nil {
		return v, err
	}
	for _, sup := range compat.Supported {
		if sup.Name() == v.Name() {
			return v, nil
		}
	}
	return v, fmt.Errorf("not a supported version")
}

func envName(name string) string {
	return "VDR_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parseConfig applies defaults, the config file, the environment and the
// flags, in rising precedence, then validates.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	return parseConfigWith(args, getenv, stderr, nil)
}

// parseConfigWith is parseConfig for a subcommand with settings of its own
// (extra) besides the common ones.
func parseConfigWith(args []string, getenv func(string) string, stderr io.Writer, extra []setting) (*Config, error) {
	settings := append(append([]setting(nil), settings...), extra...)
	fs := flag.NewFlagSet("vdr", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flagVals := map[string]*string{}
	for _, s := range settings {
		v := new(string)
		flagVals[s.name] = v
		if s.kind == kLines {
			fs.Var(repeated{v}, s.name, s.usage)
			continue
		}
		fs.StringVar(v, s.name, "", s.usage)
	}
	// Booleans may be given bare (--pprof): accept that by rewriting.
	args = expandBareBools(args, settings)
	args = joinReplicaof(args)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stderr, extra)
			return nil, flag.ErrHelp
		}
		return nil, &configError{name: "flags", msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &configError{name: "flags", msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	c := &Config{values: map[string]string{}, source: map[string]string{}}
	for _, s := range settings {
		c.values[s.name], c.source[s.name] = s.def, "default"
	}
	cfgPath := getenv(envName("config"))
	if set["config"] {
		cfgPath = *flagVals["config"]
	}
	if cfgPath != "" {
		if err := c.readFile(cfgPath, settings); err != nil {
			return nil, err
		}
	}
	for _, s := range settings {
		if v := getenv(envName(s.name)); v != "" {
			c.values[s.name], c.source[s.name] = v, envName(s.name)
		}
		if set[s.name] {
			c.values[s.name], c.source[s.name] = *flagVals[s.name], "--"+s.name
		}
	}
	if err := c.validate(settings); err != nil {
		return nil, err
	}
	return c, nil
}

func expandBareBools(args []string, settings []setting) []string {
	isBool := map[string]bool{}
	for _, s := range settings {
		if s.kind == kBool {
			isBool[s.name] = true
		}
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && isBool[name] {
			next := ""
			if i+1 < len(args) {
				next = args[i+1]
			}
			if next != "" && !strings.HasPrefix(next, "-") {
				out = append(out, a+"="+next)
				i++
				continue
			}
			out = append(out, a+"=yes")
			continue
		}
		out = append(out, a)
	}
	return out
}

// readFile reads a redis.conf-style file: "name value" per line, # comments,
// values optionally in double quotes. Unknown names are errors: a typo must
// not be silently ignored.
func (c *Config) readFile(path string, settings []setting) error {
	f, err := os.Open(path)
	if err != nil {
		return &configError{name: "config", msg: err.Error()}
	}
	defer f.Close()
	known := map[string]setting{}
	for _, s := range settings {
		known[s.name] = s
	}
	sc := bufio.NewScanner(f)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		name = strings.ToLower(name)
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		s, ok := known[name]
		if !ok || name == "config" {
			return &configError{name: name, msg: fmt.Sprintf("unknown directive at %s:%d", path, lineNo)}
		}
		where := fmt.Sprintf("%s:%d", path, lineNo)
		if s.kind == kList && c.source[name] != "default" && c.values[name] != "" {
			value = c.values[name] + "," + value
		}
		if s.kind == kLines && c.source[name] != "default" && c.values[name] != "" {
			value = c.values[name] + "\n" + value
		}
		c.values[name], c.source[name] = value, where
	}
	if err := sc.Err(); err != nil {
		return &configError{name: "config", msg: err.Error()}
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true", "1", "on":
		return true, nil
	case "no", "false", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("want yes or no, got %q", v)
}

// Str returns a setting's raw value.
func (c *Config) Str(name string) string { return c.values[name] }

// Bool returns a validated boolean setting.
func (c *Config) Bool(name string) bool { b, _ := parseBool(c.values[name]); return b }

// Int returns a validated integer setting.
func (c *Config) Int(name string) int { n, _ := strconv.Atoi(c.values[name]); return n }

// Duration returns a validated duration setting.
func (c *Config) Duration(name string) time.Duration {
	d, _ := parseDuration(c.values[name])
	return d
}

// List returns a list setting's items, trimmed, without empties.
func (c *Config) List(name string) []string { return c.items(name, ",") }

// Lines returns a repeated setting's items (kLines).
func (c *Config) Lines(name string) []string { return c.items(name, "\n") }

func (c *Config) items(name, sep string) []string {
	var out []string
	for _, p := range strings.Split(c.values[name], sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseDuration accepts Go durations and bare integers as seconds, as
// redis.conf does for its timeouts.
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

func (c *Config) fail(name, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if src := c.source[name]; src != "" && src != "default" {
		msg += " (from " + src + ")"
	}
	return &configError{name: name, msg: msg}
}

func (c *Config) validate(settings []setting) error {
	for _, s := range settings {
		v := c.values[s.name]
		switch s.kind {
		case kInt:
			if _, err := strconv.Atoi(v); err != nil {
				return c.fail(s.name, "want an integer, got %q", v)
			}
		case kBool:
			if _, err := parseBool(v); err != nil {
				return c.fail(s.name, "%v", err)
			}
		case kDuration:
			d, err := parseDuration(v)
			if err != nil || d < 0 {
				return c.fail(s.name, "want a duration like 10s or 500ms, got %q", v)
			}
		}
	}
	c.Port = c.Int("port")
	if c.Port < -1 || c.Port > 65535 {
		return c.fail("port", "want -1..65535, got %d", c.Port)
	}
	c.Databases = c.Int("databases")
	if c.Databases < 1 || c.Databases > 1<<16 {
		return c.fail("databases", "want 1..65536, got %d", c.Databases)
	}
	if c.Int("maxclients") < 1 {
		return c.fail("maxclients", "want at least 1")
	}
	if c.Duration("busy-poll") < 0 {
		return c.fail("busy-poll", "want 0 or more, got %s", c.Duration("busy-poll"))
	}
	if c.Int("event-loops") < -1 {
		return c.fail("event-loops", "want -1 or more, got %d", c.Int("event-loops"))
	}
	if p := c.Int("replica-announce-port"); p < 0 || p > 65535 {
		return c.fail("replica-announce-port", "want 0..65535, got %d", p)
	}
	if c.Duration("repl-ack-period") <= 0 {
		return c.fail("repl-ack-period", "must be positive")
	}
	switch c.Str("sentinel-role") {
	case "primary", "replica":
	default:
		return c.fail("sentinel-role", "want primary or replica, got %q", c.Str("sentinel-role"))
	}
	for _, m := range c.List("sentinel-host-map") {
		if from, to, ok := strings.Cut(m, "="); !ok || from == "" || to == "" {
			return c.fail("sentinel-host-map", "want from=to, got %q", m)
		}
	}
	switch c.Str("unknown-command") {
	case "invalidate", "resync":
	default:
		return c.fail("unknown-command", "want invalidate or resync, got %q", c.Str("unknown-command"))
	}
	for _, kv := range runtimeConfig(c) {
		if err := commands.CheckConfig(kv[0], kv[1]); err != nil {
			return c.fail(kv[0], "%v", err)
		}
	}
	if _, ok := projection.ParseNotifyFlags(c.Str("notify-keyspace-events")); !ok {
		return c.fail("notify-keyspace-events", "invalid event class character in %q, use 'Ag$lshzxeKEtmdn'", c.Str("notify-keyspace-events"))
	}
	if s := c.Str("compat"); s != "" {
		v, err := parseCompat(s)
		if err != nil {
			return c.fail("compat", "want %s, got %q", compatNames(), s)
		}
		c.Compat = v
	}
	switch c.Str("log-format") {
	case "text", "json":
	default:
		return c.fail("log-format", "want text or json, got %q", c.Str("log-format"))
	}
	switch c.Str("log-level") {
	case "debug", "info", "warn", "error":
	default:
		return c.fail("log-level", "want debug, info, warn or error, got %q", c.Str("log-level"))
	}
	if h := c.Str("http"); h != "" {
		if _, _, err := net.SplitHostPort(h); err != nil {
			return c.fail("http", "want host:port, got %q", h)
		}
	}
	c.HTTPAddr = c.Str("http")
	for _, d := range c.List("dbs") {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n >= c.Databases {
			return c.fail("dbs", "%q is not a database number below %d", d, c.Databases)
		}
		c.DBs = append(c.DBs, n)
	}
	c.KeyPrefix = c.List("key-prefix")
	return c.resolvePrimary()
}

// resolveCluster checks --cluster: seed addresses, and nothing else to
// replicate or serve.
func (c *Config) resolveCluster(primary, replicaof string) error {
	switch {
	case primary != "" || replicaof != "":
		return c.fail("cluster", "replicates a cluster; drop --primary/--replicaof")
	case len(c.Sentinels) > 0:
		return c.fail("cluster", "replicates a cluster; drop --sentinel")
	case c.Str("rdb") != "":
		return c.fail("cluster", "replicates a cluster; drop --rdb")
	}
	for _, s := range c.Cluster {
		host, port, err := net.SplitHostPort(s)
		if err != nil || host == "" {
			return c.fail("cluster", "want host:port, got %q", s)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return c.fail("cluster", "bad port in %q", s)
		}
	}
	switch c.Str("cluster-replicate-from") {
	case "primary", "replica":
	default:
		return c.fail("cluster-replicate-from", "want primary or replica, got %q", c.Str("cluster-replicate-from"))
	}
	if c.Duration("cluster-refresh") <= 0 {
		return c.fail("cluster-refresh", "must be positive")
	}
	return nil
}

// resolvePrimary turns --primary / --replicaof / --sentinel into one address
// and credentials.
func (c *Config) resolvePrimary() error {
	c.PrimaryUser = c.Str("masteruser")
	c.PrimaryPass = c.Str("masterauth")
	c.PrimaryTLS = c.Bool("tls-replication")
	if f := c.Str("masterauth-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c.fail("masterauth-file", "%v", err)
		}
		c.PrimaryPass = strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r")
	}
	c.Sentinels = c.List("sentinel")
	c.SentinelMaster = c.Str("sentinel-master")
	for _, s := range c.Sentinels {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return c.fail("sentinel", "want host:port, got %q", s)
		}
	}
	if len(c.Sentinels) > 0 && c.SentinelMaster == "" {
		return c.fail("sentinel-master", "required with --sentinel")
	}
	p, r := c.Str("primary"), c.Str("replicaof")
	c.Cluster = c.List("cluster")
	if len(c.Cluster) > 0 {
		return c.resolveCluster(p, r)
	}
	if p != "" && r != "" {
		return c.fail("replicaof", "give --primary or --replicaof, not both")
	}
	if r != "" {
		f := strings.Fields(r)
		switch {
		case len(f) == 2:
			p = net.JoinHostPort(f[0], f[1])
		case len(f) == 1 && strings.Contains(f[0], ":"):
			p = f[0] // host:port
		default:
			return c.fail("replicaof", `want "host port" (or host:port), got %q`, r)
		}
	}
	if p == "" {
		if len(c.Sentinels) == 0 && c.Str("rdb") == "" {
			return c.fail("primary", "nothing to serve: give --primary, --replicaof, --sentinel, --cluster or --rdb")
		}
		return nil
	}
	if c.Str("rdb") != "" {
		return c.fail("rdb", "serves a file without a primary; drop --primary/--replicaof")
	}
	if strings.Contains(p, "://") {
		u, err := url.Parse(p)
		if err != nil {
			return c.fail("primary", "%v", err)
		}
		switch u.Scheme {
		case "redis":
		case "rediss":
			c.PrimaryTLS = true
		default:
			return c.fail("primary", "scheme %q: want redis:// or rediss://", u.Scheme)
		}
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				c.PrimaryUser, c.PrimaryPass = u.User.Username(), pw
			} else {
				c.PrimaryPass = u.User.Username()
			}
		}
		p = u.Host
		if u.Port() == "" {
			p = net.JoinHostPort(u.Hostname(), "6379")
		}
	}
	host, port, err := net.SplitHostPort(p)
	if err != nil || host == "" {
		return c.fail("primary", "want host:port, got %q", p)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return c.fail("primary", "bad port in %q", p)
	}
	c.PrimaryAddr = p
	return nil
}

func printHelp(w io.Writer, extra []setting) {
	fmt.Fprintf(w, `vdr — a read replica for Redis and Valkey.

Usage:
  vdr [serve] [flags]          replicate a primary and serve reads
  vdr serve --rdb FILE [flags] serve a static RDB file, read-only, no primary
  vdr rdb FILE                 print an RDB file as JSON lines
  vdr tail [flags]             print a primary's replication stream as JSON lines
  vdr verify [flags]           compare a replica (vdr or Redis) with its primary
  vdr version                  print the version

Every flag is also an environment variable (VDR_ and the name in capitals,
dashes as underscores) and a directive of the --config file (redis.conf
syntax). Flags win over the environment, which wins over the file.
`)
	byGroup := map[string][]setting{}
	gs := groups
	for _, s := range extra {
		if len(byGroup[s.group]) == 0 && s.group != "" {
			gs = append([]string{s.group}, gs...)
		}
		byGroup[s.group] = append(byGroup[s.group], s)
	}
	for _, s := range settings {
		byGroup[s.group] = append(byGroup[s.group], s)
	}
	for _, g := range gs {
		fmt.Fprintf(w, "\n%s:\n", g)
		list := byGroup[g]
		for _, s := range list {
			def := ""
			if s.def != "" {
				def = fmt.Sprintf(" (default %s)", s.def)
			}
			fmt.Fprintf(w, "  --%-26s %s%s\n", s.name, s.usage, def)
		}
	}
}

// joinReplicaof lets --replicaof take its two words as redis-server's
// command line does (--replicaof 127.0.0.1 6379): a port after the host
// joins it, as if quoted.
func joinReplicaof(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if (name == "replicaof" || name == "slaveof") && a != name && i+2 < len(args) {
			if _, err := strconv.Atoi(args[i+2]); err == nil && !strings.HasPrefix(args[i+1], "-") {
				out = append(out, "--replicaof", args[i+1]+" "+args[i+2])
				i += 2
				continue
			}
		}
		out = append(out, a)
	}
	return out
}
