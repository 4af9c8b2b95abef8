//go:build linux

package server

// The event-loop front end (Options.EventLoops > 0, Linux only).
//
// Why: with one goroutine per connection every request costs, besides the
// read and the write Redis also does, a read that fails with EAGAIN, a
// park, a netpoll wake-up and a goroutine switch (64% of a GET profile was
// syscalls). Redis runs one epoll loop (src/ae.c, src/ae_epoll.c); vdr runs
// N of them, each a goroutine blocked in epoll_wait over raw non-blocking
// fds that never enter Go's netpoller:
//
//	loop 0: listening fds ─accept4─► maxclients? ─► round-robin ─► loop i queue ─┐
//	loop i: epoll_wait ─► wake pipe: register new conns, take pub/sub pushes, kills ◄┘
//	                   ├► EPOLLIN:  read once (16 KiB, as readQueryFromClient) ─►
//	                   │            every complete request: commands.Exec ─►
//	                   │            one write of all replies (+ queued pushes);
//	                   │            a short write keeps the rest and arms EPOLLOUT
//	                   └► EPOLLOUT: write the rest; when drained, disarm and
//	                                resume the requests left buffered
//	every sweepInterval: idle timeout (subscribers exempt), write timeout,
//	                     shutdown progress.
//
// Ownership: a connection's fd, reader, Ctx and evState belong to its loop
// goroutine; only that goroutine reads, writes or closes the fd, so an fd
// number is never reused under another goroutine's feet. Other goroutines
// (publishers, CLIENT KILL from another loop, the acceptor) reach a
// connection only through its loop's queue and wake pipe.
//
// Back-pressure: while a client owes more than outputStallBytes of unsent
// replies, its loop neither executes its buffered requests nor reads from
// it (EPOLLIN is disarmed), so a client that never reads costs at most that
// bound plus one reply and its read buffer; WriteTimeout then disconnects
// it, as the goroutine path's write deadline does.

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vdr-project/vdr/commands"
)

const (
	loopsSupported = true

	// maxEpollEvents is how many ready fds one epoll_wait returns at most.
	maxEpollEvents = 256
	// sweepInterval is how often a loop checks timeouts (Redis's
	// clientsCron runs at hz 10 too).
	sweepInterval = 100 * time.Millisecond
	// maxAcceptsPerCall bounds the accepts per readable listener event
	// (MAX_ACCEPTS_PER_CALL in src/networking.c).
	maxAcceptsPerCall = 1000
	// listenBacklog is Redis's default tcp-backlog; the kernel caps it at
	// net.core.somaxconn.
	listenBacklog = 511
	// outputStallBytes is the unsent output above which a loop stops
	// executing and reading a client's requests.
	outputStallBytes = 1 << 20
)

// evState is a connection's event-loop state.
type evState struct {
	fd         int
	registered bool   // added to the loop's epoll set (loop goroutine)
	closed     bool   // fd closed (loop goroutine)
	closeAfter bool   // close once out is written (loop goroutine)
	events     uint32 // epoll interest registered (loop goroutine)
	out        []byte // unsent output after a short write (loop goroutine)
	lastRead   int64  // unix ns of the last read batch: idle timeout (loop goroutine)
	stalled    int64  // unix ns of the last write progress while out was non-empty
	unsent     atomic.Int64

	queued   bool // in the loop's queue (under conn.pmu)
	killReq  bool // CLIENT KILL from another goroutine (under conn.pmu)
	retryReq bool // a key it is blocked on was written (under conn.pmu)

	flushQueued bool // in loop.toFlush (loop goroutine)

	blocked  bool  // waiting in XREAD BLOCK: no request runs (loop goroutine)
	deadline int64 // unix ns its block times out; 0: never (loop goroutine)

	// A huge command running on a goroutine of its own (offload): the
	// loop neither reads, runs, writes nor closes the connection until
	// it is done; what it is asked meanwhile waits in the flags below.
	offloaded     bool // (loop goroutine)
	closeWhenDone bool // closeConn was asked while offloaded (loop goroutine)
	retryWhenDone bool // a blocked-read wake came while offloaded (loop goroutine)
	offloadDone   bool // the command finished (under conn.pmu)
}

// listenFD is a listening socket owned by loop 0.
type listenFD struct {
	fd     int
	unix   bool
	paused bool // out of the epoll set after EMFILE and the like, until the next sweep
}

// loop is one event loop.
type loop struct {
	s      *Server
	epfd   int
	wakeR  int // read end of the wake pipe (in the epoll set)
	wakeW  int // write end, written under mu
	lfds   []listenFD
	conns  []*conn // by fd (loop goroutine)
	nconns int
	now    int64 // unix ns, refreshed after each epoll_wait

	shutting   bool // the server is closing: no more reads (loop goroutine)
	lastSweep  int64
	acceptNext int          // round-robin cursor (loop 0's goroutine)
	hintKeys   [][]byte     // hintAhead's scratch (loop goroutine)
	sleeps     atomic.Int64 // blocking epoll_waits (tests)
	spin       spinGauge    // whether busy polls find work (loop goroutine)
	toFlush    []*conn      // connections with replies to write at the end of the batch (loop goroutine)

	mu     sync.Mutex
	queue  []*conn
	spare  []*conn
	exited bool
	force  atomic.Bool // ShutdownTimeout passed: close everything now
}

func newLoop(s *Server) (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("pipe2", err)
	}
	l := &loop{s: s, epfd: epfd, wakeR: p[0], wakeW: p[1], spin: spinGauge{level: spinGaugeMax}}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p[0], &ev); err != nil {
		l.closeFDs()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return l, nil
}

func (l *loop) closeFDs() {
	syscall.Close(l.epfd)
	syscall.Close(l.wakeR)
	syscall.Close(l.wakeW)
}

// startLoops creates the event loops; loop 0 accepts on lfds. On error
// nothing is left open but lfds, which the caller closes.
func (s *Server) startLoops(lfds []listenFD) error {
	n := s.opts.EventLoops
	loops := make([]*loop, 0, n)
	for i := 0; i < n; i++ {
		l, err := newLoop(s)
		if err != nil {
			for _, l := range loops {
				l.closeFDs()
			}
			return err
		}
		loops = append(loops, l)
	}
	l0 := loops[0]
	for _, lf := range lfds {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(lf.fd)}
		if err := syscall.EpollCtl(l0.epfd, syscall.EPOLL_CTL_ADD, lf.fd, &ev); err != nil {
			for _, l := range loops {
				l.closeFDs()
			}
			return os.NewSyscallError("epoll_ctl", err)
		}
	}
	l0.lfds = lfds
	s.loops = loops
	for _, l := range loops {
		s.wg.Add(1)
		go l.run()
	}
	return nil
}

// wakeLoops makes every loop look at the server state (Close).
func (s *Server) wakeLoops(force bool) {
	for _, l := range s.loops {
		if force {
			l.force.Store(true)
		}
		l.mu.Lock()
		if !l.exited {
			syscall.Write(l.wakeW, []byte{1})
		}
		l.mu.Unlock()
	}
}

// enqueue hands c to its loop (registration, pushes, kill) and wakes it.
// It reports false when the loop has exited.
func (l *loop) enqueue(c *conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.exited {
		return false
	}
	l.queue = append(l.queue, c)
	if len(l.queue) == 1 {
		// The first entry since the loop last took the queue: the loop
		// drains the pipe before taking it, so one byte is enough.
		syscall.Write(l.wakeW, []byte{1})
	}
	return true
}

func (l *loop) run() {
	defer l.s.wg.Done()
	events := make([]syscall.EpollEvent, maxEpollEvents)
	var busyUntil int64
	for {
		n, err := 0, syscall.Errno(0)
		// Busy poll (Options.BusyPoll) after a batch, then sleep.
		if busyUntil > 0 {
			for {
				n, err = epollWait(l.epfd, events, 0)
				if n != 0 || err != 0 || time.Now().UnixNano() > busyUntil {
					break
				}
			}
			l.spin.done(n != 0)
		}
		if n == 0 && err == 0 {
			l.sleeps.Add(1)
			n, err = epollWait(l.epfd, events, int(sweepInterval/time.Millisecond))
		}
		if err != 0 && err != syscall.EINTR {
			// Only a broken epoll fd gets here: drop this loop's clients
			// and end the loop rather than spin.
			l.s.opts.Logger.Error("server: epoll_wait", "err", err)
			l.force.Store(true)
			if !l.shutting {
				l.startShutdown()
			}
			n = 0
		}
		l.now = time.Now().UnixNano()
		busyUntil = 0
		if n > 0 && l.s.opts.BusyPoll > 0 && l.spin.worth() {
			busyUntil = l.now + int64(l.s.opts.BusyPoll)
		}
		for i := 0; i < n; i++ {
			ev := &events[i]
			fd := int(ev.Fd)
			if fd == l.wakeR {
				l.drainWake()
				l.takeQueue()
				continue
			}
			if lf := l.listener(fd); lf != nil {
				l.accept(lf)
				continue
			}
			if fd >= len(l.conns) || l.conns[fd] == nil {
				continue
			}
			c := l.conns[fd]
			if c.ev.offloaded && ev.Events&(syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
				// epoll reports these whatever the interest: take the fd
				// out of the set, or the loop would spin until the
				// command ends; it is closed then.
				syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
				c.ev.events = 0
				c.ev.closeWhenDone = true
				continue
			}
			if ev.Events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && len(c.ev.out) > 0 {
				l.writeOut(c)
			}
			if !c.ev.closed && ev.Events&(syscall.EPOLLIN|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && c.ev.events&syscall.EPOLLIN != 0 {
				l.readable(c)
			}
		}
		l.flushQueued()
		if l.s.closing.Load() && !l.shutting {
			l.startShutdown()
		}
		if l.force.Load() {
			for _, c := range l.conns {
				if c != nil {
					l.closeConn(c)
				}
			}
		}
		if l.now-l.lastSweep >= int64(sweepInterval) {
			l.lastSweep = l.now
			l.sweep()
			l.flushQueued() // replies of reads the sweep ended (XREAD BLOCK timeouts)
		}
		if l.shutting && l.nconns == 0 && l.tryExit() {
			return
		}
	}
}

// spinGauge decides whether a loop's busy poll is worth its CPU. A poll
// that ends with work found saved the client a wake-up; one that runs out
// burned BusyPoll of CPU for nothing, and requests that come every 100µs
// or so (a monitor polling INFO, a probe) would make every poll a miss:
// half a core spent spinning, taken from the applier on a small machine.
// The gauge rises by one with each hit and falls by four with each miss;
// at zero the loop stops polling, and tries again once every
// spinRetryBatches batches, so a burst of load turns polling back on.
type spinGauge struct {
	level   int // 0..spinGaugeMax
	skipped int // batches not polled since the gauge hit zero
}

const (
	spinGaugeMax     = 16
	spinMissCost     = 4
	spinRetryBatches = 64
)

// worth reports whether to busy poll after this batch.
func (g *spinGauge) worth() bool {
	if g.level > 0 {
		return true
	}
	g.skipped++
	if g.skipped >= spinRetryBatches {
		g.skipped = 0
		return true
	}
	return false
}

// done records a poll's outcome.
func (g *spinGauge) done(hit bool) {
	switch {
	case hit:
		g.level = min(g.level+1, spinGaugeMax)
	case g.level > spinMissCost:
		g.level -= spinMissCost
	default:
		g.level = 0
	}
}

// tryExit ends the loop when nothing is left queued.
func (l *loop) tryExit() bool {
	l.mu.Lock()
	if len(l.queue) > 0 {
		l.mu.Unlock()
		return false
	}
	l.exited = true
	l.mu.Unlock()
	l.closeFDs()
	return true
}

func (l *loop) drainWake() {
	var b [64]byte
	for {
		n, err := rawRead(l.wakeR, b[:])
		if n <= 0 || err != 0 {
			return
		}
	}
}

func (l *loop) listener(fd int) *listenFD {
	for i := range l.lfds {
		if l.lfds[i].fd == fd {
			return &l.lfds[i]
		}
	}
	return nil
}

// takeQueue handles what other goroutines asked of this loop.
func (l *loop) takeQueue() {
	l.mu.Lock()
	q := l.queue
	l.queue = l.spare[:0]
	l.mu.Unlock()
	for i, c := range q {
		q[i] = nil
		if !c.ev.registered {
			l.register(c)
		}
		if c.ev.closed {
			continue
		}
		c.pmu.Lock()
		c.ev.queued = false
		dead, kill, retry, done := c.dead, c.ev.killReq, c.ev.retryReq, c.ev.offloadDone
		c.ev.retryReq, c.ev.offloadDone = false, false
		c.pmu.Unlock()
		if done {
			l.offloadFinished(c)
			if c.ev.closed {
				continue
			}
		}
		switch {
		case dead:
			l.closeConn(c)
		case kill:
			l.closeSoon(c)
		case retry && c.ev.offloaded:
			// The command may be an XREAD BLOCK that registered its keys
			// and has not reported back yet: keep the wake for then.
			c.ev.retryWhenDone = true
		case retry && c.ev.blocked:
			if c.ctx.RetryBlocked() {
				l.unblocked(c)
			}
		default:
			l.takePending(c)
			if l.flush(c) {
				l.updateInterest(c)
			}
		}
	}
	l.mu.Lock()
	l.spare = q[:0]
	l.mu.Unlock()
}

func (l *loop) register(c *conn) {
	fd := c.ev.fd
	c.ev.registered = true
	for fd >= len(l.conns) {
		l.conns = append(l.conns, make([]*conn, len(l.conns)+64)...)
	}
	l.conns[fd] = c
	l.nconns++
	c.ev.lastRead = l.now
	c.ev.events = syscall.EPOLLIN
	ev := syscall.EpollEvent{Events: c.ev.events, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil || l.shutting {
		c.ev.events = 0
		l.closeConn(c)
	}
}

// accept takes pending connections from a listening socket.
func (l *loop) accept(lf *listenFD) {
	s := l.s
	if l.shutting {
		return
	}
	for i := 0; i < maxAcceptsPerCall; i++ {
		nfd, sa, err := syscall.Accept4(lf.fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if err != nil {
			switch err {
			case syscall.EAGAIN:
				return
			case syscall.EINTR, syscall.ECONNABORTED:
				continue
			}
			// EMFILE and friends: back off until the next sweep (as
			// net/http backs off), or the level-triggered listener
			// would spin.
			s.opts.Logger.Warn("server: accept", "err", err)
			if syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, lf.fd, nil) == nil {
				lf.paused = true
			}
			return
		}
		s.env.Stats.ConnectionsReceived.Add(1)
		var addr, laddr string
		if lf.unix {
			addr, laddr = s.opts.UnixSocket+":0", s.opts.UnixSocket+":0"
		} else {
			// As Go's net package does for accepted TCP connections.
			syscall.SetsockoptInt(nfd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
			syscall.SetsockoptInt(nfd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)
			syscall.SetsockoptInt(nfd, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15)
			syscall.SetsockoptInt(nfd, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15)
			addr = sockaddrString(sa)
			if lsa, err := syscall.Getsockname(nfd); err == nil {
				laddr = sockaddrString(lsa)
			}
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			syscall.Close(nfd)
			return
		}
		if len(s.conns) >= s.env.MaxClients() {
			s.mu.Unlock()
			s.env.Stats.RejectedConns.Add(1)
			// Best effort, as Redis's acceptCommonHandler: the socket
			// buffer of a new connection always has room for this.
			syscall.Write(nfd, []byte("-ERR max number of clients reached\r\n"))
			syscall.Close(nfd)
			continue
		}
		target := s.loops[l.acceptNext%len(s.loops)]
		l.acceptNext++
		c := s.newLoopConn(target, nfd, addr, laddr)
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		if !target.enqueue(c) {
			s.removeConn(c)
			syscall.Close(nfd)
		}
	}
}

func sockaddrString(sa syscall.Sockaddr) string {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *syscall.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	}
	return ""
}

func (s *Server) newLoopConn(l *loop, fd int, addr, laddr string) *conn {
	c := &conn{s: s, lp: l, idle: true}
	c.ev.fd = fd
	c.cl = commands.NewClient(s.env.NewClientID(), addr, laddr)
	c.cl.FD = fd
	c.cl.Push = c.loopPush
	c.cl.Wake = c.loopWake
	c.ctx = commands.NewCtx(s.env, c.cl)
	c.rd = newReader(nil, s.opts.MaxBulkBytes, s.opts.MaxMultibulkLen, c.authed)
	c.rd.netIn = &s.env.Stats.NetInputBytes
	return c
}

// readable reads once from c and runs every complete request.
func (l *loop) readable(c *conn) {
	rd := c.rd
	b := rd.room()
	n, err := rawRead(c.ev.fd, b)
	if n <= 0 {
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return
		}
		// EOF or a socket error; complete requests were run before.
		l.closeConn(c)
		return
	}
	rd.w += n
	rd.addRead(n)
	c.ev.lastRead = l.now
	c.cl.Touch(time.Unix(0, l.now))
	if !c.ev.blocked {
		l.hintAhead(c)
	}
	l.process(c)
}

// maxHintAhead bounds how many buffered requests hintAhead looks at.
const maxHintAhead = 64

// hintAhead parses, without consuming, the requests buffered for c and
// hints the projection with their keys (commands.PrefetchKeys), so that
// the cache misses of a pipeline's lookups overlap instead of coming one
// after the other. A lone request is left alone (its lookup would start
// the same misses a moment later). The look-ahead stops at the first
// request that is not a keyed read, so nothing it parses depends on a
// command not yet run (AUTH and RESET change the parse limits, SELECT the
// database). It returns how many keys it hinted.
func (l *loop) hintAhead(c *conn) int {
	rd := c.rd
	if rd.head.count > 0 || rd.w-rd.r < rd.need {
		return 0 // the first request is still arriving
	}
	need := rd.need
	pos := rd.r
	keys := l.hintKeys[:0]
	for i := 0; i < maxHintAhead && pos < rd.w; i++ {
		args, n, err := rd.parseAhead(rd.buf[pos:rd.w])
		if err != nil || n == 0 || (i == 0 && pos+n >= rd.w) {
			break
		}
		pos += n
		if len(args) == 0 {
			continue
		}
		var ok bool
		if keys, ok = commands.PrefetchKeys(c.ctx, args, keys); !ok {
			break
		}
	}
	rd.need = need
	n := len(keys)
	if n > 1 {
		commands.PrefetchRun(c.ctx, keys)
	} else {
		n = 0
	}
	clear(keys)
	l.hintKeys = keys[:0]
	return n
}

// process runs the buffered requests of c, then writes the replies and
// the pub/sub messages queued meanwhile.
func (l *loop) process(c *conn) {
	if c.ev.offloaded {
		return
	}
	// Messages queued before this input was read (an invalidation, a
	// published message) go before its replies, as Redis has written them
	// by then.
	l.takePending(c)
	w := c.ctx.W
	if w.Len() > flushThreshold && !l.flush(c) {
		// A reply made before (a command run off the loop, a blocked read
		// answered) must go out first: past outputStallBytes the loop
		// below would not run, and nothing would call process again.
		return
	}
	for !c.ev.blocked && len(c.ev.out)+w.Len() <= outputStallBytes {
		args, big, err := c.rd.take()
		if big != nil || isExec(args) && commands.QueuedArgs(c.ctx) > bigArgc || err == nil && commands.RunsLong(c.ctx, args) {
			l.offload(c, args, big)
			return
		}
		if err != nil {
			var pe *protoError
			if errors.As(err, &pe) {
				w.Error("ERR " + pe.Error())
			}
			l.closeSoon(c)
			return
		}
		if args == nil {
			break
		}
		commands.Exec(c.ctx, args)
		if req := c.cl.TakeSync(); req != nil {
			l.handoff(c, req) // SYNC/PSYNC: the connection leaves the loop (downstream_linux.go)
			return
		}
		if !l.afterExec(c) {
			return
		}
		if c.ev.blocked {
			break
		}
		if w.Len() > flushThreshold && !l.flush(c) {
			return
		}
	}
	c.ctx.FlushStats()
	l.takePending(c)
	if !c.ev.flushQueued {
		// The replies go out after every ready connection has run
		// (flushQueued), as Redis writes in beforeSleep: the client
		// then finds them together and is woken once.
		c.ev.flushQueued = true
		l.toFlush = append(l.toFlush, c)
	}
}

// afterExec does what follows a command of c: the closing it asked for,
// the unauthenticated output bound, entering a blocking read. It reports
// false when c is closing.
func (l *loop) afterExec(c *conn) bool {
	if c.cl.CloseAfterReply() || c.cl.Killed() {
		l.closeSoon(c)
		return false
	}
	if c.overUnauthLimit(len(c.ev.out) + c.ctx.W.Len()) {
		c.ctx.FlushStats()
		l.closeConn(c)
		return false
	}
	if blocked, deadline := c.ctx.Blocked(); blocked {
		// Like Redis, run nothing more of this client until the
		// blocking read is answered (its input stays buffered).
		c.ev.blocked, c.ev.deadline = true, 0
		if !deadline.IsZero() {
			c.ev.deadline = deadline.UnixNano()
		}
	}
	return true
}

// offload runs a command of more than bigArgc arguments (big), an EXEC
// whose queued commands hold that many, or one that visits a whole big
// database (commands.RunsLong: CLUSTER GETKEYSINSLOT), off the loop, on a
// goroutine of its own (EXISTS or MGET of a million keys is about 50 ms
// of lookups, during which the loop would answer none of its other
// clients; flattening the arguments, a 24 MB copy, is done there too).
// Redis runs it atomically and stalls every client meanwhile; here its
// View (every stripe of the db, projection/LOCKING.md) makes it just as
// atomic, and only c and the applier wait: c's replies so far are
// written first, then the loop stops reading c (its later requests stay
// in the socket, so they run after, in order) and leaves c's Ctx and
// reply buffer to the goroutine until it reports back through the queue
// (offloadFinished). The arguments stay valid meanwhile: they live in
// the arena blocks the request alone owns, or in the read buffer, which
// the loop leaves alone until then.
func (l *loop) offload(c *conn, args [][]byte, big *bigArgs) {
	c.ctx.FlushStats()
	if !l.flush(c) {
		return
	}
	c.ev.offloaded = true
	l.updateInterest(c)
	go func() {
		if h := offloadHook.Load(); h != nil {
			(*h)()
		}
		if big != nil {
			args = big.flatten()
		}
		commands.Exec(c.ctx, args)
		c.pmu.Lock()
		c.ev.offloadDone = true
		if !c.ev.queued {
			c.ev.queued = true
			c.lp.enqueue(c) // cannot fail: the loop waits for c (closeConn)
		}
		c.pmu.Unlock()
	}()
}

// isExec reports whether args is an EXEC.
func isExec(args [][]byte) bool {
	return len(args) == 1 && bytes.EqualFold(args[0], []byte("exec"))
}

// offloadHook, when set (tests only), runs on an offloaded command's
// goroutine before the command: a test holds it there to see what the
// loop does meanwhile.
var offloadHook atomic.Pointer[func()]

// offloadFinished takes c back from its offloaded command: the closing
// asked meanwhile, or the checks that follow a command, then c's next
// requests and its reply.
func (l *loop) offloadFinished(c *conn) {
	c.ev.offloaded = false
	c.ev.lastRead = l.now // the idle timeout counts from the command's end
	retry := c.ev.retryWhenDone
	c.ev.retryWhenDone = false
	switch {
	case c.ev.closeWhenDone:
		l.closeConn(c)
	case c.ev.closeAfter:
		l.closeSoon(c)
	case !l.afterExec(c):
	case c.ev.blocked && retry && c.ctx.RetryBlocked():
		l.unblocked(c)
	default:
		l.process(c)
	}
}

// flushQueued writes the replies of the connections process ran in this
// batch of events.
func (l *loop) flushQueued() {
	for i, c := range l.toFlush {
		l.toFlush[i] = nil
		c.ev.flushQueued = false
		if !c.ev.closed && l.flush(c) {
			l.updateInterest(c)
		}
	}
	l.toFlush = l.toFlush[:0]
}

// unblocked resumes a client whose blocking read was just answered: the
// reply goes out and its buffered requests run.
func (l *loop) unblocked(c *conn) {
	if blocked, deadline := c.ctx.Blocked(); blocked {
		// Parked again: a paused command whose pause was extended,
		// or that ran into a wait of its own.
		c.ev.blocked, c.ev.deadline = true, 0
		if !deadline.IsZero() {
			c.ev.deadline = deadline.UnixNano()
		}
		return
	}
	c.ev.blocked, c.ev.deadline = false, 0
	l.process(c)
}

// loopWake asks the loop to retry c's blocked read (Client.Wake).
func (c *conn) loopWake() {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.dead {
		return
	}
	c.ev.retryReq = true
	if !c.ev.queued {
		c.ev.queued = true
		c.lp.enqueue(c)
	}
}

// takePending moves the queued pub/sub messages after the replies.
func (l *loop) takePending(c *conn) {
	if c.ev.offloaded {
		return // after the command (offloadFinished → process)
	}
	c.pmu.Lock()
	if len(c.pending) > 0 {
		c.ctx.W.Raw(c.pending)
		c.pending = c.pending[:0]
		if cap(c.pending) > 256<<10 {
			c.pending = nil
		}
	}
	c.pmu.Unlock()
}

// flush writes the reply buffer, keeping what the socket does not take;
// it reports false when the connection was closed on a write error.
func (l *loop) flush(c *conn) bool {
	w := c.ctx.W
	if c.ev.offloaded || w.Len() == 0 {
		return true
	}
	if len(c.ev.out) > 0 {
		// Earlier output is still waiting for EPOLLOUT.
		c.ev.out = append(c.ev.out, w.Bytes()...)
		w.Reset()
		c.ev.unsent.Store(int64(len(c.ev.out)))
		return true
	}
	n, ok := l.write(c, w.Bytes())
	if !ok {
		w.Reset()
		l.closeConn(c)
		return false
	}
	if n < w.Len() {
		c.ev.out = append(c.ev.out, w.Bytes()[n:]...)
		c.ev.stalled = l.now
		c.ev.unsent.Store(int64(len(c.ev.out)))
	}
	w.Reset()
	return true
}

// write writes b once (a short count means the socket buffer is full).
func (l *loop) write(c *conn, b []byte) (int, bool) {
	for {
		n, err := rawWrite(c.ev.fd, b)
		if n > 0 {
			l.s.env.Stats.NetOutputBytes.Add(int64(n))
			return n, true
		}
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, true
		}
		return 0, false
	}
}

// writeOut writes the unsent output when the socket has room.
func (l *loop) writeOut(c *conn) {
	n, ok := l.write(c, c.ev.out)
	if !ok {
		l.closeConn(c)
		return
	}
	if n > 0 {
		c.ev.stalled = l.now
	}
	if n < len(c.ev.out) {
		c.ev.out = c.ev.out[n:]
		c.ev.unsent.Store(int64(len(c.ev.out)))
		l.updateInterest(c)
		return
	}
	c.ev.out = nil
	c.ev.unsent.Store(0)
	if c.ev.closeAfter {
		l.closeConn(c)
		return
	}
	if !l.shutting {
		// Requests left buffered while the output was over the bound.
		l.process(c)
		return
	}
	l.updateInterest(c)
}

// updateInterest arms EPOLLOUT while output is unsent and EPOLLIN while
// the client may send more.
func (l *loop) updateInterest(c *conn) {
	if c.ev.closed {
		return
	}
	var want uint32
	if !c.ev.closeAfter && !l.shutting && !c.ev.offloaded && len(c.ev.out) <= outputStallBytes {
		want = syscall.EPOLLIN
	}
	if len(c.ev.out) > 0 {
		want |= syscall.EPOLLOUT
	}
	if want == c.ev.events {
		return
	}
	c.ev.events = want
	ev := syscall.EpollEvent{Events: want, Fd: int32(c.ev.fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.ev.fd, &ev); err != nil {
		l.closeConn(c)
	}
}

// closeSoon writes what is buffered and closes c once it is sent (QUIT,
// protocol errors, CLIENT KILL, shutdown).
func (l *loop) closeSoon(c *conn) {
	c.ev.closeAfter = true
	if c.ev.offloaded {
		return // offloadFinished closes it
	}
	c.ctx.FlushStats()
	if !l.flush(c) {
		return
	}
	if len(c.ev.out) == 0 {
		l.closeConn(c)
		return
	}
	l.updateInterest(c)
}

func (l *loop) closeConn(c *conn) {
	if c.ev.closed {
		return
	}
	if c.ev.offloaded {
		// The command still uses c's Ctx, and the loop must learn when
		// it ends: keep the fd (and c registered) until then.
		c.ev.closeWhenDone = true
		return
	}
	c.ev.closed = true
	c.pmu.Lock()
	c.dead = true
	c.pmu.Unlock()
	c.s.env.PubSub.UnsubscribeAll(c.cl)
	if c.ev.registered {
		l.conns[c.ev.fd] = nil
		l.nconns--
	}
	// Closing the fd also removes it from the epoll set.
	syscall.Close(c.ev.fd)
	c.ev.out = nil
	c.ev.unsent.Store(0)
	c.ctx.FlushStats()
	c.s.removeConn(c)
	c.rd.release()
}

// startShutdown stops accepting and reading; each connection is closed
// once its replies are written (Server.Close's ShutdownTimeout bounds it).
func (l *loop) startShutdown() {
	l.shutting = true
	for _, lf := range l.lfds {
		syscall.Close(lf.fd)
	}
	l.lfds = nil
	for _, c := range l.conns {
		if c != nil {
			l.closeSoon(c)
		}
	}
}

// sweep enforces the idle timeout (subscribers exempt, as in Redis's
// clientsCronHandleTimeout) and the write timeout.
func (l *loop) sweep() {
	for i := range l.lfds {
		if lf := &l.lfds[i]; lf.paused {
			ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(lf.fd)}
			if syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, lf.fd, &ev) == nil {
				lf.paused = false
			}
		}
	}
	idle := int64(l.s.env.IdleTimeout())
	wt := int64(l.s.opts.WriteTimeout)
	for _, c := range l.conns {
		if c == nil || c.ev.offloaded {
			continue
		}
		if c.ev.blocked && c.ev.deadline != 0 && l.now >= c.ev.deadline {
			c.ctx.BlockTimeout()
			l.unblocked(c)
			continue
		}
		if len(c.ev.out) > 0 {
			if l.now-c.ev.stalled > wt {
				l.closeConn(c)
			}
			continue
		}
		if idle > 0 && l.now-c.ev.lastRead > idle && c.cl.Subscriptions() == 0 && !c.ev.blocked && !c.cl.Monitoring() {
			l.closeConn(c)
		}
	}
}

// loopPush queues a pub/sub message for the loop to write. A client owing
// more than OutputBufferLimit bytes (queued and unsent) is disconnected.
func (c *conn) loopPush(b []byte) bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.dead {
		return false
	}
	if int64(len(c.pending)+len(b))+c.ev.unsent.Load() > c.s.opts.OutputBufferLimit {
		c.dead = true
		c.pending = nil
		if !c.ev.queued {
			c.ev.queued = true
			c.lp.enqueue(c)
		}
		return false
	}
	c.pending = append(c.pending, b...)
	if !c.ev.queued {
		c.ev.queued = true
		c.lp.enqueue(c)
	}
	return true
}

// loopKill asks the loop to close c after writing its replies.
func (c *conn) loopKill() {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	c.ev.killReq = true
	if !c.ev.queued {
		c.ev.queued = true
		c.lp.enqueue(c)
	}
}

// listenTCPFD opens a non-blocking TCP listening socket for the event
// loops: its own socket, not a net.Listener's, so that neither it nor the
// connections it accepts are ever in Go's netpoller. An unspecified bind
// address ("", 0.0.0.0, ::) gets a dual-stack socket where the host has
// IPv6, as net.Listen does.
func listenTCPFD(bind string, port int) (listenFD, *net.TCPAddr, error) {
	ta, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(bind, strconv.Itoa(port)))
	if err != nil {
		return listenFD{}, nil, err
	}
	if ta.IP == nil || ta.IP.IsUnspecified() {
		lf, addr, err := listenSockaddr(ta, syscall.AF_INET6, &syscall.SockaddrInet6{Port: ta.Port}, true)
		if err == nil || !errors.Is(err, syscall.EAFNOSUPPORT) {
			return lf, addr, err
		}
		return listenSockaddr(ta, syscall.AF_INET, &syscall.SockaddrInet4{Port: ta.Port}, false)
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		a := &syscall.SockaddrInet4{Port: ta.Port}
		copy(a.Addr[:], ip4)
		return listenSockaddr(ta, syscall.AF_INET, a, false)
	}
	a := &syscall.SockaddrInet6{Port: ta.Port}
	copy(a.Addr[:], ta.IP.To16())
	if ta.Zone != "" {
		if ifi, err := net.InterfaceByName(ta.Zone); err == nil {
			a.ZoneId = uint32(ifi.Index)
		}
	}
	return listenSockaddr(ta, syscall.AF_INET6, a, false)
}

func listenSockaddr(ta *net.TCPAddr, family int, sa syscall.Sockaddr, dualStack bool) (listenFD, *net.TCPAddr, error) {
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return listenFD{}, nil, os.NewSyscallError("socket", err)
	}
	fail := func(op string, err error) (listenFD, *net.TCPAddr, error) {
		syscall.Close(fd)
		return listenFD{}, nil, &net.OpError{Op: "listen", Net: "tcp", Addr: ta, Err: os.NewSyscallError(op, err)}
	}
	if dualStack {
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0); err != nil {
			return fail("setsockopt", err)
		}
	}
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err := syscall.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := syscall.Listen(fd, listenBacklog); err != nil {
		return fail("listen", err)
	}
	lsa, err := syscall.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	out := &net.TCPAddr{IP: ta.IP, Port: ta.Port, Zone: ta.Zone}
	switch a := lsa.(type) {
	case *syscall.SockaddrInet4:
		out = &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	case *syscall.SockaddrInet6:
		out = &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port, Zone: ta.Zone}
	}
	return listenFD{fd: fd}, out, nil
}

// listenUnixFD opens a non-blocking unix-socket listening socket.
func listenUnixFD(path string) (listenFD, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return listenFD{}, os.NewSyscallError("socket", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return listenFD{}, &net.OpError{Op: "listen", Net: "unix", Addr: &net.UnixAddr{Name: path, Net: "unix"}, Err: os.NewSyscallError("bind", err)}
	}
	if err := syscall.Listen(fd, listenBacklog); err != nil {
		syscall.Close(fd)
		return listenFD{}, os.NewSyscallError("listen", err)
	}
	return listenFD{fd: fd, unix: true}, nil
}

func closeListenFDs(lfds []listenFD) {
	for _, lf := range lfds {
		syscall.Close(lf.fd)
	}
}
