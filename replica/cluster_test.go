package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

// TestDiscoverClusterSlotsFallback: a server without CLUSTER SHARDS (before
// 7.0) is read with CLUSTER SLOTS, its ranges gathered per primary.
func TestDiscoverClusterSlotsFallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := newReader(c, New(Options{}).opts.EnsureDefaults())
		for {
			argv, _, err := rd.readCommand()
			if err != nil {
				return
			}
			if string(argv[1]) == "SHARDS" {
				io.WriteString(c, "-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n")
				continue
			}
			// Two ranges of one primary (with a replica), one of another.
			io.WriteString(c, "*3\r\n"+
				"*4\r\n:0\r\n:99\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n*3\r\n$9\r\n127.0.0.1\r\n:7001\r\n$2\r\nr1\r\n"+
				"*3\r\n:100\r\n:16283\r\n*3\r\n$9\r\n127.0.0.1\r\n:7002\r\n$2\r\ni2\r\n"+
				"*3\r\n:16284\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n")
		}
	}()
	shards, err := DiscoverCluster(context.Background(), Options{}, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%+v", shards)
	want := "[{Slots:[[0 99] [16284 16383]] Nodes:[{ID:id Addr:127.0.0.1:7000 Primary:true Health: Offset:-1} {ID:r1 Addr:127.0.0.1:7001 Primary:false Health: Offset:-1}]} " +
		"{Slots:[[100 16283]] Nodes:[{ID:i2 Addr:127.0.0.1:7002 Primary:true Health: Offset:-1}]}]"
	if got != want {
		t.Errorf("shards\n got %s\nwant %s", got, want)
	}
}
