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

// feedMonitors shows an applied batch to MONITOR clients as a Redis
// replica shows what its master client runs (call() feeds every command
// the master client executes, with the primary's address): the SELECT
// the primary sends before a command of another database, MULTI and EXEC
// around a unit, then the commands as the primary sent them. The replica
// client consumes SELECT, MULTI and EXEC itself, so they are shown here
// from the commands' databases and the unit marks; the primary's PINGs
// and REPLCONF are not shown (REPLCONF is an admin command in Redis too;
// a replica does show the PINGs, which vdr's stream reader keeps to
// itself). When no monitor is connected this is one atomic load and the
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
	var peer string
	if mc := h.master.Load(); mc != nil {
		peer = mc.Addr // the socket's peer, as getClientPeerId
	} else if h.n.client != nil {
		peer = h.n.client.Primary()
	}
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
