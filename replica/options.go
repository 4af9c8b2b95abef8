package replica

import (
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/rdbparse"
)

// Defaults for Options.
const (
	// DefaultMaxBulkBytes is Redis's proto-max-bulk-len default (512 MiB).
	DefaultMaxBulkBytes = 512 << 20
	// DefaultMaxMultibulkLen bounds the elements of one command. Redis
	// itself accepts up to INT_MAX from its primary; a propagated RPUSH or
	// MSET with more than 16M arguments is unheard of, and the argv is
	// grown as elements actually arrive, so the bound costs nothing.
	DefaultMaxMultibulkLen = 1 << 24
	// DefaultReadTimeout is Redis's repl-timeout default.
	DefaultReadTimeout = 60 * time.Second
	// DefaultDialTimeout bounds connecting to a primary or sentinel.
	DefaultDialTimeout = 5 * time.Second
	// DefaultAckInterval is how often REPLCONF ACK is sent (Redis: every
	// replicationCron run, once a second).
	DefaultAckInterval = time.Second
	// firstAckRepeat is the first interval of the ACKs that follow a full
	// sync until the stream starts (see Client.session).
	firstAckRepeat = 10 * time.Millisecond
	// DefaultBackoffInitial and DefaultBackoffMax bound the reconnect delay.
	DefaultBackoffInitial = 100 * time.Millisecond
	DefaultBackoffMax     = time.Second // a Redis replica retries every second (replicationCron)
	// DefaultMaxBatch is the most commands one Handler.Commands call
	// carries outside a MULTI/EXEC unit.
	DefaultMaxBatch = 1024
	// DefaultReadBufferBytes sizes the socket's bufio.Reader, which is
	// also the longest RESP line accepted.
	DefaultReadBufferBytes = 64 << 10
)

// Options configures a Client. The zero value of every field means its
// default; Handler and one of Primary or Sentinel are required.
type Options struct {
	// Primary is the primary's host:port. Ignored when Sentinel is set.
	Primary string
	// Sentinel, when set, finds the primary through Redis Sentinel.
	Sentinel *SentinelOptions
	// Handler receives the data. Required.
	Handler Handler

	// Username and Password authenticate to the primary (AUTH password, or
	// AUTH username password for an ACL user), like masteruser/masterauth.
	Username, Password string
	// TLS, when set, connects to the primary over TLS.
	TLS *TLSOptions

	// ListeningPort is announced with REPLCONF listening-port so the
	// primary's INFO replication lists this replica with that port. 0
	// announces the local port of the connection.
	ListeningPort int
	// AnnounceIP, when set, is sent with REPLCONF ip-address.
	AnnounceIP string

	// ResumeReplID and ResumeOffset resume from a saved position (the
	// handler already holds the data up to ResumeOffset): the first PSYNC
	// asks for ResumeOffset+1. Empty ResumeReplID means a full sync.
	ResumeReplID string
	ResumeOffset int64
	// ResumeDB is the database selected at ResumeOffset.
	ResumeDB int

	// PrimaryConfig names configuration parameters to read from the
	// primary (CONFIG GET) on every connection, before PSYNC; with the
	// primary's version (INFO server) they go to the Handler when it
	// implements ConfigHandler. A projection needs the primary's encoding
	// thresholds to report the same OBJECT ENCODING. A primary that refuses
	// (a replication-only ACL user, a renamed CONFIG) is logged and
	// replication goes on; the Handler then gets what could be read.
	PrimaryConfig []string

	// DBs, when non-empty, projects only these databases; entries and
	// commands of other databases are dropped after parsing.
	DBs []int
	// KeyPrefixes, when non-empty, projects only keys starting with one of
	// them. A command is delivered when any of its keys matches: the first
	// argument for most commands, every key for DEL, UNLINK, EXISTS,
	// TOUCH, MSET(NX), RENAME(NX), COPY, SMOVE, LMOVE, RPOPLPUSH,
	// Z*STORE, S*STORE, PFMERGE and BITOP (see keyRules in filter.go).
	// Keyless commands (FLUSHALL, FLUSHDB, SWAPDB, PUBLISH, FUNCTION, …)
	// are always delivered.
	KeyPrefixes []string

	// MaxBulkBytes bounds one bulk string from the wire. Default
	// DefaultMaxBulkBytes.
	MaxBulkBytes int64
	// MaxMultibulkLen bounds the elements of one command. Default
	// DefaultMaxMultibulkLen.
	MaxMultibulkLen int64
	// MaxBatch is the most commands per Handler.Commands call (a MULTI/EXEC
	// unit is never split, whatever its size). Default DefaultMaxBatch.
	MaxBatch int
	// ReadBufferBytes sizes the socket reader and bounds a RESP line.
	ReadBufferBytes int
	// ReadBytes, when set, counts every byte read from the primary: the
	// handshake's replies, the RDB, the stream, its PINGs (Redis's
	// stat_net_repl_input_bytes, INFO total_net_repl_input_bytes).
	ReadBytes *atomic.Int64
	// RDB tunes the RDB parser (batch size, limits).
	RDB rdbparse.Options

	// DialTimeout, ReadTimeout (no byte from the primary for this long
	// drops the link; the primary pings every 10 s), AckInterval.
	DialTimeout, ReadTimeout, AckInterval time.Duration
	// BackoffInitial and BackoffMax bound the exponential reconnect delay.
	BackoffInitial, BackoffMax time.Duration

	// Logger receives the client's logs. Default slog.Default().
	Logger *slog.Logger

	// Tap, when set, receives the stream verbatim (see Tap), to serve
	// it to replicas of this one.
	Tap Tap
}

// SentinelOptions finds the primary of a monitored group through Sentinel.
type SentinelOptions struct {
	Addrs              []string // host:port of each sentinel, tried in order
	MasterName         string   // the monitored group's name
	Username, Password string   // sentinel auth (sentinel's requirepass / ACL user)
	// Role is what to replicate: "" or "primary" the group's primary,
	// "replica" one of its replicas the sentinels report healthy (it
	// spares the primary a replica link; vdr then is a sub-replica, with
	// the primary's replid and offsets), falling back to the primary when
	// none is.
	Role string
	// TLS, when set, connects to the sentinels over TLS (their tls-port).
	TLS *TLSOptions
	// HostMap rewrites the addresses the sentinels announce into ones
	// this process can reach (NAT, Kubernetes): "host" → "host2" keeps
	// the port, "host:port" → "host2:port2" maps both.
	HostMap map[string]string
}

// mapHost applies HostMap to an announced host and port.
func (so *SentinelOptions) mapHost(host, port string) string {
	addr := net.JoinHostPort(host, port)
	if to, ok := so.HostMap[addr]; ok {
		return to
	}
	if to, ok := so.HostMap[host]; ok {
		if _, _, err := net.SplitHostPort(to); err == nil {
			return to
		}
		return net.JoinHostPort(to, port)
	}
	return addr
}

// TLSOptions configures TLS to the primary. Certificates are verified
// unless InsecureSkipVerify is set (which logs a warning on every dial).
type TLSOptions struct {
	CAFile             string // PEM CA bundle; empty uses the system roots
	CertFile, KeyFile  string // client certificate, when the primary requires one
	ServerName         string // name to verify; default the host of the address
	InsecureSkipVerify bool
}

// EnsureDefaults fills every zero field with its default and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.MaxBulkBytes <= 0 {
		o.MaxBulkBytes = DefaultMaxBulkBytes
	}
	if o.MaxMultibulkLen <= 0 {
		o.MaxMultibulkLen = DefaultMaxMultibulkLen
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.ReadBufferBytes <= 0 {
		o.ReadBufferBytes = DefaultReadBufferBytes
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.AckInterval <= 0 {
		o.AckInterval = DefaultAckInterval
	}
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = DefaultBackoffInitial
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMax < o.BackoffInitial {
		o.BackoffMax = o.BackoffInitial
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Validate reports options that can't work.
func (o *Options) Validate() error {
	if o.Handler == nil {
		return fmt.Errorf("%w: Handler is required", ErrInvalidOptions)
	}
	if o.Sentinel == nil && o.Primary == "" {
		return fmt.Errorf("%w: Primary or Sentinel is required", ErrInvalidOptions)
	}
	if o.Sentinel != nil && (len(o.Sentinel.Addrs) == 0 || o.Sentinel.MasterName == "") {
		return fmt.Errorf("%w: Sentinel needs Addrs and MasterName", ErrInvalidOptions)
	}
	if o.ResumeReplID != "" && (len(o.ResumeReplID) != 40 || o.ResumeOffset < 0) {
		return fmt.Errorf("%w: ResumeReplID must be 40 characters and ResumeOffset >= 0", ErrInvalidOptions)
	}
	if o.ListeningPort < 0 || o.ListeningPort > 65535 {
		return fmt.Errorf("%w: ListeningPort %d", ErrInvalidOptions, o.ListeningPort)
	}
	if o.ReadBufferBytes != 0 && o.ReadBufferBytes < 512 {
		return fmt.Errorf("%w: ReadBufferBytes below 512", ErrInvalidOptions)
	}
	for _, db := range o.DBs {
		if db < 0 {
			return fmt.Errorf("%w: negative db %d", ErrInvalidOptions, db)
		}
	}
	if o.TLS != nil && (o.TLS.CertFile == "") != (o.TLS.KeyFile == "") {
		return fmt.Errorf("%w: TLS CertFile and KeyFile go together", ErrInvalidOptions)
	}
	return nil
}
