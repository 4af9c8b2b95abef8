package commands

import (
	"net"
	"strconv"
	"strings"
)

// Switching the primary: REPLICAOF/SLAVEOF host port, as a Redis replica
// takes it from an operator or from Sentinel, which at a failover sends
// every replica MULTI, REPLICAOF <new primary>, CONFIG REWRITE, CLIENT KILL
// TYPE normal, EXEC (sentinelSendSlaveOf in src/sentinel.c). vdr only
// replicates, so what would make it a primary (REPLICAOF NO ONE, FAILOVER)
// is refused.

// Replicator is what a Host implements when it replicates a primary that
// can be switched (the node does; a server of an RDB file does not).
type Replicator interface {
	// SetPrimary starts replicating host:port at once; already is true
	// (and nothing changes) when that is the current primary.
	SetPrimary(host string, port int) (already bool, err error)
}

// ConfigRewriter is what a Host implements to serve CONFIG REWRITE.
type ConfigRewriter interface {
	ConfigRewrite() error
}

// configRewriteCommand: CONFIG REWRITE writes the primary vdr replicates
// into its config file (the one setting that changes at run time).
func configRewriteCommand(c *Ctx, args [][]byte) {
	r, ok := c.Env.Host.(ConfigRewriter)
	if !ok {
		c.W.Error("ERR The server is running without a config file")
		return
	}
	if err := r.ConfigRewrite(); err != nil {
		c.W.Error("ERR " + err.Error())
		return
	}
	c.W.OK()
}

// replicaofCommand: REPLICAOF host port | NO ONE (replicaofCommand in
// src/replication.c).
func replicaofCommand(c *Ctx, args [][]byte) {
	if equalFold(args[1], "no") && equalFold(args[2], "one") {
		c.W.Error("ERR vdr replicates only: REPLICAOF NO ONE would make it a primary")
		return
	}
	port, ok := parseInt(args[2])
	if !ok || port < 0 || port > 65535 {
		c.W.Error("ERR Invalid master port")
		return
	}
	r, ok := c.Env.Host.(Replicator)
	if !ok || c.Env.Repl == nil {
		c.W.Error("ERR vdr serves a file here, not a primary's stream: REPLICAOF needs --primary")
		return
	}
	already, err := r.SetPrimary(string(args[1]), int(port))
	switch {
	case err != nil:
		c.W.Error("ERR " + err.Error())
	case already:
		c.W.Status("OK Already connected to specified master")
	default:
		c.W.OK()
	}
}

// failoverCommand: FAILOVER on a replica (failoverCommand in
// src/replication.c refuses it the same way).
func failoverCommand(c *Ctx, args [][]byte) {
	c.W.Error("ERR FAILOVER is not valid when server is a replica.")
}

// SameAddr reports whether host:port names addr (hosts compared without
// case, as replicaofCommand's strcasecmp).
func SameAddr(addr, host string, port int) bool {
	h, p, err := net.SplitHostPort(addr)
	return err == nil && strings.EqualFold(h, host) && p == strconv.Itoa(port)
}
