package server

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/replica"
)

func TestProgressRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := replica.Progress{Active: true, Bytes: 30e6, Started: t0}
	if r := progressRate(p, 0, time.Time{}, t0.Add(3*time.Second)); r != 10e6 {
		t.Errorf("first line: %v B/s, want 10e6 (since the load began)", r)
	}
	if r := progressRate(p, 20e6, t0.Add(2*time.Second), t0.Add(3*time.Second)); r != 10e6 {
		t.Errorf("later line: %v B/s, want 10e6", r)
	}
	if r := progressRate(replica.Progress{Bytes: 5}, 0, time.Time{}, t0); r != 0 {
		t.Errorf("no start known: %v", r)
	}
}

// TestFullSyncAbortLog: a failed first sync does not claim to serve
// previous data.
func TestFullSyncAbortLog(t *testing.T) {
	var buf bytes.Buffer
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, Replica: &replicaOptions{Primary: "127.0.0.1:1"},
		Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n.link.FullSyncAbort(errors.New("cut"))
	if s := buf.String(); strings.Contains(s, "previous data") || !strings.Contains(s, "no data yet") {
		t.Errorf("first failed sync logged %q", s)
	}
	buf.Reset()
	n.link.firstSyncDone.Store(true)
	n.link.FullSyncAbort(errors.New("cut"))
	if s := buf.String(); !strings.Contains(s, "serving the previous data") {
		t.Errorf("a later failed sync logged %q", s)
	}
}

// TestProjectionLogsThroughNode: the projection's warnings use the node's
// logger (with --log-format json they were plain text).
func TestProjectionLogsThroughNode(t *testing.T) {
	var buf bytes.Buffer
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Projection().Apply(0, [][]byte{[]byte("NOSUCHCMD"), []byte("k")}); err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(buf.String()); !strings.HasPrefix(s, "{") || !strings.Contains(s, `"command":"nosuchcmd"`) {
		t.Errorf("projection warning: %q", s)
	}
}

// TestStaleSnapshotTempsRemoved: a start removes the *.tmp-* files of a
// snapshot write that died, and nothing else.
func TestStaleSnapshotTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "vdr.rdb")
	for _, f := range []string{"vdr.rdb.tmp-123", "vdr.rdb.tmp-456", "other.tmp-1"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, SnapshotPath: snap,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n.removeStaleSnapshotTemps()
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 1 || filepath.Base(left[0]) != "other.tmp-1" {
		t.Errorf("left %v, want only other.tmp-1", left)
	}
}

// TestHTTPPortTakenNamed: a taken --http port is reported as the
// metrics/health listener, not a bare bind error.
func TestHTTPPortTakenNamed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, HTTPAddr: ln.Addr().String(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Start()
	if err == nil {
		n.Close()
		t.Fatal("started with its HTTP port taken")
	}
	if !strings.Contains(err.Error(), "metrics/health listener") {
		t.Errorf("error %q does not name the metrics/health listener", err)
	}
}

// TestStartLogNoEmptyFields: the start line names only what is set (no
// http="" or rdb="" while vdr has no HTTP listener or file).
func TestStartLogNoEmptyFields(t *testing.T) {
	buf := &lockedBuffer{}
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, Replica: &replicaOptions{Primary: "127.0.0.1:1"},
		Logger: slog.New(slog.NewTextHandler(buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	line := ""
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "vdr started") {
			line = l
		}
	}
	if line == "" || strings.Contains(line, `=""`) || !strings.Contains(line, "primary=127.0.0.1:1") {
		t.Fatalf("start line %q", line)
	}
}

// lockedBuffer is a bytes.Buffer the link's goroutine may log to while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
