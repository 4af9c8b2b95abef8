package server

// Serving replicas (fan-out): a redis-server with replicaof pointing at
// vdr, or another vdr with --primary pointing at it, replicates the
// upstream primary through vdr, as a Redis sub-replica serves its own
// replicas: the stream they get is the one vdr received (replica.Tap
// into the backlog), with the primary's replication ID and offsets, so a
// downstream can later PSYNC to the primary or to any sibling and get
// +CONTINUE (see the psync2 notes at the top of src/replication.c).
//
//	primary ──▶ replica.Client ──Tap──▶ backlog ──▶ downstream goroutine ──▶ replica
//	                   │                    ▲
//	                   └──▶ projection ─────┴── pass (RDB of a copy-on-write cut at the applied offset)
//
// Locks, outermost first: linkHandler.mu (a cut holds the applier out
// while it notes the offset and starts a projection.Snapshot; FullSyncEnd
// announces a new history under it), then rdbPass.mu (leaf: the
// snapshot's sink, called by the walker and by the applier, appends
// under it) and backlog.mu (leaf: the tap, and each downstream's copy of
// at most 64 KiB, hold it briefly). downstreams.mu and
// downstreams.cutMu are taken alone or, cutMu, before backlog.mu and
// rdbPass.mu; no socket I/O happens under any of them.
//
// A SYNC/PSYNC is checked by the command (commands/downstream.go); the
// connection then leaves the event loop (handoff) and gets a goroutine
// that answers +CONTINUE and streams the backlog from the asked offset,
// or answers +FULLRESYNC, streams an RDB of the projection at its
// applied offset (downstream_pass.go), and streams the backlog from
// there. The goroutine writes straight from the backlog, so the backlog
// is every downstream's output buffer: one that lags by more than it
// holds is dropped with a log line (DefaultReplBacklogSize). Another
// goroutine reads its REPLCONF ACKs; anything else it sends drops it.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/commands"
)

// replTimeout is Redis's repl-timeout default: a downstream that takes
// longer to accept a write, or sends no ACK for this long once online,
// is dropped (downstreams.timeoutNs).
const replTimeout = 60 * time.Second

// downstreams are the replicas a node serves.
type downstreams struct {
	n  *Node
	bl *backlog

	mu   sync.Mutex
	live map[*downstream]struct{}

	fullSyncs, partialOK, partialErr atomic.Int64
	rdbPasses                        atomic.Int64 // RDB passes walked (full syncs share them)
	timeoutNs                        atomic.Int64 // repl-timeout (tests shorten it)
	paceDelayNs                      atomic.Int64 // a pause per chunk a pass walks (tests slow it down)
	preImages                        atomic.Int64 // keys the applier wrote into passes before changing them

	// own: the stream served is this vdr's own (filters with
	// DownstreamFiltered: downstream_own.go), not the upstream's tap.
	own  bool
	ownS ownStream // under linkHandler.mu

	cutMu  sync.Mutex
	shared *rdbPass // the pass replicas attaching now join (acquirePass)
}

func newDownstreams(n *Node, backlogSize int, own bool) *downstreams {
	d := &downstreams{n: n, bl: newBacklog(backlogSize), live: map[*downstream]struct{}{}, own: own}
	d.timeoutNs.Store(int64(replTimeout))
	if own {
		d.ownStart()
	}
	return d
}

// downstream is one replica served.
type downstream struct {
	d    *downstreams
	c    *conn
	nc   net.Conn
	req  *commands.SyncRequest
	ip   string
	port int

	online  atomic.Bool
	sentOff atomic.Int64 // offset of the last byte written
	ackOff  atomic.Int64
	ackTime atomic.Int64 // Unix s of the last ACK
	closed  chan struct{}
	once    sync.Once
	acked   chan struct{} // closed at the first REPLCONF ACK
	ackOnce sync.Once
}

func (ds *downstream) close() { ds.once.Do(func() { close(ds.closed); ds.nc.Close() }) }

// refusal implements commands.ReplicaServer for the node.
func (d *downstreams) refusal() string {
	if ro := d.n.opts.Replica; !d.own && ro != nil && (len(ro.DBs) > 0 || len(ro.KeyPrefixes) > 0) {
		return "ERR vdr: can't serve a replica: this vdr projects only part of the data (db or key-prefix filters), a replica would get a partial copy (--downstream-filtered serves it that copy under vdr's own replication ID)"
	}
	if !d.n.link.linkUp.Load() || !d.n.link.firstSyncDone.Load() {
		return "NOMASTERLINK Can't SYNC while not connected with my master"
	}
	return ""
}

// SyncRefusal implements commands.ReplicaServer.
func (s *Server) SyncRefusal() string {
	if s.down == nil {
		return "ERR vdr serves a file here, not a primary's stream: SYNC needs --primary"
	}
	return s.down.refusal()
}

// serve runs a downstream on its own goroutine until it ends; rest is
// what the client sent after its PSYNC.
func (d *downstreams) serve(c *conn, nc net.Conn, rest []byte, req *commands.SyncRequest) {
	s := d.n.srv
	ds := &downstream{d: d, c: c, nc: nc, req: req, port: req.ListeningPort, closed: make(chan struct{}), acked: make(chan struct{})}
	ds.ip = req.IP
	if ds.ip == "" {
		if h, _, err := net.SplitHostPort(c.cl.Addr); err == nil {
			ds.ip = h
		}
	}
	ds.ackTime.Store(time.Now().Unix())
	c.cl.SetReplica()
	c.down.Store(ds)
	d.mu.Lock()
	d.live[ds] = struct{}{}
	d.mu.Unlock()
	log := d.n.log.With("replica", net.JoinHostPort(ds.ip, strconv.Itoa(ds.port)), "client", c.cl.Addr)
	defer func() {
		ds.close()
		d.mu.Lock()
		delete(d.live, ds)
		d.mu.Unlock()
	}()
	go func() {
		select {
		case <-s.done:
		case <-ds.closed:
		}
		ds.close()
	}()
	go ds.readAcks(rest, log)

	d.bl.activate()
	if req.PSync {
		cur, epoch, ok := d.bl.canContinue(req.ReplID, req.Offset)
		if ok {
			d.partialOK.Add(1)
			line := "+CONTINUE\r\n"
			if req.CapaPsync2 {
				line = "+CONTINUE " + cur + "\r\n"
			}
			log.Info("partial resync of a replica accepted", "replid", cur, "offset", req.Offset)
			if ds.write([]byte(line)) != nil {
				return
			}
			ds.stream(epoch, req.Offset, log)
			return
		}
		if req.ReplID != "?" {
			d.partialErr.Add(1)
		}
	}
	d.fullSyncs.Add(1)
	d.fullSync(ds, log)
}

// fullSync sends the replica an RDB of a cut (a pass it shares with the
// replicas that attach with it: downstream_pass.go), then the stream from
// the cut's offset on.
func (d *downstreams) fullSync(ds *downstream, log interface {
	Info(string, ...any)
	Warn(string, ...any)
}) {
	req := ds.req
	pass, r := d.acquirePass()
	released := false
	release := func() {
		if !released {
			released = true
			d.releasePass(pass, r)
		}
	}
	defer release()
	// The cut may wait for another pass's walk to end: a newline a second
	// keeps the replica from timing out meanwhile, as a Redis master does
	// for replicas waiting for their RDB (replicationCron); both Redis's
	// replica and vdr's skip it before the PSYNC reply.
	tick := time.NewTicker(time.Second)
wait:
	for {
		select {
		case <-pass.ready:
			break wait
		case <-tick.C:
			if ds.write([]byte("\n")) != nil {
				tick.Stop()
				return
			}
		case <-ds.closed:
			tick.Stop()
			return
		}
	}
	tick.Stop()
	replID, epoch, at, err := pass.replID, pass.epoch, pass.at, pass.err
	if err != nil {
		log.Warn("full sync of a replica refused", "error", err)
		ds.write([]byte("-NOMASTERLINK Can't SYNC while not connected with my master\r\n"))
		return
	}
	log.Info("full sync of a replica", "replid", replID, "offset", at)
	var head []byte
	if req.PSync {
		head = fmt.Appendf(head, "+FULLRESYNC %s %d\r\n", replID, at)
	}
	// With capa eof the RDB goes as a diskless primary sends it: "$EOF:"
	// and a 40-byte mark that also ends it (rdbSaveToSlavesSockets),
	// streamed as the pass writes it. A replica reading that form reads
	// ahead of the mark, so the stream starts only once it ACKed
	// (repl_start_cmd_stream_on_ack). Without it the length comes first:
	// the RDB is gathered whole before it is sent.
	var mark []byte
	var whole [][]byte
	size := 0
	if req.CapaEOF {
		var rnd [20]byte
		rand.Read(rnd[:])
		mark = hex.AppendEncode(nil, rnd[:])
		head = fmt.Appendf(head, "$EOF:%s\r\n", mark)
		if ds.write(head) != nil {
			return
		}
	}
	for {
		b, end, err := pass.next(r, ds.closed)
		if err != nil {
			log.Warn("dropping a replica: its RDB was not completed", "error", err)
			return
		}
		if end {
			break
		}
		if mark == nil {
			whole = append(whole, b)
			size += len(b)
			continue
		}
		if ds.write(b) != nil {
			log.Warn("replica dropped while sending the RDB")
			return
		}
		size += len(b)
	}
	if mark == nil {
		head = fmt.Appendf(head, "$%d\r\n", size)
		if ds.write(head) != nil {
			return
		}
		for _, b := range whole {
			if ds.write(b) != nil {
				log.Warn("replica dropped while sending the RDB")
				return
			}
		}
	} else if ds.write(mark) != nil {
		return
	}
	log.Info("RDB sent to a replica", "rdb_bytes", size)
	release()
	if mark != nil {
		t := time.NewTimer(d.timeout())
		select {
		case <-ds.acked:
			t.Stop()
		case <-ds.closed:
			t.Stop()
			return
		case <-t.C:
			log.Warn("dropping a replica: no ACK after its RDB", "timeout", d.timeout())
			return
		}
	}
	ds.stream(epoch, at+1, log)
}

func (d *downstreams) timeout() time.Duration { return time.Duration(d.timeoutNs.Load()) }

// write writes b in pieces of at most writeChunk, each within
// replTimeout: a big RDB to a slow but live replica is not cut, a replica
// that stops reading is.
func (ds *downstream) write(b []byte) error {
	for len(b) > 0 {
		p := b[:min(len(b), writeChunk)]
		ds.nc.SetWriteDeadline(time.Now().Add(ds.d.timeout()))
		n, err := ds.nc.Write(p)
		ds.d.n.srv.env.Stats.NetReplOutputBytes.Add(int64(n))
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// writeChunk is the most written under one deadline.
const writeChunk = 1 << 20

// stream writes the backlog from offset from on until the downstream
// ends, falls out of the backlog or the history changes.
func (ds *downstream) stream(epoch uint64, from int64, log interface {
	Info(string, ...any)
	Warn(string, ...any)
}) {
	ds.sentOff.Store(from - 1)
	ds.online.Store(true)
	if ds.req.PSync {
		// Online: from here a replica ACKs every second.
		ds.nc.SetReadDeadline(time.Now().Add(ds.d.timeout()))
	}
	buf := make([]byte, 64<<10)
	next := from
	for {
		n, wake, gone := ds.d.bl.readFrom(epoch, next, buf)
		if gone != "" {
			log.Warn("dropping a replica: "+gone, "offset", next)
			return
		}
		if n == 0 {
			select {
			case <-wake:
				continue
			case <-ds.closed:
				return
			}
		}
		if err := ds.write(buf[:n]); err != nil {
			select {
			case <-ds.closed:
				log.Info("replica link closed")
			default:
				log.Warn("dropping a replica: write failed", "error", err)
			}
			return
		}
		next += int64(n)
		ds.sentOff.Store(next - 1)
	}
}

// readAcks reads what the downstream sends: REPLCONF ACK <offset> [FACK
// <offset>] (and GETACK, ignored), with the front end's bounded request
// reader. Anything else, or a malformed request, drops it with a log
// line.
func (ds *downstream) readAcks(rest []byte, log interface {
	Info(string, ...any)
	Warn(string, ...any)
}) {
	defer ds.close()
	// A REPLCONF is a few short words: 1 KiB arguments, 16 of them.
	rd := newReader(io.MultiReader(bytes.NewReader(rest), ds.nc), 1<<10, 16, func() bool { return true })
	noop := func() error { return nil }
	for {
		argv, err := rd.next(noop)
		if err != nil {
			select {
			case <-ds.closed:
			default:
				if errors.Is(err, io.EOF) {
					log.Info("replica closed its link")
				} else {
					log.Warn("dropping a replica: bad input or timeout", "error", err)
				}
			}
			return
		}
		if !bytes.EqualFold(argv[0], []byte("replconf")) {
			log.Warn("dropping a replica: it sent a command other than REPLCONF", "command", quoteShort(argv[0]))
			return
		}
		if len(argv) >= 3 && bytes.EqualFold(argv[1], []byte("ack")) {
			if off, err := strconv.ParseInt(string(argv[2]), 10, 64); err == nil && off > ds.ackOff.Load() {
				ds.ackOff.Store(off)
			}
			ds.ackTime.Store(time.Now().Unix())
			ds.ackOnce.Do(func() { close(ds.acked) })
			if ds.online.Load() {
				ds.nc.SetReadDeadline(time.Now().Add(ds.d.timeout()))
			}
		}
	}
}

func quoteShort(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	return strconv.Quote(string(b))
}

// ReplicaLines implements commands.ReplicaLister: what INFO replication
// shows of the replicas served and of the backlog.
func (s *Server) ReplicaLines() commands.ReplicaLines {
	if s.down == nil {
		return commands.ReplicaLines{}
	}
	d := s.down
	var out commands.ReplicaLines
	d.mu.Lock()
	for ds := range d.live {
		st := "wait_bgsave"
		if ds.online.Load() {
			st = "online"
		}
		off := ds.ackOff.Load()
		out.Replicas = append(out.Replicas, commands.ReplicaLine{ID: ds.c.cl.ID, IP: ds.ip, Port: ds.port, State: st,
			Offset: off, Lag: time.Now().Unix() - ds.ackTime.Load(), Sent: ds.sentOff.Load()})
	}
	d.mu.Unlock()
	out.ReplID, out.ReplID2, out.SecondOffset, out.BacklogFirstByte, out.BacklogHistlen, out.BacklogActive = d.bl.info()
	out.BacklogSize = int64(d.bl.size)
	out.SyncFull, out.SyncPartialOK, out.SyncPartialErr = d.fullSyncs.Load(), d.partialOK.Load(), d.partialErr.Load()
	return out
}

// serveDownstream serves a replica on a goroutine connection (no event
// loop): the connection goroutine itself becomes the replica's.
func (c *conn) serveDownstream(req *commands.SyncRequest) {
	if c.ctx.W.Len() > 0 || c.s.down == nil {
		c.ctx.W.Error("ERR SYNC and PSYNC are invalid with pending output")
		c.flush()
		return
	}
	rest := append([]byte(nil), c.rd.buf[c.rd.r:c.rd.w]...)
	c.s.down.serve(c, c.nc, rest, req)
}
