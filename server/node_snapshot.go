package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// The snapshot is an ordinary RDB file (rdbparse.Writer) whose AUX fields
// say where in the primary's history it stands, as Redis itself records
// them since 4.0: repl-id, repl-offset and repl-stream-db. Start loads it
// and asks the primary for PSYNC <repl-id> <repl-offset+1>; the primary
// answers +CONTINUE when its backlog still covers that offset.
//
// It also records the personality (the primary's version) in vdr-compat
// ("7.4.1", "valkey-8.0.1"), with redis-ver (and valkey-ver) as that
// server writes them, and declares that server's RDB version (10, 11, or
// 12 for 7.4, whose type-24 hashes with field TTLs it may hold): so that
// server loads the file, and vdr, restarting, answers and encodes as that
// version from the first key it builds (restorePersonality), before the
// handshake confirms it.

// errAuxDone stops readSnapshotVersion at the first non-AUX record.
var errAuxDone = errors.New("server: end of the AUX fields")

// auxVersionReader collects the version AUX fields of an RDB file.
type auxVersionReader struct {
	rdbparse.NopHandler
	compat, redisVer, valkeyVer string
}

func (a *auxVersionReader) Aux(key, value []byte) error {
	switch string(key) {
	case "vdr-compat":
		a.compat = string(value)
	case "redis-ver":
		a.redisVer = string(value)
	case "valkey-ver":
		a.valkeyVer = string(value)
	}
	return nil
}

func (a *auxVersionReader) ResizeDB(int, uint64, uint64) error    { return errAuxDone }
func (a *auxVersionReader) SlotInfo(uint64, uint64, uint64) error { return errAuxDone }
func (a *auxVersionReader) ModuleAux(rdbparse.Module, int) error  { return errAuxDone }
func (a *auxVersionReader) Function([]byte) error                 { return errAuxDone }
func (a *auxVersionReader) Entry(*rdbparse.Entry) error           { return errAuxDone }

// readRDBVersion returns the version of the server whose data the RDB
// file at path holds: vdr-compat for a vdr snapshot, else the valkey-ver
// or redis-ver of the server that wrote it. ok is false when the file
// names none that parses.
func readRDBVersion(path string) (v compat.Version, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return v, false
	}
	defer f.Close()
	a := &auxVersionReader{}
	if err := rdbparse.Parse(bufio.NewReader(f), a, nil); err != nil && !errors.Is(err, errAuxDone) {
		return v, false
	}
	if a.compat != "" {
		if v, err := compat.Parse(a.compat); err == nil {
			return v, true
		}
	}
	if a.redisVer == "" && a.valkeyVer == "" {
		return v, false
	}
	return compat.FromInfo(a.redisVer, a.valkeyVer)
}

// setPersonality makes the node answer as v and build values with v's
// encodings (as PrimaryConfig does at the handshake).
func (n *Node) setPersonality(v compat.Version, why string) {
	if old := n.srv.env.Version.Load(); old != v {
		n.srv.env.Version.Store(v)
		n.log.Info("answering as "+why, "version", v.String(), "was", old.String())
	}
	old := n.proj.EncodingConfig()
	ec := old
	ec.FollowVersion(v)
	if ec != old {
		n.proj.SetEncodingConfig(ec)
	}
}

// snapshotAux returns the AUX fields that label a snapshot of data from
// a server of version v.
func snapshotAux(v compat.Version) map[string]string {
	aux := map[string]string{"redis-ver": v.RedisVersion(), "vdr-compat": v.String()}
	if v.ValkeyAtLeast(8, 0) {
		aux["valkey-ver"] = v.Number() // Valkey 8 writes valkey-ver (src/rdb.c)
	}
	return aux
}

// rdbFileLoader loads an RDB file into the projection and remembers the
// replication AUX fields.
type rdbFileLoader struct {
	rdbparse.NopHandler
	ld                  *projection.Loader
	replID              string
	replOffset, replDB  int64
	haveOffset, haveAux bool
	cluster             string // vdr-cluster: the shards' positions (cluster_snapshot.go)
}

func (l *rdbFileLoader) Aux(key, value []byte) error {
	switch string(key) {
	case "repl-id":
		l.replID = string(value)
	case "repl-offset":
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil {
			return fmt.Errorf("server: snapshot repl-offset %q: %w", value, rdbparse.ErrCorrupt)
		}
		l.replOffset, l.haveOffset = n, true
	case "repl-stream-db":
		n, _ := strconv.ParseInt(string(value), 10, 64)
		l.replDB = n
	case auxCluster:
		l.cluster = string(value)
	}
	return nil
}

func (l *rdbFileLoader) Entry(e *rdbparse.Entry) error { return l.ld.Entry(e) }

func (l *rdbFileLoader) ResizeDB(db int, keys, expires uint64) error {
	l.ld.ResizeDB(db, keys)
	return nil
}

// loadRDBFile parses path into the projection and swaps it in.
func (n *Node) loadRDBFile(path string) (*rdbFileLoader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	defer f.Close()
	t0 := time.Now()
	l := &rdbFileLoader{ld: n.proj.BeginLoad(projection.LoadOptions{GCPercent: loadGCPercent})}
	if err := rdbparse.Parse(bufio.NewReaderSize(f, 1<<20), l, nil); err != nil {
		l.ld.Abort()
		return nil, fmt.Errorf("server: loading %s: %w", path, err)
	}
	keys := l.ld.Keys()
	if err := l.ld.Commit(); err != nil {
		return nil, err
	}
	// Parse and build are the load, as Redis's "DB loaded from disk"
	// counts them; returning memory and collapsing huge pages follow.
	n.log.Info("RDB file loaded", "path", path, "keys", keys, "seconds", time.Since(t0).Seconds())
	n.settleMemory()
	return l, nil
}

// loadSnapshot loads SnapshotPath when it exists and sets the replica to
// resume from its position. A missing file is not an error (first start);
// an unreadable one is logged and ignored, so the node full-syncs.
func (n *Node) loadSnapshot() error {
	if _, err := os.Stat(n.opts.SnapshotPath); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	// The version first: the values are built with its encodings.
	if v, ok := readRDBVersion(n.opts.SnapshotPath); ok {
		n.setPersonality(v, "the snapshot's primary version")
	}
	l, err := n.loadRDBFile(n.opts.SnapshotPath)
	if err != nil {
		n.log.Warn("snapshot not usable; doing a full sync", "path", n.opts.SnapshotPath, "error", err)
		return nil
	}
	if n.cluster != nil {
		n.cluster.resumeFrom(l.cluster)
		return nil
	}
	if len(l.replID) != 40 || !l.haveOffset {
		n.log.Warn("snapshot has no replication position; doing a full sync", "path", n.opts.SnapshotPath)
		return nil
	}
	n.opts.Replica.ResumeReplID = l.replID
	n.opts.Replica.ResumeOffset = l.replOffset
	n.opts.Replica.ResumeDB = int(l.replDB)
	n.link.firstSyncDone.Store(true)
	n.link.appliedAt, n.link.appliedDB = l.replOffset, int(l.replDB)
	n.log.Info("resuming from snapshot", "replid", l.replID, "offset", l.replOffset)
	return nil
}

// saveSnapshot writes the projection with its replication position to
// SnapshotPath: into a temporary file, fsynced, then renamed over the old
// one, so a crash leaves either the old or the new snapshot whole.
func (n *Node) saveSnapshot() error {
	err := n.saveSnapshotTo(n.opts.SnapshotPath)
	if errors.Is(err, commands.ErrNothingToSave) {
		return nil
	}
	return err
}

// nodePersister is the node's commands.Persister: SAVE and BGSAVE write
// the snapshot to SnapshotPath, or, without one, to dbfilename in dir
// as Redis does (dump.rdb in the working directory by default); vdr
// loads only SnapshotPath at start.
type nodePersister struct{ n *Node }

func (p nodePersister) SaveSnapshot() error {
	path := p.n.opts.SnapshotPath
	if path == "" {
		dir, name := p.n.opts.Dir, p.n.opts.DBFilename
		if name == "" {
			name = "dump.rdb"
		}
		path = filepath.Join(dir, name)
	}
	return p.n.saveSnapshotTo(path)
}

func (p nodePersister) Changes() int64 { return p.n.link.changes.Load() }

// saveSnapshotTo writes the snapshot to path; commands.ErrNothingToSave
// when there is no complete data set with a replication position yet.
func (n *Node) saveSnapshotTo(path string) error {
	if n.cluster != nil {
		return n.cluster.saveSnapshotTo(path)
	}
	h := n.link
	// Hold the applier out while the data and its offset are captured
	// together; the View below blocks it as well.
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.firstSyncDone.Load() || h.loader != nil {
		return commands.ErrNothingToSave // nothing complete to save
	}
	replID := ""
	if n.client != nil {
		replID = n.client.ReplID()
	}
	if len(replID) != 40 {
		return commands.ErrNothingToSave
	}
	t0 := time.Now()
	keys, err := n.writeSnapshotFile(path, map[string]string{
		"repl-id":        replID,
		"repl-offset":    strconv.FormatInt(h.appliedAt, 10),
		"repl-stream-db": strconv.Itoa(h.appliedDB),
	})
	if err != nil {
		return err
	}
	n.log.Info("snapshot saved", "path", path, "keys", keys, "replid", replID, "offset", h.appliedAt, "seconds", time.Since(t0).Seconds())
	return nil
}

// writeSnapshotFile writes the projection with the version AUX fields and
// extra to path: into a temporary file, fsynced, then renamed over the
// old one. The caller holds the applier out.
func (n *Node) writeSnapshotFile(path string, extra map[string]string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("server: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name())
	v := n.srv.env.Version.Load()
	aux := snapshotAux(v)
	aux["vdr-ver"] = n.opts.Server.Version
	aux["ctime"] = strconv.FormatInt(time.Now().Unix(), 10)
	maps.Copy(aux, extra)
	keys, err := writeProjection(tmp, n.proj, v.RDBVersion(), aux)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		if d, derr := os.Open(filepath.Dir(path)); derr == nil {
			d.Sync()
			d.Close()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("server: snapshot: %w", err)
	}
	return keys, nil
}

// writeProjection writes every live key of p as an RDB file declaring
// rdbVersion.
func writeProjection(w io.Writer, p *projection.Projection, rdbVersion int, aux map[string]string) (int64, error) {
	rw := rdbparse.NewWriterVersion(w, rdbVersion)
	writeAux(rw, aux)
	writeFunctions(rw, p)
	var keys int64
	p.ViewAll(func(v *projection.View) {
		for db := 0; db < p.NumDBs(); db++ {
			if v.Select(db) != nil || v.DBSize() == 0 {
				continue
			}
			rw.SelectDB(db, uint64(v.DBSize()), 0)
			v.Keys(func(key []byte, val projection.Value) bool {
				if val.WriteRDB(rw, key) {
					keys++
				}
				return rw.Err() == nil
			})
		}
	})
	return keys, rw.Close()
}

// settleMemory runs after a load: it returns the garbage (the replaced
// keyspace, the parser's buffers) to the OS at once, so RSS after a full
// sync reflects the data rather than the Go heap's high-water mark, and
// then backs the heap with huge pages when HugePages is on.
func (n *Node) settleMemory() {
	debug.FreeOSMemory()
	n.adviseHugePages()
}

// adviseHugePages asks for huge pages over the Go heap (HugePages), and
// logs the outcome the first time.
func (n *Node) adviseHugePages() {
	if !n.opts.HugePages {
		return
	}
	bytes, err := adviseHugePages()
	if n.hugeLogged.CompareAndSwap(false, true) {
		if err != nil {
			n.log.Warn("huge pages not available; the heap keeps 4 KiB pages", "error", err)
		} else {
			n.log.Info("heap advised to use transparent huge pages", "bytes", bytes)
		}
	}
}

// hugePagesLoop advises the heap again every hugePagesEvery: arenas the
// heap adds while it grows are new mappings, not covered by the last
// advice.
func (n *Node) hugePagesLoop(ctx context.Context) {
	t := time.NewTicker(hugePagesEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.adviseHugePages()
		}
	}
}

const hugePagesEvery = 30 * time.Second

// snapshotLoop saves the snapshot every SnapshotInterval.
func (n *Node) snapshotLoop(ctx context.Context) {
	t := time.NewTicker(n.opts.SnapshotInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := n.saveSnapshot(); err != nil {
			n.log.Error("periodic snapshot failed", "error", err)
		}
	}
}
