package server

import (
	"github.com/vdr-project/vdr/commands"
)

// The link to the primary as a client, as Redis shows its master client:
// CLIENT LIST lists it (flags=M, user=(superuser)) while the link streams,
// and CLIENT KILL TYPE master (or its ID or address) drops the link, which
// reconnects at once.

// linkUp records a new streaming session: its master client gets the next
// client ID, as Redis's replicationCreateMasterClient does.
func (h *linkHandler) masterUp() {
	c := h.n.client
	if c == nil || h.n.srv == nil {
		return
	}
	cl := commands.NewClient(h.n.srv.env.NewClientID(), c.Addr(), c.LocalAddr())
	cl.FD = -1
	cl.Master = true
	h.master.Store(cl)
}

// masterDown forgets the master client when the link leaves streaming.
func (h *linkHandler) masterDown() { h.master.Store(nil) }

// MasterClient implements commands.MasterLink.
func (li linkInfo) MasterClient() *commands.Client { return li.h.master.Load() }

// KillMaster implements commands.MasterLink.
func (li linkInfo) KillMaster() bool {
	h := li.h
	if h.master.Load() == nil || h.n.client == nil {
		return false
	}
	h.n.log.Info("CLIENT KILL: dropping the link to the primary; reconnecting")
	h.n.client.Rediscover()
	return true
}
