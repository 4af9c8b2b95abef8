package server

import (
	"sync"
)

// DefaultReplBacklogSize is the replication backlog's default size.
//
// Redis defaults to 1 MiB, but in vdr the backlog is also every
// downstream replica's output buffer: a downstream's goroutine writes
// straight from it, so a downstream is dropped once it lags by more than
// the backlog holds, where Redis would keep up to 64 MiB of output for
// 60 s (client-output-buffer-limit replica 256mb 64mb 60). 64 MiB gives a
// downstream Redis's soft limit, and keeps a partial resync possible
// after a cut of a few seconds at tens of MB/s of writes. It is allocated
// only when the first downstream attaches, so a sidecar without
// downstreams pays nothing.
const DefaultReplBacklogSize = 64 << 20

// backlog is the replication backlog: the last bytes of the upstream's
// stream (replica.Tap), with the upstream's replication IDs and offsets,
// from which downstream replicas are served (addReplyReplicationBacklog
// in src/replication.c). One writer (the replica client's goroutine),
// many readers (one goroutine per downstream).
//
// Offsets are the upstream's: the byte at offset o (1-based, as
// master_repl_offset counts) sits at buf[o%size]. start..end is what the
// buffer holds; start is end+1 when it holds nothing.
type backlog struct {
	size int

	mu        sync.Mutex
	buf       []byte // nil until activated
	replID    string // "" before the first stream
	replID2   string // the previous history, valid up to secondOff
	secondOff int64  // -1 when there is no replID2
	start     int64
	end       int64
	// epoch changes whenever the history the downstreams follow breaks
	// (a full sync of this node, an upstream failover, a gap in the
	// stream): downstreams of an older epoch drop their link.
	epoch uint64
	// wake is closed and replaced on a write when a reader waits on it
	// (waiting): a command costs no allocation otherwise.
	wake    chan struct{}
	waiting bool
}

func newBacklog(size int) *backlog {
	if size <= 0 {
		size = DefaultReplBacklogSize
	}
	return &backlog{size: size, secondOff: -1, wake: make(chan struct{})}
}

// TapStart implements replica.Tap.
func (b *backlog) TapStart(replID string, off int64, full bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case replID == b.replID && off == b.end && (!full || b.start == off+1):
		// The same history continues (or the full sync FullSyncEnd
		// already announced): nothing changes.
		return
	case !full && b.replID != "" && off == b.end:
		// +CONTINUE with a new ID (the upstream failed over): the old ID
		// stays valid up to here; the downstreams are dropped so that
		// they reconnect and learn the new ID (as a Redis replica does in
		// slaveTryPartialResynchronization).
		b.replID2, b.secondOff = b.replID, off+1
	default:
		b.replID2, b.secondOff = "", -1
		b.start = off + 1
	}
	b.replID, b.end = replID, off
	if b.start > b.end+1 {
		b.start = b.end + 1
	}
	b.epoch++
	b.wakeLocked()
}

// TapCommand implements replica.Tap.
func (b *backlog) TapCommand(raw []byte, end int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if raw == nil && b.buf != nil {
		// Skipped while inactive (TapBytes), but activated since: what
		// is held starts after this command.
		b.start, b.end = end+1, end
		return
	}
	if raw != nil && b.end+int64(len(raw)) != end {
		// Not the bytes the upstream sent (non-canonical RESP): what
		// follows can't be served from here. Restart the history at end.
		b.replID2, b.secondOff = "", -1
		b.start, b.end = end+1, end
		b.epoch++
		b.wakeLocked()
		return
	}
	if b.buf == nil {
		b.end = end
		b.start = end + 1
		return
	}
	p := raw
	if len(p) > b.size {
		p = p[len(p)-b.size:]
	}
	at := int((end - int64(len(p)) + 1) % int64(b.size))
	n := copy(b.buf[at:], p)
	copy(b.buf, p[n:])
	b.end = end
	if b.end-b.start+1 > int64(b.size) {
		b.start = b.end - int64(b.size) + 1
	}
	b.wakeLocked()
}

func (b *backlog) wakeLocked() {
	if !b.waiting {
		return
	}
	close(b.wake)
	b.wake = make(chan struct{})
	b.waiting = false
}

// TapBytes implements replica.Tap: bytes are kept once a replica
// attached (activate).
func (b *backlog) TapBytes() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf != nil
}

// activate allocates the buffer when a downstream first needs it; from
// then on the stream is kept (repl_backlog_active).
func (b *backlog) activate() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		b.buf = make([]byte, b.size)
		b.start = b.end + 1
	}
}

// canContinue reports whether a downstream asking PSYNC replID off can
// be served from the backlog (masterTryPartialResynchronization), and
// the current ID and epoch it then follows.
func (b *backlog) canContinue(replID string, off int64) (cur string, epoch uint64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.replID == "" || b.buf == nil {
		return b.replID, b.epoch, false
	}
	if !equalFoldStr(replID, b.replID) && (!equalFoldStr(replID, b.replID2) || b.replID2 == "" || off > b.secondOff) {
		return b.replID, b.epoch, false
	}
	if off < b.start || off > b.end+1 {
		return b.replID, b.epoch, false
	}
	return b.replID, b.epoch, true
}

// position returns the current ID, epoch, and the offsets of the first
// byte held and of the last.
func (b *backlog) position() (replID string, epoch uint64, start, end int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.replID, b.epoch, b.start, b.end
}

// readFrom copies into p the bytes from offset off on. n is 0 when there
// is nothing new yet (wait on wake). gone is set when off is no longer
// held (the downstream fell behind) or the epoch changed.
func (b *backlog) readFrom(epoch uint64, off int64, p []byte) (n int, wake <-chan struct{}, gone string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if epoch != b.epoch {
		return 0, nil, "the upstream history changed"
	}
	if off < b.start || b.buf == nil {
		return 0, nil, "fell out of the replication backlog"
	}
	if off > b.end {
		b.waiting = true
		return 0, b.wake, ""
	}
	want := min(int64(len(p)), b.end-off+1)
	at := int(off % int64(b.size))
	n = copy(p[:want], b.buf[at:])
	if int64(n) < want {
		n += copy(p[n:want], b.buf)
	}
	return n, b.wake, ""
}

// info returns what INFO replication shows of the backlog.
func (b *backlog) info() (replID, replID2 string, secondOff, start, histlen int64, active bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.replID, b.replID2, b.secondOff, b.start, b.end - b.start + 1, b.buf != nil
}

func equalFoldStr(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
