package commands

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The command table.
//
// Every Redis 7.0.15 command is one row of redisCommands (table_gen.go):
// name, arity, flags, key positions, key specs, ACL categories and docs,
// generated from redis-server 7.0.15's own COMMAND INFO / COMMAND DOCS so
// that COMMAND answers as Redis does. handlers below binds the commands vdr
// serves to their functions by name; together they are the one place a
// command is declared. A write command needs no handler: dispatch answers
// every CmdWrite row with -READONLY (or forwards it), in one place.
//
// When adding a command: make sure its row exists (regenerate
// table_gen.go for a new Redis version), then add its handler here.

var posInf, negInf = math.Inf(1), math.Inf(-1)

// handlers binds command names ("parent|sub" for subcommands) to handlers.
var handlers = map[string]HandlerFunc{
	// connection / server (server.go)
	"ping":                pingCommand,
	"echo":                echoCommand,
	"hello":               helloCommand,
	"auth":                authCommand,
	"select":              selectCommand,
	"quit":                quitCommand,
	"reset":               resetCommand,
	"client|id":           clientIDCommand,
	"client|setname":      clientSetnameCommand,
	"client|getname":      clientGetnameCommand,
	"client|setinfo":      clientSetinfoCommand,
	"client|info":         clientInfoCommand,
	"client|list":         clientListCommand,
	"client|kill":         clientKillCommand,
	"client|no-evict":     clientNoEvictCommand,
	"client|no-touch":     clientNoTouchCommand,
	"client|help":         clientHelpCommand,
	"client|tracking":     clientTrackingCommand,
	"client|reply":        clientReplyCommand,
	"client|getredir":     clientGetredirCommand,
	"client|trackinginfo": clientTrackinginfoCommand,
	"client|caching":      clientCachingCommand,
	"command":             commandCommand,
	"command|count":       commandCountCommand,
	"command|info":        commandInfoCommand,
	"command|docs":        commandDocsCommand,
	"command|list":        commandListCommand,
	"command|getkeys":     commandGetkeysCommand,
	"command|help":        commandHelpCommand,
	"config|get":          configGetCommand,
	"config|set":          configSetCommand,
	"config|help":         configHelpCommand,
	"info":                infoCommand,
	"role":                roleCommand,
	"replicaof":           replicaofCommand,
	"slaveof":             replicaofCommand,
	"failover":            failoverCommand,
	"config|rewrite":      configRewriteCommand,
	"acl|log":             aclLogCommand,
	"acl|whoami":          aclWhoamiCommand,
	"time":                timeCommand,
	"lastsave":            lastsaveCommand,
	"wait":                waitCommand,
	"readonly":            okCommand,
	"readwrite":           okCommand,
	"multi":               multiCommand,
	"exec":                execCommand,
	"discard":             discardCommand,
	"watch":               watchCommand,
	"unwatch":             unwatchCommand,
	// pub/sub (pubsub.go)
	"subscribe":            subscribeCommand,
	"psubscribe":           psubscribeCommand,
	"ssubscribe":           ssubscribeCommand,
	"unsubscribe":          unsubscribeCommand,
	"punsubscribe":         punsubscribeCommand,
	"sunsubscribe":         sunsubscribeCommand,
	"publish":              publishCommand,
	"pubsub|channels":      pubsubChannelsCommand,
	"pubsub|numsub":        pubsubNumsubCommand,
	"pubsub|numpat":        pubsubNumpatCommand,
	"pubsub|shardchannels": pubsubShardchannelsCommand,
	"pubsub|shardnumsub":   pubsubShardnumsubCommand,
	"pubsub|help":          pubsubHelpCommand,
}

// extraCommands are rows vdr serves beyond Redis 7.0.15's table.
var extraCommands = []*Command{}

// table maps lower-case names to top-level commands.
var table map[string]*Command

// allCommands lists top-level commands sorted by name.
var allCommands []*Command

func init() {
	registerHashTTLCommands()
	for name, h := range dataHandlers {
		if _, dup := handlers[name]; dup {
			panic("commands: handler registered twice: " + name)
		}
		handlers[name] = h
	}
	table = make(map[string]*Command, len(redisCommands))
	add := func(cmd *Command) {
		if _, dup := table[cmd.Name]; dup {
			panic("commands: command declared twice: " + cmd.Name)
		}
		table[cmd.Name] = cmd
		allCommands = append(allCommands, cmd)
	}
	for _, cmd := range redisCommands {
		add(cmd)
	}
	for _, cmd := range extraCommands {
		add(cmd)
	}
	// CLIENT SETINFO is Redis 7.2's; 7.2+ clients (go-redis v9) send it on
	// connect, so vdr accepts it.
	if cl := table["client"]; cl != nil {
		cl.Subcommands = append(cl.Subcommands, &Command{Name: "client|setinfo", Arity: 4,
			Flags: CmdNoscript | CmdLoading | CmdStale, ACL: []string{"@slow", "@connection"},
			Doc: CommandDoc{Summary: "Set client or connection specific info", Since: "7.2.0", Group: "connection", Complexity: "O(1)"}},
			&Command{Name: "client|no-touch", Arity: 3,
				Flags: CmdNoscript | CmdLoading | CmdStale, ACL: []string{"@slow", "@connection"},
				Doc: CommandDoc{Summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys", Since: "7.2.0", Group: "connection", Complexity: "O(1)"}})
	}
	sort.Slice(allCommands, func(i, j int) bool { return allCommands[i].Name < allCommands[j].Name })
	bound := map[string]bool{}
	for _, cmd := range allCommands {
		cmd.stats = &cmdStats{}
		for _, sub := range cmd.Subcommands {
			sub.stats = &cmdStats{}
		}
		bind(cmd, bound)
		if len(cmd.Subcommands) > 0 {
			cmd.subs = make(map[string]*Command, len(cmd.Subcommands))
			for _, sub := range cmd.Subcommands {
				sub.parent = cmd
				bind(sub, bound)
				cmd.subs[strings.TrimPrefix(sub.Name, cmd.Name+"|")] = sub
			}
		}
	}
	for name, h := range handlers {
		if h != nil && !bound[name] {
			panic(fmt.Sprintf("commands: handler for %q, which is not in the table", name))
		}
	}
}

// lookupNoTouch names the reads whose lookups do not refresh a key's
// access time (OBJECT IDLETIME): Redis looks their keys up with
// LOOKUP_NOTOUCH (src/db.c existsCommand, typeCommand; expire.c
// ttlGenericCommand; object.c objectCommand; MEMORY USAGE).
var lookupNoTouch = map[string]bool{
	"exists": true, "type": true, "ttl": true, "pttl": true, "expiretime": true, "pexpiretime": true,
	"object|encoding": true, "object|freq": true, "object|idletime": true, "object|refcount": true,
	"memory|usage": true, "watch": true,
}

func bind(cmd *Command, bound map[string]bool) {
	cmd.noTouch = lookupNoTouch[cmd.Name]
	cmd.script = isScriptCommand(cmd.Name)
	if h := handlers[cmd.Name]; h != nil {
		if cmd.Flags&CmdWrite != 0 {
			panic("commands: write command with a handler: " + cmd.Name)
		}
		cmd.Handler = h
		bound[cmd.Name] = true
	}
}

// Commands returns the top-level commands sorted by name.
func Commands() []*Command { return allCommands }

// Find returns the command (or "parent|sub") row by lower-case name.
func Find(name string) *Command {
	if i := strings.IndexByte(name, '|'); i >= 0 {
		if p := table[name[:i]]; p != nil {
			return p.subs[name[i+1:]]
		}
		return nil
	}
	return table[name]
}
