package server

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
	"github.com/vdr-project/vdr/replica"
)

// linkHandler is the replica.Handler that feeds the projection, and the
// ReplicationInfo the front end reads the link's state from.
//
// The replica client calls it from one goroutine. mu is held while a
// batch is applied and its offset recorded, so a snapshot taken under mu
// sees data and offset that agree.
type linkHandler struct {
	rdbparse.NopHandler
	n *Node

	mu        sync.Mutex
	loader    *projection.Loader
	appliedAt int64 // offset of the last applied command (under mu)
	appliedDB int   // db selected at appliedAt (under mu)
	cmds      []projection.Command
	monDB     int // db the master client is in, as monitors see it (node_monitor.go); -1 before a SELECT

	firstSyncDone atomic.Bool
	master        atomic.Pointer[commands.Client] // the link as a client, while it streams (master_client.go)
	syncing       atomic.Bool
	linkUp        atomic.Bool
	downSince     atomic.Int64 // Unix ns the link went down; 0 while up or before the first connect
	lastIO        atomic.Int64 // Unix ns of the last delivery from the primary
	caughtUp      atomic.Int64 // Unix ns when applied last reached the primary's offset
	state         atomic.Int32 // replica.State
	changes       atomic.Int64 // commands applied since start (rdb_changes_since_last_save)
}

// loadGCPercent is the GOGC a full sync or RDB file load runs with (see
// projection.LoadOptions.GCPercent): it cut a 1M-key load's CPU time by
// about a sixth (projection BenchmarkLoadRDB, BENCH_LOAD_GOGC=0 vs 400).
const loadGCPercent = 400

func newLinkHandler(n *Node) *linkHandler {
	h := &linkHandler{n: n, monDB: -1}
	h.downSince.Store(time.Now().UnixNano())
	return h
}

func (h *linkHandler) FullSyncBegin(replID string, offset int64) error {
	h.syncing.Store(true)
	h.lastIO.Store(time.Now().UnixNano())
	h.monDB = -1 // a primary opens a new replica's stream with SELECT
	h.loader = h.n.proj.BeginLoad(projection.LoadOptions{DropOld: h.n.opts.DropOldOnFullSync, GCPercent: loadGCPercent})
	h.n.log.Info("full sync started", "replid", replID, "offset", offset)
	return nil
}

func (h *linkHandler) Entry(e *rdbparse.Entry) error {
	if h.loader == nil {
		return errors.New("server: RDB entry outside a full sync")
	}
	return h.loader.Entry(e)
}

// ResizeDB passes the RDB's size hint on, so the new keyspace is built
// without rehashing.
func (h *linkHandler) ResizeDB(db int, keys, expires uint64) error {
	if h.loader != nil {
		h.loader.ResizeDB(db, keys)
	}
	return nil
}

func (h *linkHandler) FullSyncEnd(replID string, offset int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loader == nil {
		return errors.New("server: full sync end without a beginning")
	}
	keys := h.loader.Keys()
	t0 := time.Now()
	if err := h.loader.Commit(); err != nil {
		return err
	}
	h.n.srv.env.AddLatencySample("fullsync-swap", time.Since(t0))
	h.loader = nil
	h.appliedAt, h.appliedDB = offset, 0
	if d := h.n.srv.down; d != nil {
		// A new history: replicas served drop and resync (under mu, so no
		// cut pairs the new data with the old history).
		if d.own {
			d.ownStart()
		} else {
			d.bl.TapStart(replID, offset, true)
		}
	}
	h.syncing.Store(false)
	h.firstSyncDone.Store(true)
	h.caughtUp.Store(time.Now().UnixNano())
	h.n.log.Info("full sync done", "replid", replID, "offset", offset, "keys", keys)
	// Off the applier's path: the stream waits on this goroutine.
	go h.n.settleMemory()
	return nil
}

func (h *linkHandler) FullSyncAbort(err error) {
	if h.loader != nil {
		h.loader.Abort()
		h.loader = nil
	}
	h.syncing.Store(false)
	if h.firstSyncDone.Load() {
		h.n.log.Warn("full sync abandoned; serving the previous data", "error", err)
	} else {
		h.n.log.Warn("full sync abandoned; no data yet (answering LOADING)", "error", err)
	}
}

// Commands applies a batch. A MULTI/EXEC unit (Unit set) is applied with
// ApplyBatch so that readers see all of it or none; other batches are
// applied command by command, so readers never wait for a whole batch.
// PUBLISH and SPUBLISH are delivered to local subscribers: inside a unit
// through the projection (its OnEvents), once the writes before them are
// visible and in their place among the keyspace events (a script's
// SET … PUBLISH must not reach a subscriber before the SET).
func (h *linkHandler) Commands(cmds []replica.Command) error {
	now := time.Now().UnixNano()
	h.lastIO.Store(now)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(cmds) == 0 {
		return nil
	}
	// The latency monitor's "apply-batch": how long this batch kept the
	// applier (and, under its locks, the readers of its keys) busy.
	defer func(t0 time.Time) { h.n.srv.env.AddLatencySample("apply-batch", time.Since(t0)) }(time.Now())
	if cmds[0].Unit {
		h.cmds = h.cmds[:0]
		for _, c := range cmds {
			h.cmds = append(h.cmds, projection.Command{DB: c.DB, Argv: c.Argv})
		}
		if len(h.cmds) > 0 {
			if err := h.n.proj.ApplyBatch(h.cmds); err != nil && errors.Is(err, projection.ErrNeedResync) {
				return errors.Join(replica.ErrFullResync, err)
			}
		}
	} else {
		for _, c := range cmds {
			if h.publish(c.Argv) {
				continue
			}
			if err := h.n.proj.Apply(c.DB, c.Argv); err != nil && errors.Is(err, projection.ErrNeedResync) {
				return errors.Join(replica.ErrFullResync, err)
			}
		}
	}
	if d := h.n.srv.down; d != nil && d.own {
		d.ownFeed(cmds)
	}
	h.changes.Add(int64(len(cmds)))
	h.feedMonitors(cmds)
	if t := h.n.srv.tracking(); t != nil {
		t.Broadcast() // the batch's keys to BCAST clients (changed has invalidated them)
	}
	last := cmds[len(cmds)-1]
	h.appliedAt, h.appliedDB = last.Offset, last.DB
	if h.n.client != nil && last.Offset >= h.n.client.PrimaryOffset() {
		h.caughtUp.Store(now)
	}
	return nil
}

// publish hands PUBLISH/SPUBLISH to the front end's subscribers and
// reports whether argv was one.
func (h *linkHandler) publish(argv [][]byte) bool {
	if len(argv) != 3 {
		return false
	}
	switch {
	case bytes.EqualFold(argv[0], []byte("publish")):
		h.n.srv.Publish(argv[1], argv[2])
	case bytes.EqualFold(argv[0], []byte("spublish")):
		h.n.srv.SPublish(argv[1], argv[2])
	default:
		return false
	}
	return true
}

func (h *linkHandler) LinkState(s replica.State, err error) {
	prev := replica.State(h.state.Swap(int32(s)))
	up := s == replica.StateStreaming
	if up {
		h.downSince.Store(0)
		h.lastIO.Store(time.Now().UnixNano())
	} else if h.linkUp.Load() {
		h.downSince.Store(time.Now().UnixNano())
	}
	h.linkUp.Store(up)
	if prev == s {
		return
	}
	if up {
		h.masterUp()
	} else if prev == replica.StateStreaming {
		h.masterDown()
	}
	attrs := []any{"from", prev.String(), "to", s.String()}
	if c := h.n.client; c != nil {
		if p := c.Primary(); p != "" {
			attrs = append(attrs, "primary", p)
		}
		if replID, off, _ := c.Position(); replID != "" {
			attrs = append(attrs, "replid", replID, "offset", off)
		}
	}
	if err != nil {
		attrs = append(attrs, "error", err)
		h.n.log.Warn("replication state", attrs...)
		return
	}
	h.n.log.Info("replication state", attrs...)
}

// linkInfo is the ReplicationInfo the front end reads (INFO, ROLE, LOADING
// and MASTERDOWN). It is a type of its own because its LinkState fast path
// and replica.Handler's LinkState callback share a name.
type linkInfo struct{ h *linkHandler }

// LinkState implements commands.LinkStater: the per-command gate needs
// only these three atomic loads.
func (li linkInfo) LinkState() (firstSyncDone, linkUp bool, downSinceUnixNano int64) {
	h := li.h
	return h.firstSyncDone.Load(), h.linkUp.Load(), h.downSince.Load()
}

// ReplState implements ReplicationInfo.
func (li linkInfo) ReplState() ReplState {
	h := li.h
	st := ReplState{
		LinkUp:         h.linkUp.Load(),
		SyncInProgress: h.syncing.Load(),
		FirstSyncDone:  h.firstSyncDone.Load(),
		SyncTotalBytes: -1,
	}
	if ns := h.downSince.Load(); ns != 0 {
		st.LinkDownSince = time.Unix(0, ns)
	}
	if ns := h.lastIO.Load(); ns != 0 {
		st.LastIO = time.Unix(0, ns)
	}
	c := h.n.client
	if c == nil {
		return st
	}
	// Every byte from the primary counts, its PINGs included (Redis
	// resets master->lastinteraction on each read).
	if t := c.LastRead(); t.After(st.LastIO) {
		st.LastIO = t
	}
	addr := c.Primary()
	if host, port, err := net.SplitHostPort(addr); err == nil {
		st.MasterHost = host
		st.MasterPort, _ = strconv.Atoi(port)
	}
	replID, off, _ := c.Position()
	st.MasterReplID, st.ApplyOffset = replID, max(off, 0)
	st.ReadOffset = max(c.PrimaryOffset(), st.ApplyOffset)
	if p := c.SyncProgress(); p.Active {
		st.SyncReadBytes, st.SyncTotalBytes = p.Bytes, p.Total
		if t := c.LastRead(); !t.IsZero() {
			st.SyncLastIOSecond = int64(time.Since(t) / time.Second)
		}
	}
	switch replica.State(h.state.Load()) {
	case replica.StateStreaming:
		st.State = "connected"
	case replica.StateTransfer, replica.StateLoading:
		st.State = "sync"
	case replica.StateHandshake:
		st.State = "handshake"
	case replica.StateConnecting:
		st.State = "connecting"
	default:
		st.State = "connect"
	}
	return st
}

// lagSeconds is how long the projection has been behind the primary: 0
// when caught up, else the time since it last was.
func (h *linkHandler) lagSeconds() float64 {
	c := h.n.client
	if c == nil {
		return 0
	}
	if c.Offset() >= c.PrimaryOffset() {
		return 0
	}
	ns := h.caughtUp.Load()
	if ns == 0 {
		return 0
	}
	return time.Since(time.Unix(0, ns)).Seconds()
}
