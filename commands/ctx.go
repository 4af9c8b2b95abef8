package commands

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/script"
	"github.com/vdr-project/vdr/projection"
)

// ReplState is a snapshot of the replication link, as INFO replication and
// ROLE report it. The server's wiring fills it from the replica client.
type ReplState struct {
	MasterHost       string
	MasterPort       int
	LinkUp           bool      // master_link_status:up
	LinkDownSince    time.Time // when the link went down; zero if up or never up
	LastIO           time.Time // last byte received from the primary; zero if never
	SyncInProgress   bool      // a full sync transfer is running
	FirstSyncDone    bool      // a full sync (or snapshot load) has completed once
	ReadOffset       int64     // slave_read_repl_offset: bytes read from the stream
	ApplyOffset      int64     // slave_repl_offset: bytes applied to the projection
	MasterReplID     string    // replication ID of the primary's history
	SyncTotalBytes   int64     // master_sync_total_bytes (-1 if unknown)
	SyncReadBytes    int64     // master_sync_read_bytes
	SyncLastIOSecond int64     // master_sync_last_io_seconds_ago, while SyncInProgress
	// State is the ROLE state word: "connect", "connecting", "sync",
	// "connected" (or "handshake"); empty means derived from LinkUp.
	State string
	// Shards, when replicating a Redis Cluster, holds one INFO replication
	// field per shard (name "shard<i>", value its link's state).
	Shards [][2]string
}

// ReplicationInfo supplies the replication link's state. Implementations
// must be safe for concurrent use; it is called on every command that
// checks LOADING/MASTERDOWN, so it should be cheap (an atomic load).
type ReplicationInfo interface {
	ReplState() ReplState
}

// MasterLink is what a ReplicationInfo implements to show the link to
// the primary as a client (CLIENT LIST, flags=M) and to drop it (CLIENT
// KILL TYPE master), as Redis does with its master client.
type MasterLink interface {
	MasterClient() *Client // nil while the link does not stream
	KillMaster() bool      // drops the link (it reconnects); false when there is none
}

// LinkStater is an optional fast path a ReplicationInfo may implement:
// every command's LOADING/MASTERDOWN gate needs only these values, and
// ReplState may be too costly to build per command. downSinceUnixNano is
// 0 when the link is up or was never up.
type LinkStater interface {
	LinkState() (firstSyncDone, linkUp bool, downSinceUnixNano int64)
}

// Host is what the commands need from the server that owns the
// connections: the client registry and write forwarding.
type Host interface {
	// Clients returns a snapshot of the connected clients, by ID order.
	Clients() []*Client
	// KillClient closes the client's connection (after its current reply).
	KillClient(cl *Client)
	// Forward sends a write command to the primary and returns its raw
	// RESP reply; it returns an error when forwarding is off or failed.
	Forward(args [][]byte) ([]byte, error)
	// ForwardEnabled reports whether writes are forwarded to the primary.
	ForwardEnabled() bool
}

// Config is the server-wide configuration the commands read.
type Config struct {
	RequirePass        string
	Databases          int
	ServeStaleData     bool          // replica-serve-stale-data
	MaxStaleness       time.Duration // reads answer MASTERDOWN once the link is down this long (0: never)
	MaxClients         int
	IdleTimeout        time.Duration
	Bind               string
	Port               int
	UnixSocket         string
	ProtoMaxBulkLen    int64
	VdrVersion         string
	ClientQueryBufLim  int64
	OutputBufferLimit  int64
	ConfigFile         string
	ReplicaAnnounced   bool
	ExtraConfigOptions map[string]string
	EnableDebugCommand string // enable-debug-command: "no" (default), "yes" or "local"
	// ClusterMode answers as a one-node Redis Cluster that owns every
	// slot (CLUSTER SLOTS, SHARDS, NODES…; cluster.go); off, vdr answers
	// as a replica of a non-cluster server: "cluster support disabled".
	ClusterMode bool
	// ClusterAnnounceIP and ClusterAnnouncePort are the address CLUSTER
	// SLOTS, SHARDS and NODES give for vdr (cluster-announce-ip/-port);
	// empty or 0: the address the client connected to.
	ClusterAnnounceIP   string
	ClusterAnnouncePort int
}

// Stats are the server-wide counters INFO stats reports.
type Stats struct {
	ConnectionsReceived atomic.Int64
	CommandsProcessed   atomic.Int64
	RejectedConns       atomic.Int64
	KeyspaceHits        atomic.Int64
	KeyspaceMisses      atomic.Int64
	NetInputBytes       atomic.Int64
	NetOutputBytes      atomic.Int64
	// NetReplInputBytes and NetReplOutputBytes are the bytes read from
	// the primary and written to replicas served (Redis's
	// stat_net_repl_*; INFO's total_net_*_bytes include them).
	NetReplInputBytes  atomic.Int64
	NetReplOutputBytes atomic.Int64
	ErrorReplies       atomic.Int64
	PubsubMessages     atomic.Int64
	AuthFailures       atomic.Int64 // AUTH and HELLO … AUTH refused

	errMu     sync.Mutex
	errCounts map[string]int64 // errorstats: replies by error code
}

// maxErrorCodes is how many distinct error codes errorstats keeps; past
// it new codes are not counted (Redis's ERROR_STATS_NUMBER, 128, after
// which it stops tracking them: a client cannot grow the table).
const maxErrorCodes = 128

func (st *Stats) countErrors(codes []string) {
	st.errMu.Lock()
	defer st.errMu.Unlock()
	if st.errCounts == nil {
		st.errCounts = map[string]int64{}
	}
	for _, c := range codes {
		if _, ok := st.errCounts[c]; ok || len(st.errCounts) < maxErrorCodes {
			st.errCounts[c]++
		}
	}
}

// ErrorCounts returns the error replies by code (INFO errorstats).
func (st *Stats) ErrorCounts() map[string]int64 {
	st.errMu.Lock()
	defer st.errMu.Unlock()
	out := make(map[string]int64, len(st.errCounts))
	for k, v := range st.errCounts {
		out[k] = v
	}
	return out
}

// Env is everything the commands share across connections. The server
// builds one and keeps it for its life.
type Env struct {
	Proj     *projection.Projection
	Host     Host
	Repl     ReplicationInfo // may be nil: treated as "loaded, link up"
	PubSub   *PubSub
	Blocking *Blocking // clients waiting in XREAD BLOCK; nil: blocking reads answer an error
	Tracking *Tracking // CLIENT TRACKING's key table; nil: tracking answers an error
	Monitors Monitors  // clients in MONITOR mode (monitor.go)
	Pause    Pause     // CLIENT PAUSE state (pause.go)
	Persist  Persister // SAVE / BGSAVE; nil: they answer an error (persist.go)
	Config   Config
	Stats    Stats
	Logger   *slog.Logger // warnings (failed AUTH) and scripts' redis.log lines; nil: slog.Default()
	ACLLog   ACLLog
	Users    ACLUsers // ACL users (acl.go)
	// Version is the personality vdr answers as (the primary's version,
	// or --compat); nil answers as compat.Default.
	Version   *compat.Holder
	RunID     string // 40 hex characters
	StartTime time.Time
	TCPPort   int
	// NodeID and ShardID are vdr's cluster node and shard IDs (40 hex
	// characters; CLUSTER MYID, MYSHARDID) in ClusterMode. The server
	// draws them at start; empty ones answer as IDs drawn once per
	// process.
	NodeID, ShardID string

	nextClientID atomic.Int64
	persist      persistState                  // SAVE / BGSAVE bookkeeping (persist.go)
	scripts      atomic.Pointer[script.Engine] // see Scripts
	obs          obsHolder                     // commandstats, slow log, latency monitor (cmdstats.go)
}

// NewClientID returns the next client ID (monotonic, from 1 — as Redis's
// server.next_client_id).
func (e *Env) NewClientID() int64 { return e.nextClientID.Add(1) }

// Client is one connection's state. The connection's goroutine owns it;
// fields other goroutines read (CLIENT LIST) are behind mu.
type Client struct {
	ID        int64
	Addr      string // remote address "ip:port" or "/path:0"
	LAddr     string // local address
	FD        int
	CreatedAt time.Time

	// Push queues an out-of-band message (pub/sub) for the connection;
	// set by the server. It must not block; it returns false when the
	// client was dropped for exceeding its output buffer limit.
	Push func(b []byte) bool
	// Master marks the link to the primary shown as a client (CLIENT
	// LIST flags=M); see MasterLink.
	Master bool
	// Wake, when set, asks the connection to retry its blocked read
	// (Ctx.RetryBlocked) on its own goroutine; nil: the front end cannot
	// park a connection, so blocking reads answer an error.
	Wake func()

	mu           sync.Mutex
	name         string
	libName      string
	libVer       string
	lastCmd      atomic.Pointer[Command] // read by CLIENT LIST on other goroutines
	lastInteract atomic.Int64            // Unix ns of the last read from the socket
	totCmds      atomic.Int64            // commands run: CLIENT INFO tot-cmds (Valkey 8)
	nWatched     atomic.Int32            // len(watched), for CLIENT LIST on other goroutines
	db           int
	resp         int
	noEvict      bool
	noTouch      bool
	// capaRedirect: CLIENT CAPA REDIRECT (Valkey 8.0) — reads and writes
	// answer -REDIRECT to the primary unless readonlyMode (READONLY).
	capaRedirect, readonlyMode bool
	authenticated              bool
	user                       atomic.Pointer[aclUser] // nil: the default user (acl_check.go)
	killed                     atomic.Bool
	monitor                    atomic.Bool    // in Env.Monitors (MONITOR)
	xreadWaiting               atomic.Bool    // parked in XREAD BLOCK (CLIENT UNBLOCK reads it)
	unblockReq                 atomic.Int32   // CLIENT UNBLOCK's request: unblockTimeout or unblockError
	replica                    atomic.Bool    // a replica served (downstream.go)
	repl                       *replconf      // REPLCONF/SYNC state (downstream.go)
	trk                        clientTracking // CLIENT TRACKING state (tracking.go)

	// Owned by the connection goroutine.
	inMulti    bool
	dirtyExec  bool
	multiQueue [][][]byte
	watched    []watchedKey // WATCH: keys with the fingerprint they had
	blocked    *blockedRead // XREAD BLOCK waiting for data (blocking.go)
	closeAfter bool
	// CLIENT REPLY state (CLIENT_REPLY_OFF / _SKIP / _SKIP_NEXT).
	replyOff, replySkip, replySkipNext bool
	subChannels                        map[string]struct{}
	subPatterns                        map[string]struct{}
	subShard                           map[string]struct{}

	// Counters owned by the connection goroutine, added to Env.Stats by
	// FlushStats (once per batch of requests, to keep shared atomics off
	// the per-command path).
	nCmds, nHits, nMisses int64
}

// FlushStats adds the client's counters to the server-wide Stats.
func (c *Ctx) FlushStats() {
	cl, st := c.Client, &c.Env.Stats
	c.clockMark = 0 // the next command starts a new batch (callStart)
	if cl.nCmds != 0 {
		st.CommandsProcessed.Add(cl.nCmds)
		cl.nCmds = 0
	}
	if cl.nHits != 0 {
		st.KeyspaceHits.Add(cl.nHits)
		cl.nHits = 0
	}
	if cl.nMisses != 0 {
		st.KeyspaceMisses.Add(cl.nMisses)
		cl.nMisses = 0
	}
	if errs := c.W.TakeErrors(); len(errs) > 0 {
		st.ErrorReplies.Add(int64(len(errs)))
		st.countErrors(errs)
	}
}

// NewClient returns a client in RESP2 on database 0.
func NewClient(id int64, addr, laddr string) *Client {
	cl := &Client{ID: id, Addr: addr, LAddr: laddr, CreatedAt: time.Now(), resp: 2}
	cl.lastInteract.Store(cl.CreatedAt.UnixNano())
	return cl
}

// Touch records activity on the connection (Redis's lastinteraction);
// the server calls it once per read from the socket.
func (cl *Client) Touch(now time.Time) { cl.lastInteract.Store(now.UnixNano()) }

// Name is the name set by CLIENT SETNAME or HELLO SETNAME.
func (cl *Client) Name() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.name
}

// DB is the selected database.
func (cl *Client) DB() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.db
}

// CloseAfterReply reports whether the connection must be closed once the
// pending reply is written (QUIT, CLIENT KILL of itself).
func (cl *Client) CloseAfterReply() bool { return cl.closeAfter }

// SetKilled marks the client as killed (by CLIENT KILL from another
// connection); the server closes it.
func (cl *Client) SetKilled() { cl.killed.Store(true) }

// Subscriptions is the number of channels + patterns + shard channels.
func (cl *Client) Subscriptions() int {
	return len(cl.subChannels) + len(cl.subPatterns) + len(cl.subShard)
}

// Ctx is what a handler sees: the reply writer, the client and the shared
// environment.
type Ctx struct {
	W      *Writer
	Client *Client
	Env    *Env

	cmd *Command
	tx  *projection.View // non-nil inside EXEC: all reads share one atomic view
	// touchOff: the current command's reads leave access times alone.
	touchOff bool
	retrying bool // RetryBlocked is re-running a blocked read
	inScript bool // the command was called by a script (redis.call)
	// pfWrites: single-key PFCOUNTs inside a transaction or script whose
	// cache write waits for its view to end (hll.go).
	pfWrites []pfWrite
	// errPrev is how many error replies the writer held after the last
	// call or rejection: more after a command means it failed
	// (incrCommandStatsOnError's prev_err_count).
	errPrev int
	// clockMark is when the last command of the current batch ended
	// (nanotime; 0 at a batch's start), callDepth how many calls are
	// running (EXEC's queued commands run inside EXEC's): see callStart.
	clockMark int64
	callDepth int
	// lastLookup remembers the last command looked up (lookupCommand).
	lastLookup lookupMemo
}

// NewCtx returns a Ctx for one connection.
func NewCtx(env *Env, cl *Client) *Ctx {
	c := &Ctx{W: NewWriter(), Client: cl, Env: env}
	c.setDefaultAuth()
	return c
}

// Version is the personality the command answers as.
func (c *Ctx) Version() compat.Version { return c.Env.Version.Load() }

// Authenticated reports whether the client passed AUTH (or needs none).
func (c *Ctx) Authenticated() bool {
	return !c.authRequired()
}

// Killed reports whether CLIENT KILL targeted this client.
func (cl *Client) Killed() bool { return cl.killed.Load() }
