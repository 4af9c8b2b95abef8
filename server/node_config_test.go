package server

import (
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/projection"
)

// TestNodeReadsPrimaryEncodingConfig: a primary with small encoding
// thresholds; vdr must report the same OBJECT ENCODING as the primary for
// values on both sides of them, whether they arrive in the full sync or on
// the stream. A replication-only ACL user that may not run CONFIG still
// replicates (with the defaults).
func TestNodeReadsPrimaryEncodingConfig(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0",
		"--hash-max-listpack-entries", "4", "--zset-max-listpack-entries", "3",
		"--set-max-intset-entries", "5", "--hll-sparse-max-bytes", "100")
	for _, c := range [][]string{
		{"ACL", "SETUSER", "repl", "on", ">pw", "+psync", "+replconf", "+ping"},
		{"HSET", "h:rdb", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"},
		{"ZADD", "z:rdb", "1", "a", "2", "b", "3", "c", "4", "d"},
		{"SADD", "s:rdb", "1", "2", "3", "4", "5", "6"},
		{"HSET", "h:small", "a", "1"},
	} {
		if r := primary.Do(t, c...); strings.HasPrefix(r, "-") {
			t.Fatalf("%v: %q", c, r)
		}
	}
	startNode := func(user, pass string) *Node {
		node := startNode(t, primary.Addr(), replicaOptions{Username: user, Password: pass})
		redistest.WaitFor(t, 15*time.Second, "vdr link up", func() bool {
			return redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up"
		})
		return node
	}
	full := startNode("", "")
	limited := startNode("repl", "pw")

	for _, c := range [][]string{
		{"HSET", "h:live", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"},
		{"ZADD", "z:live", "1", "a", "2", "b", "3", "c", "4", "d"},
		{"SADD", "s:live", "1", "2", "3", "4", "5", "6"},
		{"HSET", "h:livesmall", "a", "1"},
	} {
		primary.Do(t, c...)
	}
	off := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
	for _, n := range []*Node{full, limited} {
		redistest.WaitFor(t, 10*time.Second, "vdr caught up", func() bool {
			return redistest.InfoField(n.Addr(), "replication", "slave_repl_offset") == off
		})
	}
	for _, k := range []string{"h:rdb", "z:rdb", "s:rdb", "h:small", "h:live", "z:live", "s:live", "h:livesmall"} {
		want := primary.Do(t, "OBJECT", "ENCODING", k)
		if got, err := redistest.Do(full.Addr(), "OBJECT", "ENCODING", k); err != nil || got != want {
			t.Errorf("OBJECT ENCODING %s: vdr %q, primary %q", k, got, want)
		}
	}
	if ec := full.proj.EncodingConfig(); ec.HashMaxListpackEntries != 4 || ec.ZSetMaxListpackEntries != 3 || ec.SetMaxIntsetEntries != 5 || ec.HLLSparseMaxBytes != 100 {
		t.Errorf("encoding config from the primary: %+v", ec)
	}
	// The limited user could not read CONFIG: defaults, and data intact.
	if ec := limited.proj.EncodingConfig(); ec.HashMaxListpackEntries != 512 {
		t.Errorf("limited user: encoding config %+v, want the defaults", ec)
	}
	if got, err := redistest.Do(limited.Addr(), "HLEN", "h:live"); err != nil || got != ":5\r\n" {
		t.Errorf("limited user: HLEN h:live = %q", got)
	}
}

func TestEncodingFromConfig(t *testing.T) {
	base := projection.EncodingConfig{HashMaxListpackEntries: 512, ListMaxListpackSize: -2}
	ec := encodingFromConfig(base, map[string]string{
		"hash-max-ziplist-entries": "7", "list-max-listpack-size": "-3", "zset-max-listpack-value": "bogus",
	}, "7.2.4")
	if ec.HashMaxListpackEntries != 7 || ec.ListMaxListpackSize != -3 || ec.ZSetMaxListpackValue != 0 || !ec.Redis72 {
		t.Errorf("got %+v", ec)
	}
	for v, want := range map[string]bool{"7.0.15": false, "7.2.0": true, "8.0.1": true, "6.2.14": false, "valkey-7.2.7": true, "valkey-8.0.1": true} {
		if got := encodingFromConfig(base, nil, v).Redis72; got != want {
			t.Errorf("version %q: Redis72 = %v", v, got)
		}
	}
	if encodingFromConfig(base, nil, "x").Redis72 {
		t.Error("an unparsable version changed the encodings")
	}
}
