package replica

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/rdbparse"
)

// Client is a replica link to one primary: it syncs, streams, and
// reconnects forever (partial resync when the primary allows it) until
// Stop, its context ends, or a Handler method returns ErrStop.
//
// Every accessor is safe to call from any goroutine at any time.
type Client struct {
	opts   Options
	h      Handler
	log    *slog.Logger
	filter *filter
	tls    *tls.Config // built on first dial, guarded by tlsMu
	tlsMu  sync.Mutex
	// sentinelTLS is tls for the sentinels (SentinelOptions.TLS).
	sentinelTLS *tls.Config

	state atomic.Int32

	posMu  sync.Mutex // guards replID, offset, db (the applied position)
	replID string
	offset int64
	db     int

	primaryOff atomic.Int64
	addr       atomic.Pointer[string]

	progress      atomic.Pointer[rdbparse.Parser]
	progressTotal atomic.Int64
	progressStart atomic.Int64 // Unix ns the current (or last) load began

	fullSyncs, partialSyncs, reconnects atomic.Int64
	lastSyncDur, lastSyncBytes          atomic.Int64
	lastSyncKeys                        atomic.Int64
	keepalives                          atomic.Int64
	lastRead                            atomic.Int64 // Unix ns of the last bytes read from the primary

	runMu   sync.Mutex // guards started, cancel, current
	started bool
	cancel  context.CancelFunc
	current net.Conn // the live connection, closed by dropLink
	gen     uint64   // SetPrimary calls: a session dialled before one is dropped
	done    chan struct{}

	// primary is the address sessions dial (Options.Primary, then what
	// SetPrimary gave); next is a one-time address for the next session
	// under Sentinel. kick ends a backoff wait early.
	primary atomic.Pointer[string]
	next    atomic.Pointer[string]
	kick    chan struct{}

	// dialHook, when set (tests), replaces the TCP dial.
	dialHook func(ctx context.Context, addr string) (net.Conn, error)
}

// New returns a Client for opts (defaults applied). Nothing happens until
// Start or Run; invalid options are reported there.
func New(opts Options) *Client {
	opts.EnsureDefaults()
	c := &Client{opts: opts, h: opts.Handler, log: opts.Logger, filter: newFilter(&opts), done: make(chan struct{})}
	c.replID, c.offset, c.db = opts.ResumeReplID, opts.ResumeOffset, opts.ResumeDB
	if c.replID == "" {
		c.offset = -1
	}
	c.primaryOff.Store(-1)
	c.progressTotal.Store(-1)
	c.primary.Store(&opts.Primary)
	c.kick = make(chan struct{}, 1)
	return c
}

// SetPrimary points the client at another primary, as REPLICAOF host port
// does to a Redis replica: the current link is dropped and the next
// session starts at once, asking addr to continue from the applied
// position (a promoted replica accepts that through psync2, its replid2
// being the old primary's id) and doing a full sync only when it cannot.
// With Sentinel, addr serves the next session only (Sentinel sends
// REPLICAOF to the primary it just promoted); later sessions ask the
// sentinels again.
func (c *Client) SetPrimary(addr string) {
	if c.opts.Sentinel != nil {
		c.next.Store(&addr)
	} else {
		c.primary.Store(&addr)
	}
	c.log.Info("replica: switching primary", "primary", addr)
	c.reconnectNow(true)
}

// reconnectNow ends the current session and skips the backoff before the
// next; newTarget also ends a session still dialling (its address is
// stale).
func (c *Client) reconnectNow(newTarget bool) {
	c.runMu.Lock()
	if newTarget {
		c.gen++
	}
	conn := c.current
	c.runMu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	if conn != nil {
		conn.Close()
	}
}

// Rediscover drops the link and reconnects at once, asking the sentinels
// for the primary again when Sentinel is used (a write forwarded to the
// primary came back -READONLY: it has been demoted).
func (c *Client) Rediscover() { c.reconnectNow(false) }

// LocalAddr returns this side's address of the connection to the primary,
// or "" when not connected.
func (c *Client) LocalAddr() string {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.current == nil {
		return ""
	}
	return c.current.LocalAddr().String()
}

// Primary returns the address of the primary the client dials: the
// connected one, else the one it will dial next ("" under Sentinel before
// discovery).
func (c *Client) Primary() string {
	if a := c.Addr(); a != "" {
		return a
	}
	if p := c.next.Load(); p != nil {
		return *p
	}
	return *c.primary.Load()
}

// Target returns the primary the client follows now: the one SetPrimary
// (or Sentinel) named last, even while the link is still connected to the
// previous one, which Primary reports until it reconnects.
func (c *Client) Target() string {
	if p := c.next.Load(); p != nil {
		return *p
	}
	if c.opts.Sentinel == nil {
		return *c.primary.Load()
	}
	return c.Primary()
}

// Start validates the options and runs the client in a new goroutine.
func (c *Client) Start(ctx context.Context) error {
	if err := c.opts.Validate(); err != nil {
		return err
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return err
	}
	go c.run(ctx)
	return nil
}

// Run is Start, but runs in the calling goroutine and returns when the
// client stops: nil after Stop or the end of ctx, or the Handler's error
// when it returned ErrStop.
func (c *Client) Run(ctx context.Context) error {
	if err := c.opts.Validate(); err != nil {
		return err
	}
	ctx, err := c.begin(ctx)
	if err != nil {
		return err
	}
	return c.run(ctx)
}

func (c *Client) begin(ctx context.Context) (context.Context, error) {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.started {
		return nil, ErrStopped
	}
	c.started = true
	ctx, c.cancel = context.WithCancel(ctx)
	return ctx, nil
}

// Stop ends the client and returns when every goroutine it started has
// ended (a Handler call in progress is waited for; a full sync under way
// gets FullSyncAbort). It is safe to call more than once, and before
// Start; a stopped Client can't be started again.
func (c *Client) Stop() {
	c.runMu.Lock()
	started, cancel := c.started, c.cancel
	c.started = true // a later Start fails
	c.runMu.Unlock()
	if !started || cancel == nil {
		return
	}
	cancel()
	<-c.done
}

// Done is closed when the client has stopped.
func (c *Client) Done() <-chan struct{} { return c.done }

func (c *Client) run(ctx context.Context) error {
	defer close(c.done)
	defer c.setState(StateNone, nil)
	var wg sync.WaitGroup
	defer wg.Wait()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.opts.Sentinel != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.watchSentinels(runCtx) }()
	}
	delay := c.opts.BackoffInitial
	for {
		streamed, err := c.session(runCtx)
		if runCtx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrStop) {
			c.log.Info("replica: stopped by the handler", "err", err)
			return err
		}
		if errors.Is(err, ErrFullResync) {
			c.posMu.Lock()
			c.replID, c.offset = "", -1
			c.posMu.Unlock()
		}
		if streamed {
			delay = c.opts.BackoffInitial
		}
		c.reconnects.Add(1)
		c.setState(StateBackoff, err)
		c.log.Warn("replica: link down, reconnecting", "err", err, "in", delay)
		// Full jitter in [delay/2, delay) keeps many replicas apart.
		sleep := delay/2 + time.Duration(rand.Int64N(int64(delay/2)+1))
		t := time.NewTimer(sleep)
		select {
		case <-runCtx.Done():
			t.Stop()
			return nil
		case <-c.kick: // SetPrimary: reconnect now
			t.Stop()
			delay = c.opts.BackoffInitial
			continue
		case <-t.C:
		}
		delay = min(2*delay, c.opts.BackoffMax)
	}
}

// session runs one connection from dial to its end. streamed reports
// whether it got as far as streaming (then the backoff restarts).
func (c *Client) session(ctx context.Context) (streamed bool, err error) {
	c.setState(StateConnecting, nil)
	select {
	case <-c.kick: // a SetPrimary before this session is served by it
	default:
	}
	c.runMu.Lock()
	gen := c.gen
	c.runMu.Unlock()
	addr := *c.primary.Load()
	wantReplica := false
	if p := c.next.Swap(nil); p != nil {
		addr = *p
	} else if c.opts.Sentinel != nil {
		if addr, wantReplica, err = c.discoverPrimary(ctx); err != nil {
			return false, err
		}
	}
	conn, err := c.dial(ctx, addr)
	if err != nil {
		return false, err
	}
	c.runMu.Lock()
	if c.gen != gen {
		c.runMu.Unlock()
		conn.Close()
		return false, errPrimaryChanged
	}
	c.current = conn
	c.runMu.Unlock()
	remote := conn.RemoteAddr().String()
	c.addr.Store(&remote)

	// Close the connection when ctx ends so every blocked read returns.
	sessDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
		case <-sessDone:
		}
		conn.Close()
	}()
	defer func() {
		close(sessDone)
		wg.Wait()
		c.runMu.Lock()
		c.current = nil
		c.runMu.Unlock()
		c.addr.Store(nil)
	}()

	l := newLink(c, conn)
	l.wantReplica = wantReplica
	c.setState(StateHandshake, nil)
	replID, off, db := c.Position()
	res, err := l.handshake(replID, off)
	if err != nil {
		return false, err
	}
	if res.full {
		c.log.Info("replica: full resync", "primary", remote, "replid", res.replID, "offset", res.offset)
		c.setState(StateTransfer, nil)
		c.primaryOff.Store(res.offset)
		if db, err = l.transfer(res.replID, res.offset); err != nil {
			return false, err
		}
		replID, off = res.replID, res.offset
		c.setPosition(replID, off, db)
		// A diskless primary starts the stream only after the first ACK
		// (repl_start_cmd_stream_on_ack); send it now like Redis does.
		if err := l.sendAck(off); err != nil {
			return false, fmt.Errorf("replica: first ACK: %w", err)
		}
	} else {
		c.partialSyncs.Add(1)
		if res.replID != "" {
			replID = res.replID
			c.setPosition(replID, off, db)
		}
		c.log.Info("replica: partial resync", "primary", remote, "replid", replID, "offset", off)
	}

	c.setState(StateStreaming, nil)
	s := newStream(l.rd, c.h, c.filter, c.opts.MaxBatch, off, db)
	if t := c.opts.Tap; t != nil {
		t.TapStart(replID, off, res.full)
		s.tap = t
	}
	s.applied = func(o int64, d int) { c.setPosition(replID, o, d) }
	s.ack = l.sendAck
	var live atomic.Bool
	s.received = func(o int64) {
		c.primaryOff.Store(o)
		if !live.Load() {
			live.Store(true)
		}
	}
	c.primaryOff.Store(off)

	// The ACK ticker: REPLCONF ACK <applied offset>, never more.
	//
	// After a full sync a Redis primary ignores an ACK that arrives before
	// it has reaped its RDB child and put the replica online; the next one
	// starts the stream. A fast reader's first ACK often comes that early,
	// so until the stream shows life the ACKs come at a short interval
	// that doubles up to AckInterval, rather than writes waiting a whole
	// AckInterval on the primary.
	every := c.opts.AckInterval
	if res.full {
		every = min(firstAckRepeat, every)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-sessDone:
				return
			case <-t.C:
				if every < c.opts.AckInterval {
					every = min(2*every, c.opts.AckInterval)
					if live.Load() {
						every = c.opts.AckInterval
					}
					t.Reset(every)
				}
				_, o, _ := c.Position()
				if err := l.sendAck(o); err != nil {
					conn.Close()
					return
				}
			}
		}
	}()
	err = s.run()
	return true, fmt.Errorf("replica: streaming from %s: %w", remote, err)
}

func (c *Client) dial(ctx context.Context, addr string) (net.Conn, error) {
	var conn net.Conn
	var err error
	if c.dialHook != nil {
		conn, err = c.dialHook(ctx, addr)
	} else {
		d := net.Dialer{Timeout: c.opts.DialTimeout, KeepAlive: 15 * time.Second}
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("replica: dial %s: %w", addr, err)
	}
	if c.opts.TLS == nil {
		return conn, nil
	}
	cfg, err := c.tlsConfig(addr)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c.tlsHandshake(ctx, conn, cfg, addr)
}

// tlsHandshake runs the TLS client handshake on conn within DialTimeout;
// conn is closed when it fails.
func (c *Client) tlsHandshake(ctx context.Context, conn net.Conn, cfg *tls.Config, what string) (net.Conn, error) {
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("replica: TLS handshake with %s: %w", what, err)
	}
	return tc, nil
}

// dropLink closes the current connection (if any); the client reconnects
// after backoff, rediscovering the primary when Sentinel is used.
func (c *Client) dropLink() {
	c.runMu.Lock()
	conn := c.current
	c.runMu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

func (c *Client) setState(s State, err error) {
	if State(c.state.Swap(int32(s))) != s || err != nil {
		c.h.LinkState(s, err)
	}
}

func (c *Client) setPosition(replID string, off int64, db int) {
	c.posMu.Lock()
	c.replID, c.offset, c.db = replID, off, db
	c.posMu.Unlock()
}

// State returns where the link is.
func (c *Client) State() State { return State(c.state.Load()) }

// Position returns the applied position: the replication ID, the offset
// of the last byte applied (-1 before the first sync) and the database
// selected there. Saved together, they resume a client later
// (Options.ResumeReplID, ResumeOffset, ResumeDB).
func (c *Client) Position() (replID string, offset int64, db int) {
	c.posMu.Lock()
	defer c.posMu.Unlock()
	return c.replID, c.offset, c.db
}

// ReplID returns the replication ID of the applied data ("" before the
// first full sync).
func (c *Client) ReplID() string { r, _, _ := c.Position(); return r }

// Offset returns the applied replication offset: every byte up to it
// was delivered and the Handler returned nil. -1 before the first sync.
func (c *Client) Offset() int64 { _, o, _ := c.Position(); return o }

// PrimaryOffset returns the highest replication offset received from the
// primary (read, maybe not yet applied), or -1 when unknown.
func (c *Client) PrimaryOffset() int64 { return c.primaryOff.Load() }

// LastRead returns when bytes were last read from the primary (any:
// commands, its PINGs, the RDB transfer, keepalive newlines), or the zero
// time before the first; Redis's master_last_io_seconds_ago counts from it.
func (c *Client) LastRead() time.Time {
	if ns := c.lastRead.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Addr returns the address of the primary the client is connected to,
// or "" when not connected.
func (c *Client) Addr() string {
	if p := c.addr.Load(); p != nil {
		return *p
	}
	return ""
}

// Progress is how far a full sync got.
type Progress struct {
	Active bool  // a full sync is loading now
	Bytes  int64 // RDB bytes parsed (of the current sync, or of the last one when !Active)
	Keys   int64 // keys parsed
	Total  int64 // RDB size when announced ($<len>); -1 for diskless transfers
	// Started is when the load began (zero before the first).
	Started time.Time
}

// SyncProgress returns the progress of the full sync under way, or the
// totals of the last one.
func (c *Client) SyncProgress() Progress {
	var started time.Time
	if ns := c.progressStart.Load(); ns != 0 {
		started = time.Unix(0, ns)
	}
	if p := c.progress.Load(); p != nil {
		return Progress{Active: true, Bytes: p.Offset(), Keys: p.Keys(), Total: c.progressTotal.Load(), Started: started}
	}
	return Progress{Bytes: c.lastSyncBytes.Load(), Keys: c.lastSyncKeys.Load(), Total: c.progressTotal.Load(), Started: started}
}

// Stats are the client's counters.
type Stats struct {
	FullSyncs        int64         // completed full syncs
	PartialSyncs     int64         // +CONTINUE replies
	Reconnects       int64         // links lost (each followed by a reconnect attempt)
	LastFullSyncTime time.Duration // duration of the last completed full sync (RDB load)
	LastFullSyncRDB  int64         // bytes of the last completed full sync's RDB
	Keepalives       int64         // bare "\n" keepalives received while the primary prepared an RDB
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{
		FullSyncs: c.fullSyncs.Load(), PartialSyncs: c.partialSyncs.Load(), Reconnects: c.reconnects.Load(),
		LastFullSyncTime: time.Duration(c.lastSyncDur.Load()), LastFullSyncRDB: c.lastSyncBytes.Load(),
		Keepalives: c.keepalives.Load(),
	}
}
