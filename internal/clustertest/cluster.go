// Package clustertest starts a real Redis Cluster for tests: N primaries,
// each with R replicas, every node a redis-server with cluster-enabled on
// free 127.0.0.1 ports (the bus port set with cluster-port, so it need not
// be port+10000), joined with `redis-cli --cluster create`. It also
// reshards, fails over, and compares a replica of the whole cluster (vdr)
// with the union of the primaries key by key.
//
// It does not manage Redis versions other than the one redistest picks
// (VDR_REDIS_SERVER), nor clusters spread over hosts.
package clustertest

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/redistest"
)

// Cluster is a running Redis Cluster. Nodes are in the order they were
// created; after `--cluster create` the first len/(R+1) are primaries, but
// failovers change that: ask Primaries.
type Cluster struct {
	tb       testing.TB
	Nodes    []*redistest.Server
	replicas int             // replicas the cluster was created with, in all
	args     []string        // every node's extra directives
	perNode  func() []string // more directives, made for each node (nil: none)
}

// Start creates a cluster of primaries primaries with replicas replicas
// each, and waits until every node reports cluster_state:ok and every
// replica's link is up. args are extra redis.conf directives for every
// node. The nodes are killed in tb.Cleanup.
func Start(tb testing.TB, primaries, replicas int, args ...string) *Cluster {
	tb.Helper()
	return StartWith(tb, primaries, replicas, nil, args...)
}

// StartWith is Start with directives made for each node by perNode (a
// TLS port of its own, say), after args.
func StartWith(tb testing.TB, primaries, replicas int, perNode func() []string, args ...string) *Cluster {
	tb.Helper()
	c := &Cluster{tb: tb, replicas: primaries * replicas, args: args, perNode: perNode}
	for range primaries * (1 + replicas) {
		c.Nodes = append(c.Nodes, c.startNode())
	}
	create := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		create = append(create, n.Addr())
	}
	create = append(create, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	c.cli(create...)
	redistest.WaitFor(tb, 30*time.Second, "every node agreeing on the topology, every replica linked", c.agreed)
	return c
}

// startNode starts one cluster-enabled redis-server, not yet joined.
func (c *Cluster) startNode() *redistest.Server {
	c.tb.Helper()
	bus, err := redistest.FreePort()
	if err != nil {
		c.tb.Fatalf("clustertest: free port: %v", err)
	}
	a := append([]string{
		"--cluster-enabled", "yes",
		"--cluster-port", strconv.Itoa(bus),
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", "2000",
		// A replica must fail over even when it lagged (the tests drive
		// failovers under writes).
		"--cluster-replica-validity-factor", "0",
		"--repl-diskless-sync-delay", "0",
	}, c.args...)
	if c.perNode != nil {
		a = append(a, c.perNode()...)
	}
	return redistest.Start(c.tb, a...)
}

// AddPrimary starts a new node, joins it as a primary without slots
// (redis-cli --cluster add-node), waits until every node knows it, and
// returns its ID.
func (c *Cluster) AddPrimary() string {
	c.tb.Helper()
	n := c.startNode()
	c.cli("--cluster", "add-node", n.Addr(), c.Nodes[0].Addr())
	c.Nodes = append(c.Nodes, n)
	redistest.WaitFor(c.tb, 30*time.Second, "every node knows the new one", c.agreed)
	for _, nd := range c.Topology() {
		if nd.Addr == n.Addr() {
			return nd.ID
		}
	}
	c.tb.Fatalf("clustertest: %s not in the topology", n.Addr())
	return ""
}

// cli runs redis-cli with args and fails the test when it fails.
func (c *Cluster) cli(args ...string) string {
	c.tb.Helper()
	out, err := exec.Command(redistest.Binary(c.tb, "redis-cli"), args...).CombinedOutput()
	if err != nil {
		c.tb.Fatalf("clustertest: redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Healthy reports whether every live node says cluster_state:ok, the
// replicas the cluster was created with are replicas, and every replica's
// link to its primary is up.
func (c *Cluster) Healthy() bool {
	replicas := 0
	for _, n := range c.Nodes {
		if n.Exited() {
			continue
		}
		if r, err := redistest.Do(n.Addr(), "CLUSTER", "INFO"); err != nil || !strings.Contains(r, "cluster_state:ok") {
			return false
		}
		if redistest.InfoField(n.Addr(), "replication", "role") == "slave" {
			if redistest.InfoField(n.Addr(), "replication", "master_link_status") != "up" {
				return false
			}
			replicas++
		}
	}
	return replicas >= c.replicas
}

// Addrs returns every node's address.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Addr())
	}
	return out
}

// Node is one node as CLUSTER NODES shows it.
type Node struct {
	ID, Addr, Primary string // Primary: the primary's ID for a replica, "" for a primary
	IsPrimary         bool
	Slots             int // number of slots served (primaries)
}

// Topology returns the nodes as the first live node sees them.
func (c *Cluster) Topology() []Node {
	c.tb.Helper()
	for _, n := range c.Nodes {
		if n.Exited() {
			continue
		}
		txt, err := clusterNodes(n.Addr())
		if err != nil {
			continue
		}
		return parseNodes(txt)
	}
	c.tb.Fatal("clustertest: no node answers CLUSTER NODES")
	return nil
}

// clusterNodes returns CLUSTER NODES of the node at addr.
func clusterNodes(addr string) (string, error) {
	cl := redis.NewClient(&redis.Options{Addr: addr})
	defer cl.Close()
	return cl.ClusterNodes(context.Background()).Result()
}

func parseNodes(txt string) []Node {
	var out []Node
	for _, line := range strings.Split(strings.TrimSpace(txt), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		nd := Node{ID: f[0], Addr: addr, IsPrimary: strings.Contains(f[2], "master")}
		if f[3] != "-" {
			nd.Primary = f[3]
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue // a migrating/importing marker
			}
			lo, hi, ok := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			b := a
			if ok {
				b, _ = strconv.Atoi(hi)
			}
			nd.Slots += b - a + 1
		}
		out = append(out, nd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}

// Primaries returns the primaries serving slots, by address.
func (c *Cluster) Primaries() []Node {
	var out []Node
	for _, n := range c.Topology() {
		if n.IsPrimary && n.Slots > 0 {
			out = append(out, n)
		}
	}
	return out
}

// ReplicaOf returns a replica of the primary with the given ID.
func (c *Cluster) ReplicaOf(primaryID string) Node {
	c.tb.Helper()
	for _, n := range c.Topology() {
		if n.Primary == primaryID {
			return n
		}
	}
	c.tb.Fatalf("clustertest: no replica of %s", primaryID)
	return Node{}
}

// Client returns a cluster client (following MOVED and ASK) closed in
// Cleanup.
func (c *Cluster) Client() *redis.ClusterClient {
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), MaxRedirects: 16})
	c.tb.Cleanup(func() { cl.Close() })
	return cl
}

// Reshard moves slots slots from the primary with ID from to the one with
// ID to, with redis-cli --cluster reshard (MIGRATE in batches), and waits
// for the cluster to agree again.
func (c *Cluster) Reshard(from, to string, slots int) {
	c.tb.Helper()
	c.cli("--cluster", "reshard", c.Nodes[0].Addr(), "--cluster-from", from, "--cluster-to", to,
		"--cluster-slots", strconv.Itoa(slots), "--cluster-yes", "--cluster-pipeline", "100")
	redistest.WaitFor(c.tb, 30*time.Second, "the cluster agrees after resharding", c.agreed)
}

// agreed reports whether every live node reports the same nodes, roles
// and slot counts, with the replicas the cluster was created with, and is
// Healthy.
func (c *Cluster) agreed() bool {
	var want string
	for _, n := range c.Nodes {
		if n.Exited() {
			continue
		}
		txt, err := clusterNodes(n.Addr())
		if err != nil || strings.Contains(txt, "->-") || strings.Contains(txt, "-<-") {
			return false
		}
		var b strings.Builder
		replicas := 0
		for _, nd := range parseNodes(txt) {
			fmt.Fprintf(&b, "%s %v %d;", nd.ID, nd.IsPrimary, nd.Slots)
			if nd.Primary != "" {
				replicas++
			}
		}
		if replicas < c.replicas {
			return false
		}
		if want == "" {
			want = b.String()
		} else if want != b.String() {
			return false
		}
	}
	return c.Healthy()
}

// Failover runs CLUSTER FAILOVER on the replica at addr and waits until it
// is a primary and the cluster agrees.
func (c *Cluster) Failover(addr string) {
	c.tb.Helper()
	if r, err := redistest.Do(addr, "CLUSTER", "FAILOVER"); err != nil || !strings.HasPrefix(r, "+OK") {
		c.tb.Fatalf("clustertest: CLUSTER FAILOVER on %s: %q %v", addr, r, err)
	}
	redistest.WaitFor(c.tb, 30*time.Second, addr+" promoted", func() bool {
		return redistest.InfoField(addr, "replication", "role") == "master" && c.agreed()
	})
}

// Keys returns every key of every primary with its DUMP payload and PTTL
// (a key with a TTL reports "ttl"; the exact remaining time differs).
func (c *Cluster) Keys() map[string]string {
	c.tb.Helper()
	out := map[string]string{}
	for _, p := range c.Primaries() {
		for k, v := range Snapshot(c.tb, p.Addr) {
			if _, dup := out[k]; dup {
				c.tb.Fatalf("clustertest: key %q on two primaries", k)
			}
			out[k] = v
		}
	}
	return out
}

// Snapshot returns every key at addr (a plain connection, db 0) as a
// canonical rendering of its type, value and whether it has a TTL. The
// keys are read in pipelined batches.
func Snapshot(tb testing.TB, addr string) map[string]string {
	tb.Helper()
	ctx := context.Background()
	cl := redis.NewClient(&redis.Options{Addr: addr})
	defer cl.Close()
	out := map[string]string{}
	var keys []string
	iter := cl.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatalf("clustertest: SCAN %s: %v", addr, err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := renderBatch(ctx, cl, keys[:n], out); err != nil {
			tb.Fatalf("clustertest: reading keys at %s: %v", addr, err)
		}
		keys = keys[n:]
	}
	return out
}

// renderBatch reads keys type-aware into out: a string, hash, list, set or
// sorted set (sets and hashes sorted), plus whether it has a TTL; keys
// deleted meanwhile are left out.
func renderBatch(ctx context.Context, cl *redis.Client, keys []string, out map[string]string) error {
	pl := cl.Pipeline()
	types := make([]*redis.StatusCmd, len(keys))
	for i, k := range keys {
		types[i] = pl.Type(ctx, k)
	}
	if _, err := pl.Exec(ctx); err != nil {
		return err
	}
	vals := make([]func() (any, error), len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		switch types[i].Val() {
		case "none":
			continue
		case "string":
			c := pl.Get(ctx, k)
			vals[i] = func() (any, error) { return c.Result() }
		case "hash":
			c := pl.HGetAll(ctx, k)
			vals[i] = func() (any, error) { m, err := c.Result(); return sortedPairs(m), err }
		case "list":
			c := pl.LRange(ctx, k, 0, -1)
			vals[i] = func() (any, error) { return c.Result() }
		case "set":
			c := pl.SMembers(ctx, k)
			vals[i] = func() (any, error) { m, err := c.Result(); sort.Strings(m); return m, err }
		case "zset":
			c := pl.ZRangeWithScores(ctx, k, 0, -1)
			vals[i] = func() (any, error) { return c.Result() }
		default:
			c := pl.Dump(ctx, k)
			vals[i] = func() (any, error) { return c.Result() }
		}
		ttls[i] = pl.PTTL(ctx, k)
	}
	if _, err := pl.Exec(ctx); err != nil && err != redis.Nil {
		return err
	}
	for i, k := range keys {
		if vals[i] == nil {
			continue
		}
		v, err := vals[i]()
		if err == redis.Nil {
			continue // deleted between the two round trips
		}
		if err != nil {
			return fmt.Errorf("%q: %w", k, err)
		}
		out[k] = fmt.Sprintf("%s %v ttl=%v", types[i].Val(), v, ttls[i].Val() > 0)
	}
	return nil
}

func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Diff compares want (the union of the primaries) with got (a replica) and
// returns up to max differences, described.
func Diff(want, got map[string]string, max int) []string {
	var out []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("missing %q (%s)", k, w))
		case g != w:
			out = append(out, fmt.Sprintf("differs %q: want %s, got %s", k, w, g))
		}
		if len(out) >= max {
			return out
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("extra %q (%s)", k, g))
			if len(out) >= max {
				return out
			}
		}
	}
	sort.Strings(out)
	return out
}
