package server

import (
	"net"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// replicaCollector shows the replicas a node serves on /metrics.
type replicaCollector struct{ s *Server }

var (
	mReplicas        = prometheus.NewDesc("vdr_replicas_connected", "Replicas served (redis-servers or vdrs replicating from this vdr).", nil, nil)
	mReplicaAcked    = prometheus.NewDesc("vdr_replica_acked_offset", "Replication offset a replica last acknowledged.", []string{"replica", "id"}, nil)
	mReplicaLag      = prometheus.NewDesc("vdr_replica_lag_bytes", "Bytes of the stream a replica has not acknowledged yet.", []string{"replica", "id"}, nil)
	mReplicaOutput   = prometheus.NewDesc("vdr_replica_output_bytes", "Bytes of the backlog not yet written to a replica (its output buffer: past the backlog's size it is dropped).", []string{"replica", "id"}, nil)
	mReplicaSyncs    = prometheus.NewDesc("vdr_replica_syncs_total", "Syncs of replicas served: full, partial (+CONTINUE), and partial requests refused (then served a full sync).", []string{"kind"}, nil)
	mBacklogBytes    = prometheus.NewDesc("vdr_repl_backlog_bytes", "Bytes of the stream the replication backlog holds.", nil, nil)
	replicaDescsList = []*prometheus.Desc{mReplicas, mReplicaAcked, mReplicaLag, mReplicaOutput, mReplicaSyncs, mBacklogBytes}
)

func (c replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range replicaDescsList {
		ch <- d
	}
}

func (c replicaCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.down == nil {
		return
	}
	l := c.s.ReplicaLines()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	end := l.BacklogFirstByte + l.BacklogHistlen - 1
	gauge(mReplicas, float64(len(l.Replicas)))
	for _, r := range l.Replicas {
		name, id := net.JoinHostPort(r.IP, strconv.Itoa(r.Port)), strconv.FormatInt(r.ID, 10)
		gauge(mReplicaAcked, float64(r.Offset), name, id)
		gauge(mReplicaLag, float64(max(end-r.Offset, 0)), name, id)
		gauge(mReplicaOutput, float64(max(end-r.Sent, 0)), name, id)
	}
	for kind, v := range map[string]int64{"full": l.SyncFull, "partial": l.SyncPartialOK, "partial_refused": l.SyncPartialErr} {
		ch <- prometheus.MustNewConstMetric(mReplicaSyncs, prometheus.CounterValue, float64(v), kind)
	}
	gauge(mBacklogBytes, float64(max(l.BacklogHistlen, 0)))
}
