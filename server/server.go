// Package server serves vdr's projection over the Redis protocol and
// answers exactly as a Redis 7.0 replica would.
//
// What it does: listens on TCP (127.0.0.1:6380 by default), optionally a
// unix socket and TLS; serves TCP and unix-socket clients from N epoll
// event loops on Linux (loop_linux.go, Options.EventLoops) and TLS
// clients (and every client elsewhere, or with EventLoops -1) from one
// goroutine per connection (conn.go); either way it parses requests
// (proto.go, with Redis's protocol limits), hands them to the commands
// package, and writes the replies; enforces maxclients, the idle
// timeout, a write timeout and the pub/sub output limit; delivers pub/sub
// messages (Publish/SPublish are called by the replication wiring for the
// primary's PUBLISH); optionally forwards writes to the primary.
//
// Why not redcon's server loop: tidwall/redcon's Reader enforces no bulk or
// multibulk limit (its buffer grows without bound), copies every command,
// and its ServeMux lower-cases names with an allocation. vdr keeps the
// redcon model (one goroutine per connection, pipelined replies flushed
// when no complete request is buffered) but reads requests with its own
// limited reader (proto.go: Redis's limits, a buffer that grows with the
// bytes that arrived, never with a length a client declared, and a long
// multibulk request parsed once, not again on every read) and writes
// RESP2/RESP3 with commands.Writer. The event loops (loop_linux.go) are
// vdr's own too: redcon has none.
//
// Lock order (never take an earlier one while holding a later one):
//
//	Server.mu  (alone)
//	commands.PubSub.mu → commands.Client.mu → conn.pmu → loop.mu
//	commands.Tracking.mu → commands.Client.mu → conn.pmu → loop.mu
//	conn.wmu   (alone: only around socket writes)
//
// What it does not do: it does not replicate (the replica package does;
// cmd/vdr wires replica → projection → server and supplies a
// ReplicationInfo), and it knows nothing of command semantics (commands).
//
// Connection life on the goroutine path (the event loops' is drawn in
// loop_linux.go):
//
//	accept ─► maxclients? ─► goroutine: ┌► reader.next ─(no full request buffered)─► flush replies, then block in Read
//	                                     └─ commands.Exec(ctx, args) → reply bytes appended to ctx.W
//	Publish ─► PubSub ─► conn.push ─► queued; written by the connection
//	           goroutine after its replies, or by a pusher goroutine when idle.
package server

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
)

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("server: closed")

// Server is a running vdr front end.
type Server struct {
	opts Options
	env  *commands.Env
	fwd  *forwarder

	mu      sync.Mutex
	lns     []net.Listener
	conns   map[*conn]struct{}
	closed  bool
	started bool
	tcpAddr net.Addr
	tlsAddr net.Addr
	loops   []*loop // event loops (loop_linux.go); nil when disabled

	wg      sync.WaitGroup // accept loops and connections
	done    chan struct{}
	closing atomic.Bool

	down *downstreams // replicas served (downstream.go); nil without a primary
}

// New validates opts and builds a Server; Start begins serving.
func New(opts Options) (*Server, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Projection == nil {
		p, err := projection.New(projection.Options{NumDBs: opts.Databases})
		if err != nil {
			return nil, err
		}
		opts.Projection = p
	}
	var id [20]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, conns: map[*conn]struct{}{}, done: make(chan struct{})}
	version := new(compat.Holder)
	if opts.Compat != (compat.Version{}) {
		version.Store(opts.Compat)
	}
	s.env = &commands.Env{
		Proj:      opts.Projection,
		Host:      s,
		Repl:      opts.Replication,
		PubSub:    commands.NewPubSub(),
		Blocking:  commands.NewBlocking(),
		Tracking:  commands.NewTracking(commands.DefaultTrackingTableMaxKeys),
		Version:   version,
		Logger:    opts.Logger,
		RunID:     hex.EncodeToString(id[:]),
		StartTime: time.Now(),
		Config: commands.Config{
			RequirePass:        opts.RequirePass,
			Databases:          opts.Databases,
			ServeStaleData:     !opts.DenyStaleData,
			MaxStaleness:       opts.MaxStaleness,
			MaxClients:         opts.MaxClients,
			IdleTimeout:        opts.IdleTimeout,
			Bind:               opts.Bind,
			Port:               opts.Port,
			UnixSocket:         opts.UnixSocket,
			ProtoMaxBulkLen:    opts.MaxBulkBytes,
			VdrVersion:         opts.Version,
			ReplicaAnnounced:   true,
			ConfigFile:         opts.ConfigFile,
			EnableDebugCommand: opts.EnableDebugCommand,

			ClusterMode:         opts.ClusterMode,
			ClusterAnnounceIP:   opts.ClusterAnnounceIP,
			ClusterAnnouncePort: opts.ClusterAnnouncePort,
		},
		// Drawn per process, not kept across restarts: no other node
		// knows vdr by them (commands/cluster.go).
		NodeID:  commands.NewClusterID(),
		ShardID: commands.NewClusterID(),
	}
	if opts.ClusterMode {
		s.env.SetConfigValue("cluster-enabled", "yes")
	}
	if opts.ClusterAnnounceIP != "" {
		s.env.SetConfigValue("cluster-announce-ip", opts.ClusterAnnounceIP)
	}
	if opts.ClusterAnnouncePort != 0 {
		s.env.SetConfigValue("cluster-announce-port", strconv.Itoa(opts.ClusterAnnouncePort))
	}
	s.env.Users.SetRequirePass(opts.RequirePass)
	if err := s.env.LoadUsers(opts.Users, opts.ACLFile); err != nil {
		return nil, err
	}
	s.env.Monitors.MaxLine = opts.OutputBufferLimit // a longer line would drop every monitor
	if opts.EnableDebugCommand != "" {
		s.env.SetConfigValue("enable-debug-command", strings.ToLower(opts.EnableDebugCommand))
	}
	for _, kv := range opts.RuntimeConfig {
		if err := s.env.SetConfig(kv[0], kv[1]); err != nil {
			return nil, fmt.Errorf("server: %s %q: %w", kv[0], kv[1], err)
		}
	}
	opts.Projection.OnChange(s.changed)
	opts.Projection.OnEvents(s.keyspaceEvents)
	if opts.NotifyKeyspaceEvents != "" {
		f, _ := projection.ParseNotifyFlags(opts.NotifyKeyspaceEvents) // checked by Validate
		opts.Projection.SetNotifyKeyspaceEvents(f)
	}
	if opts.ForwardWrites {
		s.fwd = newForwarder(opts.PrimaryAddr, opts.PrimaryUser, opts.PrimaryPassword, opts.ForwardPoolSize)
		s.fwd.current, s.fwd.demoted = opts.CurrentPrimary, opts.PrimaryDemoted
	}
	return s, nil
}

// Start opens the listeners and begins accepting connections. It returns
// once the listeners are open (Addr is then valid).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return nil
	}
	var lns []net.Listener
	var lfds []listenFD // the event loops' own listening sockets
	// Forwarded writes wait for the primary's reply inside commands.Exec:
	// that must not block a loop's other clients, so forwarding keeps
	// the goroutine path.
	useLoops := loopsSupported && s.opts.EventLoops > 0 && !s.opts.ForwardWrites
	fail := func(err error) error {
		for _, ln := range lns {
			ln.Close()
		}
		closeListenFDs(lfds)
		return err
	}
	if !s.opts.NoTCP && useLoops {
		port := s.opts.Port
		if port == RandomPort {
			port = 0
		}
		lf, addr, err := listenTCPFD(s.opts.Bind, port)
		if err != nil {
			return fail(err)
		}
		lfds = append(lfds, lf)
		s.tcpAddr = addr
		s.env.Config.Port = addr.Port
		s.env.TCPPort = addr.Port
	} else if !s.opts.NoTCP {
		port := s.opts.Port
		if port == RandomPort {
			port = 0
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(s.opts.Bind, strconv.Itoa(port)))
		if err != nil {
			return fail(err)
		}
		s.tcpAddr = ln.Addr()
		s.env.Config.Port = ln.Addr().(*net.TCPAddr).Port
		s.env.TCPPort = s.env.Config.Port
		lns = append(lns, ln)
	}
	if s.opts.UnixSocket != "" && useLoops {
		os.Remove(s.opts.UnixSocket)
		lf, err := listenUnixFD(s.opts.UnixSocket)
		if err != nil {
			return fail(err)
		}
		lfds = append(lfds, lf)
	} else if s.opts.UnixSocket != "" {
		os.Remove(s.opts.UnixSocket)
		ln, err := net.Listen("unix", s.opts.UnixSocket)
		if err != nil {
			return fail(err)
		}
		lns = append(lns, ln)
	}
	if s.opts.TLSConfig != nil {
		port := s.opts.TLSPort
		if port == RandomPort {
			port = 0
		}
		ln, err := tls.Listen("tcp", net.JoinHostPort(s.opts.Bind, strconv.Itoa(port)), s.opts.TLSConfig)
		if err != nil {
			return fail(err)
		}
		s.tlsAddr = ln.Addr()
		lns = append(lns, ln)
	}
	if len(lfds) > 0 {
		if err := s.startLoops(lfds); err != nil {
			return fail(err)
		}
	}
	s.lns = lns
	s.started = true
	for _, ln := range lns {
		s.wg.Add(1)
		go s.acceptLoop(ln)
	}
	s.wg.Add(1)
	go s.sampleStats()
	return nil
}

// sampleStats samples the instantaneous metrics (INFO
// instantaneous_ops_per_sec, _kbps) until Close, as Redis's serverCron
// does every 100 ms.
func (s *Server) sampleStats() {
	defer s.wg.Done()
	t := time.NewTicker(commands.SampleStatsEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.env.SampleStats(now)
		}
	}
}

// Serving reports whether the listeners are open: Start has succeeded and
// Close has not been called.
func (s *Server) Serving() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started && !s.closed
}

// Addr returns the TCP listener's "host:port" (empty before Start or
// without TCP).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcpAddr == nil {
		return ""
	}
	return s.tcpAddr.String()
}

// TLSAddr returns the TLS listener's address, if any.
func (s *Server) TLSAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsAddr == nil {
		return ""
	}
	return s.tlsAddr.String()
}

// Projection returns the projection being served.
func (s *Server) Projection() *projection.Projection { return s.opts.Projection }

// Publish delivers a message published on the primary (or locally) to
// this server's subscribers and returns the number of receivers.
func (s *Server) Publish(channel, msg []byte) int {
	s.env.Stats.PubsubMessages.Add(1)
	return s.env.PubSub.Publish(channel, msg)
}

// SPublish delivers a shard-channel message (SPUBLISH).
func (s *Server) SPublish(channel, msg []byte) int {
	return s.env.PubSub.SPublish(channel, msg)
}

// Wait blocks until the server is closed and every connection is gone.
func (s *Server) Wait() { <-s.done; s.wg.Wait() }

// Close stops accepting, lets each connection finish the request it is
// running and flush its replies (up to ShutdownTimeout), then closes all.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.closing.Store(true)
	lns := s.lns
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	close(s.done)
	for _, ln := range lns {
		ln.Close()
	}
	if s.opts.UnixSocket != "" && (len(lns) > 0 || len(s.loops) > 0) {
		defer os.Remove(s.opts.UnixSocket)
	}
	// Wake readers blocked on the network; a connection running a command
	// finishes it and flushes before its next read fails.
	// Event-loop connections are handled by their loops (loop_linux.go).
	now := time.Now()
	for _, c := range conns {
		if c.lp == nil {
			c.nc.SetReadDeadline(now)
		}
	}
	s.wakeLoops(false)
	finished := make(chan struct{})
	go func() { s.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(s.opts.ShutdownTimeout):
		for _, c := range conns {
			if c.lp == nil {
				c.nc.Close()
			}
		}
		s.wakeLoops(true)
		<-finished
	}
	if s.fwd != nil {
		s.fwd.close()
	}
	return nil
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Back off on EMFILE and friends, as net/http does.
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay < time.Second {
					delay *= 2
				}
				time.Sleep(delay)
				continue
			}
			s.opts.Logger.Warn("server: accept", "err", err)
			return
		}
		delay = 0
		s.env.Stats.ConnectionsReceived.Add(1)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		if len(s.conns) >= s.env.MaxClients() {
			s.mu.Unlock()
			s.env.Stats.RejectedConns.Add(1)
			nc.SetWriteDeadline(time.Now().Add(time.Second))
			nc.Write([]byte("-ERR max number of clients reached\r\n"))
			nc.Close()
			continue
		}
		c := s.newConn(nc)
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.ctx.Close()
}

// Clients implements commands.Host.
func (s *Server) Clients() []*commands.Client {
	s.mu.Lock()
	out := make([]*commands.Client, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c.cl)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// KillClient implements commands.Host: the connection is closed; a
// command it is running completes first.
func (s *Server) KillClient(cl *commands.Client) {
	s.mu.Lock()
	var target *conn
	for c := range s.conns {
		if c.cl == cl {
			target = c
			break
		}
	}
	s.mu.Unlock()
	if target != nil {
		target.kill()
	}
}

// ForwardEnabled implements commands.Host.
func (s *Server) ForwardEnabled() bool { return s.fwd != nil }

// Forward implements commands.Host.
func (s *Server) Forward(args [][]byte) ([]byte, error) {
	if s.fwd == nil {
		return nil, errors.New("forwarding is off")
	}
	return s.fwd.do(args)
}

// SignalKey wakes the clients blocked (XREAD BLOCK) on key of db; the
// node calls it for the keys the stream writes.
func (s *Server) SignalKey(db int, key []byte) { s.env.Blocking.Signal(db, key) }

// SignalAll wakes every blocked client (a full sync, FLUSHALL, SWAPDB…).
func (s *Server) SignalAll() { s.env.Blocking.SignalAll() }

// Blocking reports whether any client waits in a blocking read.
func (s *Server) Blocking() bool { return s.env.Blocking.Waiting() }
