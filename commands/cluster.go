package commands

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vdr-project/vdr/internal/keyslot"
	"github.com/vdr-project/vdr/projection"
)

// CLUSTER, READONLY, READWRITE and ASKING. See src/cluster.c of Redis
// 7.0 (clusterCommand, readonlyCommand, askingCommand).
//
// With Config.ClusterMode off, vdr answers as a replica of a non-cluster
// server does: "cluster support disabled" to all of them (Valkey 8.0
// takes READONLY and READWRITE anyway, for CLIENT CAPA REDIRECT).
//
// With it on, vdr answers as a one-node cluster whose only node is vdr,
// a master that owns all 16384 slots, so a cluster client sends every
// key to it and never meets MOVED or ASK. The replies have the shapes a
// Redis node of the same version gives for such a cluster (checked by
// server/cluster_diff_test.go against a real one). What differs:
//
//   - The node ID is drawn at random when vdr starts and is not kept
//     across restarts (Redis keeps it in nodes.conf): no other node
//     knows vdr by it, and cluster clients key nodes by address.
//   - The address is the one the client connected to (or the announced
//     one, cluster-announce-ip/-port), not one learned from other nodes;
//     the cluster bus port is 0, as vdr has no bus.
//   - The epochs are 0 and the bus counters stay 0.
//   - GETKEYSINSLOT returns a slot's keys in the projection's order, not
//     newest first, and neither it nor COUNTKEYSINSLOT counts keys that
//     are expired but not yet deleted by the primary.
//   - Multi-key commands across slots are served, not refused with
//     CROSSSLOT: vdr holds every slot.
//   - The subcommands that change a cluster (ADDSLOTS, MEET, SETSLOT…)
//     answer an error: vdr's slots follow what it replicates.

// clusterOn reports whether cluster mode is on, answering "cluster
// support disabled" when it is not.
func clusterOn(c *Ctx) bool {
	if !c.Env.Config.ClusterMode {
		c.W.Error("ERR This instance has cluster support disabled")
		return false
	}
	return true
}

// clusterDisabledCommand answers every CLUSTER subcommand vdr has no
// handler for, and ASKING: outside cluster mode as Redis does, inside it
// with an error saying that vdr does not change its slots.
func clusterDisabledCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	if equalFold(args[0], "asking") {
		// A one-node cluster never answers ASK; the flag would change
		// nothing (askingCommand).
		c.W.OK()
		return
	}
	c.W.Error("ERR CLUSTER " + strings.ToUpper(string(args[1])) +
		" is refused: vdr is a read replica, and its slots follow the servers it replicates")
}

// readonlyCommand: READONLY and READWRITE. In cluster mode they are
// accepted; vdr serves reads whichever was sent. Outside it they answer
// "cluster support disabled", except on Valkey 8.0, where READONLY lets
// a CLIENT CAPA REDIRECT client read from a replica.
func readonlyCommand(c *Ctx, args [][]byte) {
	if c.Env.Config.ClusterMode || c.Version().CapaRedirect() {
		c.Client.readonlyMode = equalFold(args[0], "readonly")
		c.W.OK()
		return
	}
	c.W.Error("ERR This instance has cluster support disabled")
}

// fallbackIDs are the node and shard IDs of an Env whose server did not
// set them (tests that build an Env by hand).
var fallbackIDs = sync.OnceValues(func() (string, string) { return randomID(), randomID() })

// randomID returns 40 random hex characters, as Redis's getRandomHexChars
// makes node names.
func randomID() string {
	var b [20]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// NewClusterID returns a random 40-hex-character node or shard ID.
func NewClusterID() string { return randomID() }

func (e *Env) nodeID() string {
	if e.NodeID != "" {
		return e.NodeID
	}
	id, _ := fallbackIDs()
	return id
}

func (e *Env) shardID() string {
	if e.ShardID != "" {
		return e.ShardID
	}
	_, id := fallbackIDs()
	return id
}

// clusterAddr is the address vdr gives for itself: the announced one,
// else the local address of the client's connection. A unix-socket
// client gets the bind address when it is one address (else "", which
// Redis too answers while it does not know its own address) and the TCP
// port.
func (c *Ctx) clusterAddr() (ip string, port int) {
	cfg := &c.Env.Config
	ip, port = cfg.ClusterAnnounceIP, cfg.ClusterAnnouncePort
	if ip != "" && port != 0 {
		return ip, port
	}
	lip, lport := "", 0
	if h, p, err := net.SplitHostPort(c.Client.LAddr); err == nil && !strings.HasPrefix(h, "/") {
		if n, err := strconv.Atoi(p); err == nil && n > 0 {
			lip, lport = h, n
		}
	}
	if lport == 0 {
		lport = c.Env.TCPPort
		if lport <= 0 {
			lport = cfg.Port
		}
		if b := cfg.Bind; net.ParseIP(b) != nil && !net.ParseIP(b).IsUnspecified() {
			lip = b
		}
	}
	if ip == "" {
		ip = lip
	}
	if port == 0 {
		port = lport
	}
	return ip, port
}

// clusterOffset is the replication offset CLUSTER SHARDS gives for vdr:
// the primary's stream applied so far (a replica node's
// replicationGetSlaveOffset).
func (c *Ctx) clusterOffset() int64 {
	if c.Env.Repl == nil {
		return 0
	}
	return c.Env.Repl.ReplState().ApplyOffset
}

// clusterSlotsCommand: CLUSTER SLOTS — one range, 0-16383, served by vdr.
func clusterSlotsCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	ip, port := c.clusterAddr()
	w := c.W
	w.Array(1)
	w.Array(3)
	w.Int(0)
	w.Int(keyslot.Slots - 1)
	w.Array(4)
	w.BulkString(ip)
	w.Int(int64(port))
	w.BulkString(c.Env.nodeID())
	w.Map(0) // no hostname to add (clusterGenNodesSlotsInfo's metadata)
}

// clusterShardsCommand: CLUSTER SHARDS — one shard with every slot and
// one node, vdr (addShardReplyForClusterShards).
func clusterShardsCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	ip, port := c.clusterAddr()
	w := c.W
	w.Array(1)
	w.Map(2)
	w.BulkString("slots")
	w.Array(2)
	w.Int(0)
	w.Int(keyslot.Slots - 1)
	w.BulkString("nodes")
	w.Array(1)
	w.Map(7)
	w.BulkString("id")
	w.BulkString(c.Env.nodeID())
	w.BulkString("port")
	w.Int(int64(port))
	w.BulkString("ip")
	w.BulkString(ip)
	w.BulkString("endpoint")
	w.BulkString(ip)
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("replication-offset")
	w.Int(c.clusterOffset())
	w.BulkString("health")
	w.BulkString("online")
}

// clusterNodeLine is vdr's line of CLUSTER NODES
// (clusterGenNodeDescription): id, ip:port@cport, flags, master, ping
// sent, pong received, config epoch, link state, slots.
func (c *Ctx) clusterNodeLine() string {
	ip, port := c.clusterAddr()
	// ip:port without brackets, an IPv6 address too, as Redis writes it.
	return c.Env.nodeID() + " " + ip + ":" + strconv.Itoa(port) + "@0 myself,master - 0 0 0 connected 0-" +
		strconv.Itoa(keyslot.Slots-1) + "\n"
}

func clusterNodesCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	c.W.Verbatim(c.clusterNodeLine(), "txt")
}

// clusterInfoCommand: CLUSTER INFO of a healthy one-node cluster
// (genClusterInfoString).
func clusterInfoCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	var b strings.Builder
	for _, kv := range [...]struct {
		k string
		v any
	}{
		{"cluster_state", "ok"},
		{"cluster_slots_assigned", keyslot.Slots},
		{"cluster_slots_ok", keyslot.Slots},
		{"cluster_slots_pfail", 0},
		{"cluster_slots_fail", 0},
		{"cluster_known_nodes", 1},
		{"cluster_size", 1},
		{"cluster_current_epoch", 0},
		{"cluster_my_epoch", 0},
		{"cluster_stats_messages_sent", 0},
		{"cluster_stats_messages_received", 0},
		{"total_cluster_links_buffer_limit_exceeded", 0},
	} {
		b.WriteString(kv.k)
		b.WriteByte(':')
		switch v := kv.v.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		}
		b.WriteString("\r\n")
	}
	c.W.Verbatim(b.String(), "txt")
}

func clusterMyidCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	c.W.BulkString(c.Env.nodeID())
}

// clusterMyshardidCommand: CLUSTER MYSHARDID (Redis 7.2+).
func clusterMyshardidCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	c.W.BulkString(c.Env.shardID())
}

func clusterKeyslotCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	c.W.Int(int64(keyslot.Of(args[2])))
}

// clusterLinksCommand: CLUSTER LINKS — vdr has no peers.
func clusterLinksCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	c.W.Array(0)
}

// clusterReplicasCommand: CLUSTER REPLICAS / SLAVES node-id. vdr, the
// one node, has no replicas.
func clusterReplicasCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) || !c.clusterKnownNode(args[2]) {
		return
	}
	c.W.Array(0)
}

// clusterCountFailureReportsCommand: CLUSTER COUNT-FAILURE-REPORTS
// node-id — no other node reports anything.
func clusterCountFailureReportsCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) || !c.clusterKnownNode(args[2]) {
		return
	}
	c.W.Int(0)
}

// clusterKnownNode reports whether id names vdr, answering "Unknown
// node" when it does not (clusterLookupNode).
func (c *Ctx) clusterKnownNode(id []byte) bool {
	if string(id) == c.Env.nodeID() {
		return true
	}
	c.W.Error("ERR Unknown node " + string(id))
	return false
}

// clusterSlotArg parses a slot number as getLongLongFromObjectOrReply
// does; the range is the caller's to check.
func clusterSlotArg(c *Ctx, b []byte) (int64, bool) {
	n, ok := parseInt(b)
	if !ok {
		c.W.Error(errNotInteger)
	}
	return n, ok
}

func clusterCountkeysinslotCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	slot, ok := clusterSlotArg(c, args[2])
	if !ok {
		return
	}
	if slot < 0 || slot >= keyslot.Slots {
		c.W.Error("ERR Invalid slot")
		return
	}
	var n int64
	c.slotKeys(int(slot), -1, func([]byte) { n++ })
	c.W.Int(n)
}

func clusterGetkeysinslotCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	slot, ok := clusterSlotArg(c, args[2])
	if !ok {
		return
	}
	maxKeys, ok := clusterSlotArg(c, args[3])
	if !ok {
		return
	}
	if slot < 0 || slot >= keyslot.Slots || maxKeys < 0 {
		c.W.Error("ERR Invalid slot or number of keys")
		return
	}
	at := c.W.Defer()
	n := 0
	if maxKeys > 0 {
		c.slotKeys(int(slot), maxKeys, func(key []byte) {
			c.W.Bulk(key)
			n++
		})
	}
	c.W.SetArray(at, n)
}

// slotScanStep is how many keys one step of slotKeys's scan visits under
// a stripe's lock at a time.
const slotScanStep = 1024

// slotKeys calls fn for each live key of the client's database in slot,
// at most max of them (max < 0: all).
func (c *Ctx) slotKeys(slot int, max int64, fn func(key []byte)) {
	var n int64
	c.eachKey(func(key []byte) bool {
		if keyslot.Of(key) != slot {
			return true
		}
		fn(key)
		n++
		return max < 0 || n < max
	})
}

// eachKey calls fn for each live key of the client's database until fn
// returns false. The projection keeps no index by slot, so the slot
// commands visit every key: in a transaction or script through its View
// (which holds every stripe already), else by SCAN steps, which leave
// the applier free between steps (a key present throughout is visited
// once). A big database makes it long: the event loops run it off the
// loop (RunsLong).
func (c *Ctx) eachKey(fn func(key []byte) bool) {
	if c.tx != nil {
		c.readDB(func(v *projection.View) {
			v.Keys(func(key []byte, _ projection.Value) bool { return fn(key) })
		})
		return
	}
	var cursor uint64
	more := true
	for more {
		next, err := c.Env.Proj.Scan(c.Client.db, cursor, slotScanStep, func(key []byte, _ projection.Value) {
			more = more && fn(key)
		})
		if err != nil || next == 0 {
			return
		}
		cursor = next
	}
}

// slotScanInline is the database size up to which CLUSTER COUNTKEYSINSLOT
// and GETKEYSINSLOT run on an event loop; a bigger one would keep the
// loop's other clients waiting (a scan of a million keys takes tens of
// milliseconds).
const slotScanInline = 1 << 14

// RunsLong reports whether the command args would keep the connection's
// event loop busy long enough that it should run on a goroutine of its
// own: CLUSTER COUNTKEYSINSLOT, GETKEYSINSLOT or SLOT-STATS over a big
// database.
func RunsLong(c *Ctx, args [][]byte) bool {
	if len(args) < 2 || !c.Env.Config.ClusterMode || c.Client.inMulti || !equalFold(args[0], "cluster") ||
		!equalFold(args[1], "countkeysinslot") && !equalFold(args[1], "getkeysinslot") && !equalFold(args[1], "slot-stats") ||
		c.Env.Proj == nil {
		return false
	}
	n, err := c.Env.Proj.DBSize(c.Client.db)
	return err == nil && n > slotScanInline
}

// clusterSlotStatsCommand: CLUSTER SLOT-STATS (Valkey 8.0,
// clusterSlotStatsCommand in src/cluster_slot_stats.c) — SLOTSRANGE start
// end, or ORDERBY key-count [LIMIT n] [ASC|DESC]. Only key-count is
// kept, as on a Valkey whose cluster-slot-stats-enabled is no.
func clusterSlotStatsCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	slotArg := func(b []byte) (int, bool) {
		n, ok := parseInt(b)
		if !ok || n < 0 || n >= keyslot.Slots {
			c.W.Error("ERR Invalid or out of range slot")
			return 0, false
		}
		return int(n), true
	}
	switch {
	case len(args) == 5 && equalFold(args[2], "slotsrange"):
		start, ok := slotArg(args[3])
		if !ok {
			return
		}
		end, ok := slotArg(args[4])
		if !ok {
			return
		}
		if start > end {
			c.W.Error("ERR Start slot number " + strconv.Itoa(start) + " is greater than end slot number " + strconv.Itoa(end))
			return
		}
		counts := c.slotCounts()
		c.W.Array(end - start + 1)
		for s := start; s <= end; s++ {
			c.writeSlotStat(s, counts[s])
		}
	case len(args) >= 4 && equalFold(args[2], "orderby"):
		if !equalFold(args[3], "key-count") {
			c.W.Error("ERR Unrecognized sort metric for ORDERBY.")
			return
		}
		limit, desc := int64(keyslot.Slots), true
		nLimit, nOrder := 0, 0
		for i := 4; i < len(args); i++ {
			switch {
			case equalFold(args[i], "limit") && i+1 < len(args):
				n, ok := parseInt(args[i+1])
				if !ok || n < 1 || n > keyslot.Slots {
					c.W.Error("ERR Limit has to lie in between 1 and 16384 (maximum number of slots).")
					return
				}
				limit = n
				i++
				nLimit++
			case equalFold(args[i], "asc"), equalFold(args[i], "desc"):
				desc = equalFold(args[i], "desc")
				nOrder++
			default:
				c.W.Error(errSyntax)
				return
			}
			if nLimit > 1 || nOrder > 1 {
				c.W.Error("ERR Multiple filters of the same type are disallowed.")
				return
			}
		}
		counts := c.slotCounts()
		order := make([]int, keyslot.Slots)
		for i := range order {
			order[i] = i
		}
		// By count, ties by slot number (slotStatForSortDescCmp).
		slices.SortStableFunc(order, func(a, b int) int {
			if desc {
				return cmp.Compare(counts[b], counts[a])
			}
			return cmp.Compare(counts[a], counts[b])
		})
		c.W.Array(int(limit))
		for _, s := range order[:limit] {
			c.writeSlotStat(s, counts[s])
		}
	default:
		subcommandSyntaxError(c, args)
	}
}

// slotCounts counts the live keys of each slot of the client's database.
func (c *Ctx) slotCounts() *[keyslot.Slots]int64 {
	var counts [keyslot.Slots]int64
	c.eachKey(func(key []byte) bool {
		counts[keyslot.Of(key)]++
		return true
	})
	return &counts
}

// writeSlotStat writes one slot of CLUSTER SLOT-STATS: the slot and a
// map of its statistics.
func (c *Ctx) writeSlotStat(slot int, keys int64) {
	c.W.Array(2)
	c.W.Int(int64(slot))
	c.W.Map(1)
	c.W.BulkString("key-count")
	c.W.Int(keys)
}

// clusterHelpCommand: CLUSTER HELP in cluster mode, listing what vdr
// answers (in its own words; Redis's list has the subcommands that
// change a cluster too).
func clusterHelpCommand(c *Ctx, args [][]byte) {
	if !clusterOn(c) {
		return
	}
	replyHelp(c, clusterHelp)
}

var clusterHelp = []string{
	"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"COUNT-FAILURE-REPORTS <node-id>",
	"    Always 0: vdr is the only node.",
	"COUNTKEYSINSLOT <slot>",
	"    Number of keys in <slot>.",
	"GETKEYSINSLOT <slot> <count>",
	"    Up to <count> key names in <slot>.",
	"INFO",
	"    State of the one-node cluster vdr presents.",
	"KEYSLOT <key>",
	"    Hash slot of <key>.",
	"LINKS",
	"    Links to other nodes: none.",
	"MYID",
	"    This node's ID.",
	"MYSHARDID",
	"    This node's shard ID.",
	"NODES",
	"    The one node, which owns every slot.",
	"REPLICAS <node-id>",
	"    Replicas of <node-id>: none.",
	"SHARDS",
	"    The one shard, which owns every slot.",
	"SLOT-STATS SLOTSRANGE <start> <end> | ORDERBY key-count [LIMIT <n>] [ASC|DESC]",
	"    Keys per slot (Valkey 8.0).",
	"SLOTS",
	"    The one slot range, 0-16383, and its node.",
	"HELP",
	"    Prints this help.",
}

// serverMode is HELLO's mode and INFO's redis_mode: "cluster" in
// cluster mode, else "standalone".
func serverMode(c *Ctx) string {
	if c.Env.Config.ClusterMode {
		return "cluster"
	}
	return "standalone"
}
