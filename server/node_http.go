package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/replica"
)

// The HTTP endpoint: /metrics (Prometheus text format), /livez (the
// process answers), /readyz (Ready: first sync done and not stale past
// MaxStaleness). Metric values are read from the replica client, the
// projection and the front end at scrape time; nothing is counted twice.

func (n *Node) startHTTP() error {
	ln, err := net.Listen("tcp", n.opts.HTTPAddr)
	if err != nil {
		return fmt.Errorf("metrics/health listener (--http %s): %w", n.opts.HTTPAddr, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &nodeCollector{n: n}, replicaCollector{n.srv})
	if n.cluster != nil {
		reg.MustRegister(clusterCollector{n.cluster})
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !n.Ready() {
			http.Error(w, "not ready: "+n.notReadyReason()+"\n", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	if n.opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	n.httpLn = ln
	n.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	n.bg.Add(1)
	go func() { defer n.bg.Done(); n.http.Serve(ln) }()
	return nil
}

func (n *Node) notReadyReason() string {
	if !n.srv.Serving() {
		return "not accepting clients"
	}
	if !n.link.firstSyncDone.Load() {
		if n.cluster != nil {
			return "not every shard has completed a full sync"
		}
		return "first full sync not completed"
	}
	return "link to the primary down longer than max-staleness"
}

func (n *Node) closeHTTP(ctx context.Context) {
	if n.http != nil {
		n.http.Shutdown(ctx)
	}
}

// nodeCollector turns the node's counters into metrics at scrape time.
type nodeCollector struct{ n *Node }

var (
	mLinkUp         = prometheus.NewDesc("vdr_link_up", "1 while the replication link is streaming.", nil, nil)
	mState          = prometheus.NewDesc("vdr_replication_state", "1 for the replication link's current state.", []string{"state"}, nil)
	mReady          = prometheus.NewDesc("vdr_ready", "1 once the first full sync completed (and, with max-staleness, while fresh).", nil, nil)
	mPrimaryOffset  = prometheus.NewDesc("vdr_primary_offset", "Highest replication offset received from the primary.", nil, nil)
	mAppliedOffset  = prometheus.NewDesc("vdr_applied_offset", "Replication offset applied to the projection.", nil, nil)
	mLagBytes       = prometheus.NewDesc("vdr_replication_lag_bytes", "Received but not yet applied bytes of the stream.", nil, nil)
	mLagSeconds     = prometheus.NewDesc("vdr_replication_lag_seconds", "Time since the projection was last caught up with what the primary sent (0 when caught up).", nil, nil)
	mLastIO         = prometheus.NewDesc("vdr_primary_last_io_seconds", "Seconds since the last data from the primary.", nil, nil)
	mFullSyncs      = prometheus.NewDesc("vdr_full_syncs_total", "Completed full syncs.", nil, nil)
	mPartialSyncs   = prometheus.NewDesc("vdr_partial_syncs_total", "Partial resyncs accepted by the primary (+CONTINUE).", nil, nil)
	mReconnects     = prometheus.NewDesc("vdr_reconnects_total", "Replication links lost.", nil, nil)
	mSyncDuration   = prometheus.NewDesc("vdr_last_full_sync_seconds", "Duration of the last completed full sync.", nil, nil)
	mSyncBytes      = prometheus.NewDesc("vdr_last_full_sync_bytes", "RDB bytes of the last completed full sync.", nil, nil)
	mSyncProgress   = prometheus.NewDesc("vdr_full_sync_progress_bytes", "RDB bytes parsed by the full sync under way.", nil, nil)
	mApplied        = prometheus.NewDesc("vdr_commands_applied_total", "Commands from the stream applied to the projection, by name.", []string{"command"}, nil)
	mUnknown        = prometheus.NewDesc("vdr_commands_unapplied_total", "Commands that could not be applied exactly, by name and reason (unknown: not supported; failed: failed here although the primary applied them). Their keys were invalidated (a failed command whose source key is missing is skipped, as a Redis replica skips it).", []string{"command", "reason"}, nil)
	mInvalidated    = prometheus.NewDesc("vdr_invalidated_keys_total", "Keys removed because a command naming them could not be applied exactly.", nil, nil)
	mFlushedUnknown = prometheus.NewDesc("vdr_flushed_dbs_total", "Databases flushed because a command with unknown key positions arrived.", nil, nil)
	mKeys           = prometheus.NewDesc("vdr_keys", "Keys per database (expired keys not yet deleted by the primary included, as DBSIZE).", []string{"db"}, nil)
	mExpires        = prometheus.NewDesc("vdr_expires", "Keys with an expiry per database.", []string{"db"}, nil)
	mHeap           = prometheus.NewDesc("vdr_heap_bytes", "Go heap in use by live objects (almost all of it the projection).", nil, nil)
	mClients        = prometheus.NewDesc("vdr_connected_clients", "Client connections open on the front end.", nil, nil)
	mCommands       = prometheus.NewDesc("vdr_client_commands_total", "Commands processed for clients.", nil, nil)
	mHits           = prometheus.NewDesc("vdr_keyspace_hits_total", "Key lookups that found the key.", nil, nil)
	mMisses         = prometheus.NewDesc("vdr_keyspace_misses_total", "Key lookups that did not find the key.", nil, nil)
	mCalls          = prometheus.NewDesc("vdr_client_command_calls_total", "Client commands executed, by name (reads, and the rest).", []string{"command"}, nil)
	mLatency        = prometheus.NewDesc("vdr_command_duration_seconds", "Execution time of client commands.", nil, nil)
	mCallSecs       = prometheus.NewDesc("vdr_client_command_seconds_total", "Time spent executing client commands, by name (INFO commandstats usec).", []string{"command"}, nil)
	mCallsRejected  = prometheus.NewDesc("vdr_client_command_rejected_total", "Client commands refused before running (arity, NOAUTH, READONLY…), by name (rejected_calls).", []string{"command"}, nil)
	mCallsFailed    = prometheus.NewDesc("vdr_client_command_failed_total", "Client commands that answered an error, by name (failed_calls).", []string{"command"}, nil)
	mCPU            = prometheus.NewDesc("vdr_cpu_seconds_total", "CPU time of the process, by mode (INFO used_cpu_sys, used_cpu_user).", []string{"mode"}, nil)
	mNetIn          = prometheus.NewDesc("vdr_net_input_bytes_total", "Bytes read from clients (INFO total_net_input_bytes less the replication bytes).", nil, nil)
	mNetOut         = prometheus.NewDesc("vdr_net_output_bytes_total", "Bytes written to clients (INFO total_net_output_bytes less the replication bytes).", nil, nil)
	mNetReplIn      = prometheus.NewDesc("vdr_net_repl_input_bytes_total", "Bytes read from the primary (INFO total_net_repl_input_bytes).", nil, nil)
	mNetReplOut     = prometheus.NewDesc("vdr_net_repl_output_bytes_total", "Bytes written to replicas served (INFO total_net_repl_output_bytes).", nil, nil)
	mAuthFailures   = prometheus.NewDesc("vdr_auth_failures_total", "AUTH and HELLO AUTH attempts refused (wrong password or unknown user).", nil, nil)
	mErrors         = prometheus.NewDesc("vdr_error_replies_total", "Error replies sent to clients, by error code (INFO errorstats).", []string{"code"}, nil)
)

var allDescs = []*prometheus.Desc{mLinkUp, mState, mReady, mPrimaryOffset, mAppliedOffset, mLagBytes, mLagSeconds, mLastIO,
	mFullSyncs, mPartialSyncs, mReconnects, mSyncDuration, mSyncBytes, mSyncProgress, mApplied, mUnknown, mInvalidated,
	mFlushedUnknown, mKeys, mExpires, mHeap, mClients, mCommands, mHits, mMisses, mCalls, mLatency, mAuthFailures, mErrors,
	mCallSecs, mCallsRejected, mCallsFailed, mCPU, mNetIn, mNetOut, mNetReplIn, mNetReplOut}

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge(mReady, b2f(n.Ready()))
	if cl := n.client; cl != nil {
		st := linkInfo{n.link}.ReplState()
		gauge(mLinkUp, b2f(st.LinkUp))
		cur := cl.State()
		for s := replica.StateNone; s <= replica.StateBackoff; s++ {
			gauge(mState, b2f(s == cur), s.String())
		}
		applied, primary := max(cl.Offset(), 0), max(cl.PrimaryOffset(), 0)
		gauge(mPrimaryOffset, float64(primary))
		gauge(mAppliedOffset, float64(applied))
		gauge(mLagBytes, float64(max(primary-applied, 0)))
		gauge(mLagSeconds, n.link.lagSeconds())
		if !st.LastIO.IsZero() {
			gauge(mLastIO, time.Since(st.LastIO).Seconds())
		}
		rs := cl.Stats()
		counter(mFullSyncs, float64(rs.FullSyncs))
		counter(mPartialSyncs, float64(rs.PartialSyncs))
		counter(mReconnects, float64(rs.Reconnects))
		gauge(mSyncDuration, rs.LastFullSyncTime.Seconds())
		gauge(mSyncBytes, float64(rs.LastFullSyncRDB))
		if p := cl.SyncProgress(); p.Active {
			gauge(mSyncProgress, float64(p.Bytes))
		} else {
			gauge(mSyncProgress, 0)
		}
	}
	ps := n.proj.Stats()
	for name, v := range ps.Applied {
		counter(mApplied, float64(v), name)
	}
	for name, v := range ps.Unknown {
		counter(mUnknown, float64(v), name, "unknown")
	}
	for name, v := range ps.Failed {
		counter(mUnknown, float64(v), name, "failed")
	}
	counter(mInvalidated, float64(ps.InvalidatedKeys))
	counter(mFlushedUnknown, float64(ps.FlushedForUnknown))
	for db, d := range ps.DBs {
		if d.Keys == 0 && d.Expires == 0 {
			continue
		}
		gauge(mKeys, float64(d.Keys), strconv.Itoa(db))
		gauge(mExpires, float64(d.Expires), strconv.Itoa(db))
	}
	gauge(mHeap, float64(ps.HeapBytes))
	env := n.srv.env
	gauge(mClients, float64(len(n.srv.Clients())))
	counter(mCommands, float64(env.Stats.CommandsProcessed.Load()))
	counter(mHits, float64(env.Stats.KeyspaceHits.Load()))
	counter(mMisses, float64(env.Stats.KeyspaceMisses.Load()))
	counter(mAuthFailures, float64(env.Stats.AuthFailures.Load()))
	for code, n := range env.Stats.ErrorCounts() {
		counter(mErrors, float64(n), code)
	}
	for _, st := range env.CommandStats() {
		if st.Calls > 0 {
			counter(mCalls, float64(st.Calls), st.Name)
			counter(mCallSecs, float64(st.Usec)/1e6, st.Name)
		}
		if st.Rejected > 0 {
			counter(mCallsRejected, float64(st.Rejected), st.Name)
		}
		if st.Failed > 0 {
			counter(mCallsFailed, float64(st.Failed), st.Name)
		}
	}
	sys, user := commands.CPUSeconds()
	counter(mCPU, sys, "sys")
	counter(mCPU, user, "user")
	counter(mNetIn, float64(env.Stats.NetInputBytes.Load()))
	counter(mNetOut, float64(env.Stats.NetOutputBytes.Load()))
	counter(mNetReplIn, float64(env.Stats.NetReplInputBytes.Load()))
	counter(mNetReplOut, float64(env.Stats.NetReplOutputBytes.Load()))
	counts, sum := env.LatencyHistogram()
	cum := map[float64]uint64{}
	var total uint64
	for i, ub := range commands.LatencyBuckets {
		total += counts[i]
		cum[ub] = total
	}
	total += counts[len(counts)-1]
	ch <- prometheus.MustNewConstHistogram(mLatency, total, sum.Seconds(), cum)
}
