package server

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/clustertest"
	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/replica"
)

// TestClusterTLS replicates a Redis Cluster whose nodes speak TLS to each
// other (tls-cluster, tls-replication) over TLS: the topology is read
// over TLS, CLUSTER SHARDS gives each node's tls-port, and every shard's
// link dials that port with the test CA verified, as a single link does.
// A CA that did not sign the nodes' certificate syncs nothing.
func TestClusterTLS(t *testing.T) {
	redistest.RequireTLS(t)
	dir := t.TempDir()
	ca, cert, key := redistest.TestCA(t, dir, "cluster")
	otherCA, _, _ := redistest.TestCA(t, dir, "other")
	tlsPorts := map[string]string{} // node's plain address → its TLS address
	var nodes []int
	c := clustertest.StartWith(t, 3, 0, func() []string {
		p, err := redistest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, p)
		return []string{"--tls-port", strconv.Itoa(p), "--tls-cert-file", cert, "--tls-key-file", key,
			"--tls-ca-cert-file", ca, "--tls-cluster", "yes", "--tls-replication", "yes", "--tls-auth-clients", "optional"}
	})
	for i, n := range c.Nodes {
		tlsPorts[n.Addr()] = net.JoinHostPort("127.0.0.1", strconv.Itoa(nodes[i]))
	}
	cl := c.Client() // plain connections: the nodes keep their plain port too
	w := startWriter(t, cl, 11)
	time.Sleep(300 * time.Millisecond)
	w.halt()

	seed := tlsPorts[c.Nodes[0].Addr()]
	n := startNodeWith(t, NodeOptions{
		Server: Options{Port: RandomPort},
		Cluster: &ClusterOptions{
			Seeds: []string{seed}, RefreshInterval: 200 * time.Millisecond,
			Link: replica.Options{BackoffMax: 200 * time.Millisecond, TLS: &replica.TLSOptions{CAFile: ca}},
		},
		HTTPAddr: "127.0.0.1:0",
		Logger:   testLogger(t),
	})
	redistest.WaitFor(t, 30*time.Second, "every shard synced over TLS", n.Ready)
	links := n.cluster.snapshotLinks()
	if len(links) != 3 {
		t.Fatalf("%d shard links, want 3", len(links))
	}
	tlsAddrs := map[string]bool{}
	for _, a := range tlsPorts {
		tlsAddrs[a] = true
	}
	for _, l := range links {
		if !tlsAddrs[l.client.Primary()] {
			t.Errorf("shard %d replicates %s, not a node's TLS port (%v)", l.id, l.client.Primary(), tlsPorts)
		}
	}
	waitClusterSame(t, c, "over TLS", n)
	w = startWriter(t, cl, 12)
	time.Sleep(300 * time.Millisecond)
	w.halt()
	waitClusterSame(t, c, "writes over TLS", n)

	// The wrong CA: the seed's certificate is refused at start, or the
	// node never becomes ready; nothing is served either way.
	bad, err := NewNode(NodeOptions{
		Server: Options{Port: RandomPort},
		Cluster: &ClusterOptions{
			Seeds: []string{seed}, RefreshInterval: 200 * time.Millisecond, UnreachableGrace: time.Hour,
			Link: replica.Options{BackoffMax: 200 * time.Millisecond, TLS: &replica.TLSOptions{CAFile: otherCA}},
		},
		HTTPAddr: "127.0.0.1:0",
		Logger:   testLogger(t),
	})
	if err == nil {
		err = bad.Start()
		t.Cleanup(func() { bad.Close() })
	}
	if err != nil {
		if !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("the wrong CA: %v, want a certificate error", err)
		}
		return
	}
	time.Sleep(time.Second)
	if bad.Ready() {
		t.Fatal("a cluster replica with the wrong CA is ready")
	}
	if r, _ := redistest.Do(bad.Addr(), "DBSIZE"); r != ":0\r\n" && !strings.HasPrefix(r, "-") {
		t.Errorf("DBSIZE with the wrong CA: %q", r)
	}
}
