package server

// A Node is a whole vdr process minus flag parsing: the replica client
// applying a primary's stream to a projection, the Redis-protocol front end
// serving it, the HTTP endpoint for metrics and probes, and the snapshot
// that lets a restart resume with a partial sync. cmd/vdr builds
// NodeOptions from flags and calls NewNode, Start and Close.
//
//	primary ──PSYNC──▶ replica.Client ──Handler──▶ linkHandler ──▶ projection
//	                                                      │             │
//	                          HTTP /metrics /readyz ◀─────┘   Server ◀──┘ reads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/replica"
)

// NodeOptions configures a Node. The zero value of each field means its
// default.
type NodeOptions struct {
	// Server configures the front end. Its Projection and Replication are
	// set by the node.
	Server Options
	// Replica configures the link to the primary (its Handler is set by
	// the node). Nil means no primary: the node serves RDBFile, or an empty
	// projection.
	Replica *replica.Options
	// Cluster, when set, replicates a whole Redis Cluster: one link per
	// shard into the one projection (cluster.go). Replica must be nil.
	Cluster *ClusterOptions
	// RDBFile is a static RDB file to serve read-only instead of a primary.
	RDBFile string
	// Projection tunes the projection (databases, shards, unknown-command
	// policy). Its NumDBs defaults to Server.Databases.
	Projection projection.Options
	// DropOldOnFullSync empties the projection when a full sync starts,
	// instead of serving the old data until the new load completes (for
	// hosts without memory for two copies).
	DropOldOnFullSync bool
	// HugePages backs the dense parts of the Go heap with transparent huge
	// pages (Linux: each 2 MiB stretch nearly all resident is collapsed
	// with madvise MADV_COLLAPSE; sparse ones are left alone, see
	// adviseHugePages) after each load and every 30 s. A projection is a large heap read at random, so with 4 KiB
	// pages nearly every key lookup also misses the TLB, and in a virtual
	// machine a TLB miss walks two levels of page tables: at -P 16 GET on
	// 1M keys, map lookups took 42% of the CPU, 26% with huge pages.
	// Unlike Redis (which disables THP because fork's copy-on-write would
	// copy 2 MiB per touched page), vdr never forks.
	HugePages bool
	// GCPercent is the GOGC the process runs with between loads (a load
	// runs with loadGCPercent): how far the heap may grow past what the
	// last collection found live before the next one starts, so what RSS
	// rises to under overwrites and deletes. The projection's string
	// records hold no pointers, so a collection marks them without
	// scanning them, and a lower setting costs less CPU than in a
	// pointer-heavy heap. 0 leaves the runtime's (the GOGC environment
	// variable, else 100); the vdr command's default is 25 (gc-percent:
	// under the churn scenario it held RSS at 0.77× a Redis replica's
	// where 100 let it reach 1.08×, for ~10% more of vdr's CPU).
	GCPercent int

	// HTTPAddr serves /metrics, /livez and /readyz; empty means none.
	HTTPAddr string
	// Pprof also serves /debug/pprof on HTTPAddr.
	Pprof bool

	// SnapshotPath, when set, is written on Close (and every
	// SnapshotInterval) and loaded by Start, so a restart resumes with a
	// partial sync.
	SnapshotPath     string
	SnapshotInterval time.Duration
	// Dir and DBFilename name the file SAVE and BGSAVE write when
	// SnapshotPath is empty, as Redis's dir and dbfilename (default
	// dump.rdb in the working directory).
	Dir, DBFilename string

	// ProgressInterval is how often a long full sync logs its progress;
	// default 5s.
	ProgressInterval time.Duration
	// ShutdownTimeout bounds Close; default 10s.
	ShutdownTimeout time.Duration
	// ReplBacklogSize sizes the backlog replicas of this node are served
	// from (repl-backlog-size); default DefaultReplBacklogSize.
	ReplBacklogSize int
	// DownstreamFiltered lets a vdr with db or key-prefix filters serve
	// replicas its own, filtered data and stream, under a replication ID
	// of its own (downstream_own.go); without it such a vdr refuses them.
	DownstreamFiltered bool

	Logger *slog.Logger
}

// Node is a running vdr.
type Node struct {
	opts   NodeOptions
	log    *slog.Logger
	proj   *projection.Projection
	srv    *Server
	client *replica.Client
	link   *linkHandler
	// cluster replicates a Redis Cluster (NodeOptions.Cluster); nil otherwise.
	cluster *clusterState
	http    *http.Server
	httpLn  net.Listener

	started time.Time
	// hugeLogged: the outcome of the first huge-page advice was logged.
	hugeLogged atomic.Bool
	cancel     context.CancelFunc
	bg         sync.WaitGroup
	closeMu    sync.Mutex
	closed     bool
	closeErr   error
}

// NewNode validates the options and builds a Node; nothing listens or
// connects until Start.
func NewNode(o NodeOptions) (*Node, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 5 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.Replica != nil && o.RDBFile != "" {
		return nil, errors.New("server: serve a primary or an RDB file, not both")
	}
	if o.Cluster != nil && (o.Replica != nil || o.RDBFile != "") {
		return nil, errors.New("server: replicate a cluster, a primary or an RDB file, not two")
	}
	if o.Projection.NumDBs == 0 {
		o.Projection.NumDBs = o.Server.Databases
	}
	if o.Projection.Logger == nil {
		o.Projection.Logger = o.Logger // --log-format json reaches its warnings too
	}
	proj, err := projection.New(o.Projection)
	if err != nil {
		return nil, err
	}
	n := &Node{opts: o, log: o.Logger, proj: proj}
	n.link = newLinkHandler(n)
	so := o.Server
	so.Projection = proj
	so.Databases = proj.NumDBs()
	if so.Logger == nil {
		so.Logger = o.Logger
	}
	var down *downstreams
	if o.Cluster != nil {
		if n.cluster, err = newClusterState(n, *o.Cluster); err != nil {
			return nil, err
		}
		so.Replication = clusterInfo{n.cluster}
		so.SwitchPrimary = func(string, int) (bool, error) { return false, errClusterReplicaOf }
		// Clients see one node owning every slot (commands/cluster.go).
		so.ClusterMode = true
	}
	if o.Replica != nil {
		so.Replication = linkInfo{n.link}
		so.SwitchPrimary, so.CurrentPrimary, so.PrimaryDemoted = n.switchPrimary, n.currentPrimary, n.primaryDemoted
		if so.PrimaryAddr == "" {
			so.PrimaryAddr = o.Replica.Primary
			so.PrimaryUser, so.PrimaryPassword = o.Replica.Username, o.Replica.Password
		}
		ro := *o.Replica
		ro.Handler = n.link
		filtered := len(ro.DBs) > 0 || len(ro.KeyPrefixes) > 0
		down = newDownstreams(n, o.ReplBacklogSize, filtered && o.DownstreamFiltered)
		if !down.own {
			ro.Tap = down.bl
		}
		if ro.PrimaryConfig == nil {
			ro.PrimaryConfig = primaryConfigNames
		}
		if ro.Logger == nil {
			ro.Logger = o.Logger
		}
		n.opts.Replica = &ro
	}
	n.srv, err = New(so)
	if err != nil {
		return nil, err
	}
	if o.Replica != nil || o.Cluster != nil {
		n.srv.env.Persist = nodePersister{n} // SAVE / BGSAVE (node_snapshot.go)
	}
	if o.Dir != "" { // CONFIG GET dir / dbfilename name where SAVE writes
		if abs, err := filepath.Abs(o.Dir); err == nil {
			n.srv.env.SetConfigValue("dir", abs)
		}
	}
	if o.DBFilename != "" {
		n.srv.env.SetConfigValue("dbfilename", o.DBFilename)
	}
	n.srv.down = down
	return n, nil
}

// Projection returns the data the node serves.
func (n *Node) Projection() *projection.Projection { return n.proj }

// Server returns the front end.
func (n *Node) Server() *Server { return n.srv }

// Client returns the replica client, nil without a primary.
func (n *Node) Client() *replica.Client { return n.client }

// Addr returns the front end's TCP address.
func (n *Node) Addr() string { return n.srv.Addr() }

// HTTPAddr returns the HTTP endpoint's address, "" when off.
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return ""
	}
	return n.httpLn.Addr().String()
}

// Start loads the snapshot or RDB file, starts listening, and starts
// replicating. With a primary it returns at once; Ready turns true after
// the first full sync (or snapshot load).
func (n *Node) Start() error {
	n.started = time.Now()
	if n.opts.GCPercent > 0 {
		debug.SetGCPercent(n.opts.GCPercent)
	}
	if v := n.opts.Server.Compat; v != (compat.Version{}) {
		n.setPersonality(v, "--compat")
	}
	if n.opts.RDBFile != "" {
		// Without --compat, answer as the server that wrote the file.
		if v, ok := readRDBVersion(n.opts.RDBFile); ok && n.opts.Server.Compat == (compat.Version{}) {
			n.setPersonality(v, "the RDB file's server version")
		}
		if _, err := n.loadRDBFile(n.opts.RDBFile); err != nil {
			return err
		}
		n.link.firstSyncDone.Store(true)
	}
	n.removeStaleSnapshotTemps()
	if (n.opts.Replica != nil || n.cluster != nil) && n.opts.SnapshotPath != "" {
		if err := n.loadSnapshot(); err != nil {
			return err
		}
	}
	// The Redis listener first: /readyz may answer ready as soon as the
	// HTTP server is up (a loaded --rdb file is ready at once), and ready
	// means a client can connect.
	if err := n.srv.Start(); err != nil {
		return err
	}
	if n.opts.HTTPAddr != "" {
		if err := n.startHTTP(); err != nil {
			n.srv.Close()
			return err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	if n.cluster != nil {
		if err := n.cluster.start(ctx); err != nil {
			cancel()
			n.srv.Close()
			n.closeHTTP(context.Background())
			return err
		}
		if n.opts.SnapshotInterval > 0 && n.opts.SnapshotPath != "" {
			n.bg.Add(1)
			go func() { defer n.bg.Done(); n.snapshotLoop(ctx) }()
		}
	}
	if n.opts.Replica != nil {
		ro := *n.opts.Replica
		if ro.ListeningPort == 0 {
			if _, p, err := net.SplitHostPort(n.srv.Addr()); err == nil {
				fmt.Sscan(p, &ro.ListeningPort)
			}
		}
		if ro.ReadBytes == nil {
			ro.ReadBytes = &n.srv.env.Stats.NetReplInputBytes
		}
		n.client = replica.New(ro)
		if err := n.client.Start(ctx); err != nil {
			cancel()
			n.srv.Close()
			n.closeHTTP(context.Background())
			return err
		}
		n.bg.Add(1)
		go func() { defer n.bg.Done(); n.progressLoop(ctx) }()
		if n.opts.HugePages {
			n.bg.Add(1)
			go func() { defer n.bg.Done(); n.hugePagesLoop(ctx) }()
		}
		if d := n.srv.down; d != nil && d.own {
			n.bg.Add(1)
			go func() { defer n.bg.Done(); d.ownPingLoop(ctx.Done()) }()
		}
		if n.opts.SnapshotInterval > 0 && n.opts.SnapshotPath != "" {
			n.bg.Add(1)
			go func() { defer n.bg.Done(); n.snapshotLoop(ctx) }()
		}
	}
	// Only what is set: no http="" or rdb="" noise.
	attrs := []any{"addr", n.srv.Addr()}
	cluster := ""
	if n.opts.Cluster != nil {
		cluster = strings.Join(n.opts.Cluster.Seeds, ",")
	}
	for _, kv := range [][2]string{{"http", n.HTTPAddr()}, {"primary", primaryName(n.opts.Replica)}, {"cluster", cluster}, {"rdb", n.opts.RDBFile}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	n.log.Info("vdr started", attrs...)
	return nil
}

func primaryName(o *replica.Options) string {
	switch {
	case o == nil:
		return ""
	case o.Sentinel != nil:
		return "sentinel:" + o.Sentinel.MasterName
	}
	return o.Primary
}

// Ready reports whether the node serves a complete data set: it accepts
// clients, its first full sync (or snapshot or RDB file load) completed,
// and, with MaxStaleness, the link has not been down longer than that.
func (n *Node) Ready() bool {
	if !n.srv.Serving() || !n.link.firstSyncDone.Load() {
		return false
	}
	if n.opts.Replica == nil {
		return n.cluster == nil || n.clusterFresh()
	}
	if ms := n.opts.Server.MaxStaleness; ms > 0 {
		st := linkInfo{n.link}.ReplState()
		if !st.LinkUp && !st.LinkDownSince.IsZero() && time.Since(st.LinkDownSince) > ms {
			return false
		}
	}
	return true
}

// Close shuts the node down: the front end stops accepting and finishes
// in-flight replies, the replica link stops, the snapshot is written when
// configured, and the HTTP endpoint closes. It is safe to call twice.
func (n *Node) Close() error {
	n.closeMu.Lock()
	defer n.closeMu.Unlock()
	if n.closed {
		return n.closeErr
	}
	n.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), n.opts.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := n.srv.Close(); err != nil {
		errs = append(errs, err)
	}
	if n.client != nil {
		n.client.Stop()
	}
	if n.cluster != nil {
		n.cluster.stop()
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.closeHTTP(ctx)
	n.bg.Wait()
	if (n.client != nil || n.cluster != nil) && n.opts.SnapshotPath != "" {
		if err := n.saveSnapshot(); err != nil {
			errs = append(errs, err)
		}
	}
	n.closeErr = errors.Join(errs...)
	n.log.Info("vdr stopped", "error", n.closeErr)
	return n.closeErr
}

// progressRate is a load's rate in bytes per second since the last
// progress line (lastBytes at lastAt), or for the first line since the
// load began (the first line used to say 0).
func progressRate(p replica.Progress, lastBytes int64, lastAt, now time.Time) float64 {
	from, fromBytes := lastAt, lastBytes
	if from.IsZero() {
		from, fromBytes = p.Started, 0
	}
	if from.IsZero() || !now.After(from) {
		return 0
	}
	return float64(p.Bytes-fromBytes) / now.Sub(from).Seconds()
}

// progressLoop logs a line every ProgressInterval while a full sync loads.
func (n *Node) progressLoop(ctx context.Context) {
	t := time.NewTicker(n.opts.ProgressInterval)
	defer t.Stop()
	var lastBytes int64
	var lastAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p := n.client.SyncProgress()
		if !p.Active {
			lastBytes, lastAt = 0, time.Time{}
			continue
		}
		now := time.Now()
		rate := progressRate(p, lastBytes, lastAt, now)
		lastBytes, lastAt = p.Bytes, now
		attrs := []any{"bytes", p.Bytes, "keys", p.Keys, "rate_mb_s", fmt.Sprintf("%.1f", rate/1e6)}
		if p.Total > 0 {
			pct := 100 * float64(p.Bytes) / float64(p.Total)
			attrs = append(attrs, "total", p.Total, "percent", fmt.Sprintf("%.1f", pct))
			if rate > 0 {
				eta := time.Duration(float64(p.Total-p.Bytes) / rate * float64(time.Second))
				attrs = append(attrs, "eta", eta.Round(time.Second).String())
			}
		}
		n.log.Info("full sync in progress", attrs...)
	}
}
