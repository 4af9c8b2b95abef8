package projection

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/rdbparse"
)

// ---- copy-on-write snapshots ----
//
// A Snapshot writes the keyspace as it was at one instant (the cut) as
// RDB key records, while the applier goes on applying and readers go on
// reading: what Redis gets from fork(), without the fork.
//
// At the cut (BeginSnapshot, with the applier held out) the snapshot
// notes each db's bucket set and key counts. Then two parties write the
// keys of those sets, each key exactly once:
//
//   - the walker (Walk), in order, db by db, bucket by bucket;
//   - the applier, before it writes a key of a bucket the walker has not
//     written yet: its lock paths (Apply's fast path, ApplyBatch,
//     PFCountWrite) call the hook first, which writes that key as it
//     still is (its pre-image; nothing when it did not exist) and marks it
//     done in its bucket, and only then lets the write go on.
//
// Each bucket has a state: 0 not written, 1 being written by the walker,
// 2 written, 3 the applier writing a key's pre-image. The walker takes a
// bucket from 0 to 1 and writes, under the stripe lock that guards the
// bucket now, the keys the applier did not mark; the applier takes it
// from 0 to 3 for one key and back to 0, and, finding the walker at 1,
// waits for 2 (one bucket's worth of time): then it has nothing to write.
// A key the applier has not marked is as it was at the cut (the applier
// is the only writer, and marks a key before its first write), so the
// records are exactly the keyspace at the cut. The order of the records
// is free (an RDB loader takes keys in any order), so the sink puts a
// SELECTDB before each record run of another db.
//
// What replaces data rather than changing it needs nothing: FLUSHDB and
// FLUSHALL give a db a new, empty bucket set and leave the noted one as
// it was, and a full sync of this node (Loader.Commit) a new dataset.
// The hook finds a key's noted set by the set the key's db holds now, so
// after SWAPDB the writes into a swapped set still find it; within a
// MULTI/EXEC the hook runs before the unit, so a SWAPDB followed by
// other commands in the unit has both dbs' sets written first. MOVE and
// COPY … DB name a key in a second db, which the hook reads from their
// arguments.
//
// With no snapshot running, the hook costs the applier one atomic load
// (Projection.cow).

// ErrSnapshotRunning is returned by BeginSnapshot while another snapshot
// runs.
var ErrSnapshotRunning = errors.New("projection: a snapshot is already running")

// ErrSnapshotAborted is returned by Walk when the snapshot was closed, or
// its pace function said stop, before every bucket was written.
var ErrSnapshotAborted = errors.New("projection: snapshot aborted")

// Snapshot is a copy-on-write cut of the keyspace (see above).
type Snapshot struct {
	p    *Projection
	ds   *dataset
	now  int64
	enc  *EncodingConfig
	sets []*cowSet
	sink func(db int, rec []byte)
	dead atomic.Bool

	// inflight counts the applier's hooks writing buckets now (Walk waits
	// for them before it returns, so every record has reached the sink).
	inflight atomic.Int32

	// The applier waits here for a bucket the walker is writing.
	wmu     sync.Mutex
	cond    *sync.Cond
	waiting atomic.Bool

	// The applier's writer (used on its goroutine only).
	abuf  bytes.Buffer
	aw    *rdbparse.Writer
	adb   int      // db of what abuf holds
	akeys [][]byte // a command's keys

	// Where the walker (wsc) and the applier (asc) unpack the list
	// elements and hash values they write (epack.go).
	wsc, asc scratch

	appliedKeys, appliedBytes, appliedBuckets atomic.Int64
	applierNs                                 atomic.Int64
}

// cowSet is one db's bucket set as the cut found it.
type cowSet struct {
	db            int
	bs            *bucketSet
	keys, expires int64
	state         []atomic.Uint32 // per bucket: 0, 1, 2, 3 (see above)
	// done holds, per bucket not written yet, the keys the applier wrote
	// (or found absent) before changing them: the walker leaves them out.
	// Read and written only by whoever holds the bucket at 1 or 3.
	done []map[string]struct{}
}

// BeginSnapshot takes a cut of the keyspace. The caller must hold the
// applier out meanwhile (no Apply or ApplyBatch may run), so that what it
// knows of the applied position matches the cut. From then on sink gets
// every key of the cut once, as RDB records (rdbparse.NewRecordWriter)
// of db, from Walk's goroutine and from the applier's: it must not block,
// and must take rec (it is not reused). Walk writes what the applier did
// not; Close ends the snapshot.
func (p *Projection) BeginSnapshot(sink func(db int, rec []byte)) (*Snapshot, error) {
	p.hold.Lock()
	defer p.hold.Unlock()
	if p.cow.Load() != nil {
		return nil, ErrSnapshotRunning
	}
	ds := p.cur.Load()
	s := &Snapshot{p: p, ds: ds, now: p.opts.Now(), enc: p.enc.Load(), sink: sink}
	s.cond = sync.NewCond(&s.wmu)
	s.aw = rdbparse.NewRecordWriter(&s.abuf)
	s.adb = -1
	for i, d := range ds.dbs {
		bs := d.tabs.Load()
		s.sets = append(s.sets, &cowSet{db: i, bs: bs, keys: d.keys.Load(), expires: d.expires.Load(),
			state: make([]atomic.Uint32, bs.nb), done: make([]map[string]struct{}, bs.nb)})
	}
	p.cow.Store(s)
	return s, nil
}

// DBSize returns db's key and expire counts at the cut (RESIZEDB).
func (s *Snapshot) DBSize(db int) (keys, expires int64) {
	if db < 0 || db >= len(s.sets) {
		return 0, 0
	}
	return s.sets[db].keys, s.sets[db].expires
}

// SnapshotStats is what the applier did for a snapshot.
type SnapshotStats struct {
	// Buckets, Keys and Bytes the applier wrote before writing into them.
	Buckets, Keys, Bytes int64
	// ApplierTime is the time it spent doing so.
	ApplierTime time.Duration
}

// Stats returns what the applier wrote of the snapshot so far.
func (s *Snapshot) Stats() SnapshotStats {
	return SnapshotStats{Buckets: s.appliedBuckets.Load(), Keys: s.appliedKeys.Load(), Bytes: s.appliedBytes.Load(),
		ApplierTime: time.Duration(s.applierNs.Load())}
}

// Close ends the snapshot: the applier stops writing into it (a hook
// running now may still call sink once). It does not wait.
func (s *Snapshot) Close() {
	s.dead.Store(true)
	s.p.cow.CompareAndSwap(s, nil)
}

// walkChunk is about the most record bytes Walk hands the sink at once.
const walkChunk = 64 << 10

// Walk writes every bucket the applier has not written, in order, handing
// the sink runs of about walkChunk bytes; after each it calls pace, which
// may wait (the consumers' pace) and returns false to stop
// (ErrSnapshotAborted). When Walk returns nil every key of the cut has
// reached the sink; the snapshot is then closed.
func (s *Snapshot) Walk(pace func() bool) error {
	defer s.Close()
	var buf bytes.Buffer
	w := rdbparse.NewRecordWriter(&buf)
	flush := func(db int) error {
		if err := w.Flush(); err != nil {
			return err
		}
		if buf.Len() > 0 {
			s.sink(db, bytes.Clone(buf.Bytes()))
			buf.Reset()
		}
		return nil
	}
	for _, cs := range s.sets {
		for b := range cs.state {
			if s.dead.Load() {
				return ErrSnapshotAborted
			}
			if !s.claim(&cs.state[b]) {
				continue
			}
			s.walkBucket(w, cs, b)
			cs.done[b] = nil
			cs.state[b].Store(2)
			if s.waiting.Load() {
				s.wmu.Lock()
				s.waiting.Store(false)
				s.cond.Broadcast()
				s.wmu.Unlock()
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if buf.Len() >= walkChunk {
				if err := flush(cs.db); err != nil {
					return err
				}
				if !pace() {
					return ErrSnapshotAborted
				}
			}
		}
		if err := flush(cs.db); err != nil {
			return err
		}
	}
	// A bucket the applier claimed may still be on its way to the sink.
	for s.inflight.Load() != 0 {
		time.Sleep(20 * time.Microsecond)
	}
	if s.dead.Load() {
		return ErrSnapshotAborted
	}
	return nil
}

// claim takes a bucket for the walker (0 to 1); false when it is
// written already. It waits out the applier's short hold (3).
func (s *Snapshot) claim(st *atomic.Uint32) bool {
	for {
		switch st.Load() {
		case 2:
			return false
		case 0:
			if st.CompareAndSwap(0, 1) {
				return true
			}
		default:
			runtime.Gosched()
		}
	}
}

// walkBucket writes bucket b of cs, under the stripe lock that guards it
// now: a write the applier started before the walker took the bucket
// (its key marked, its bucket back at 0) ends first. The db that holds
// the set may have changed with SWAPDB (holding a stripe pins it); a set
// no db holds (after FLUSHDB, FLUSHALL or a load, or for the instant of a
// SWAPDB) has no write going on.
func (s *Snapshot) walkBucket(w *rdbparse.Writer, cs *cowSet, b int) {
	for {
		var d *db
		for _, x := range s.ds.dbs {
			if x.tabs.Load() == cs.bs {
				d = x
				break
			}
		}
		if d == nil {
			s.writeBucket(w, cs, b)
			return
		}
		mu := &d.stripes[uint64(b)&d.smask].mu
		mu.RLock()
		if d.tabs.Load() == cs.bs {
			s.writeBucket(w, cs, b)
			mu.RUnlock()
			return
		}
		mu.RUnlock()
	}
}

// writeBucket writes the live keys of bucket b of cs that the applier
// has not written (expired at the cut: left out, as a read at the cut
// would) and returns how many.
func (s *Snapshot) writeBucket(w *rdbparse.Writer, cs *cowSet, b int) int {
	n := 0
	done := cs.done[b]
	cs.bs.t[b].each(func(sl *slot) bool {
		if done != nil {
			if _, ok := done[sl.keyString()]; ok {
				return true
			}
		}
		if s.writeKey(w, sl) {
			n++
		}
		return w.Err() == nil
	})
	return n
}

// writeKey writes one slot's key unless it is expired at the cut.
func (s *Snapshot) writeKey(w *rdbparse.Writer, sl *slot) bool {
	o := sl.obj()
	if o.exp != 0 && o.exp <= s.now {
		return false
	}
	sc := &s.wsc // the walker's, or the applier's: they write at once
	if w == s.aw {
		sc = &s.asc
	}
	v := Value{o: o, ok: true, enc: s.enc, now: s.now}
	return v.writeRDB(w, stringBytes(sl.keyString()), sc)
}

// setOf returns the noted set that d holds now, or nil (a set made
// since the cut: nothing of it is in the snapshot).
func (s *Snapshot) setOf(d *db) *cowSet {
	bs := d.tabs.Load()
	for _, cs := range s.sets {
		if cs.bs == bs {
			return cs
		}
	}
	return nil
}

// waitWalker waits until the walker has written a bucket it holds (1).
func (s *Snapshot) waitWalker(st *atomic.Uint32) {
	s.wmu.Lock()
	for st.Load() != 2 {
		s.waiting.Store(true)
		if st.Load() == 2 {
			break
		}
		s.cond.Wait()
	}
	s.wmu.Unlock()
}

// hold takes bucket st for the applier (0 to 3); false when the bucket is
// written already (after waiting for the walker, if it is at it).
func (s *Snapshot) hold(st *atomic.Uint32) bool {
	for {
		switch st.Load() {
		case 2:
			return false
		case 1:
			s.waitWalker(st)
			return false
		case 0:
			if st.CompareAndSwap(0, 3) {
				return true
			}
		}
	}
}

func (s *Snapshot) use(db int) {
	if s.adb != db {
		s.flushApplier()
		s.adb = db
	}
}

// emitBucket writes the whole of bucket b of cs, if the walker has not
// (emitDB). The applier's goroutine only, between hookBegin and hookEnd.
func (s *Snapshot) emitBucket(cs *cowSet, b int) {
	st := &cs.state[b]
	if !s.hold(st) {
		return
	}
	s.use(cs.db)
	s.appliedKeys.Add(int64(s.writeBucket(s.aw, cs, b)))
	s.appliedBuckets.Add(1)
	cs.done[b] = nil
	st.Store(2)
	s.afterWrite()
}

// emitOne writes key's pre-image, if the walker has not written its
// bucket and the applier has not written the key, and marks it done.
func (s *Snapshot) emitOne(cs *cowSet, key []byte) {
	h := keyHash(key)
	b := cs.bs.bucketOfHash(h)
	st := &cs.state[b]
	if !s.hold(st) {
		return
	}
	done := cs.done[b]
	if _, ok := done[string(key)]; !ok {
		if done == nil {
			done = map[string]struct{}{}
			cs.done[b] = done
		}
		done[string(key)] = struct{}{}
		if sl := cs.bs.t[b].find(key, h); sl != nil {
			s.use(cs.db)
			if s.writeKey(s.aw, sl) {
				s.appliedKeys.Add(1)
			}
		}
	}
	st.Store(0)
	s.afterWrite()
}

func (s *Snapshot) afterWrite() {
	s.aw.Flush()
	if s.abuf.Len() >= walkChunk {
		s.flushApplier()
	}
}

func (s *Snapshot) flushApplier() {
	s.aw.Flush()
	if s.abuf.Len() == 0 {
		return
	}
	s.appliedBytes.Add(int64(s.abuf.Len()))
	s.sink(s.adb, bytes.Clone(s.abuf.Bytes()))
	s.abuf.Reset()
}

// hookBegin starts one hook of the applier; it reports false when the
// snapshot is over or of another dataset.
func (s *Snapshot) hookBegin(ds *dataset) bool {
	if ds != s.ds || s.dead.Load() {
		return false
	}
	s.inflight.Add(1)
	if s.dead.Load() {
		s.inflight.Add(-1)
		return false
	}
	return true
}

func (s *Snapshot) hookEnd(t0 time.Time) {
	s.flushApplier()
	s.applierNs.Add(int64(time.Since(t0)))
	s.inflight.Add(-1)
}

// emitKey makes sure key of db is written before the applier changes it.
func (s *Snapshot) emitKey(ds *dataset, db int, key []byte) {
	if db < 0 || db >= len(ds.dbs) {
		return
	}
	if cs := s.setOf(ds.dbs[db]); cs != nil {
		s.emitOne(cs, key)
	}
}

// emitDB writes every bucket of the set db holds.
func (s *Snapshot) emitDB(ds *dataset, db int) {
	if db < 0 || db >= len(ds.dbs) {
		return
	}
	if cs := s.setOf(ds.dbs[db]); cs != nil {
		for b := range cs.state {
			s.emitBucket(cs, b)
		}
	}
}

// beforeKeys is the hook of a command on keys of one db (Apply's fast
// path, PFCountWrite).
func (s *Snapshot) beforeKeys(ds *dataset, db int, keys [][]byte) {
	if !s.hookBegin(ds) {
		return
	}
	t0 := time.Now()
	for _, k := range keys {
		s.emitKey(ds, db, k)
	}
	s.hookEnd(t0)
}

// beforeBatch is the hook of ApplyBatch: the keys of every command of
// the unit, by its scope (see the top of the file).
func (s *Snapshot) beforeBatch(ds *dataset, cmds []Command, descs []*cmdDesc) {
	if !s.hookBegin(ds) {
		return
	}
	t0 := time.Now()
	for i, c := range cmds {
		d := descs[i]
		if d == nil || len(c.Argv) == 0 {
			continue // an unknown command: its db is cleared, or nothing
		}
		var sc scope
		s.akeys, sc = d.keys(c.Argv, s.akeys[:0])
		switch sc {
		case scopeKeys, scopeDB:
			for _, k := range s.akeys {
				s.emitKey(ds, c.DB, k)
			}
		case scopeAll:
			s.beforeAll(ds, c, d, i < len(cmds)-1)
		}
	}
	s.hookEnd(t0)
}

// beforeAll handles the commands that lock every db: MOVE and COPY … DB
// write one key in each of two dbs; SWAPDB, when more commands of its
// unit follow, has both its dbs written (what follows it would find the
// sets by the dbs as they were before the unit); FLUSHALL and a command
// not applied exactly replace sets and need nothing.
func (s *Snapshot) beforeAll(ds *dataset, c Command, d *cmdDesc, more bool) {
	argv := c.Argv
	switch d.name {
	case "move":
		if len(argv) == 3 {
			s.emitKey(ds, c.DB, argv[1])
			s.emitKey(ds, dbNumber(argv[2]), argv[1])
		}
	case "copy":
		if len(argv) >= 3 {
			s.emitKey(ds, c.DB, argv[2])
			for i := 3; i+1 < len(argv); i++ {
				if eq(argv[i], "db") {
					s.emitKey(ds, dbNumber(argv[i+1]), argv[2])
				}
			}
		}
	case "swapdb":
		if more && len(argv) == 3 {
			s.emitDB(ds, dbNumber(argv[1]))
			s.emitDB(ds, dbNumber(argv[2]))
		}
	}
}

// dbNumber parses a db argument; -1 when it is none.
func dbNumber(b []byte) int {
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// WriteRDB writes x as the RDB record of key (rdbparse.Writer's plain
// encodings); false for a kind it has no record for.
func (x Value) WriteRDB(rw *rdbparse.Writer, key []byte) bool {
	var sc scratch
	return x.writeRDB(rw, key, &sc)
}

// writeRDB is WriteRDB unpacking packed elements into sc, which it
// empties after writing each.
func (x Value) writeRDB(rw *rdbparse.Writer, key []byte, sc *scratch) bool {
	x.sc = sc
	exp := x.ExpireMs()
	switch x.Kind() {
	case rdbparse.KindString:
		rw.String(key, x.Bytes(), exp)
	case rdbparse.KindList:
		rw.Begin(rdbparse.KindList, key, uint64(x.Len()), exp)
		x.ListEach(false, func(_ int, e []byte) bool { rw.Elem(e); sc.reset(); return true })
	case rdbparse.KindSet:
		rw.Begin(rdbparse.KindSet, key, uint64(x.Len()), exp)
		x.SetEach(func(m []byte) bool { rw.Elem(m); return true })
	case rdbparse.KindZSet:
		rw.Begin(rdbparse.KindZSet, key, uint64(x.Len()), exp)
		x.ZEach(func(m []byte, s float64) bool { rw.Member(m, s); sc.reset(); return true })
	case rdbparse.KindHash:
		if m := x.HashMinFieldExpire(); m != 0 { // field TTLs (Redis 7.4)
			rw.BeginHashMetadata(key, uint64(x.Len()), exp, m)
			x.HashEachWithTTL(func(f, v []byte, t int64) bool { rw.PairTTL(f, v, t); sc.reset(); return true })
			break
		}
		rw.Begin(rdbparse.KindHash, key, uint64(x.Len()), exp)
		x.HashEach(func(f, v []byte) bool { rw.Pair(f, v); sc.reset(); return true })
	case rdbparse.KindStream:
		rw.Stream(key, x.StreamRDB(), exp)
	default:
		return false
	}
	return true
}
