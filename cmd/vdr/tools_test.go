package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/internal/resp"
)

// tailProc runs "vdr tail" and streams its stdout lines.
type tailProc struct {
	cmd    *exec.Cmd
	lines  chan map[string]any
	stderr *syncBuffer
}

func startTail(t *testing.T, args ...string) *tailProc {
	t.Helper()
	tp := &tailProc{lines: make(chan map[string]any, 1000), stderr: &syncBuffer{}}
	tp.cmd = exec.Command(vdrBinary(t), append([]string{"tail", "--http", ""}, args...)...)
	tp.cmd.Stderr = tp.stderr
	out, err := tp.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"bad_json": sc.Text()}
			}
			tp.lines <- m
		}
		close(tp.lines)
	}()
	t.Cleanup(func() {
		tp.cmd.Process.Kill()
		tp.cmd.Wait()
		if t.Failed() {
			t.Logf("tail stderr:\n%s", tp.stderr.String())
		}
	})
	return tp
}

func (tp *tailProc) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-tp.lines:
		if !ok {
			t.Fatal("tail output ended")
		}
		if _, bad := m["bad_json"]; bad {
			t.Fatalf("tail printed a line that is not JSON: %v", m["bad_json"])
		}
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no tail output within 20s")
	}
	return nil
}

func argvOf(m map[string]any) string {
	var parts []string
	for _, a := range m["argv"].([]any) {
		switch v := a.(type) {
		case string:
			parts = append(parts, v)
		case map[string]any:
			parts = append(parts, "hex:"+v["hex"].(string))
		}
	}
	return strings.Join(parts, " ")
}

// TestTail checks the JSON lines of a known workload, and a resume with
// --from that continues exactly after the last line.
func TestTail(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	do(t, primary.Addr(), "SET", "pre", "existing")
	tp := startTail(t, "--primary", primary.Addr(), "--rdb-entries")
	if m := tp.next(t); m["event"] != "full_sync" {
		t.Fatalf("first line %v, want the full_sync event", m)
	}
	if m := tp.next(t); m["key"] != "pre" || m["value"] != "existing" {
		t.Fatalf("entry line %v", m)
	}
	if m := tp.next(t); m["event"] != "full_sync_end" || m["keys"] != float64(1) {
		t.Fatalf("line %v, want full_sync_end with 1 key", m)
	}
	c, err := resp.Dial(primary.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cmd := range [][]string{
		{"SET", "a", "1"}, {"MULTI"}, {"SET", "b", "2"}, {"INCR", "a"}, {"EXEC"},
		{"SELECT", "3"}, {"HSET", "h", "f", "v"}, {"SET", "bin", "\xff\x00"},
	} {
		if r, err := c.Do(cmd...); err != nil || r.Err() != nil {
			t.Fatalf("%v: %v %v", cmd, err, r.Err())
		}
	}
	want := []struct {
		argv string
		db   float64
		unit bool
	}{
		{"SET a 1", 0, false}, {"SET b 2", 0, true}, {"INCR a", 0, true},
		{"HSET h f v", 3, false}, {"SET bin hex:ff00", 3, false},
	}
	var last float64
	for i, w := range want {
		m := tp.next(t)
		unit, _ := m["unit"].(bool)
		if argvOf(m) != w.argv || m["db"] != w.db || unit != w.unit {
			t.Fatalf("line %d = %v, want argv %q db %v unit %v", i, m, w.argv, w.db, w.unit)
		}
		off := m["offset"].(float64)
		if off <= last {
			t.Fatalf("offset %v after %v", off, last)
		}
		last = off
	}
	master, _ := strconv.ParseFloat(redistest.InfoField(primary.Addr(), "replication", "master_repl_offset"), 64)
	if last > master {
		t.Fatalf("last offset %v beyond the primary's %v", last, master)
	}
	tp.cmd.Process.Signal(syscall.SIGTERM)
	if err := tp.cmd.Wait(); err != nil {
		t.Fatalf("tail exit: %v", err)
	}
	log := tp.stderr.String()
	i := strings.Index(log, "from=")
	if i < 0 {
		t.Fatalf("no resume position logged:\n%s", log)
	}
	from := strings.Fields(log[i+len("from="):])[0]
	// A write while tail is down arrives first after a resume.
	do(t, primary.Addr(), "SET", "later", "x")
	tp2 := startTail(t, "--primary", primary.Addr(), "--from", from)
	m := tp2.next(t)
	if m["event"] != nil || argvOf(m) != "SET later x" {
		t.Fatalf("after --from %s the first line is %v, want SET later x (partial resync)", from, m)
	}
}

// TestVerify checks verify reports nothing for a correct replica (vdr)
// and each kind of divergence planted in a wrong one.
func TestVerify(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	for i := 0; i < 50; i++ {
		do(t, primary.Addr(), "SET", "k"+strconv.Itoa(i), strconv.Itoa(i))
	}
	do(t, primary.Addr(), "HSET", "h", "a", "1", "b", "2")
	do(t, primary.Addr(), "ZADD", "z", "1", "x", "2", "y")
	do(t, primary.Addr(), "SADD", "s", "p", "q")
	do(t, primary.Addr(), "RPUSH", "l", "1", "2")
	do(t, primary.Addr(), "SET", "ttl", "v", "EX", "5000")

	v := startVDR(t, "--primary", primary.Addr())
	v.waitReady(t)
	var out, errOut bytes.Buffer
	code := runVerify([]string{"--primary", primary.Addr(), "--replica", v.addr, "--scan"}, env(nil), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "checked 55 keys: 0 missing, 0 extra, 0 value, 0 ttl") {
		t.Fatalf("verify of a correct replica: exit %d\n%s%s", code, out.String(), errOut.String())
	}

	// A wrong replica: a real replica, detached, then changed.
	wrong := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	redistest.WaitFor(t, 10*time.Second, "replica sync", func() bool {
		return redistest.InfoField(wrong.Addr(), "replication", "master_link_status") == "up"
	})
	do(t, wrong.Addr(), "REPLICAOF", "NO", "ONE")
	do(t, wrong.Addr(), "DEL", "k1")
	do(t, wrong.Addr(), "SET", "extra", "1")
	do(t, wrong.Addr(), "HSET", "h", "b", "3")
	do(t, wrong.Addr(), "EXPIRE", "ttl", "100")
	out.Reset()
	errOut.Reset()
	code = runVerify([]string{"--primary", primary.Addr(), "--replica", wrong.Addr(), "--scan", "--recheck-delay", "10ms"}, env(nil), &out, &errOut)
	if code != 1 {
		t.Fatalf("verify of a wrong replica: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{`missing db=0 key="k1"`, `extra db=0 key="extra"`, `value db=0 key="h"`, `ttl db=0 key="ttl"`, "1 missing, 1 extra, 1 value, 1 ttl"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}
	// Sampling finds what it samples: with every key sampled, the same
	// missing and value divergences (extra keys need --scan).
	out.Reset()
	code = runVerify([]string{"--primary", primary.Addr(), "--replica", wrong.Addr(), "--sample", "2000", "--recheck-delay", "10ms"}, env(nil), &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), `missing db=0 key="k1"`) {
		t.Errorf("sampled verify: exit %d\n%s", code, out.String())
	}
}
