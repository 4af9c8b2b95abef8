package server

// Replicating a whole Redis Cluster into one projection.
//
//	seed ──CLUSTER SHARDS──▶ topology (refreshed every RefreshInterval and on link errors)
//	                            │
//	   shard A ──PSYNC──▶ shardLink A ─┐
//	   shard B ──PSYNC──▶ shardLink B ─┼─▶ applyMu (the single applier) ─▶ slot filter ─▶ projection (db 0)
//	   shard C ──PSYNC──▶ shardLink C ─┘
//
// Every shard has its own replica.Client, which reconnects, resumes with
// PSYNC and full-syncs on its own. The projection has one applier, so the
// links take turns under applyMu: a batch of commands, or the commit of a
// shard's full sync, runs whole before another link's.
//
// Slot ownership. For each of the 16384 slots vdr keeps its writers: the
// shards whose streams may carry writes to it, oldest first. Normally
// that is one shard, the owner the cluster reports. While a slot moves
// (resharding: MIGRATE sends RESTORE-ASKING to the target and propagates
// DEL on the source, see src/cluster.c migrateCommand) the target's
// stream starts writing the slot before the topology says it owns it, and
// the source's stream still carries writes made before each key left.
// The two streams arrive in any order, so:
//
//   - A write from a shard that is not yet a writer of the slot makes it
//     the newest writer (it imports the slot).
//   - A key written by the newest writer while the slot has several is
//     "held" by it; an older writer's events on a held key are older than
//     what the newest wrote (a key leaves the source once, by MIGRATE, and
//     the source never writes it again), so they are dropped and counted.
//     Events of an older writer on keys the newer one never touched are
//     applied: those keys have not moved yet.
//   - When the topology names a new owner, the shards that owned the slot
//     before stay older writers until their link has applied the offset
//     their primary had reached when vdr saw the change (read from the
//     primary itself): past it their stream holds nothing of the slot. Then
//     they are dropped, and the held keys of a slot with one writer left
//     are forgotten.
//
// A full sync of a shard replaces only the keys it is authoritative for:
// the keys of slots it is the only writer of, the keys it holds, and the
// un-held keys of slots it is the oldest writer of (projection
// CommitClaimed); a FLUSHALL in its stream removes the same set.
//
// A slot the cluster reports no owner for keeps its writers ("a shard
// that goes away releases its slots only once another owns them") and is
// counted; a slot two shards claim (a cluster that disagrees with itself)
// keeps what vdr had and is counted too.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/internal/keyslot"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/replica"
)

// ClusterOptions configures the replication of a whole Redis Cluster
// (NodeOptions.Cluster).
type ClusterOptions struct {
	// Seeds are host:port addresses of cluster nodes; the topology is read
	// from the first that answers (then from any node it reported).
	Seeds []string
	// ReplicateFrom is "primary" (default) or "replica": each shard's link
	// goes to one of its replicas, sparing the primaries, or to the primary
	// when it has no healthy replica.
	ReplicateFrom string
	// Link is the template of every shard's link: authentication, TLS,
	// timeouts, key prefixes. Its Primary and Handler are set per shard.
	Link replica.Options
	// RefreshInterval is how often the topology is read again; default 5s.
	// A link that fails also triggers a refresh.
	RefreshInterval time.Duration
	// UnreachableGrace is how long a shard that has never synced may fail
	// to connect before the others are served without it (its keys answer
	// as missing; /readyz stays unready until it syncs). Default 30s.
	UnreachableGrace time.Duration
}

// Errors of cluster replication.
var (
	// ErrClusterSeeds reports a cluster configuration without seeds.
	ErrClusterSeeds = errors.New("server: cluster replication needs at least one seed address")
	// errClusterReplicaOf answers REPLICAOF: each shard's link follows the
	// cluster's topology.
	errClusterReplicaOf = errors.New("vdr replicates a cluster (--cluster): each shard's link follows the topology, REPLICAOF does not apply")
)

// maxWriters bounds the writers of one slot (a slot moved back and forth
// faster than the streams drain).
const maxWriters = 8

// slotState is what vdr knows of one slot: its writers, oldest first (the
// last is the newest), and for each older writer the offset its link must
// apply before it is dropped (math.MaxInt64: not yet known).
type slotState struct {
	writers []*shardLink
	cutoff  []int64
}

func (st *slotState) index(l *shardLink) int { return slices.Index(st.writers, l) }

func (st *slotState) newest() *shardLink {
	if len(st.writers) == 0 {
		return nil
	}
	return st.writers[len(st.writers)-1]
}

// push makes l the newest writer.
func (st *slotState) push(l *shardLink) {
	if i := st.index(l); i >= 0 {
		st.writers = slices.Delete(st.writers, i, i+1)
		st.cutoff = slices.Delete(st.cutoff, i, i+1)
	}
	if len(st.writers) == maxWriters {
		st.writers, st.cutoff = st.writers[1:], st.cutoff[1:]
	}
	st.writers = append(st.writers, l)
	st.cutoff = append(st.cutoff, math.MaxInt64)
}

// clusterState is a Node's replication of a cluster.
type clusterState struct {
	n    *Node
	opts ClusterOptions
	log  *slog.Logger
	// ctx runs the links and the refresh loop; cancel ends them.
	ctx    context.Context
	cancel context.CancelFunc

	// applyMu makes the links one applier; it guards slots, held and the
	// scratch below, and every call into the projection's applier side.
	applyMu sync.Mutex
	slots   [keyslot.Slots]slotState
	// held: keys the newest writer of a slot with several writers wrote.
	held  map[string]*shardLink
	keys  [][]byte
	batch []projection.Command
	argv  [][]byte

	mu     sync.Mutex // guards links, nodes, resume
	links  []*shardLink
	resume map[string]resumePos // node ID → its shard's position in the loaded snapshot
	nodes  []string             // every node address of the last topology, to ask next time
	nextID int

	kick    chan struct{}
	bg      sync.WaitGroup
	allDone atomic.Bool // every shard has completed a full sync once
	// serving: allDone, or some shards synced and the others have been
	// unreachable longer than UnreachableGrace (the LOADING gate).
	serving atomic.Bool
	// The links together, for the per-command gate (updateLinks).
	allUp     atomic.Bool
	downSince atomic.Int64

	// Counters (metrics, INFO).
	refreshes     atomic.Int64
	topoErrors    [topoErrKinds]atomic.Int64
	dropped       [dropKinds]atomic.Int64
	unownedSlots  atomic.Int64
	conflictSlots atomic.Int64
}

// Reasons a write from a shard's stream is not applied.
const (
	dropStale    = iota // an older writer's event on a key a newer writer holds
	dropOtherDB         // a database other than 0 (a cluster has only db 0)
	dropFlushAll        // keys removed by a shard's FLUSHALL / FLUSHDB (counted per key)
	dropKinds
)

var dropNames = [dropKinds]string{"stale", "other_db", "flushall"}

// Kinds of topology errors.
const (
	topoUnreachable = iota // no seed or known node answered
	topoNotCluster         // a seed answered, but is not a cluster node
	topoConflict           // two shards claim a slot
	topoAuth               // a node refused the credentials
	topoErrKinds
)

var topoErrNames = [topoErrKinds]string{"unreachable", "not_cluster", "conflict", "auth"}

func newClusterState(n *Node, o ClusterOptions) (*clusterState, error) {
	if len(o.Seeds) == 0 {
		return nil, ErrClusterSeeds
	}
	for _, s := range o.Seeds {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return nil, fmt.Errorf("server: cluster seed %q: want host:port", s)
		}
	}
	switch o.ReplicateFrom {
	case "":
		o.ReplicateFrom = "primary"
	case "primary", "replica":
	default:
		return nil, fmt.Errorf("server: cluster replicate-from %q: want primary or replica", o.ReplicateFrom)
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = 5 * time.Second
	}
	if o.UnreachableGrace <= 0 {
		o.UnreachableGrace = 30 * time.Second
	}
	if o.Link.Logger == nil {
		o.Link.Logger = n.log
	}
	return &clusterState{n: n, opts: o, log: n.log, held: map[string]*shardLink{}, kick: make(chan struct{}, 1)}, nil
}

// start reads the topology once (failing when no seed answers as a
// cluster node, so a wrong --cluster is reported at once), starts a link
// per shard, and keeps refreshing in the background.
func (cs *clusterState) start(ctx context.Context) error {
	ctx, cs.cancel = context.WithCancel(ctx)
	cs.ctx = ctx
	if err := cs.refresh(ctx); err != nil && errors.Is(err, replica.ErrNotCluster) {
		cs.cancel()
		return err
	}
	cs.bg.Add(1)
	go func() { defer cs.bg.Done(); cs.refreshLoop(ctx) }()
	return nil
}

// stop ends the refresh loop and every link.
func (cs *clusterState) stop() {
	if cs.cancel != nil {
		cs.cancel()
	}
	cs.mu.Lock()
	links := slices.Clone(cs.links)
	cs.mu.Unlock()
	for _, l := range links {
		l.client.Stop()
	}
	cs.bg.Wait()
}

func (cs *clusterState) refreshLoop(ctx context.Context) {
	t := time.NewTicker(cs.opts.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cs.checkReady() // the unreachable grace may have passed
		case <-cs.kick:
			// a link failed: the shard may have failed over or moved
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		cs.refresh(ctx)
	}
}

// kickRefresh asks for a refresh soon (a link failed).
func (cs *clusterState) kickRefresh() {
	select {
	case cs.kick <- struct{}{}:
	default:
	}
}

// discover reads the topology from the seeds, then from the nodes of the
// last topology, whichever answers first.
func (cs *clusterState) discover(ctx context.Context) ([]replica.ClusterShard, error) {
	cs.mu.Lock()
	addrs := append(slices.Clone(cs.opts.Seeds), cs.nodes...)
	cs.mu.Unlock()
	var errs []error
	tried := map[string]bool{}
	for _, a := range addrs {
		if tried[a] {
			continue
		}
		tried[a] = true
		shards, err := replica.DiscoverCluster(ctx, cs.opts.Link, a)
		if err == nil {
			return shards, nil
		}
		if errors.Is(err, replica.ErrNotCluster) {
			cs.topoErrors[topoNotCluster].Add(1)
			cs.log.Error("cluster: a seed is not a cluster node (cluster-enabled no?)", "seed", a, "error", err)
		}
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	switch {
	case errors.Is(err, replica.ErrAuth):
		cs.topoErrors[topoAuth].Add(1)
	case !errors.Is(err, replica.ErrNotCluster):
		cs.topoErrors[topoUnreachable].Add(1)
	}
	return nil, err
}

// refresh reads the topology and applies it: new shards get a link,
// links follow failovers, slot owners change.
func (cs *clusterState) refresh(ctx context.Context) error {
	shards, err := cs.discover(ctx)
	if err != nil {
		cs.log.Warn("cluster: cannot read the topology; the shards keep the slots they had", "error", err)
		return err
	}
	cs.refreshes.Add(1)
	// Match each shard to a link by the node IDs they share (a failover
	// keeps the shard's nodes, promoting one); new shards get a new link.
	var owner [keyslot.Slots]*shardLink
	var conflict [keyslot.Slots]bool
	var started []*shardLink
	targets := map[*shardLink]replica.ClusterShard{}
	cs.mu.Lock()
	cs.nodes = cs.nodes[:0]
	for _, sh := range shards {
		for _, nd := range sh.Nodes {
			cs.nodes = append(cs.nodes, nd.Addr)
		}
		if _, ok := sh.PrimaryNode(); !ok {
			continue
		}
		// A primary without slots gets a link too: a node just added
		// receives its first slot's keys (RESTORE-ASKING) before the
		// topology gives it the slot.
		l := cs.linkFor(sh)
		if l == nil {
			l = cs.newLink(sh)
			started = append(started, l)
		}
		targets[l] = sh
		for _, r := range sh.Slots {
			for s := r[0]; s <= r[1]; s++ {
				if owner[s] != nil && owner[s] != l {
					conflict[s] = true
				}
				owner[s] = l
			}
		}
	}
	links := slices.Clone(cs.links)
	cs.mu.Unlock()

	nConflict := 0
	for _, c := range conflict {
		if c {
			nConflict++
		}
	}
	if nConflict > 0 {
		cs.topoErrors[topoConflict].Add(1)
	}
	if prev := cs.conflictSlots.Swap(int64(nConflict)); prev != int64(nConflict) && nConflict > 0 {
		cs.log.Error("cluster: the cluster reports conflicting owners; those slots keep the owner vdr had", "slots", nConflict)
	}

	// Offsets of the primaries that lose slots, read from each primary
	// itself (gossip's copy lags).
	losing := map[*shardLink]bool{}
	cs.applyMu.Lock()
	for s := range cs.slots {
		o, st := owner[s], &cs.slots[s]
		if o == nil || conflict[s] {
			continue
		}
		oi := st.index(o)
		if oi < 0 {
			oi = len(st.writers)
		}
		for i, w := range st.writers[:oi] {
			if st.cutoff[i] == math.MaxInt64 {
				losing[w] = true
			}
		}
	}
	cs.applyMu.Unlock()
	cutoffs := map[*shardLink]int64{}
	for l := range losing {
		cutoffs[l] = cs.primaryOffset(ctx, l)
	}

	moved := map[*shardLink]int{}
	cs.applyMu.Lock()
	unowned := 0
	for s := range cs.slots {
		st := &cs.slots[s]
		o := owner[s]
		switch {
		case conflict[s]:
			continue
		case o == nil:
			unowned++
			continue
		case st.index(o) < 0:
			moved[o]++
			st.push(o)
		}
		// Writers older than the owner lose the slot: from the offset
		// their primary has now on, their streams hold nothing of it.
		oi := st.index(o)
		for i := 0; i < oi; i++ {
			if st.cutoff[i] == math.MaxInt64 {
				if c, ok := cutoffs[st.writers[i]]; ok {
					st.cutoff[i] = c
				}
			}
		}
		cs.pruneLocked(s)
	}
	prevUnowned := cs.unownedSlots.Swap(int64(unowned))
	cs.purgeHeldLocked()
	for _, l := range links {
		n := 0
		for s := range cs.slots {
			if cs.slots[s].newest() == l {
				n++
			}
		}
		l.slots.Store(int64(n))
	}
	cs.applyMu.Unlock()
	for l, n := range moved {
		if cs.refreshes.Load() > 1 {
			cs.log.Info("cluster: slots change owner", "shard", l.id, "slots", n)
		}
	}
	if unowned > 0 && int64(unowned) != prevUnowned {
		cs.log.Warn("cluster: slots without an owner (their keys answer as missing unless a shard held them before)", "slots", unowned)
	}

	for l, sh := range targets {
		cs.retarget(l, sh)
	}
	for _, l := range started {
		if err := l.client.Start(cs.ctx); err != nil {
			cs.log.Error("cluster: cannot start a shard's link", "shard", l.id, "error", err)
		}
	}
	cs.checkReady()
	return nil
}

// pruneLocked drops the older writers of slot s whose links have applied
// past their cutoff; applyMu is held.
func (cs *clusterState) pruneLocked(s int) {
	st := &cs.slots[s]
	for i := 0; i < len(st.writers)-1; {
		if st.writers[i].applied.Load() >= st.cutoff[i] {
			st.writers = slices.Delete(st.writers, i, i+1)
			st.cutoff = slices.Delete(st.cutoff, i, i+1)
			continue
		}
		i++
	}
}

// purgeHeldLocked forgets the held keys of slots left with one writer.
func (cs *clusterState) purgeHeldLocked() {
	for k := range cs.held {
		if len(cs.slots[keyslot.Of([]byte(k))].writers) <= 1 {
			delete(cs.held, k)
		}
	}
}

// primaryOffset asks a shard's current primary for its replication
// offset; MaxInt64 when it cannot (the shard then stays a writer).
func (cs *clusterState) primaryOffset(ctx context.Context, l *shardLink) int64 {
	addr := l.primaryAddr.Load()
	if addr == nil {
		return math.MaxInt64
	}
	off, err := replica.ReplOffset(ctx, cs.opts.Link, *addr)
	if err != nil {
		cs.log.Warn("cluster: cannot read the offset of a shard that lost slots; it stays a writer of them", "shard", l.id, "primary", *addr, "error", err)
		return math.MaxInt64
	}
	return off
}

// linkFor returns the link of the shard sharing a node ID with sh; mu is
// held.
func (cs *clusterState) linkFor(sh replica.ClusterShard) *shardLink {
	for _, l := range cs.links {
		for _, nd := range sh.Nodes {
			if nd.ID != "" && l.nodeIDs[nd.ID] {
				for _, nd := range sh.Nodes {
					l.nodeIDs[nd.ID] = true
				}
				return l
			}
		}
	}
	return nil
}

// newLink creates the link of a new shard; mu is held.
func (cs *clusterState) newLink(sh replica.ClusterShard) *shardLink {
	l := &shardLink{cs: cs, id: cs.nextID, nodeIDs: map[string]bool{}}
	cs.nextID++
	for _, nd := range sh.Nodes {
		l.nodeIDs[nd.ID] = true
	}
	addr := cs.pick(sh, "")
	ro := cs.opts.Link
	ro.Primary = addr
	ro.Handler = l
	ro.Logger = cs.log.With("shard", l.id)
	for _, nd := range sh.Nodes {
		if pos, ok := cs.resume[nd.ID]; ok {
			ro.ResumeReplID, ro.ResumeOffset, ro.ResumeDB = pos.replID, pos.offset, 0
			l.applied.Store(pos.offset)
			l.synced.Store(true) // its keys came with the snapshot
			for id, p := range cs.resume {
				if p == pos {
					delete(cs.resume, id)
				}
			}
			break
		}
	}
	l.client = replica.New(ro)
	if p, ok := sh.PrimaryNode(); ok {
		l.primaryAddr.Store(&p.Addr)
	}
	l.downSince.Store(time.Now().UnixNano())
	cs.links = append(cs.links, l)
	cs.allUp.Store(false)
	cs.log.Info("cluster: new shard", "shard", l.id, "replicating", addr, "slots", slotRanges(sh.Slots))
	return l
}

// pick chooses the node a shard's link replicates: its primary, or with
// ReplicateFrom "replica" a healthy replica (cur, when it still is one).
func (cs *clusterState) pick(sh replica.ClusterShard, cur string) string {
	p, _ := sh.PrimaryNode()
	if cs.opts.ReplicateFrom != "replica" {
		return p.Addr
	}
	// CLUSTER SHARDS says "loading" for a replica whose offset the node
	// asked has seen as 0 (src/cluster.c addNodeDetailsToShardReply): it
	// may be syncing, or the gossip may not have told yet. Online
	// replicas first, then those; a failed one never.
	var online, loading string
	for _, nd := range sh.Nodes {
		if nd.Primary || nd.Health == "fail" {
			continue
		}
		if nd.Addr == cur {
			return cur
		}
		switch {
		case nd.Health == "" || nd.Health == "online":
			if online == "" {
				online = nd.Addr
			}
		case loading == "":
			loading = nd.Addr
		}
	}
	switch {
	case online != "":
		return online
	case loading != "":
		return loading
	}
	return p.Addr
}

// retarget points a link at the node it should replicate now (after a
// failover: the promoted replica, which continues the old primary's
// history by psync2).
func (cs *clusterState) retarget(l *shardLink, sh replica.ClusterShard) {
	if p, ok := sh.PrimaryNode(); ok {
		l.primaryAddr.Store(&p.Addr)
	}
	cur := l.client.Primary()
	want := cs.pick(sh, cur)
	if want == "" || want == cur {
		return
	}
	cs.log.Info("cluster: shard moves its link", "shard", l.id, "from", cur, "to", want)
	l.client.SetPrimary(want)
}

// checkReady turns the node ready once every shard with slots has
// completed a full sync, and serving (the LOADING gate) either then or
// once the shards still unsynced have been unreachable for
// UnreachableGrace.
func (cs *clusterState) checkReady() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.links) == 0 {
		return
	}
	synced, waiting := 0, 0
	for _, l := range cs.links {
		switch {
		case l.synced.Load():
			synced++
		case !l.unreachableFor(cs.opts.UnreachableGrace):
			waiting++
		}
	}
	if synced == len(cs.links) {
		if !cs.allDone.Swap(true) {
			cs.log.Info("cluster: every shard has synced", "shards", len(cs.links))
		}
		cs.n.link.firstSyncDone.Store(true)
	}
	if synced > 0 && waiting == 0 && !cs.serving.Swap(true) && synced < len(cs.links) {
		cs.log.Error("cluster: serving without the shards that cannot be reached; their keys answer as missing",
			"synced", synced, "unreachable", len(cs.links)-synced)
	}
}

// updateLinks recomputes the links' joint state for the per-command gate:
// up while every link streams, down since the earliest went down.
func (cs *clusterState) updateLinks() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	up, down := true, int64(0)
	for _, l := range cs.links {
		if !l.linkUp.Load() {
			up = false
			if d := l.downSince.Load(); d != 0 && (down == 0 || d < down) {
				down = d
			}
		}
	}
	cs.allUp.Store(up)
	cs.downSince.Store(down)
}

// slotRanges formats slot ranges as Redis prints them: 0-5460,10923.
func slotRanges(r [][2]int) string {
	var b strings.Builder
	for i, x := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		if x[0] == x[1] {
			fmt.Fprintf(&b, "%d", x[0])
		} else {
			fmt.Fprintf(&b, "%d-%d", x[0], x[1])
		}
	}
	return b.String()
}
