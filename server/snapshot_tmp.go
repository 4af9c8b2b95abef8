package server

import (
	"os"
	"path/filepath"
)

// removeStaleSnapshotTemps deletes the temporary files a snapshot write
// leaves behind when the process dies in the middle of it (the writer
// renames its *.tmp-* file over the snapshot only when it is complete), so
// that crashes do not pile up partial copies of the dataset on disk. It
// runs at start, before any snapshot is written.
func (n *Node) removeStaleSnapshotTemps() {
	path := n.opts.SnapshotPath
	if path == "" {
		return
	}
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), filepath.Base(path)+".tmp-*"))
	if err != nil {
		return
	}
	for _, m := range matches {
		if err := os.Remove(m); err == nil {
			n.log.Info("removed an unfinished snapshot file", "path", m)
		} else {
			n.log.Warn("cannot remove an unfinished snapshot file", "path", m, "error", err)
		}
	}
}
