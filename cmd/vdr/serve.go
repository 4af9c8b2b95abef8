package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/replica"
	"github.com/vdr-project/vdr/server"
)

// runServe is `vdr [serve]`: replicate a primary (or serve an RDB file)
// until SIGTERM or SIGINT.
func runServe(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return exitCodeFor(err, stderr)
	}
	log := newLogger(cfg, stderr)
	opts, err := nodeOptions(cfg, log)
	if err != nil {
		return exitCodeFor(err, stderr)
	}
	node, err := server.NewNode(opts)
	if err != nil {
		return exitCodeFor(err, stderr)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	if err := node.Start(); err != nil {
		fmt.Fprintln(stderr, "vdr:", err)
		return 1
	}
	s := <-sig
	log.Info("shutting down", "signal", s.String())
	if err := node.Close(); err != nil {
		fmt.Fprintln(stderr, "vdr:", err)
		return 1
	}
	return 0
}

// busyPoll maps the busy-poll setting, where 0 means off, to
// server.Options.BusyPoll, where 0 means the default.
func busyPoll(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Str("log-level")))
	ho := &slog.HandlerOptions{Level: level}
	if cfg.Str("log-format") == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// runtimeConfig passes the settings of CONFIG SET's table on to the
// server, which checks them as CONFIG SET does.
func runtimeConfig(cfg *Config) [][2]string {
	var out [][2]string
	for _, name := range []string{"slowlog-log-slower-than", "slowlog-max-len", "latency-monitor-threshold",
		"latency-tracking", "latency-tracking-info-percentiles", "tracking-table-max-keys", "busy-reply-threshold"} {
		v := cfg.Str(name)
		if name == "latency-tracking" {
			v = "no"
			if cfg.Bool(name) {
				v = "yes"
			}
		}
		out = append(out, [2]string{name, v})
	}
	return out
}

// unknownPolicy reads --unknown-command. Invalidate is the default: a
// primary with a module sends its commands on every write, and resyncing
// on each would be a storm of full syncs (each a fork on the primary);
// removing the keys such a command names leaves misses, never wrong data.
func unknownPolicy(s string) projection.UnknownPolicy {
	if s == "resync" {
		return projection.Resync
	}
	return projection.Invalidate
}

// absPath makes a config file's path absolute (as Redis keeps it), so that
// CONFIG REWRITE finds it whatever the working directory; "" stays "".
func absPath(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// nodeOptions turns the configuration into server.NodeOptions. It is the
// only place flags meet the packages.
func nodeOptions(cfg *Config, log *slog.Logger) (server.NodeOptions, error) {
	o := server.NodeOptions{
		Server: server.Options{
			Bind:                 cfg.Str("bind"),
			Port:                 cfg.Port,
			NoTCP:                cfg.Port == 0,
			UnixSocket:           cfg.Str("unixsocket"),
			RequirePass:          cfg.Str("requirepass"),
			Users:                cfg.Lines("user"),
			ACLFile:              cfg.Str("aclfile"),
			MaxClients:           cfg.Int("maxclients"),
			EventLoops:           cfg.Int("event-loops"),
			BusyPoll:             busyPoll(cfg.Duration("busy-poll")),
			IdleTimeout:          cfg.Duration("timeout"),
			Databases:            cfg.Databases,
			DenyStaleData:        !cfg.Bool("replica-serve-stale-data"),
			MaxStaleness:         cfg.Duration("max-staleness"),
			NotifyKeyspaceEvents: cfg.Str("notify-keyspace-events"),
			RuntimeConfig:        runtimeConfig(cfg),
			Compat:               cfg.Compat,
			Version:              version,
			Logger:               log,
			ConfigFile:           absPath(cfg.Str("config")),
			EnableDebugCommand:   cfg.Str("enable-debug-command"),
			ClusterMode:          cfg.Bool("cluster-mode"),
			ClusterAnnounceIP:    cfg.Str("cluster-announce-ip"),
			ClusterAnnouncePort:  cfg.Int("cluster-announce-port"),
		},
		RDBFile:            cfg.Str("rdb"),
		HTTPAddr:           cfg.HTTPAddr,
		Pprof:              cfg.Bool("pprof"),
		HugePages:          cfg.Bool("huge-pages"),
		GCPercent:          cfg.Int("gc-percent"),
		SnapshotPath:       cfg.Str("snapshot-path"),
		SnapshotInterval:   cfg.Duration("snapshot-interval"),
		Dir:                cfg.Str("dir"),
		DBFilename:         cfg.Str("dbfilename"),
		ReplBacklogSize:    cfg.Int("repl-backlog-size"),
		DownstreamFiltered: cfg.Bool("downstream-filtered"),
		Projection:         projection.Options{OnUnknown: unknownPolicy(cfg.Str("unknown-command")), CompressValues: cfg.Int("compress-values"), PlainText: !cfg.Bool("pack-values")},
		Logger:             log,
	}
	if o.Server.Port == -1 {
		o.Server.Port = server.RandomPort
	}
	if cfg.PrimaryAddr == "" && len(cfg.Sentinels) == 0 && len(cfg.Cluster) == 0 {
		return o, nil
	}
	ro := &replica.Options{
		Primary:       cfg.PrimaryAddr,
		Username:      cfg.PrimaryUser,
		Password:      cfg.PrimaryPass,
		ListeningPort: cfg.Int("replica-announce-port"),
		AckInterval:   cfg.Duration("repl-ack-period"),
		DBs:           cfg.DBs,
		KeyPrefixes:   cfg.KeyPrefix,
		Logger:        log,
	}
	if len(cfg.Sentinels) > 0 {
		ro.Sentinel = &replica.SentinelOptions{
			Addrs: cfg.Sentinels, MasterName: cfg.SentinelMaster,
			Username: cfg.Str("sentinel-user"), Password: cfg.Str("sentinel-password"),
			Role: cfg.Str("sentinel-role"),
		}
		if cfg.Bool("tls-sentinel") {
			ro.Sentinel.TLS = &replica.TLSOptions{
				CAFile: cfg.Str("tls-ca-cert-file"), CertFile: cfg.Str("tls-cert-file"), KeyFile: cfg.Str("tls-key-file"),
				InsecureSkipVerify: cfg.Bool("tls-insecure-skip-verify"),
			}
		}
		for _, m := range cfg.List("sentinel-host-map") {
			from, to, _ := strings.Cut(m, "=")
			if ro.Sentinel.HostMap == nil {
				ro.Sentinel.HostMap = map[string]string{}
			}
			ro.Sentinel.HostMap[from] = to
		}
	}
	if cfg.PrimaryTLS || cfg.Str("tls-ca-cert-file") != "" || cfg.Str("tls-cert-file") != "" {
		ro.TLS = &replica.TLSOptions{
			CAFile: cfg.Str("tls-ca-cert-file"), CertFile: cfg.Str("tls-cert-file"), KeyFile: cfg.Str("tls-key-file"),
			ServerName: cfg.Str("tls-server-name"), InsecureSkipVerify: cfg.Bool("tls-insecure-skip-verify"),
		}
	}
	if (ro.TLS != nil) && (ro.TLS.CertFile == "") != (ro.TLS.KeyFile == "") {
		return o, &configError{name: "tls-key-file", msg: "tls-cert-file and tls-key-file go together"}
	}
	if len(cfg.Cluster) > 0 {
		// Every shard's link is ro with its own primary. A cluster has
		// only db 0.
		ro.DBs = nil
		o.Cluster = &server.ClusterOptions{
			Seeds: cfg.Cluster, ReplicateFrom: cfg.Str("cluster-replicate-from"),
			RefreshInterval: cfg.Duration("cluster-refresh"), Link: *ro,
		}
		return o, nil
	}
	o.Replica = ro
	o.Server.PrimaryAddr = cfg.PrimaryAddr
	o.Server.PrimaryUser, o.Server.PrimaryPassword = cfg.PrimaryUser, cfg.PrimaryPass
	return o, nil
}
