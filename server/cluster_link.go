package server

import (
	"bytes"
	"errors"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/internal/keyslot"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
	"github.com/vdr-project/vdr/replica"
)

// shardLink is the replica.Handler of one shard's link: it loads the
// shard's full syncs and applies its stream through the cluster's single
// applier (cluster.go). The client calls it from one goroutine.
type shardLink struct {
	rdbparse.NopHandler
	cs      *clusterState
	id      int
	client  *replica.Client
	nodeIDs map[string]bool // the shard's node IDs seen so far (under cs.mu)
	loader  *projection.Loader

	primaryAddr atomic.Pointer[string] // the shard's primary per the last topology
	applied     atomic.Int64           // offset of the last applied command
	caughtUp    atomic.Int64           // Unix ns applied last reached what was received
	synced      atomic.Bool            // a full sync completed once
	syncing     atomic.Bool
	linkUp      atomic.Bool
	downSince   atomic.Int64 // Unix ns the link went down; 0 while up
	lastIO      atomic.Int64
	state       atomic.Int32 // replica.State
	slots       atomic.Int64 // slots it is the newest writer of
	loaded      atomic.Int64 // keys stored by its last full sync
}

func (l *shardLink) FullSyncBegin(replID string, offset int64) error {
	l.syncing.Store(true)
	l.lastIO.Store(time.Now().UnixNano())
	// GOGC is process-wide and several shards may load at once: no
	// GCPercent here (see projection.LoadOptions).
	l.loader = l.cs.n.proj.BeginLoad(projection.LoadOptions{})
	l.cs.log.Info("cluster: shard full sync started", "shard", l.id, "primary", l.client.Primary(), "replid", replID, "offset", offset)
	return nil
}

// Entry loads db 0 only: a cluster has no other.
func (l *shardLink) Entry(e *rdbparse.Entry) error {
	if l.loader == nil {
		return errors.New("server: RDB entry outside a full sync")
	}
	if e.DB != 0 {
		return nil
	}
	return l.loader.Entry(e)
}

func (l *shardLink) ResizeDB(db int, keys, expires uint64) error {
	if l.loader != nil && db == 0 {
		l.loader.ResizeDB(db, keys)
	}
	return nil
}

// FullSyncEnd replaces the keys the shard is authoritative for with the
// loaded ones; the other shards' keys keep serving throughout.
func (l *shardLink) FullSyncEnd(replID string, offset int64) error {
	if l.loader == nil {
		return errors.New("server: full sync end without a beginning")
	}
	cs := l.cs
	cs.applyMu.Lock()
	t0 := time.Now()
	removed, stored, err := l.loader.CommitClaimed(
		func(k string) bool { return cs.claimOld(l, k) },
		func(k string) bool { return cs.claimNew(l, k) })
	if err == nil {
		l.applied.Store(offset)
	}
	cs.applyMu.Unlock()
	l.loader = nil
	l.syncing.Store(false)
	if err != nil {
		return err
	}
	cs.n.srv.env.AddLatencySample("fullsync-swap", time.Since(t0))
	l.caughtUp.Store(time.Now().UnixNano())
	l.loaded.Store(int64(stored))
	l.synced.Store(true)
	cs.log.Info("cluster: shard full sync done", "shard", l.id, "replid", replID, "offset", offset, "keys", stored, "replaced", removed)
	cs.checkReady()
	go cs.n.settleMemory()
	return nil
}

func (l *shardLink) FullSyncAbort(err error) {
	if l.loader != nil {
		l.loader.Abort()
		l.loader = nil
	}
	l.syncing.Store(false)
	l.cs.log.Warn("cluster: shard full sync abandoned; its keys keep their previous values", "shard", l.id, "error", err)
}

// Commands applies a batch of the shard's stream, filtered by slot
// ownership, under the cluster's applier lock.
func (l *shardLink) Commands(cmds []replica.Command) error {
	now := time.Now().UnixNano()
	l.lastIO.Store(now)
	if len(cmds) == 0 {
		return nil
	}
	cs := l.cs
	last := cmds[len(cmds)-1]
	cs.applyMu.Lock()
	err := cs.applyLocked(l, cmds)
	if err == nil {
		l.applied.Store(last.Offset) // under applyMu: a snapshot pairs it with the data
		l.feedMonitors(cmds)
	}
	cs.applyMu.Unlock()
	if err != nil {
		return err
	}
	if t := cs.n.srv.tracking(); t != nil {
		t.Broadcast()
	}
	if last.Offset >= l.client.PrimaryOffset() {
		l.caughtUp.Store(now)
	}
	return nil
}

func (l *shardLink) LinkState(s replica.State, err error) {
	prev := replica.State(l.state.Swap(int32(s)))
	up := s == replica.StateStreaming
	if up {
		l.downSince.Store(0)
		l.lastIO.Store(time.Now().UnixNano())
	} else if l.linkUp.Load() {
		l.downSince.Store(time.Now().UnixNano())
	}
	l.linkUp.Store(up)
	l.cs.updateLinks()
	if prev == s {
		return
	}
	attrs := []any{"shard", l.id, "from", prev.String(), "to", s.String(), "primary", l.client.Primary()}
	if err != nil {
		attrs = append(attrs, "error", err)
		l.cs.log.Warn("cluster: shard replication state", attrs...)
		// The shard may have failed over or gone: read the topology again.
		l.cs.kickRefresh()
		return
	}
	l.cs.log.Info("cluster: shard replication state", attrs...)
}

// applyLocked applies what of a batch the shard may write; applyMu is
// held. A MULTI/EXEC unit stays one ApplyBatch.
func (cs *clusterState) applyLocked(l *shardLink, cmds []replica.Command) error {
	p := cs.n.proj
	unit := cmds[0].Unit
	batch := cs.batch[:0]
	defer func() { clear(batch); cs.batch = batch[:0] }()
	for _, c := range cmds {
		if c.DB != 0 {
			cs.dropped[dropOtherDB].Add(1)
			continue
		}
		argv, ok := cs.admitCommand(l, c.Argv)
		if !ok {
			continue
		}
		if unit {
			batch = append(batch, projection.Command{DB: 0, Argv: argv})
			continue
		}
		if cs.n.link.publish(argv) {
			continue
		}
		if err := p.Apply(0, argv); err != nil && errors.Is(err, projection.ErrNeedResync) {
			return errors.Join(replica.ErrFullResync, err)
		}
	}
	if len(batch) > 0 {
		if err := p.ApplyBatch(batch); err != nil && errors.Is(err, projection.ErrNeedResync) {
			return errors.Join(replica.ErrFullResync, err)
		}
	}
	return nil
}

// admitCommand decides whether a command of l's stream is applied, and
// with which keys: a command's keys share one slot in a cluster (a
// command whose keys do not is judged by all of them); DEL and UNLINK
// lose only the keys a newer writer holds. FLUSHALL and FLUSHDB remove
// the keys l is authoritative for, here, and are not applied as such.
func (cs *clusterState) admitCommand(l *shardLink, argv [][]byte) ([][]byte, bool) {
	keys, ok := cs.n.proj.CommandKeys(argv, cs.keys[:0])
	cs.keys = keys[:0]
	defer clear(keys)
	if !ok {
		if len(argv) > 0 && (bytes.EqualFold(argv[0], []byte("flushall")) || bytes.EqualFold(argv[0], []byte("flushdb"))) {
			n := cs.n.proj.DeleteWhere(0, func(k string) bool { return cs.claimOld(l, k) })
			cs.dropped[dropFlushAll].Add(int64(n))
			return nil, false
		}
		return argv, true // keyless: PUBLISH, FUNCTION, SCRIPT …
	}
	if len(keys) > 1 && (bytes.EqualFold(argv[0], []byte("del")) || bytes.EqualFold(argv[0], []byte("unlink"))) {
		out := append(cs.argv[:0], argv[0])
		for _, k := range argv[1:] {
			if cs.admit(l, k) {
				out = append(out, k)
			}
		}
		cs.argv = out[:0]
		if len(out) == 1 {
			return nil, false
		}
		return out, true
	}
	all := true
	for _, k := range keys {
		if !cs.admit(l, k) {
			all = false
		}
	}
	if all && len(argv) >= 4 && isRestore(argv[0]) && !hasArg(argv[4:], "replace") {
		// The shard's node had no such key (it applied the RESTORE), but
		// the one keyspace may still hold the source shard's copy, whose
		// DEL is on the other stream: replace it.
		argv = append(append(cs.argv[:0], argv...), []byte("REPLACE"))
		cs.argv = argv[:0]
	}
	return argv, all
}

// isRestore reports RESTORE and RESTORE-ASKING (what MIGRATE sends the
// target, propagated as is).
func isRestore(name []byte) bool {
	return bytes.EqualFold(name, []byte("restore")) || bytes.EqualFold(name, []byte("restore-asking"))
}

// hasArg reports whether args holds word, case-insensitively.
func hasArg(args [][]byte, word string) bool {
	for _, a := range args {
		if bytes.EqualFold(a, []byte(word)) {
			return true
		}
	}
	return false
}

// admit decides one key of a write from l; applyMu is held. See the
// ownership notes in cluster.go.
func (cs *clusterState) admit(l *shardLink, key []byte) bool {
	st := &cs.slots[keyslot.Of(key)]
	i := st.index(l)
	switch {
	case i < 0:
		// Not a writer of the slot: it imports it (RESTORE-ASKING, writes
		// after ASKING), or the topology moved it there already.
		st.push(l)
		if len(st.writers) > 1 {
			cs.held[string(key)] = l
		}
		return true
	case i == len(st.writers)-1:
		if len(st.writers) > 1 {
			if h := cs.held[string(key)]; h != l {
				cs.held[string(key)] = l
			}
		}
		return true
	}
	if h, ok := cs.held[string(key)]; ok && st.index(h) > i {
		cs.dropped[dropStale].Add(1)
		return false
	}
	return true
}

// claimOld reports whether l is authoritative for a key the projection
// holds: the key is in a slot l writes, and l holds it, or nobody holds
// it and l is the slot's oldest writer. applyMu is held.
func (cs *clusterState) claimOld(l *shardLink, key string) bool {
	st := &cs.slots[keyslot.Of([]byte(key))]
	i := st.index(l)
	if i < 0 {
		return false
	}
	if h, ok := cs.held[key]; ok {
		return h == l
	}
	return i == 0
}

// claimNew reports whether a key of l's full sync is stored: unless a
// newer writer of its slot holds it. A key in a slot l does not write
// makes l its newest writer, as a write would. applyMu is held.
func (cs *clusterState) claimNew(l *shardLink, key string) bool {
	st := &cs.slots[keyslot.Of([]byte(key))]
	i := st.index(l)
	if i < 0 {
		st.push(l)
		if len(st.writers) > 1 {
			cs.held[key] = l
		}
		return true
	}
	if h, ok := cs.held[key]; ok && st.index(h) > i {
		return false
	}
	if len(st.writers) > 1 && i == len(st.writers)-1 {
		cs.held[key] = l
	}
	return true
}

// unreachableFor reports whether the link has been down for at least d
// and is not past connecting (a primary preparing the RDB keeps the link
// in the handshake: that shard is reachable, and waited for).
func (l *shardLink) unreachableFor(d time.Duration) bool {
	switch replica.State(l.state.Load()) {
	case replica.StateNone, replica.StateConnecting, replica.StateBackoff:
	default:
		return false
	}
	ns := l.downSince.Load()
	return ns != 0 && time.Since(time.Unix(0, ns)) >= d
}

// feedMonitors shows a shard's batch to MONITOR clients as a Redis
// replica shows its master client's commands, with the address of the
// node the shard's link reads (see linkHandler.feedMonitors); a cluster
// has only db 0, so no SELECT. applyMu is held, so the shards' batches
// do not interleave.
func (l *shardLink) feedMonitors(cmds []replica.Command) {
	m := &l.cs.n.srv.env.Monitors
	if !m.Active() {
		return
	}
	peer := l.client.Primary()
	unit := cmds[0].Unit
	if unit {
		m.FeedApplied(peer, 0, monMulti)
	}
	for _, c := range cmds {
		m.FeedApplied(peer, c.DB, c.Argv)
	}
	if unit {
		m.FeedApplied(peer, 0, monExec)
	}
}
