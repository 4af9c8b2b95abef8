package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
)

// DefaultPort is vdr's default TCP port (one above Redis's).
const DefaultPort = 6380

// RandomPort asks for a free port chosen by the OS (nats-server's
// RANDOM_PORT); read the result with Addr.
const RandomPort = -1

// ReplicationInfo supplies the replication link's state (INFO
// replication, ROLE, LOADING and MASTERDOWN). See commands.ReplState.
type ReplicationInfo = commands.ReplicationInfo

// ReplState is the snapshot a ReplicationInfo returns.
type ReplState = commands.ReplState

// Options configures a Server. The zero value means the defaults.
type Options struct {
	// Bind is the TCP address to listen on; default 127.0.0.1.
	Bind string
	// Port is the TCP port: 0 means DefaultPort, RandomPort (-1) a free
	// port. Set NoTCP to serve only on the unix socket.
	Port  int
	NoTCP bool
	// UnixSocket, when set, is a unix socket path to serve on as well.
	UnixSocket string
	// TLSConfig, when set, makes a TLS listener on TLSPort (RandomPort
	// allowed; 0 means no TLS listener).
	TLSConfig *tls.Config
	TLSPort   int

	// SwitchPrimary, when set, makes REPLICAOF host port switch the
	// primary (the node sets it); CurrentPrimary names the primary for
	// CONFIG REWRITE. ConfigFile is the config file vdr was started with
	// (INFO's config_file; CONFIG REWRITE writes the primary into it).
	SwitchPrimary  func(host string, port int) (already bool, err error)
	CurrentPrimary func() string
	// PrimaryDemoted is told when a forwarded write met -READONLY: the
	// server vdr took for the primary is a replica now.
	PrimaryDemoted func()
	ConfigFile     string

	// ClusterMode makes vdr answer as a one-node Redis Cluster that owns
	// every slot (CLUSTER SLOTS, SHARDS, NODES…, READONLY; see
	// commands/cluster.go), for cluster-mode clients. Off (the default),
	// it answers as a replica of a non-cluster server.
	ClusterMode bool
	// ClusterAnnounceIP and ClusterAnnouncePort are the address those
	// replies give for vdr (Redis's cluster-announce-ip/-port); empty or
	// 0: the address the client connected to.
	ClusterAnnounceIP   string
	ClusterAnnouncePort int

	// Compat is the personality vdr answers as until a primary tells its
	// version (see internal/compat); the zero value is compat.Default.
	Compat compat.Version

	// RequirePass is the password of the "default" user (AUTH / HELLO
	// AUTH); empty means no authentication.
	RequirePass string
	// Users are ACL users as redis.conf's "user" directives declare them,
	// one per item without the keyword: "alice on >pw ~k* +@read".
	Users []string
	// ACLFile is aclfile: users loaded at start, by ACL LOAD, and written
	// by ACL SAVE. Not with Users, as in Redis.
	ACLFile string
	// MaxClients bounds concurrent connections; default 10000.
	MaxClients int
	// IdleTimeout closes connections idle this long (Redis's "timeout");
	// 0 means never. Subscribers are exempt, as in Redis.
	IdleTimeout time.Duration
	// MaxBulkBytes is proto-max-bulk-len; default 512 MiB.
	MaxBulkBytes int64
	// MaxMultibulkLen bounds the argument count of one request; default
	// 2^31-1 (Redis's INT_MAX).
	MaxMultibulkLen int64
	// OutputBufferLimit is the most bytes of undelivered pub/sub messages
	// a client may owe before it is disconnected (client-output-buffer-limit
	// pubsub hard limit); default 32 MiB.
	OutputBufferLimit int64
	// WriteTimeout disconnects a client that does not read its replies
	// for this long; default 60s.
	WriteTimeout time.Duration
	// ShutdownTimeout bounds how long Close waits for in-flight replies;
	// default 5s.
	ShutdownTimeout time.Duration
	// EventLoops is the number of epoll event loops serving the TCP and
	// unix-socket clients (Linux only; see loop_linux.go): 0 means half
	// of GOMAXPROCS (at least one), EventLoopsDisabled (-1) one goroutine
	// per connection. Half, because vdr's clients usually run on the same
	// machine (a sidecar) and need cores too: on 2 cores with
	// redis-benchmark beside it, two loops served GET -P 1 at 0.68× a Redis
	// replica's rate with a p99 of 3.5 ms, one loop at about 1.0× and
	// 1.3 ms (bench/RESULTS.md).
	// TLS clients, every client outside Linux and every client when
	// ForwardWrites is on (a forwarded write waits for the primary) get a
	// goroutine each.
	EventLoops int
	// BusyPoll is how long an event loop keeps polling (epoll_wait with
	// no timeout) after a batch of requests before it sleeps in
	// epoll_wait: 0 means DefaultBusyPoll, a negative value never.
	// Under load the next request usually arrives within microseconds;
	// a loop that slept must be woken by the client's write, a cross-CPU
	// wake-up that costs the client more than the poll costs the loop
	// (on the 2-core benchmark machine GET -P 1 went from about 0.95× to
	// about 1.08× a Redis replica's rate, and its p99 from 1.26 to 0.86
	// ms). An idle loop still sleeps: the poll runs only after a batch,
	// and a loop whose polls keep running out (requests every 100µs or
	// so) stops polling until a retry finds work (spinGauge).
	BusyPoll time.Duration

	// Projection is the data served; when nil, New creates an empty one
	// with Databases databases (default 16).
	Projection *projection.Projection
	Databases  int
	// Replication reports the link state; nil means "loaded, link up"
	// (for example when serving a static RDB file).
	Replication ReplicationInfo
	// DenyStaleData is replica-serve-stale-data no: while the link is
	// down, data commands answer -MASTERDOWN.
	DenyStaleData bool
	// MaxStaleness makes data commands answer -MASTERDOWN once the link
	// has been down this long (0: never).
	MaxStaleness time.Duration
	// NotifyKeyspaceEvents is notify-keyspace-events: the classes of
	// keyspace events published for the writes applied (Redis's letters,
	// "KEA" for example; empty: none, or what the Projection was given).
	NotifyKeyspaceEvents string
	// EnableDebugCommand is enable-debug-command: "no" (the default,
	// DEBUG is refused as Redis refuses it), "yes", or "local".
	EnableDebugCommand string
	// RuntimeConfig are settings of CONFIG SET's table (slowlog-*,
	// latency-*…) as name, value pairs, applied when the server is built.
	RuntimeConfig [][2]string

	// ForwardWrites proxies write commands to PrimaryAddr instead of
	// answering -READONLY.
	ForwardWrites   bool
	PrimaryAddr     string
	PrimaryUser     string
	PrimaryPassword string
	// ForwardPoolSize is the number of connections to the primary kept
	// for forwarding; default 4.
	ForwardPoolSize int

	// Version is vdr's version for INFO (vdr_version).
	Version string
	// Logger receives connection-level errors; default slog.Default().
	Logger *slog.Logger
}

// DefaultBusyPoll is Options.BusyPoll's default, the value Linux's
// net.core.busy_poll documentation suggests for its own socket polling.
const DefaultBusyPoll = 50 * time.Microsecond

// EventLoopsDisabled as Options.EventLoops serves every connection from
// its own goroutine.
const EventLoopsDisabled = -1

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Bind == "" {
		o.Bind = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.MaxClients == 0 {
		o.MaxClients = 10000
	}
	if o.MaxBulkBytes == 0 {
		o.MaxBulkBytes = defaultMaxBulkBytes
	}
	if o.MaxMultibulkLen == 0 {
		o.MaxMultibulkLen = maxIntMultibulk
	}
	if o.OutputBufferLimit == 0 {
		o.OutputBufferLimit = 32 << 20
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 60 * time.Second
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 5 * time.Second
	}
	if o.EventLoops == 0 {
		o.EventLoops = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if o.BusyPoll == 0 {
		o.BusyPoll = DefaultBusyPoll
	}
	if o.Databases == 0 {
		o.Databases = 16
		if o.Projection != nil {
			o.Databases = o.Projection.NumDBs()
		}
	}
	if o.ForwardPoolSize == 0 {
		o.ForwardPoolSize = 4
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// ErrOptions wraps every invalid-option error.
var ErrOptions = errors.New("server: invalid options")

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w: "+f, append([]any{ErrOptions}, a...)...)
	}
	switch {
	case o.Port < RandomPort || o.Port > 65535:
		return bad("port %d out of range", o.Port)
	case o.NoTCP && o.UnixSocket == "" && o.TLSConfig == nil:
		return bad("no listener: NoTCP without UnixSocket or TLS")
	case o.TLSConfig != nil && (o.TLSPort < RandomPort || o.TLSPort > 65535 || o.TLSPort == 0):
		return bad("TLS port %d out of range", o.TLSPort)
	case o.ClusterAnnouncePort < 0 || o.ClusterAnnouncePort > 65535:
		return bad("cluster announce port %d out of range", o.ClusterAnnouncePort)
	case o.MaxClients < 1:
		return bad("maxclients %d < 1", o.MaxClients)
	case !slices.Contains([]string{"", "no", "yes", "local"}, strings.ToLower(o.EnableDebugCommand)):
		return bad("enable-debug-command %q: want no, yes or local", o.EnableDebugCommand)
	case o.MaxBulkBytes < 1:
		return bad("max bulk bytes %d < 1", o.MaxBulkBytes)
	case o.MaxMultibulkLen < 1:
		return bad("max multibulk length %d < 1", o.MaxMultibulkLen)
	case o.Databases < 1:
		return bad("databases %d < 1", o.Databases)
	case o.Projection != nil && o.Projection.NumDBs() != o.Databases:
		return bad("databases %d differs from the projection's %d", o.Databases, o.Projection.NumDBs())
	case o.ForwardWrites && o.PrimaryAddr == "":
		return bad("ForwardWrites needs PrimaryAddr")
	case o.EventLoops < EventLoopsDisabled:
		return bad("event loops %d < -1", o.EventLoops)
	case o.IdleTimeout < 0 || o.MaxStaleness < 0:
		return bad("negative duration")
	case o.ACLFile != "" && len(o.Users) > 0:
		return bad("users defined with user directives and an ACL file (aclfile) at the same time: define either, not both")
	}
	if _, ok := projection.ParseNotifyFlags(o.NotifyKeyspaceEvents); !ok {
		return bad("notify-keyspace-events %q: invalid event class character, use 'Ag$lshzxeKEtmdn'", o.NotifyKeyspaceEvents)
	}
	return nil
}
