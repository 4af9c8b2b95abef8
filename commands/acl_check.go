package commands

import "strings"

// Enforcement of ACL rules before a command runs (ACLCheckAllPerm in
// src/acl.c, called from processCommand, execCommand and scriptCall).

// aclUser returns the user the client is authenticated as.
func (c *Ctx) aclUser() *aclUser {
	if u := c.Client.user.Load(); u != nil {
		return u
	}
	return c.Env.Users.defaultUser()
}

// setDefaultAuth is clientSetDefaultAuth: the client runs as the default
// user, authenticated when that user needs no password (so it keeps
// running if the default user gets one later, as in Redis).
func (c *Ctx) setDefaultAuth() {
	c.Client.user.Store(nil)
	c.Client.authenticated = c.Env.Users.defaultUser().perms.Load().flags&(userNoPass|userOff) == userNoPass
}

// nameOf is the name of cl's user.
func (a *ACLUsers) nameOf(cl *Client) string {
	if u := cl.user.Load(); u != nil {
		return u.name
	}
	return "default"
}

// UserName is the name of the client's user (CLIENT LIST user=).
func (c *Ctx) UserName() string { return c.aclUser().name }

// keyCache holds the keys of the command being checked, found once for
// every selector (aclKeyResultCache).
type keyCache struct {
	done  bool
	pos   []int
	perms []int // the read/write permission each key needs
}

func (kc *keyCache) fill(cmd *Command, args [][]byte) {
	kc.done = true
	var specs []int
	pos, ok := commandKeyRefs(cmd, args, &specs)
	if !ok {
		return
	}
	vf := variableKeyFlags(cmd, args)
	for j, p := range pos {
		flags := cmd.KeySpecs[specs[j]].Flags
		if vf != nil {
			flags = vf
		}
		need, notKey := 0, false
		for _, f := range flags {
			switch f {
			case "access":
				need |= keyPermRead
			case "insert", "delete", "update":
				need |= keyPermWrite
			case "not_key":
				notKey = true
			}
		}
		if !notKey {
			kc.pos = append(kc.pos, p)
			kc.perms = append(kc.perms, need)
		}
	}
}

// channelArgs returns the channel arguments a command's ACL check looks
// at and whether they are patterns (getChannelsFromCommand: subscribe and
// publish, not unsubscribe).
func channelArgs(cmd *Command, argc int) (first, last int, pattern bool) {
	switch cmd.Name {
	case "subscribe", "ssubscribe":
		return 1, argc - 1, false
	case "psubscribe":
		return 1, argc - 1, true
	case "publish", "spublish":
		return 1, 1, false
	}
	return 0, -1, false
}

// channelAllowed is ACLCheckChannelAgainstList: a pattern (PSUBSCRIBE)
// must be listed literally; a channel may match a listed pattern.
func channelAllowed(list []string, ch []byte, pattern bool) bool {
	for _, p := range list {
		if pattern && p == string(ch) || !pattern && StringMatch([]byte(p), ch, false) {
			return true
		}
	}
	return false
}

// check is ACLSelectorCheckCmd; idx is the argument denied.
func (s *aclSelector) check(cmd *Command, args [][]byte, kc *keyCache) (res, idx int) {
	if !s.allCommands && cmd.Flags&CmdNoAuth == 0 && !s.bit(cmd.Name) {
		allowed := s.firstArgs[cmd.Name]
		if len(args) < 2 || allowed == nil {
			return aclDeniedCmd, 0
		}
		i := 1
		if cmd.parent != nil {
			i = 2
		}
		ok := false
		for _, a := range allowed {
			if i < len(args) && strings.EqualFold(string(args[i]), a) {
				ok = true
				break
			}
		}
		if !ok {
			return aclDeniedCmd, 0
		}
	}
	if !s.allKeys && len(cmd.KeySpecs) > 0 {
		if !kc.done {
			kc.fill(cmd, args)
		}
	keys:
		for j, p := range kc.pos {
			need := kc.perms[j]
			for _, k := range s.keys {
				if k.perm&need == need && StringMatch(k.glob, args[p], false) {
					continue keys
				}
			}
			return aclDeniedKey, p
		}
	}
	if !s.allChannels {
		first, last, pattern := channelArgs(cmd, len(args))
		for i := first; i <= last && i < len(args); i++ {
			if !channelAllowed(s.channels, args[i], pattern) {
				return aclDeniedChannel, i
			}
		}
	}
	return aclOK, 0
}

// check is ACLCheckAllUserCommandPerm: allowed when any selector allows;
// otherwise the most relevant denial (the command, else the last key or
// channel no selector matched).
func (p *aclPerms) check(cmd *Command, args [][]byte) (res, idx int) {
	if p.unrestricted {
		return aclOK, 0
	}
	var kc keyCache
	res = aclDeniedCmd
	for _, s := range p.selectors {
		r, i := s.check(cmd, args, &kc)
		if r == aclOK {
			return aclOK, 0
		}
		if r > res || r == res && i > idx {
			res, idx = r, i
		}
	}
	return res, idx
}

var aclLogReasons = [...]string{aclDeniedCmd: "command", aclDeniedKey: "key", aclDeniedAuth: "auth", aclDeniedChannel: "channel"}

// aclDenied logs a denial (addACLLogEntry) with the object Redis logs.
func (c *Ctx) aclDenied(res, idx int, context string, cmd *Command, args [][]byte) {
	if context == "toplevel" || context == "multi" && c.tx == nil {
		c.Client.lastCmd.Store(cmd) // the client-info shows cmd=<denied command>, as lookupCommand set it
	}
	object := cmd.Name
	if res != aclDeniedCmd {
		object = string(args[idx])
	}
	c.Env.ACLLog.add(c, aclLogReasons[res], context, object, c.aclUser().name)
}

// aclDeny checks args for the client's user and logs a denial under
// context; res is aclOK when allowed. For an unrestricted user it is one
// atomic load and one flag test.
func (c *Ctx) aclDeny(cmd *Command, args [][]byte, context string) (res, idx int) {
	u := c.aclUser()
	if u.deleted.Load() {
		return aclDeniedCmd, 0 // its connection is being closed: nothing runs meanwhile
	}
	p := u.perms.Load()
	if p.unrestricted {
		return aclOK, 0
	}
	if res, idx = p.check(cmd, args); res != aclOK {
		c.aclDenied(res, idx, context, cmd, args)
	}
	return res, idx
}

// aclCheck is processCommand's ACL step: "" when the client's user may
// run args, else the error to reject it with. Small enough to inline: for
// the default user with every permission it is three loads and a test.
func (c *Ctx) aclCheck(cmd *Command, args [][]byte) string {
	if c.Client.user.Load() == nil {
		if d := c.Env.Users.def.Load(); d != nil && d.perms.Load().unrestricted {
			return ""
		}
	}
	return c.aclCheckSlow(cmd, args)
}

func (c *Ctx) aclCheckSlow(cmd *Command, args [][]byte) string {
	context := "toplevel"
	if c.Client.inMulti {
		context = "multi"
	}
	res, idx := c.aclDeny(cmd, args, context)
	switch {
	case res == aclOK:
		return ""
	case c.Version().AtLeastRedis(7, 2):
		return "NOPERM " + aclErrorMessage72(res, c.aclUser().name, cmd, args[idx], false)
	case res == aclDeniedCmd:
		return "NOPERM this user has no permissions to run the '" + cmd.Name + "' command"
	case res == aclDeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	}
	return "NOPERM this user has no permissions to access one of the channels used as arguments"
}

// aclExecCheck is execCommand's second look at a queued command, in case
// the rules changed after it was queued.
func (c *Ctx) aclExecCheck(cmd *Command, args [][]byte) string {
	res, _ := c.aclDeny(cmd, args, "multi")
	reason := "no permission to execute the command or subcommand"
	switch res {
	case aclOK:
		return ""
	case aclDeniedKey:
		reason = "no permission to touch the specified keys"
	case aclDeniedChannel:
		reason = "no permission to access one of the channels used as arguments"
	}
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason
}

// aclScriptCheck is scriptVerifyACL: the error redis.call raises.
func (c *Ctx) aclScriptCheck(cmd *Command, args [][]byte) string {
	res, idx := c.aclDeny(cmd, args, "lua")
	switch {
	case res == aclOK:
		return ""
	case c.Version().AtLeastRedis(7, 2):
		return "ACL failure in script: " + aclErrorMessage72(res, c.aclUser().name, cmd, args[idx], false)
	}
	return "The user executing the script " + aclErrorMessage(res)
}

// aclErrorMessage is getAclErrorMessage.
func aclErrorMessage(res int) string {
	switch res {
	case aclDeniedCmd:
		return "can't run this command or subcommand"
	case aclDeniedKey:
		return "can't access at least one of the keys mentioned in the command arguments"
	case aclDeniedChannel:
		return "can't publish to the channel mentioned in the command"
	}
	return "lacking the permissions for the command"
}

// aclErrorMessage72 is 7.2's getAclErrorMessage: it names the user, and
// when verbose (ACL DRYRUN) the key or channel.
func aclErrorMessage72(res int, user string, cmd *Command, arg []byte, verbose bool) string {
	switch res {
	case aclDeniedCmd:
		return "User " + user + " has no permissions to run the '" + cmd.Name + "' command"
	case aclDeniedKey:
		if verbose {
			return "User " + user + " has no permissions to access the '" + string(arg) + "' key"
		}
		return "No permissions to access a key"
	}
	if verbose {
		return "User " + user + " has no permissions to access the '" + string(arg) + "' channel"
	}
	return "No permissions to access a channel"
}

// killClientsOf closes the connections of u (ACLFreeUserAndKillClients);
// the current client goes back to the default user, unauthenticated, and
// is closed after its reply.
func (c *Ctx) killClientsOf(u *aclUser) {
	if c.Client.user.Load() == u {
		c.Client.user.Store(nil)
		c.Client.authenticated = false
		c.Client.closeAfter = true
	}
	if c.Env.Host == nil {
		return
	}
	for _, cl := range c.Env.Host.Clients() {
		// The user stays theirs (deleted, so it may run nothing) until
		// the connection closes.
		if cl != c.Client && cl.user.Load() == u {
			c.kill(cl)
		}
	}
}

// killPubsubClientsIfNeeded closes u's subscribers whose channels or
// patterns the new rules no longer allow (ACLKillPubsubClientsIfNeeded).
func (c *Ctx) killPubsubClientsIfNeeded(u *aclUser, old, cur *aclPerms) {
	var upcoming []string
	for _, s := range cur.selectors {
		if s.allChannels {
			return
		}
		upcoming = append(upcoming, s.channels...)
	}
	superset := true
	for _, s := range old.selectors {
		if s.allChannels {
			superset = false
			break
		}
		for _, ch := range s.channels {
			found := false
			for _, x := range upcoming {
				found = found || x == ch
			}
			superset = superset && found
		}
	}
	if superset || c.Env.PubSub == nil {
		return
	}
	ps := c.Env.PubSub
	kill := map[*Client]bool{}
	ps.mu.RLock()
	scan := func(t map[string]map[*Client]struct{}, pattern bool) {
		for name, subs := range t {
			for cl := range subs {
				if cl.user.Load() == u && !channelAllowed(upcoming, []byte(name), pattern) {
					kill[cl] = true
				}
			}
		}
	}
	scan(ps.patterns, true)
	scan(ps.channels, false)
	scan(ps.shard, false)
	ps.mu.RUnlock()
	for cl := range kill {
		if cl == c.Client || c.Env.Host != nil {
			c.kill(cl)
		}
	}
}
