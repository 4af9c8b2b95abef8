package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/server"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vdr.conf")
	os.WriteFile(file, []byte(`# a redis.conf-style file
replicaof 127.0.0.1 7000
port 7100
databases 8
masterauth "from file"
key-prefix user:
key-prefix session:
timeout 30
`), 0o600)
	cfg, err := parseConfig([]string{"--config", file, "--port", "7300"},
		env(map[string]string{"VDR_PORT": "7200", "VDR_DATABASES": "4"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 7300 {
		t.Errorf("port = %d, want the flag's 7300", cfg.Port)
	}
	if cfg.Databases != 4 {
		t.Errorf("databases = %d, want the environment's 4", cfg.Databases)
	}
	if cfg.PrimaryAddr != "127.0.0.1:7000" || cfg.PrimaryPass != "from file" {
		t.Errorf("primary = %q pass %q", cfg.PrimaryAddr, cfg.PrimaryPass)
	}
	if got := strings.Join(cfg.KeyPrefix, ","); got != "user:,session:" {
		t.Errorf("key-prefix = %q", got)
	}
	if cfg.Duration("timeout") != 30*time.Second {
		t.Errorf("timeout = %v (bare integers are seconds)", cfg.Duration("timeout"))
	}
	// gc-percent defaults to 25 (RSS under overwrites, bench/RESULTS.md);
	// 0 hands GOGC back to the runtime.
	if got := cfg.Int("gc-percent"); got != 25 {
		t.Errorf("gc-percent = %d by default, want 25", got)
	}
	cfg, err = parseConfig([]string{"--config", file, "--gc-percent", "0"}, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Int("gc-percent"); got != 0 {
		t.Errorf("--gc-percent 0 gives %d", got)
	}
}

// TestConfigCompat checks --compat from the flag, the environment and the
// config file, into server.Options.Compat.
func TestConfigCompat(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vdr.conf")
	os.WriteFile(file, []byte("replicaof 127.0.0.1 7000\ncompat 7.4\n"), 0o600)
	for _, c := range []struct {
		args []string
		env  map[string]string
		want compat.Version
	}{
		{[]string{"--primary", "h:1"}, nil, compat.Version{}},
		{[]string{"--primary", "h:1", "--compat", "7.2"}, nil, compat.Redis72},
		{[]string{"--primary", "h:1"}, map[string]string{"VDR_COMPAT": "valkey-8.0"}, compat.Valkey80},
		{[]string{"--config", file}, nil, compat.Redis74},
		{[]string{"--config", file, "--compat", "valkey-7.2"}, nil, compat.Valkey72},
	} {
		cfg, o := configOptions(t, c.args, c.env)
		if cfg.Compat != c.want || o.Server.Compat != c.want {
			t.Errorf("%v %v: compat %v, options %v; want %v", c.args, c.env, cfg.Compat, o.Server.Compat, c.want)
		}
	}
}

func TestConfigPrimaryURL(t *testing.T) {
	cfg, err := parseConfig([]string{"--primary", "rediss://alice:s3cret@db.example:6390"}, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PrimaryAddr != "db.example:6390" || cfg.PrimaryUser != "alice" || cfg.PrimaryPass != "s3cret" || !cfg.PrimaryTLS {
		t.Fatalf("got %+v", cfg)
	}
	cfg, err = parseConfig([]string{"--primary", "redis://pw@h"}, env(nil), &bytes.Buffer{})
	if err != nil || cfg.PrimaryAddr != "h:6379" || cfg.PrimaryPass != "pw" || cfg.PrimaryUser != "" {
		t.Fatalf("got %+v, %v", cfg, err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("from-file\nignored\n"), 0o600)
	cfg, err = parseConfig([]string{"--primary", "h:1", "--masterauth-file", pwFile}, env(nil), &bytes.Buffer{})
	if err != nil || cfg.PrimaryPass != "from-file" {
		t.Fatalf("password file: %+v, %v", cfg, err)
	}
}

// TestBadConfigExit2 checks every invalid setting yields one line naming
// the setting and exit code 2.
func TestBadConfigExit2(t *testing.T) {
	cases := []struct {
		args    []string
		env     map[string]string
		setting string
	}{
		{[]string{"--primary", "h:1", "--port", "seventy"}, nil, "port"},
		{[]string{"--primary", "h:1", "--port", "70000"}, nil, "port"},
		{[]string{"--primary", "h:1"}, map[string]string{"VDR_DATABASES": "0"}, "databases"},
		{[]string{"--primary", "h:1", "--log-format", "xml"}, nil, "log-format"},
		{[]string{"--primary", "h:1", "--unknown-command", "flush"}, nil, "unknown-command"},
		{[]string{"--primary", "h:1", "--notify-keyspace-events", "KEAq"}, nil, "notify-keyspace-events"},
		{[]string{"--sentinel", "s:1", "--sentinel-master", "m", "--sentinel-role", "any"}, nil, "sentinel-role"},
		{[]string{"--sentinel", "s:1", "--sentinel-master", "m", "--sentinel-host-map", "a"}, nil, "sentinel-host-map"},
		{[]string{"--primary", "h:1", "--replica-serve-stale-data", "maybe"}, nil, "replica-serve-stale-data"},
		{[]string{"--primary", "ftp://h:1"}, nil, "primary"},
		{[]string{"--primary", "h:1", "--replicaof", "h 2"}, nil, "replicaof"},
		{[]string{"--replicaof", "just-a-host"}, nil, "replicaof"},
		{[]string{}, nil, "primary"},
		{[]string{"--sentinel", "s:26379"}, nil, "sentinel-master"},
		{[]string{"--primary", "h:1", "--dbs", "99"}, nil, "dbs"},
		{[]string{"--primary", "h:1", "--max-staleness", "soon"}, nil, "max-staleness"},
		{[]string{"--primary", "h:1", "--no-such-flag"}, nil, "flags"},
		{[]string{"--primary", "h:1", "--masterauth-file", "/nonexistent/pw"}, nil, "masterauth-file"},
		{[]string{"--primary", "h:1", "--tls-cert-file", "c.pem"}, nil, "tls-key-file"},
		{[]string{"--primary", "h:1", "--compat", "7.6"}, nil, "compat"},
		{[]string{"--primary", "h:1"}, map[string]string{"VDR_COMPAT": "valkey-9"}, "compat"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		code := runServe(c.args, env(c.env), &out, &errOut)
		lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], `"`+c.setting+`"`) {
			t.Errorf("%v %v: exit %d, stderr %q; want exit 2 and one line naming %q", c.args, c.env, code, errOut.String(), c.setting)
		}
	}
	// A config file with an unknown directive names it too.
	file := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(file, []byte("replicaof h 1\nmaxmemory-policy allkeys-lru\n"), 0o600)
	var errOut bytes.Buffer
	if code := runServe([]string{"--config", file}, env(nil), &bytes.Buffer{}, &errOut); code != 2 || !strings.Contains(errOut.String(), "maxmemory-policy") {
		t.Errorf("unknown directive: exit %d, %q", code, errOut.String())
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"--help"}, &out, &out); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, s := range settings {
		if !strings.Contains(out.String(), "--"+s.name+" ") {
			t.Errorf("--help does not list --%s", s.name)
		}
	}
	for _, g := range groups {
		if !strings.Contains(out.String(), "\n"+g+":\n") {
			t.Errorf("--help lacks group %q", g)
		}
	}
}

// TestUnknownCommandPolicy: --unknown-command reaches the projection, and
// the config file given with --config is named for CONFIG REWRITE.
func TestUnknownCommandPolicy(t *testing.T) {
	for arg, want := range map[string]projection.UnknownPolicy{"": projection.Invalidate, "invalidate": projection.Invalidate, "resync": projection.Resync} {
		args := []string{"--primary", "h:1"}
		if arg != "" {
			args = append(args, "--unknown-command", arg)
		}
		cfg, err := parseConfig(args, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		o, err := nodeOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if o.Projection.OnUnknown != want {
			t.Errorf("--unknown-command %q: policy %v, want %v", arg, o.Projection.OnUnknown, want)
		}
	}
}

// TestSentinelSettings: --sentinel-role and --sentinel-host-map reach the
// replica options.
func TestSentinelSettings(t *testing.T) {
	cfg, err := parseConfig([]string{"--sentinel", "s:1", "--sentinel-master", "m", "--sentinel-role", "replica",
		"--sentinel-host-map", "10.0.0.1=127.0.0.1,10.0.0.2:6379=lb:1", "--tls-sentinel", "--tls-ca-cert-file", "ca.pem"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o, err := nodeOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	so := o.Replica.Sentinel
	if so.Role != "replica" || so.HostMap["10.0.0.1"] != "127.0.0.1" || so.HostMap["10.0.0.2:6379"] != "lb:1" || so.TLS == nil || so.TLS.CAFile != "ca.pem" {
		t.Errorf("sentinel options %+v", so)
	}
}

// TestReplicaofForms: --replicaof takes redis-server's two words, the
// quoted "host port" of redis.conf, or host:port.
func TestReplicaofForms(t *testing.T) {
	for _, args := range [][]string{
		{"--replicaof", "127.0.0.1", "6379"},
		{"--replicaof", "127.0.0.1 6379"},
		{"--replicaof", "127.0.0.1:6379"},
		{"-replicaof", "127.0.0.1", "6379", "--port", "7000"},
	} {
		cfg, err := parseConfig(args, env(nil), io.Discard)
		if err != nil {
			t.Errorf("%q: %v", args, err)
			continue
		}
		if cfg.PrimaryAddr != "127.0.0.1:6379" {
			t.Errorf("%q: primary %q", args, cfg.PrimaryAddr)
		}
	}
}

// TestConfigUsers checks that "user" is repeatable as a flag and as a
// config-file directive (as redis.conf's), each item one user with its
// rules, into server.Options.Users; aclfile goes to Options.ACLFile, and
// the two together are refused as Redis refuses them.
func TestConfigUsers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vdr.conf")
	os.WriteFile(file, []byte("replicaof 127.0.0.1 7000\nuser alice on >pa ~k:* +@read\nuser bob on nopass (~s* +get)\n"), 0o600)
	cfg, err := parseConfig([]string{"--config", file}, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Lines("user"), "|"); got != "alice on >pa ~k:* +@read|bob on nopass (~s* +get)" {
		t.Errorf("users from the file: %q", got)
	}
	cfg, err = parseConfig([]string{"--replicaof", "127.0.0.1 7000", "--user", "carol on >pc +ping", "--user", "dan off"}, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := nodeOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(o.Server.Users, "|"); got != "carol on >pc +ping|dan off" {
		t.Errorf("users from flags: %q", got)
	}
	cfg, err = parseConfig([]string{"--replicaof", "127.0.0.1 7000", "--aclfile", "users.acl", "--user", "x on"}, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o, err = nodeOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		o.Server.EnsureDefaults()
		err = o.Server.Validate()
	}
	if o.Server.ACLFile != "users.acl" || err == nil || !strings.Contains(err.Error(), "aclfile") {
		t.Errorf("aclfile %q with users: err %v", o.Server.ACLFile, err)
	}
}

// TestConfigClusterMode checks --cluster-mode and the announced address,
// from flags, the environment and the config file, into server.Options.
func TestConfigClusterMode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vdr.conf")
	os.WriteFile(file, []byte("replicaof 127.0.0.1 7000\ncluster-mode yes\ncluster-announce-ip 10.0.0.9\n"), 0o600)
	for _, c := range []struct {
		args []string
		env  map[string]string
		on   bool
		ip   string
		port int
	}{
		{[]string{"--primary", "h:1"}, nil, false, "", 0},
		{[]string{"--primary", "h:1", "--cluster-mode", "yes", "--cluster-announce-port", "7001"}, nil, true, "", 7001},
		{[]string{"--primary", "h:1"}, map[string]string{"VDR_CLUSTER_MODE": "yes", "VDR_CLUSTER_ANNOUNCE_IP": "1.2.3.4"}, true, "1.2.3.4", 0},
		{[]string{"--config", file}, nil, true, "10.0.0.9", 0},
	} {
		_, o := configOptions(t, c.args, c.env)
		if s := o.Server; s.ClusterMode != c.on || s.ClusterAnnounceIP != c.ip || s.ClusterAnnouncePort != c.port {
			t.Errorf("%v %v: cluster mode %v, announce %q %d; want %v %q %d", c.args, c.env,
				s.ClusterMode, s.ClusterAnnounceIP, s.ClusterAnnouncePort, c.on, c.ip, c.port)
		}
	}
}

// configOptions parses args with the environment e into the
// configuration and the node options it makes.
func configOptions(t *testing.T, args []string, e map[string]string) (*Config, server.NodeOptions) {
	t.Helper()
	cfg, err := parseConfig(args, env(e), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	o, err := nodeOptions(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, o
}

// TestClusterSettings: --cluster from the flag, VDR_CLUSTER and the config
// file into server.ClusterOptions with the link's credentials and TLS;
// --cluster with another source, or a bad seed, is refused.
func TestClusterSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vdr.conf")
	os.WriteFile(file, []byte("cluster 10.0.0.1:7000,10.0.0.2:7000\nmasterauth pw\n"), 0o600)
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"flag": {args: []string{"--cluster", "10.0.0.1:7000,10.0.0.2:7000", "--masterauth", "pw"}},
		"env":  {env: map[string]string{"VDR_CLUSTER": "10.0.0.1:7000,10.0.0.2:7000", "VDR_MASTERAUTH": "pw"}},
		"file": {args: []string{"--config", file}},
	} {
		cfg, err := parseConfig(append(c.args, "--cluster-replicate-from", "replica", "--tls-replication"), env(c.env), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		o, err := nodeOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		co := o.Cluster
		if o.Replica != nil || co == nil || strings.Join(co.Seeds, ",") != "10.0.0.1:7000,10.0.0.2:7000" ||
			co.ReplicateFrom != "replica" || co.Link.Password != "pw" || co.Link.TLS == nil || co.RefreshInterval != 5*time.Second {
			t.Errorf("%s: cluster options %+v, replica %+v", name, co, o.Replica)
		}
	}
	for _, args := range [][]string{
		{"--cluster", "10.0.0.1:7000", "--primary", "10.0.0.1:6379"},
		{"--cluster", "10.0.0.1:7000", "--rdb", "dump.rdb"},
		{"--cluster", "10.0.0.1"},
		{"--cluster", "10.0.0.1:7000", "--cluster-replicate-from", "any"},
	} {
		if _, err := parseConfig(args, env(nil), io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
