package server

// A full sync of a downstream streams an RDB written from a
// copy-on-write cut of the projection (projection.Snapshot): the cut
// holds the applier out only while it notes the offset, the header and
// each db's bucket set; then a walker goroutine writes the buckets in
// order while the applier goes on, writing itself, first, the pre-image
// of any bucket it is about to change. Nothing holds the whole RDB: the
// walker keeps at most passWindow bytes ahead of the slowest replica of
// the pass, and what the applier writes waits for the replicas in the
// same queue (the copy-on-write cost a fork would pay in pages).
//
//	cut (h.mu) ─▶ header ─┐
//	walker ──────────────┼─▶ chunks ─▶ replica 1, replica 2, … (one reader each)
//	applier (pre-images) ─┘
//
// Replicas that attach while the pass is still at its start (its first
// joinKeep bytes are kept) share it; one that comes later waits for the
// walk to end and takes the next pass, with any others that came
// meanwhile (one snapshot runs at a time, as one BGSAVE does in Redis).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

const (
	// passWindow is how far the walker may run ahead of the slowest
	// replica of its pass.
	passWindow = 4 << 20
	// joinKeep is how much of a pass's start is kept for replicas that
	// attach late.
	joinKeep = 4 << 20
	// passHardLimit ends a pass whose replicas lag by more than this
	// (pre-images the applier wrote pile up behind a slow replica):
	// Redis's hard limit for a replica's output buffer
	// (client-output-buffer-limit replica 256mb).
	passHardLimit = 256 << 20
)

// rdbPass is one RDB streamed from one cut to the replicas that share it.
type rdbPass struct {
	d      *downstreams
	ready  chan struct{} // closed once the cut is taken or failed; the fields below are then set
	replID string
	epoch  uint64
	at     int64
	err    error
	walked chan struct{} // closed when the walk is over (the next pass may cut)
	users  int           // replicas on it (under downstreams.cutMu)

	mu       sync.Mutex
	snap     *projection.Snapshot
	head     *passChunk // the first chunk, while late replicas may start there
	tail     *passChunk // the empty chunk the next bytes go to
	wake     chan struct{}
	produced int64
	readers  map[*passReader]struct{}
	progress chan struct{} // closed and replaced when a reader moves on while the walker waits
	pacing   bool
	lastDB   int
	resized  map[int]bool
	crc      uint64
	done     bool
	failed   error
}

// passChunk is a piece of a pass's RDB; the last one is empty (next nil)
// until bytes are appended to it.
type passChunk struct {
	b    []byte
	next *passChunk
}

// passReader is a replica's place in a pass.
type passReader struct {
	at   *passChunk
	read int64
}

// errPassNoReaders ends a pass whose replicas all went away.
var errPassNoReaders = errors.New("no replica left to send it to")

// acquirePass returns the pass a replica is served and its place in it:
// the pass at its start, else the next one (which cuts when the walk
// running ends).
func (d *downstreams) acquirePass() (*rdbPass, *passReader) {
	d.cutMu.Lock()
	defer d.cutMu.Unlock()
	if p := d.shared; p != nil {
		if r := p.join(); r != nil {
			p.users++
			return p, r
		}
	}
	prev := d.shared
	p := &rdbPass{d: d, ready: make(chan struct{}), walked: make(chan struct{}), users: 1,
		wake: make(chan struct{}), progress: make(chan struct{}), readers: map[*passReader]struct{}{},
		lastDB: -1, resized: map[int]bool{}}
	p.tail = &passChunk{}
	p.head = p.tail
	r := &passReader{at: p.head}
	p.readers[r] = struct{}{}
	d.shared = p
	go p.run(prev)
	return p, r
}

// join returns a reader at the start of p, or nil when p can't be joined:
// its start is gone, it failed, or it is of another history, or the
// stream after it is no longer in the backlog.
func (p *rdbPass) join() *passReader {
	select {
	case <-p.ready:
		if p.err != nil {
			return nil
		}
		_, epoch, start, _ := p.d.bl.position()
		if epoch != p.epoch || p.at+1 < start {
			return nil
		}
	default:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head == nil || p.failed != nil {
		return nil
	}
	r := &passReader{at: p.head}
	p.readers[r] = struct{}{}
	return r
}

// release is called by each replica when it is done with the pass.
func (d *downstreams) releasePass(p *rdbPass, r *passReader) {
	p.mu.Lock()
	delete(p.readers, r)
	p.progressed()
	p.mu.Unlock()
	d.cutMu.Lock()
	defer d.cutMu.Unlock()
	p.users--
	if p.users == 0 && d.shared == p {
		d.shared = nil
	}
}

// run takes the cut (after the previous pass's walk) and walks it.
func (p *rdbPass) run(prev *rdbPass) {
	defer close(p.walked)
	if prev != nil {
		<-prev.walked
	}
	p.err = p.cut()
	close(p.ready)
	if p.err != nil {
		p.fail(p.err)
		return
	}
	p.d.rdbPasses.Add(1)
	err := p.snap.Walk(p.pace)
	p.d.preImages.Add(p.snap.Stats().Keys)
	if err != nil {
		p.fail(err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed != nil {
		return
	}
	p.appendLocked([]byte{rdbparse.OpcodeEOF})
	var sum [8]byte
	binary.LittleEndian.PutUint64(sum[:], p.crc)
	p.appendLocked(sum[:])
	p.done = true
	p.wakeLocked()
}

// cut notes the position and the data under the link's lock, so that
// data, offset and history agree, and writes the RDB's header.
func (p *rdbPass) cut() error {
	d := p.d
	h := d.n.link
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.firstSyncDone.Load() || h.loader != nil {
		return errors.New("no complete data set")
	}
	replID, epoch, start, end := d.bl.position()
	at, db := h.appliedAt, h.appliedDB
	if d.own {
		// The own stream is written under h.mu: its end is the cut. The
		// next command carries a SELECT.
		at, db = end, 0
		d.ownS.db = -1
	}
	if len(replID) != 40 || end < at {
		return errors.New("the stream's history is not known yet")
	}
	if at+1 < start {
		// The backlog was activated by this very request while commands
		// were read but not yet applied: what follows the cut is not
		// held. The replica retries (-NOMASTERLINK) and finds it then.
		return errors.New("the backlog starts after the applied offset")
	}
	p.replID, p.epoch, p.at = replID, epoch, at
	v := d.n.srv.env.Version.Load()
	var head bytes.Buffer
	rw := rdbparse.NewWriterVersion(&head, v.RDBVersion())
	aux := snapshotAux(v)
	aux["vdr-ver"] = d.n.opts.Server.Version
	aux["repl-id"] = replID
	aux["repl-offset"] = strconv.FormatInt(p.at, 10)
	aux["repl-stream-db"] = strconv.Itoa(db)
	aux["ctime"] = strconv.FormatInt(time.Now().Unix(), 10)
	writeAux(rw, aux)
	writeFunctions(rw, d.n.proj)
	if err := rw.Flush(); err != nil {
		return err
	}
	p.mu.Lock()
	p.appendLocked(head.Bytes())
	p.mu.Unlock()
	snap, err := d.n.proj.BeginSnapshot(p.sink)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.snap = snap
	p.mu.Unlock()
	return nil
}

// sink takes the snapshot's records (from the walker or the applier).
func (p *rdbPass) sink(db int, rec []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed != nil || p.snap == nil {
		return
	}
	if db != p.lastDB {
		keys, expires := p.snap.DBSize(db)
		p.appendLocked(rdbparse.AppendSelectDB(nil, db, !p.resized[db], uint64(keys), uint64(expires)))
		p.resized[db], p.lastDB = true, db
	}
	p.appendLocked(rec)
	if p.produced-p.minReadLocked() > passHardLimit {
		p.failLocked(errors.New("its replicas lag by more than 256 MiB"))
	}
}

func (p *rdbPass) appendLocked(b []byte) {
	p.crc = rdbparse.CRC64Update(p.crc, b)
	t := p.tail
	t.b = b
	p.tail = &passChunk{}
	t.next = p.tail
	p.produced += int64(len(b))
	if p.head != nil && p.produced > joinKeep {
		p.head = nil
	}
	p.wakeLocked()
}

func (p *rdbPass) wakeLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

func (p *rdbPass) progressed() {
	if p.pacing {
		close(p.progress)
		p.progress = make(chan struct{})
		p.pacing = false
	}
}

func (p *rdbPass) minReadLocked() int64 {
	m := p.produced
	for r := range p.readers {
		m = min(m, r.read)
	}
	return m
}

func (p *rdbPass) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failLocked(err)
}

func (p *rdbPass) failLocked(err error) {
	if p.failed != nil || p.done {
		return
	}
	p.failed = err
	if p.snap != nil {
		p.snap.Close()
	}
	p.head = nil
	p.wakeLocked()
}

// pace keeps the walker within passWindow of the slowest replica; false
// ends the walk (the pass failed, its replicas are gone, or the history
// changed: they are dropped anyway).
func (p *rdbPass) pace() bool {
	if ns := p.d.paceDelayNs.Load(); ns > 0 {
		time.Sleep(time.Duration(ns))
	}
	for {
		if _, epoch, _, _ := p.d.bl.position(); epoch != p.epoch {
			p.fail(errors.New("the upstream history changed"))
			return false
		}
		p.mu.Lock()
		switch {
		case p.failed != nil:
			p.mu.Unlock()
			return false
		case len(p.readers) == 0 && p.head == nil:
			p.failLocked(errPassNoReaders)
			p.mu.Unlock()
			return false
		case p.produced-p.minReadLocked() <= passWindow:
			p.mu.Unlock()
			return true
		}
		p.pacing = true
		ch := p.progress
		p.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(time.Second):
		}
	}
}

// next returns the next piece of the RDB for r; end when it is all sent.
func (p *rdbPass) next(r *passReader, closed <-chan struct{}) (b []byte, end bool, err error) {
	for {
		p.mu.Lock()
		if p.failed != nil {
			err = p.failed
			p.mu.Unlock()
			return nil, false, err
		}
		if r.at.next != nil {
			b = r.at.b
			r.at = r.at.next
			r.read += int64(len(b))
			p.progressed()
			p.mu.Unlock()
			return b, false, nil
		}
		if p.done {
			p.mu.Unlock()
			return nil, true, nil
		}
		w := p.wake
		p.mu.Unlock()
		select {
		case <-w:
		case <-closed:
			return nil, false, errors.New("replica link closed")
		}
	}
}

// writeAux writes the AUX fields a vdr RDB carries, in a fixed order.
func writeAux(rw *rdbparse.Writer, aux map[string]string) {
	for _, k := range []string{"redis-ver", "valkey-ver", "vdr-compat", "vdr-ver", "ctime", "repl-id", "repl-offset", "repl-stream-db", auxCluster} {
		if v, ok := aux[k]; ok {
			rw.Aux(k, v)
		}
	}
}
