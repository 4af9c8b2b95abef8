package server

import (
	"strconv"

	"github.com/vdr-project/vdr/replica"
)

var (
	monSelect = []byte("SELECT")
	monMulti  = [][]byte{[]byte("MULTI")}
	monExec   = [][]byte{[]byte("EXEC")}
)

// Ping shows the primary's PING to MONITOR clients, as a Redis replica's
// call() feeds it (replica.PingHandler: after the commands before it).
// The primary sends it without a SELECT: the line carries the database
// the stream last selected.
func (h *linkHandler) Ping(db int, argv [][]byte) error {
	if d := h.n.srv.down; d != nil && !d.own {
		h.pinged(d, db)
	}
	m := &h.n.srv.env.Monitors
	if !m.Active() {
		return nil
	}
	m.FeedApplied(h.monPeer(), db, argv)
	return nil
}

// monPeer is the primary's address as MONITOR shows it: the socket's
// peer, as getClientPeerId gives it.
func (h *linkHandler) monPeer() string {
	if mc := h.master.Load(); mc != nil {
		return mc.Addr
	}
	if h.n.client != nil {
		return h.n.client.Primary()
	}
	return ""
}

// feedMonitors shows an applied batch to MONITOR clients as a Redis
// replica shows what its master client runs (call() feeds every command
// the master client executes, with the primary's address): the SELECT
// the primary sends before a command of another database, MULTI and EXEC
// around a unit, then the commands as the primary sent them. The replica
// client consumes SELECT, MULTI and EXEC itself, so they are shown here
// from the commands' databases and the unit marks; the primary's PINGs
// and REPLCONF are not shown here (REPLCONF is an admin command in Redis
// too; the PINGs come through Ping). When no monitor is connected this is one atomic load and the
// tracked database.
func (h *linkHandler) feedMonitors(cmds []replica.Command) {
	if len(cmds) == 0 {
		return
	}
	m := &h.n.srv.env.Monitors
	if !m.Active() {
		h.monDB = cmds[len(cmds)-1].DB
		return
	}
	peer := h.monPeer()
	unit := cmds[0].Unit
	for i, c := range cmds {
		if c.DB != h.monDB {
			h.monDB = c.DB
			m.FeedApplied(peer, c.DB, [][]byte{monSelect, []byte(strconv.Itoa(c.DB))})
		}
		if unit && i == 0 {
			m.FeedApplied(peer, c.DB, monMulti)
		}
		m.FeedApplied(peer, c.DB, c.Argv)
	}
	if unit {
		m.FeedApplied(peer, h.monDB, monExec)
	}
}

// pinged moves the applied offset past a PING of the primary: what came
// before it is applied and it changes nothing, so the data reflects the
// stream up to its end, which is the tap's end (the tap gets each command
// before the handler). A downstream's cut can then start there: without
// this, on an idle primary whose stream is only PINGs, the backlog a
// first downstream activates would start after the applied offset until
// the next write.
func (h *linkHandler) pinged(d *downstreams, db int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.firstSyncDone.Load() || h.loader != nil {
		return
	}
	if _, _, _, end := d.bl.position(); end > h.appliedAt {
		h.appliedAt, h.appliedDB = end, db
	}
}
