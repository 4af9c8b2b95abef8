package server

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/commands"
)

// flushThreshold makes a long pipeline write its replies in pieces
// instead of buffering them all.
const flushThreshold = 64 << 10

// conn is one client connection.
type conn struct {
	s   *Server
	nc  net.Conn
	cl  *commands.Client
	ctx *commands.Ctx
	rd  *reader

	wmu sync.Mutex // serialises writes to nc

	pmu     sync.Mutex // guards the push state below
	pending []byte     // pub/sub messages not yet written
	busy    bool       // the connection goroutine is between reads: it writes pending itself
	pushing bool       // a pusher goroutine is writing pending
	dead    bool
	idle    bool // owned by the connection goroutine: it last waited on the network

	wake      atomic.Bool // a key its blocked read waits on was written (Client.Wake)
	waiting   bool        // in waitBlocked (under pmu)
	rdeadline bool        // a read deadline is armed (connection goroutine)
	wdeadline time.Time   // current write deadline (under wmu)

	// Event-loop connections (loop_linux.go) have lp set and nc nil.
	lp *loop
	ev evState

	// down is set once the connection serves a replica (downstream.go).
	down atomic.Pointer[downstream]
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, idle: true}
	laddr := nc.LocalAddr().String()
	addr := nc.RemoteAddr().String()
	if _, ok := nc.(*net.UnixConn); ok {
		addr, laddr = s.opts.UnixSocket+":0", s.opts.UnixSocket+":0"
	}
	c.cl = commands.NewClient(s.env.NewClientID(), addr, laddr)
	c.cl.Push = c.push
	c.cl.Wake = c.goWake
	c.ctx = commands.NewCtx(s.env, c.cl)
	c.rd = newReader(nc, s.opts.MaxBulkBytes, s.opts.MaxMultibulkLen, c.authed)
	c.rd.netIn = &s.env.Stats.NetInputBytes
	return c
}

func (c *conn) authed() bool {
	return c.ctx.Authenticated()
}

// unauthOutputMax bounds the replies an unauthenticated client may have
// pending: Redis closes such a client, without writing, once its replies
// outgrow the 16 KiB reply buffer by more than 1 KiB (a pipeline of
// thousands of guessed passwords is cut off after a few hundred).
const unauthOutputMax = 16<<10 + 1<<10

// overUnauthLimit reports whether c is an unauthenticated client whose
// pending replies passed unauthOutputMax; it logs the closing.
func (c *conn) overUnauthLimit(pending int) bool {
	if pending <= unauthOutputMax || c.authed() {
		return false
	}
	c.s.opts.Logger.Warn("closing an unauthenticated client that pipelined too much", "client", c.cl.Addr, "pending_reply_bytes", pending)
	return true
}

// serve runs the connection until it closes.
func (c *conn) serve() {
	defer c.s.wg.Done()
	defer func() {
		c.pmu.Lock()
		c.dead = true
		c.pmu.Unlock()
		c.s.env.PubSub.UnsubscribeAll(c.cl)
		c.nc.Close()
		c.s.removeConn(c)
		c.rd.release()
	}()
	w := c.ctx.W
	defer c.ctx.FlushStats()
	for {
		args, err := c.rd.next(c.beforeRead)
		if err != nil {
			var pe *protoError
			if errors.As(err, &pe) {
				w.Error("ERR " + pe.Error())
				c.flush()
			}
			return
		}
		if c.idle {
			// First request after waiting on the network.
			c.idle = false
			c.cl.Touch(time.Now())
			c.pmu.Lock()
			c.busy = true
			c.pmu.Unlock()
		}
		commands.Exec(c.ctx, args)
		if req := c.cl.TakeSync(); req != nil {
			c.serveDownstream(req) // SYNC/PSYNC: the connection serves a replica
			return
		}
		if c.cl.CloseAfterReply() || c.cl.Killed() {
			c.flush()
			return
		}
		if c.overUnauthLimit(w.Len()) {
			return
		}
		// Parked (XREAD BLOCK, CLIENT PAUSE, DEBUG SLEEP, SAVE) until
		// answered; a paused command may park again when it runs.
		for blocked, deadline := c.ctx.Blocked(); blocked; blocked, deadline = c.ctx.Blocked() {
			if !c.waitBlocked(deadline) {
				return
			}
		}
		if w.Len() > flushThreshold {
			if c.flush() != nil {
				return
			}
		}
	}
}

// goWake asks the connection goroutine to retry its blocked read
// (Client.Wake, from the applier): the flag, then a read deadline of now
// that ends the read waitBlocked is in.
func (c *conn) goWake() {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.waiting { // a late signal must not end an ordinary read
		c.wake.Store(true)
		c.nc.SetReadDeadline(time.Now())
	}
}

// waitBlocked parks the connection while its XREAD BLOCK waits, as the
// event loop does (loop_linux.go): the replies before it go out, then the
// goroutine reads (so a disconnect is noticed, and what the client sends
// meanwhile stays buffered, run only after the block ends) until goWake,
// the block's deadline, CLIENT KILL or shutdown ends the read. It returns
// false when the connection must close.
func (c *conn) waitBlocked(deadline time.Time) bool {
	c.ctx.FlushStats()
	if c.flush() != nil {
		return false
	}
	c.pmu.Lock()
	c.waiting = true
	c.pmu.Unlock()
	defer func() {
		c.pmu.Lock()
		c.waiting = false
		c.pmu.Unlock()
		c.wake.Store(false)
		c.nc.SetReadDeadline(time.Time{}) // beforeRead arms the idle timeout again
		c.rdeadline = false
	}()
	for {
		if c.wake.Swap(false) && c.ctx.RetryBlocked() {
			break
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			c.ctx.BlockTimeout()
			break
		}
		if c.s.isClosed() || c.cl.Killed() {
			return false
		}
		c.nc.SetReadDeadline(deadline) // zero: none
		c.rdeadline = !deadline.IsZero()
		if c.wake.Load() {
			continue // woken between the check above and the deadline
		}
		n, err := c.nc.Read(c.rd.room())
		c.rd.w += n
		c.rd.addRead(n)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return false
		}
	}
	return true
}

// beforeRead runs when the reader must wait for the network: write the
// replies and any queued pub/sub messages, then arm the idle timeout.
func (c *conn) beforeRead() error {
	c.idle = true
	c.ctx.FlushStats()
	if err := c.flush(); err != nil {
		return err
	}
	for {
		c.pmu.Lock()
		if len(c.pending) == 0 || c.pushing {
			c.busy = false
			c.pmu.Unlock()
			break
		}
		buf := c.pending
		c.pending = nil
		c.pmu.Unlock()
		if err := c.write(buf); err != nil {
			return err
		}
	}
	if c.s.isClosed() || c.cl.Killed() {
		return io.EOF
	}
	if t := c.s.env.IdleTimeout(); t > 0 && c.cl.Subscriptions() == 0 && !c.cl.Monitoring() {
		c.nc.SetReadDeadline(time.Now().Add(t))
		c.rdeadline = true
	} else if c.rdeadline {
		c.nc.SetReadDeadline(time.Time{})
		c.rdeadline = false
	}
	return nil
}

// flush writes the reply buffer.
func (c *conn) flush() error {
	w := c.ctx.W
	if w.Len() == 0 {
		return nil
	}
	err := c.write(w.Bytes())
	w.Reset()
	return err
}

func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// Re-arm the write deadline only when half of it has passed: a
	// deadline update costs a runtime call on every write otherwise.
	if now := time.Now(); now.After(c.wdeadline.Add(-c.s.opts.WriteTimeout / 2)) {
		c.wdeadline = now.Add(c.s.opts.WriteTimeout)
		c.nc.SetWriteDeadline(c.wdeadline)
	}
	n, err := c.nc.Write(b)
	c.s.env.Stats.NetOutputBytes.Add(int64(n))
	return err
}

// push queues a pub/sub message; it never blocks the publisher. A client
// owing more than OutputBufferLimit bytes is disconnected.
func (c *conn) push(b []byte) bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.dead {
		return false
	}
	if int64(len(c.pending)+len(b)) > c.s.opts.OutputBufferLimit {
		c.dead = true
		c.nc.Close()
		return false
	}
	c.pending = append(c.pending, b...)
	if !c.busy && !c.pushing {
		c.pushing = true
		go c.pushLoop()
	}
	return true
}

// pushLoop writes queued messages while the connection goroutine waits
// for requests.
func (c *conn) pushLoop() {
	for {
		c.pmu.Lock()
		buf := c.pending
		c.pending = nil
		if len(buf) == 0 || c.dead {
			c.pushing = false
			c.pmu.Unlock()
			return
		}
		c.pmu.Unlock()
		if err := c.write(buf); err != nil {
			c.pmu.Lock()
			c.dead = true
			c.pushing = false
			c.pmu.Unlock()
			c.nc.Close()
			return
		}
	}
}

// kill closes the connection from another goroutine (CLIENT KILL).
func (c *conn) kill() {
	if ds := c.down.Load(); ds != nil {
		ds.close()
		return
	}
	if c.lp != nil {
		c.loopKill()
		return
	}
	c.nc.SetReadDeadline(time.Now())
}

func (s *Server) isClosed() bool { return s.closing.Load() }
