package rdbparse

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/vdr-project/vdr/internal/redistest"
)

var rewrite = flag.Bool("rewrite", false, "regenerate testdata/*.rdb with the local redis-server and their .golden dumps")

// TestGolden parses the RDB files kept in testdata (written by the
// redis-server version in their name) and compares the result with the
// .golden dump next to them. go test -run TestGolden -rewrite writes a
// new file with the local redis-server and regenerates the dump.
func TestGolden(t *testing.T) {
	if *rewrite {
		writeGoldenRDB(t)
	}
	files, _ := filepath.Glob("testdata/*.rdb")
	if len(files) == 0 {
		t.Fatal("no testdata/*.rdb; run with -rewrite")
	}
	for _, f := range files {
		rec, _, _, err := parseFile(t, f, &Options{BatchSize: 5})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		golden := strings.TrimSuffix(f, ".rdb") + ".golden"
		if *rewrite {
			if err := os.WriteFile(golden, []byte(rec.dump()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -rewrite)", err)
		}
		if got := rec.dump(); got != string(want) {
			t.Errorf("%s: parse differs from %s (run with -rewrite if the change is intended)\n got: %.2000s", f, golden, got)
		}
	}
}

// writeGoldenRDB has the local redis-server write a small file with one
// or two keys of every encoding it knows.
func writeGoldenRDB(t *testing.T) {
	s := redistest.Start(t, "--enable-debug-command", "yes", "--maxmemory-policy", "allkeys-lfu")
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	ver, _ := c.Do(ctx, "INFO", "server").Text()
	v := "unknown"
	for _, l := range strings.Split(ver, "\r\n") {
		if x, ok := strings.CutPrefix(l, "redis_version:"); ok {
			v = x
		}
	}
	cmds := [][]any{
		{"SET", "str", "hello"}, {"SET", "int", "-12345"}, {"SET", "lzf", strings.Repeat("ab", 500)},
		{"SET", "exp", "x", "PXAT", "4102444800123"},
		{"RPUSH", "list", "a", "1", "-70000", strings.Repeat("z", 300)},
		{"HSET", "hash:lp", "f", "v", "n", "42"}, {"HSET", "hash:ht", "f", strings.Repeat("v", 100)},
		{"SADD", "set:int", "1", "-40000", "5000000000"}, {"SADD", "set:str", "a", "b"},
		{"ZADD", "zset:lp", "1.5", "a", "-inf", "b"}, {"ZADD", "zset:sl", "2", strings.Repeat("m", 100), "+inf", "c"},
		{"XADD", "stream", "1-1", "f", "v"}, {"XADD", "stream", "2-1", "f", "w", "g", "1"},
		{"XGROUP", "CREATE", "stream", "grp", "0"}, {"XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "stream", ">"},
		{"DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"}, {"RPUSH", "list:plain", strings.Repeat("p", 150), "q"},
		{"SELECT", "5"},
	}
	for _, cmd := range cmds {
		if err := c.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	c5 := redis.NewClient(&redis.Options{Addr: s.Addr(), DB: 5})
	defer c5.Close()
	c5.Set(ctx, "db5", "five", 0)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(s.Dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("testdata/redis-%s.rdb", v)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", name, len(data))
}
