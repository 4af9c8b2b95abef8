package server

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/keyslot"
	"github.com/vdr-project/vdr/internal/redistest"
)

// Cluster-mode clients reading through vdr: vdr in ClusterMode
// replicates a plain redis-server primary, and each client, started in
// cluster mode with vdr as its only seed, reads every key the primary
// was given and must find the value written there. The clients are
// those of the issue: go-redis's ClusterClient, redis-cli -c, redis-py's
// RedisCluster and ioredis's Cluster (the last two from
// scripts/install-deps.sh: make deps).

// clusterModeVDR starts a primary and vdr in ClusterMode replicating it,
// writes keys over many slots (plain and hash-tagged) to the primary
// and waits until vdr has applied them. It returns vdr's address and
// the values written.
func clusterModeVDR(t *testing.T) (addr string, want map[string]string) {
	t.Helper()
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	node := startNodeServing(t, primary.Addr(), replicaOptions{}, Options{ClusterMode: true})
	want = map[string]string{}
	pc := dialRaw(t, primary.Addr())
	var batch []byte
	for i := range 400 {
		k, v := "key:"+strconv.Itoa(i), "value "+strconv.Itoa(i*7)
		if i%10 == 0 {
			k = "{user" + strconv.Itoa(i/40) + "}:" + strconv.Itoa(i) // a few keys per tag share a slot
		}
		want[k] = v
		batch = append(batch, encodeCmd(bs("SET", k, v)...)...)
	}
	pc.send(batch)
	for range want {
		if r := string(pc.read()); r != "+OK\r\n" {
			t.Fatalf("SET: %q", r)
		}
	}
	slots := map[int]bool{}
	for k := range want {
		slots[keyslot.OfString(k)] = true
	}
	if len(slots) < 300 {
		t.Fatalf("the keys cover only %d slots", len(slots))
	}
	off := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
	redistest.WaitFor(t, 15*time.Second, "vdr caught up", func() bool {
		return redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == off
	})
	return node.Addr(), want
}

// writeWant writes want as JSON for the script clients.
func writeWant(t *testing.T, want map[string]string) string {
	t.Helper()
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "want.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClusterClientGoRedis(t *testing.T) {
	addr, want := clusterModeVDR(t)
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}, ReadOnly: true, MaxRedirects: 0})
	defer cc.Close()
	for k, v := range want {
		got, err := cc.Get(ctx, k).Result()
		if err != nil || got != v {
			t.Fatalf("GET %s: %q, %v; want %q", k, got, err, v)
		}
	}
	pipe := cc.Pipeline()
	cmds := map[string]*redis.StringCmd{}
	for k := range want {
		cmds[k] = pipe.Get(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	for k, c := range cmds {
		if c.Val() != want[k] {
			t.Fatalf("pipelined GET %s: %q, want %q", k, c.Val(), want[k])
		}
	}
	if _, err := cc.Get(ctx, "no-such-key").Result(); err != redis.Nil {
		t.Fatalf("GET of a missing key: %v", err)
	}
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil || len(slots) != 1 || slots[0].Start != 0 || slots[0].End != keyslot.Slots-1 ||
		len(slots[0].Nodes) != 1 || slots[0].Nodes[0].Addr != addr {
		t.Fatalf("CLUSTER SLOTS: %+v, %v", slots, err)
	}
	masters := 0
	cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		masters++
		if c.Options().Addr != addr {
			t.Errorf("master at %s, want %s", c.Options().Addr, addr)
		}
		return nil
	})
	if masters != 1 {
		t.Fatalf("%d masters, want 1", masters)
	}
}

func TestClusterClientRedisCLI(t *testing.T) {
	addr, want := clusterModeVDR(t)
	cli := redistest.Binary(t, "redis-cli")
	host, port, _ := strings.Cut(addr, ":")
	keys := make([]string, 0, len(want))
	var in strings.Builder
	for k := range want {
		keys = append(keys, k)
		in.WriteString("GET " + k + "\n")
	}
	cmd := exec.Command(cli, "-c", "-h", host, "-p", port)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("redis-cli -c: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	i := 0
	for ; sc.Scan(); i++ {
		if i >= len(keys) {
			t.Fatalf("redis-cli -c: more lines than GETs: %q", sc.Text())
		}
		if sc.Text() != want[keys[i]] {
			t.Fatalf("redis-cli -c GET %s: %q, want %q", keys[i], sc.Text(), want[keys[i]])
		}
	}
	if i != len(keys) {
		t.Fatalf("redis-cli -c: %d replies to %d GETs", i, len(keys))
	}
	// redis-cli's cluster manager reads CLUSTER NODES, INFO and the slots.
	out, err = exec.Command(cli, "--cluster", "check", addr).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "[OK] All 16384 slots covered.") ||
		!strings.Contains(string(out), strconv.Itoa(len(want))+" keys in 1 masters") {
		t.Fatalf("redis-cli --cluster check: %v\n%s", err, out)
	}
}

// python3WithRedis returns a Python interpreter that has redis-py, the
// python3 on PATH or else the system one (Debian's python3-redis is
// installed for it, while PATH may lead to another, e.g. pyenv's).
func python3WithRedis(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		p, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		tried = append(tried, p)
		if exec.Command(p, "-c", "import redis.cluster").Run() == nil {
			return p
		}
	}
	t.Fatalf("no python3 with redis-py's RedisCluster (tried %v): run make deps (scripts/install-deps.sh installs python3-redis)", tried)
	return ""
}

func TestClusterClientRedisPy(t *testing.T) {
	py := python3WithRedis(t)
	addr, want := clusterModeVDR(t)
	_, port, _ := strings.Cut(addr, ":")
	script, _ := filepath.Abs("testdata/python/cluster_client.py")
	out, err := exec.Command(py, script, port, writeWant(t, want)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK redis-py "+strconv.Itoa(len(want))+" keys") {
		t.Fatalf("redis-py RedisCluster: %v\n%s", err, out)
	}
}

// ioredisModules returns node and a node_modules folder holding ioredis:
// the one scripts/install-deps.sh fills (bin/node), else one npm
// installs now (a few seconds).
func ioredisModules(t *testing.T) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not installed: run make deps (scripts/install-deps.sh installs node, npm and ioredis)")
	}
	if d, _ := filepath.Abs(filepath.Join("..", "bin", "node", "node_modules")); dirExists(filepath.Join(d, "ioredis")) {
		return node, d
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm not installed: run make deps (scripts/install-deps.sh installs node, npm and ioredis)")
	}
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/node/package.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "package.json"), src, 0o644)
	inst := exec.Command(npm, "install", "--no-audit", "--no-fund")
	inst.Dir = dir
	if out, err := inst.CombinedOutput(); err != nil {
		t.Fatalf("npm install: %v\n%s", err, out)
	}
	return node, filepath.Join(dir, "node_modules")
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func TestClusterClientIORedis(t *testing.T) {
	node, mods := ioredisModules(t)
	addr, want := clusterModeVDR(t)
	_, port, _ := strings.Cut(addr, ":")
	script, _ := filepath.Abs("testdata/node/cluster_client.js")
	cmd := exec.Command(node, script, port, writeWant(t, want))
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK ioredis-cluster "+strconv.Itoa(len(want))+" keys") {
		t.Fatalf("ioredis Cluster: %v\n%s", err, out)
	}
}
