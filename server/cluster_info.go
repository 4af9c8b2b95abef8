package server

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vdr-project/vdr/replica"
)

// The cluster's replication state as the front end (INFO replication,
// ROLE, LOADING, MASTERDOWN) and /metrics see it: the links together, and
// each shard on its own.

// clusterInfo is the ReplicationInfo of a cluster replica.
type clusterInfo struct{ cs *clusterState }

func (cs *clusterState) snapshotLinks() []*shardLink {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return slices.Clone(cs.links)
}

// LinkState implements commands.LinkStater from atomics kept current by
// the links (it runs on every command): synced once every shard has synced
// or the rest are unreachable (checkReady), up while every link streams,
// down since the earliest link went down (updateLinks).
func (ci clusterInfo) LinkState() (firstSyncDone, linkUp bool, downSinceUnixNano int64) {
	cs := ci.cs
	return cs.serving.Load() || cs.allDone.Load(), cs.allUp.Load(), cs.downSince.Load()
}

// ReplState implements ReplicationInfo: the master_* fields describe the
// first shard (clients reading them expect one primary), the shard<i>
// fields every shard.
func (ci clusterInfo) ReplState() ReplState {
	cs := ci.cs
	done, up, down := ci.LinkState()
	st := ReplState{LinkUp: up, FirstSyncDone: done, SyncTotalBytes: -1}
	if down != 0 {
		st.LinkDownSince = time.Unix(0, down)
	}
	links := cs.snapshotLinks()
	for i, l := range links {
		c := l.client
		if l.syncing.Load() {
			st.SyncInProgress = true
		}
		if i == 0 {
			if host, port, err := net.SplitHostPort(c.Primary()); err == nil {
				st.MasterHost = host
				st.MasterPort, _ = strconv.Atoi(port)
			}
			replID, off, _ := c.Position()
			st.MasterReplID, st.ApplyOffset = replID, max(off, 0)
			st.ReadOffset = max(c.PrimaryOffset(), st.ApplyOffset)
			st.State = linkStateWord(replica.State(l.state.Load()))
		}
		if ns := l.lastIO.Load(); ns != 0 && (st.LastIO.IsZero() || time.Unix(0, ns).Before(st.LastIO)) {
			st.LastIO = time.Unix(0, ns) // the stalest shard
		}
		st.Shards = append(st.Shards, [2]string{"shard" + strconv.Itoa(l.id), l.infoLine()})
	}
	return st
}

// infoLine is a shard's INFO replication field, in the form of the
// slave<i> lines of a Redis primary.
func (l *shardLink) infoLine() string {
	c := l.client
	replID, off, _ := c.Position()
	state := linkStateWord(replica.State(l.state.Load()))
	return fmt.Sprintf("primary=%s,state=%s,synced=%d,slots=%d,replid=%s,offset=%d,read_offset=%d,lag=%.3f",
		c.Primary(), state, b2i(l.synced.Load()), l.slots.Load(), replID, max(off, 0), max(c.PrimaryOffset(), 0), l.lagSeconds())
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// linkStateWord is ROLE's word for a link state.
func linkStateWord(s replica.State) string {
	switch s {
	case replica.StateStreaming:
		return "connected"
	case replica.StateTransfer, replica.StateLoading:
		return "sync"
	case replica.StateHandshake:
		return "handshake"
	case replica.StateConnecting:
		return "connecting"
	}
	return "connect"
}

// lagSeconds is how long the shard's applied data has been behind what
// its primary sent (0 when caught up).
func (l *shardLink) lagSeconds() float64 {
	c := l.client
	if c.Offset() >= c.PrimaryOffset() {
		return 0
	}
	ns := l.caughtUp.Load()
	if ns == 0 {
		return 0
	}
	return time.Since(time.Unix(0, ns)).Seconds()
}

// clusterCollector exports each shard's link and the ownership counters.
type clusterCollector struct{ cs *clusterState }

var (
	mShardUp       = prometheus.NewDesc("vdr_cluster_shard_link_up", "1 while the shard's replication link is streaming.", []string{"shard", "node"}, nil)
	mShardState    = prometheus.NewDesc("vdr_cluster_shard_state", "1 for the shard link's current state.", []string{"shard", "state"}, nil)
	mShardSynced   = prometheus.NewDesc("vdr_cluster_shard_synced", "1 once the shard completed a full sync.", []string{"shard"}, nil)
	mShardSlots    = prometheus.NewDesc("vdr_cluster_shard_slots", "Slots the shard owns as vdr tracks them.", []string{"shard"}, nil)
	mShardApplied  = prometheus.NewDesc("vdr_cluster_shard_applied_offset", "Replication offset of the shard applied to the projection.", []string{"shard"}, nil)
	mShardPrimary  = prometheus.NewDesc("vdr_cluster_shard_primary_offset", "Highest replication offset received from the shard.", []string{"shard"}, nil)
	mShardLagBytes = prometheus.NewDesc("vdr_cluster_shard_lag_bytes", "Received but not yet applied bytes of the shard's stream.", []string{"shard"}, nil)
	mShardLagSecs  = prometheus.NewDesc("vdr_cluster_shard_lag_seconds", "Time since the shard was last caught up (0 when caught up).", []string{"shard"}, nil)
	mShardFull     = prometheus.NewDesc("vdr_cluster_shard_full_syncs_total", "Completed full syncs of the shard.", []string{"shard"}, nil)
	mShardPartial  = prometheus.NewDesc("vdr_cluster_shard_partial_syncs_total", "Partial resyncs the shard's nodes accepted (after a failover too).", []string{"shard"}, nil)
	mShardReconn   = prometheus.NewDesc("vdr_cluster_shard_reconnects_total", "Links to the shard lost.", []string{"shard"}, nil)
	mClusterDrop   = prometheus.NewDesc("vdr_cluster_writes_dropped_total", "Writes of a shard's stream not applied, by reason (stale: a newer owner of the slot holds the key; other_db: not db 0; flushall: keys a shard's FLUSHALL removed).", []string{"reason"}, nil)
	mClusterTopo   = prometheus.NewDesc("vdr_cluster_topology_errors_total", "Topology reads that failed or disagreed, by reason (unreachable, not_cluster, conflict, auth).", []string{"reason"}, nil)
	mClusterRefr   = prometheus.NewDesc("vdr_cluster_topology_refreshes_total", "Topology reads applied.", nil, nil)
	mClusterNoOwn  = prometheus.NewDesc("vdr_cluster_slots_unowned", "Slots the last topology gave no owner (their keys answer as missing unless a shard held them before).", nil, nil)
	mClusterConfl  = prometheus.NewDesc("vdr_cluster_slots_conflicting", "Slots the last topology gave two owners (they keep the owner vdr had).", nil, nil)
)

var clusterDescs = []*prometheus.Desc{mShardUp, mShardState, mShardSynced, mShardSlots, mShardApplied, mShardPrimary,
	mShardLagBytes, mShardLagSecs, mShardFull, mShardPartial, mShardReconn, mClusterDrop, mClusterTopo, mClusterRefr,
	mClusterNoOwn, mClusterConfl}

func (c clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range clusterDescs {
		ch <- d
	}
}

func (c clusterCollector) Collect(ch chan<- prometheus.Metric) {
	cs := c.cs
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, l := range cs.snapshotLinks() {
		id := strconv.Itoa(l.id)
		cl := l.client
		gauge(mShardUp, float64(b2i(l.linkUp.Load())), id, cl.Primary())
		cur := replica.State(l.state.Load())
		for _, s := range []replica.State{replica.StateNone, replica.StateConnecting, replica.StateHandshake,
			replica.StateTransfer, replica.StateLoading, replica.StateStreaming, replica.StateBackoff} {
			v := 0.0
			if s == cur {
				v = 1
			}
			gauge(mShardState, v, id, s.String())
		}
		gauge(mShardSynced, float64(b2i(l.synced.Load())), id)
		gauge(mShardSlots, float64(l.slots.Load()), id)
		off, prim := max(cl.Offset(), 0), max(cl.PrimaryOffset(), 0)
		gauge(mShardApplied, float64(off), id)
		gauge(mShardPrimary, float64(prim), id)
		gauge(mShardLagBytes, float64(max(prim-off, 0)), id)
		gauge(mShardLagSecs, l.lagSeconds(), id)
		st := cl.Stats()
		counter(mShardFull, float64(st.FullSyncs), id)
		counter(mShardPartial, float64(st.PartialSyncs), id)
		counter(mShardReconn, float64(st.Reconnects), id)
	}
	for i := range cs.dropped {
		counter(mClusterDrop, float64(cs.dropped[i].Load()), dropNames[i])
	}
	for i := range cs.topoErrors {
		counter(mClusterTopo, float64(cs.topoErrors[i].Load()), topoErrNames[i])
	}
	counter(mClusterRefr, float64(cs.refreshes.Load()))
	gauge(mClusterNoOwn, float64(cs.unownedSlots.Load()))
	gauge(mClusterConfl, float64(cs.conflictSlots.Load()))
}

// clusterFresh reports whether no shard's link has been down longer than
// MaxStaleness (Ready).
func (n *Node) clusterFresh() bool {
	ms := n.opts.Server.MaxStaleness
	if ms <= 0 {
		return true
	}
	_, up, down := clusterInfo{n.cluster}.LinkState()
	return up || down == 0 || time.Since(time.Unix(0, down)) <= ms
}
