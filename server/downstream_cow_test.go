package server

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/rdbparse"
)

// loadWriter writes to a primary on one connection, pipelined, until
// stopped: every type, expiries, MOVE, and through scripts FLUSHDB and
// SWAPDB of other dbs (a script's SELECT reaches replicas inside its
// MULTI/EXEC).
type loadWriter struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	err  error
	n    int
}

func startLoadWriter(t *testing.T, addr string, keys int) *loadWriter {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	w := &loadWriter{stop: make(chan struct{}), done: make(chan struct{})}
	br := bufio.NewReader(nc)
	go func() {
		defer close(w.done)
		rng := rand.New(rand.NewPCG(7, 7))
		var buf []byte
		for n := 0; ; n++ {
			select {
			case <-w.stop:
				return
			default:
			}
			const batch = 32
			buf = buf[:0]
			for j := 0; j < batch; j++ {
				buf = append(buf, encodeCmd(bs(loadOp(rng, n*batch+j, keys)...)...)...)
			}
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(buf); err != nil {
				w.fail(err)
				return
			}
			for j := 0; j < batch; j++ {
				var out bytes.Buffer
				if err := readValue(br, &out); err != nil {
					w.fail(err)
					return
				}
				// Error replies (RENAME of a missing key) are part of the load.
			}
			w.mu.Lock()
			w.n += batch
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *loadWriter) fail(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

// end stops the writer and returns how many commands it sent.
func (w *loadWriter) end(t *testing.T) int {
	t.Helper()
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		t.Fatal(w.err)
	}
	return w.n
}

// loadOp returns the i-th command of the load.
func loadOp(rng *rand.Rand, i, keys int) []string {
	k := strconv.Itoa(rng.IntN(keys))
	s := strconv.Itoa(i)
	switch i % 20 {
	case 0:
		return []string{"SET", "key:" + k, "new" + s}
	case 1:
		return []string{"DEL", "key:" + k}
	case 2:
		return []string{"APPEND", "key:" + k, "+"}
	case 3:
		return []string{"PEXPIRE", "key:" + k, "100000000"}
	case 4:
		return []string{"RPUSH", "list:" + k, s, "x"}
	case 5:
		return []string{"LPOP", "list:" + k}
	case 6:
		return []string{"SADD", "set:" + k, s}
	case 7:
		return []string{"ZADD", "zset:" + k, s, "m" + s}
	case 8:
		return []string{"ZINCRBY", "zset:" + k, "1.5", "m1"}
	case 9:
		return []string{"HSET", "hash:" + k, "f" + s, s}
	case 10:
		return []string{"HDEL", "hash:" + k, "f1"}
	case 11:
		return []string{"XADD", "stream:" + k, "*", "f", s}
	case 12:
		return []string{"INCRBY", "counter:" + k, "3"}
	case 13:
		return []string{"PFADD", "hll:" + k, s}
	case 14:
		return []string{"MOVE", "key:" + k, "1"}
	case 15:
		return []string{"EVAL", "redis.call('select', 2) for j = 1, 20 do redis.call('set', 'd2:' .. j, ARGV[1]) end return 1", "0", s}
	case 16:
		if i%100 == 16 {
			return []string{"EVAL", "redis.call('select', 2) redis.call('flushdb') return 1", "0"}
		}
		return []string{"SETRANGE", "key:" + k, "3", "zz"}
	case 17:
		return []string{"EVAL", "redis.call('select', 3) redis.call('rpush', 'd3', ARGV[1]) redis.call('swapdb', 3, 4) return 1", "0", s}
	case 18:
		return []string{"RENAME", "set:" + k, "set:" + strconv.Itoa(rng.IntN(keys))}
	default:
		return []string{"SETEX", "vol:" + k, "100000", s}
	}
}

// fillTypes writes n keys of each type into the primary (db 0).
func fillTypes(t *testing.T, addr string, n int) {
	t.Helper()
	c := dialRaw(t, addr)
	var buf []byte
	cmds := 0
	flush := func() {
		c.send(buf)
		for ; cmds > 0; cmds-- {
			c.read()
		}
		buf = buf[:0]
	}
	for i := 0; i < n; i++ {
		k := strconv.Itoa(i)
		for _, a := range [][]string{{"RPUSH", "list:" + k, "a", "b", k}, {"SADD", "set:" + k, "a", k}, {"ZADD", "zset:" + k, "1", "m1", "2", k},
			{"HSET", "hash:" + k, "f1", "v", "f2", k}, {"XADD", "stream:" + k, "*", "f", k}} {
			buf = append(buf, encodeCmd(bs(a...)...)...)
			cmds++
		}
		if cmds >= 500 {
			flush()
		}
	}
	flush()
}

// TestDownstreamFullSyncUnderWrites: a redis-server replica full-syncs
// from vdr while the primary takes a continuous write load of every type
// (FLUSHDB and SWAPDB included); the pass is walked slowly so that the
// applier changes keys the walker has not reached (it writes their
// pre-images first). The replica ends equal, digest for digest, to a
// direct replica of the primary.
func TestDownstreamFullSyncUnderWrites(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes")
	const keys = 20000
	primary.Do(t, "DEBUG", "POPULATE", strconv.Itoa(keys), "key", "32") // not propagated: replicas come after
	fillTypes(t, primary.Addr(), 2000)
	direct := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	hub := startHub(t, primary.Addr(), 0, replicaOptions{})
	hub.srv.down.paceDelayNs.Store(int64(20 * time.Millisecond))

	w := startLoadWriter(t, primary.Addr(), keys)
	time.Sleep(100 * time.Millisecond)
	_, vport, _ := net.SplitHostPort(hub.Addr())
	chained := redistest.Start(t, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", vport)
	redistest.WaitFor(t, 30*time.Second, "the chained replica's full sync", func() bool {
		return redistest.InfoField(chained.Addr(), "replication", "master_link_status") == "up"
	})
	time.Sleep(200 * time.Millisecond)
	n := w.end(t)
	waitSame(t, primary, direct, chained)
	pre := hub.srv.down.preImages.Load()
	t.Logf("%d commands written during the sync; the applier wrote %d pre-images", n, pre)
	if pre == 0 {
		t.Fatal("the applier wrote no pre-image: the writes did not meet the walk")
	}
	if p := hub.srv.down.rdbPasses.Load(); p != 1 {
		t.Fatalf("%d RDB passes, want 1", p)
	}
}

// TestDownstreamSlowReplicaKeepsApplier: a replica that stops reading
// in the middle of a large RDB does not hold the applier: vdr keeps up
// with the primary's writes while the transfer is stalled, and the RDB,
// read to its end afterwards, holds the keys as they were at the cut.
func TestDownstreamSlowReplicaKeepsApplier(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes")
	const keys = 100000
	primary.Do(t, "DEBUG", "POPULATE", strconv.Itoa(keys), "key", "100")
	hub := startHub(t, primary.Addr(), 0, replicaOptions{})
	c := dialRaw(t, hub.Addr())
	c.nc.(*net.TCPConn).SetReadBuffer(32 << 10)
	if got := c.dos("REPLCONF", "capa", "eof", "capa", "psync2"); got != "+OK\r\n" {
		t.Fatalf("REPLCONF: %q", got)
	}
	c.send(encodeCmd(bs("PSYNC", "?", "-1")...))
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, _ := c.br.ReadString('\n')
	if !strings.HasPrefix(line, "+FULLRESYNC ") {
		t.Fatalf("PSYNC: %q", line)
	}
	eof, _ := c.br.ReadString('\n')
	if !strings.HasPrefix(eof, "$EOF:") {
		t.Fatalf("RDB header: %q", eof)
	}
	mark := []byte(strings.TrimSpace(eof[5:]))
	var rdb bytes.Buffer
	if _, err := io.CopyN(&rdb, c.br, 64<<10); err != nil {
		t.Fatal(err)
	}
	// The replica stalls here. The primary overwrites every tenth key.
	wc := dialRaw(t, primary.Addr())
	var buf []byte
	for i := 0; i < keys; i += 10 {
		buf = append(buf, encodeCmd(bs("SET", "key:"+strconv.Itoa(i), "after the cut")...)...)
	}
	wc.send(buf)
	for i := 0; i < keys; i += 10 {
		wc.read()
	}
	want := replOffset(primary.Addr())
	t0 := time.Now()
	redistest.WaitFor(t, 10*time.Second, "vdr applying while its replica stalls", func() bool {
		return strconv.FormatInt(hub.Client().Offset(), 10) == want
	})
	t.Logf("vdr caught up with %d writes in %v while the RDB transfer stalled", keys/10, time.Since(t0))
	d := hub.srv.down
	d.cutMu.Lock()
	pass := d.shared
	d.cutMu.Unlock()
	if pass == nil {
		t.Fatal("no pass running")
	}
	select {
	case <-pass.walked:
		t.Fatal("the walk ended although the replica stalled (it should wait for it)")
	default:
	}

	// Read the rest: the RDB is the data at the cut.
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	// Nothing follows the mark before the replica ACKs.
	blk := make([]byte, 64<<10)
	for !bytes.HasSuffix(rdb.Bytes(), mark) {
		n, err := c.br.Read(blk)
		if err != nil {
			t.Fatalf("after %d bytes: %v", rdb.Len(), err)
		}
		rdb.Write(blk[:n])
		if rdb.Len() > 64<<20 {
			t.Fatal("no end mark")
		}
	}
	body := rdb.Bytes()[:rdb.Len()-len(mark)]
	got := map[string]string{}
	if err := rdbparse.Parse(bytes.NewReader(body), entryCollector{m: got}, nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != keys {
		t.Fatalf("the RDB holds %d keys, want %d", len(got), keys)
	}
	for i := 0; i < keys; i += 10 {
		if v := got["key:"+strconv.Itoa(i)]; !strings.HasPrefix(v, "value:") {
			t.Fatalf("key:%d = %q in the RDB, want its value at the cut", i, v)
		}
	}
	// Keys in buckets the walker had passed needed none.
	if pre := hub.srv.down.preImages.Load(); pre == 0 || pre > keys/10 {
		t.Fatalf("the applier wrote %d pre-images, want some, at most one per key overwritten (%d)", pre, keys/10)
	}
}

// entryCollector keeps the string values of an RDB.
type entryCollector struct {
	rdbparse.NopHandler
	m map[string]string
}

func (c entryCollector) Entry(e *rdbparse.Entry) error {
	c.m[string(e.Key)] += string(e.String)
	return nil
}
