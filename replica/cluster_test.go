package replica

import (
	"context"
	"errors"
	"testing"

	"github.com/vdr-project/vdr/internal/clustertest"
	"github.com/vdr-project/vdr/internal/redistest"
)

// TestDiscoverCluster reads a real 3×1 cluster's shards (CLUSTER SHARDS and
// the CLUSTER SLOTS fallback agree) and refuses a plain server.
func TestDiscoverCluster(t *testing.T) {
	c := clustertest.Start(t, 3, 1)
	ctx := context.Background()
	shards, err := DiscoverCluster(ctx, Options{}, c.Nodes[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 3 {
		t.Fatalf("%d shards, want 3: %+v", len(shards), shards)
	}
	total := 0
	for _, s := range shards {
		if len(s.Nodes) != 2 || !s.Nodes[0].Primary || s.Nodes[1].Primary {
			t.Errorf("shard nodes %+v: want a primary then a replica", s.Nodes)
		}
		for _, r := range s.Slots {
			total += r[1] - r[0] + 1
		}
	}
	if total != 16384 {
		t.Errorf("slots covered: %d", total)
	}
	conn, err := New(Options{}).dial(ctx, c.Nodes[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rep, err := newLink(New(Options{ReadTimeout: DefaultDialTimeout}), conn).call("CLUSTER", "SLOTS")
	if err != nil {
		t.Fatal(err)
	}
	fromSlots, err := parseClusterSlots(rep, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(fromSlots) != 3 {
		t.Errorf("CLUSTER SLOTS: %d shards", len(fromSlots))
	}
	for i := range fromSlots {
		p, _ := fromSlots[i].PrimaryNode()
		found := false
		for _, s := range shards {
			if q, _ := s.PrimaryNode(); q.ID == p.ID && q.Addr == p.Addr && len(s.Slots) == len(fromSlots[i].Slots) {
				found = true
			}
		}
		if !found {
			t.Errorf("CLUSTER SLOTS shard %+v not in CLUSTER SHARDS's", fromSlots[i])
		}
	}

	plain := redistest.Start(t)
	if _, err := DiscoverCluster(ctx, Options{}, plain.Addr()); !errors.Is(err, ErrNotCluster) {
		t.Errorf("plain server: %v, want ErrNotCluster", err)
	}
}
