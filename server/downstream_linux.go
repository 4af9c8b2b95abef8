package server

import (
	"net"
	"os"
	"syscall"

	"github.com/vdr-project/vdr/commands"
)

// handoff takes c out of the loop after its SYNC/PSYNC: a replica's link
// is a stream written at the replica's pace, which a goroutine of its
// own serves (downstream.go) so that a slow replica never holds the
// loop. The client stays registered with the server (CLIENT LIST shows
// it with flags=S) until that goroutine ends.
func (l *loop) handoff(c *conn, req *commands.SyncRequest) {
	s := l.s
	if c.ctx.W.Len() > 0 || len(c.ev.out) > 0 || s.down == nil {
		// Replies to requests pipelined before it are unsent
		// (syncCommand: clientHasPendingReplies).
		c.ctx.W.Error("ERR SYNC and PSYNC are invalid with pending output")
		l.closeSoon(c)
		return
	}
	rest := append([]byte(nil), c.rd.buf[c.rd.r:c.rd.w]...)
	fd := c.ev.fd
	syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	l.conns[fd] = nil
	l.nconns--
	c.ev.closed = true // the loop forgets c; its fd is not closed
	c.pmu.Lock()
	c.dead = true // no pub/sub pushes to a replica link
	c.pmu.Unlock()
	s.env.PubSub.UnsubscribeAll(c.cl)
	c.ctx.FlushStats() // (its input bytes were counted as they were read)
	c.rd.release()
	f := os.NewFile(uintptr(fd), "replica")
	nc, err := net.FileConn(f) // a dup of fd, in Go's netpoller
	f.Close()
	if err != nil {
		s.opts.Logger.Warn("replica link lost at hand-over", "client", c.cl.Addr, "error", err)
		s.removeConn(c)
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.down.serve(c, nc, rest, req)
		s.removeConn(c)
	}()
}
