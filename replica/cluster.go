package replica

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Cluster discovery: the topology of a Redis Cluster as one of its nodes
// reports it, read with CLUSTER SHARDS (Redis 7.0+), or CLUSTER SLOTS on
// older servers. The replication links themselves are ordinary Clients,
// one per shard; following the topology is the caller's job.

// ErrNotCluster reports a seed that is not a cluster node (cluster support
// disabled, or a server without the CLUSTER command).
var ErrNotCluster = errors.New("replica: not a cluster node")

// ClusterNode is one node of a shard.
type ClusterNode struct {
	ID      string
	Addr    string // host:port to reach it (its TLS port when Options.TLS is set and it announces one)
	Primary bool
	// Health is CLUSTER SHARDS's "online", "fail" or "loading" (a replica
	// whose offset is 0 as the answering node knows it); CLUSTER SLOTS
	// reports no health and leaves it "".
	Health string
	// Offset is its replication offset; -1 when unknown (CLUSTER SLOTS).
	Offset int64
}

// ClusterShard is one shard: the slot ranges it serves (inclusive) and its
// nodes, the primary first.
type ClusterShard struct {
	Slots [][2]int
	Nodes []ClusterNode
}

// PrimaryNode returns the shard's primary, or false when it reports none.
func (s *ClusterShard) PrimaryNode() (ClusterNode, bool) {
	for _, n := range s.Nodes {
		if n.Primary {
			return n, true
		}
	}
	return ClusterNode{}, false
}

// DiscoverCluster asks the node at addr for the cluster's shards, with the
// authentication and TLS of o (o.Primary and o.Handler are ignored). A
// node that is not in cluster mode answers ErrNotCluster.
func DiscoverCluster(ctx context.Context, o Options, addr string) ([]ClusterShard, error) {
	l, err := dialQuery(ctx, o, addr)
	if err != nil {
		return nil, err
	}
	defer l.conn.Close()
	host, _, _ := net.SplitHostPort(addr)
	rep, err := l.call("CLUSTER", "SHARDS")
	if err != nil {
		return nil, fmt.Errorf("replica: CLUSTER SHARDS at %s: %w", addr, err)
	}
	if e, ok := rep.(replyError); ok {
		if notCluster(e) {
			return nil, fmt.Errorf("%w: %s answers %q", ErrNotCluster, addr, string(e))
		}
		// Older than 7.0: CLUSTER SLOTS.
		if rep, err = l.call("CLUSTER", "SLOTS"); err != nil {
			return nil, fmt.Errorf("replica: CLUSTER SLOTS at %s: %w", addr, err)
		}
		if e, ok := rep.(replyError); ok {
			if notCluster(e) {
				return nil, fmt.Errorf("%w: %s answers %q", ErrNotCluster, addr, string(e))
			}
			return nil, fmt.Errorf("replica: CLUSTER SLOTS at %s: %s", addr, string(e))
		}
		return parseClusterSlots(rep, host)
	}
	return parseClusterShards(rep, host, o.TLS != nil)
}

// notCluster reports an error reply meaning cluster mode is off.
func notCluster(e replyError) bool {
	s := strings.ToLower(string(e))
	return strings.Contains(s, "cluster support disabled") || strings.Contains(s, "unknown command")
}

// parseClusterShards reads CLUSTER SHARDS: an array of maps (as flat
// arrays in RESP2) with "slots" (a flat list of start, end pairs) and
// "nodes" (maps with id, port, tls-port, ip, endpoint, hostname, role,
// replication-offset, health); see src/cluster.c addShardReplyForClusterShards.
func parseClusterShards(rep any, seedHost string, tls bool) ([]ClusterShard, error) {
	arr, ok := rep.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: CLUSTER SHARDS reply %T", ErrProtocol, rep)
	}
	var out []ClusterShard
	for _, s := range arr {
		m, ok := pairs(s)
		if !ok {
			return nil, fmt.Errorf("%w: CLUSTER SHARDS shard %T", ErrProtocol, s)
		}
		var sh ClusterShard
		slots, _ := m["slots"].([]any)
		for i := 0; i+1 < len(slots); i += 2 {
			lo, ok1 := slots[i].(int64)
			hi, ok2 := slots[i+1].(int64)
			if !ok1 || !ok2 || lo < 0 || hi < lo || hi >= 16384 {
				return nil, fmt.Errorf("%w: CLUSTER SHARDS slot range %v-%v", ErrProtocol, slots[i], slots[i+1])
			}
			sh.Slots = append(sh.Slots, [2]int{int(lo), int(hi)})
		}
		nodes, _ := m["nodes"].([]any)
		for _, n := range nodes {
			nm, ok := pairs(n)
			if !ok {
				return nil, fmt.Errorf("%w: CLUSTER SHARDS node %T", ErrProtocol, n)
			}
			nd := ClusterNode{ID: str(nm["id"]), Health: str(nm["health"]), Offset: -1, Primary: str(nm["role"]) == "master"}
			if v, ok := nm["replication-offset"].(int64); ok {
				nd.Offset = v
			}
			host := str(nm["endpoint"])
			if host == "" || host == "?" {
				host = str(nm["ip"])
			}
			if host == "" || host == "?" {
				host = seedHost // cluster-preferred-endpoint-type unknown-endpoint
			}
			port, _ := nm["port"].(int64)
			if tp, ok := nm["tls-port"].(int64); ok && (tls || port == 0) {
				port = tp
			}
			nd.Addr = net.JoinHostPort(host, strconv.FormatInt(port, 10))
			sh.Nodes = append(sh.Nodes, nd)
		}
		// Primary first.
		for i, nd := range sh.Nodes {
			if nd.Primary && i > 0 {
				sh.Nodes[0], sh.Nodes[i] = sh.Nodes[i], sh.Nodes[0]
				break
			}
		}
		out = append(out, sh)
	}
	return out, nil
}

// parseClusterSlots reads CLUSTER SLOTS: one entry per slot range, start,
// end, then the primary and its replicas as [host, port, id, …]. Ranges of
// the same primary are gathered into one shard.
func parseClusterSlots(rep any, seedHost string) ([]ClusterShard, error) {
	arr, ok := rep.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: CLUSTER SLOTS reply %T", ErrProtocol, rep)
	}
	byPrimary := map[string]int{}
	var out []ClusterShard
	for _, r := range arr {
		e, ok := r.([]any)
		if !ok || len(e) < 3 {
			return nil, fmt.Errorf("%w: CLUSTER SLOTS entry %v", ErrProtocol, r)
		}
		lo, ok1 := e[0].(int64)
		hi, ok2 := e[1].(int64)
		if !ok1 || !ok2 || lo < 0 || hi < lo || hi >= 16384 {
			return nil, fmt.Errorf("%w: CLUSTER SLOTS range %v-%v", ErrProtocol, e[0], e[1])
		}
		var nodes []ClusterNode
		for i, n := range e[2:] {
			na, ok := n.([]any)
			if !ok || len(na) < 2 {
				return nil, fmt.Errorf("%w: CLUSTER SLOTS node %v", ErrProtocol, n)
			}
			host, port := str(na[0]), na[1]
			if host == "" || host == "?" {
				host = seedHost
			}
			p, _ := port.(int64)
			nd := ClusterNode{Addr: net.JoinHostPort(host, strconv.FormatInt(p, 10)), Primary: i == 0, Offset: -1}
			if len(na) > 2 {
				nd.ID = str(na[2])
			}
			nodes = append(nodes, nd)
		}
		key := nodes[0].ID + "@" + nodes[0].Addr
		i, ok := byPrimary[key]
		if !ok {
			i = len(out)
			byPrimary[key] = i
			out = append(out, ClusterShard{Nodes: nodes})
		}
		out[i].Slots = append(out[i].Slots, [2]int{int(lo), int(hi)})
	}
	return out, nil
}

// pairs turns a RESP2 flat array of name, value pairs into a map.
func pairs(v any) (map[string]any, bool) {
	arr, ok := v.([]any)
	if !ok || len(arr)%2 != 0 {
		return nil, false
	}
	m := make(map[string]any, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		m[str(arr[i])] = arr[i+1]
	}
	return m, true
}

// str returns a bulk or simple string reply as a string.
func str(v any) string {
	switch s := v.(type) {
	case []byte:
		return string(s)
	case string:
		return s
	}
	return ""
}

// dialQuery connects to addr for a few queries (not a replication link),
// authenticated and over TLS as o says, with every read and write bounded
// by o's DialTimeout.
func dialQuery(ctx context.Context, o Options, addr string) (*link, error) {
	o.Primary, o.Handler = addr, NopHandler{}
	c := New(o)
	c.opts.ReadTimeout = c.opts.DialTimeout
	conn, err := c.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(4 * c.opts.DialTimeout))
	l := newLink(c, conn)
	if err := l.auth(&c.opts); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return l, nil
}

// ReplOffset returns the replication offset of the server at addr (INFO
// replication master_repl_offset), authenticated and over TLS as o says.
func ReplOffset(ctx context.Context, o Options, addr string) (int64, error) {
	l, err := dialQuery(ctx, o, addr)
	if err != nil {
		return 0, err
	}
	defer l.conn.Close()
	rep, err := l.call("INFO", "replication")
	if err != nil {
		return 0, fmt.Errorf("replica: INFO replication at %s: %w", addr, err)
	}
	b, ok := rep.([]byte)
	if !ok {
		return 0, fmt.Errorf("%w: INFO replication at %s: %v", ErrProtocol, addr, rep)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "master_repl_offset:"); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: no master_repl_offset in INFO replication at %s", ErrProtocol, addr)
}
