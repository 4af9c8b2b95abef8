package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/commands"
)

// Snapshots of a cluster replica: the projection as one RDB file, as for
// one primary, with each shard's replication position in the AUX field
// vdr-cluster, so that a restart resumes every shard with a partial sync.
//
//	vdr-cluster = shard *(";" shard)
//	shard       = replid " " offset " " node-id *("," node-id)
//
// A shard is found again at the restart by any of its node IDs (a
// failover keeps them); a shard that does not continue full-syncs and
// replaces its keys, as at any time.

// auxCluster names the AUX field holding the shards' positions.
const auxCluster = "vdr-cluster"

// resumePos is a shard's saved position.
type resumePos struct {
	replID string
	offset int64
}

// saveSnapshotTo writes the snapshot with every shard's position, taken
// with the applier held so data and positions agree.
func (cs *clusterState) saveSnapshotTo(path string) error {
	cs.applyMu.Lock()
	defer cs.applyMu.Unlock()
	if !cs.allDone.Load() {
		return commands.ErrNothingToSave
	}
	var shards []string
	for _, l := range cs.snapshotLinks() {
		replID, _, _ := l.client.Position()
		if l.syncing.Load() || len(replID) != 40 {
			return commands.ErrNothingToSave // a shard without a complete, positioned copy
		}
		cs.mu.Lock()
		ids := make([]string, 0, len(l.nodeIDs))
		for id := range l.nodeIDs {
			ids = append(ids, id)
		}
		cs.mu.Unlock()
		shards = append(shards, fmt.Sprintf("%s %d %s", replID, l.applied.Load(), strings.Join(ids, ",")))
	}
	t0 := time.Now()
	keys, err := cs.n.writeSnapshotFile(path, map[string]string{auxCluster: strings.Join(shards, ";")})
	if err != nil {
		return err
	}
	cs.log.Info("snapshot saved", "path", path, "keys", keys, "shards", len(shards), "seconds", time.Since(t0).Seconds())
	return nil
}

// resumeFrom reads the shards' positions of a loaded snapshot; the links
// created for them resume there (newLink).
func (cs *clusterState) resumeFrom(v string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.resume = map[string]resumePos{}
	if v == "" {
		cs.log.Warn("snapshot has no shard positions; every shard full-syncs", "path", cs.n.opts.SnapshotPath)
		return
	}
	for _, sh := range strings.Split(v, ";") {
		f := strings.Fields(sh)
		if len(f) != 3 || len(f[0]) != 40 {
			cs.log.Warn("snapshot: a shard position is malformed; that shard full-syncs", "position", sh)
			continue
		}
		off, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || off < 0 {
			cs.log.Warn("snapshot: a shard position is malformed; that shard full-syncs", "position", sh)
			continue
		}
		for _, id := range strings.Split(f[2], ",") {
			cs.resume[id] = resumePos{f[0], off}
		}
	}
	cs.log.Info("resuming shards from snapshot", "shards", strings.Count(v, ";")+1)
}
