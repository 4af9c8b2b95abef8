package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// TestSnapshotKeepsStreams writes a projection holding streams (with
// groups, PELs, consumers, tombstones) as a snapshot RDB, loads that file
// into a real redis-server and into a fresh projection, and compares the
// stream reads of all three.
func TestSnapshotKeepsStreams(t *testing.T) {
	proj := newProjection(t)
	now := time.Now().UnixMilli()
	cmds := [][]string{
		{"XADD", "s", "1-1", "a", "1", "b", "2"},
		{"XADD", "s", "1-2", "a", "3", "b", "4"},
		{"XADD", "s", "3-0", "other", "x"},
		{"XADD", "s", "4-0", "a", "-5", "b", "123456789012345"},
		{"XGROUP", "CREATE", "s", "g1", "0"},
		{"XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "4"},
		{"XCLAIM", "s", "g1", "alice", "0", "1-1", "TIME", strconv.FormatInt(now-5000, 10), "RETRYCOUNT", "2", "FORCE", "JUSTID", "LASTID", "1-2"},
		{"XCLAIM", "s", "g1", "bob", "0", "1-2", "TIME", strconv.FormatInt(now-100, 10), "RETRYCOUNT", "1", "FORCE", "JUSTID", "LASTID", "1-2"},
		{"XGROUP", "CREATECONSUMER", "s", "g2", "carol"},
		{"XDEL", "s", "3-0"},
		{"XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"},
		{"SET", "plain", "v"},
	}
	for i := 0; i < 230; i++ {
		cmds = append(cmds, []string{"XADD", "big", strconv.Itoa(10+i) + "-0", "f", strconv.Itoa(i)})
	}
	for _, c := range cmds {
		if err := proj.Apply(0, bs(c...)); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
	}
	var buf bytes.Buffer
	keys, err := writeProjection(&buf, proj, 10, map[string]string{"redis-ver": "7.0.15"})
	if err != nil || keys != 4 {
		t.Fatalf("writeProjection: %d keys, %v", keys, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := redistest.Start(t, "--dir", dir, "--dbfilename", "dump.rdb")

	reloaded := newProjection(t)
	ld := reloaded.BeginLoad(projection.LoadOptions{})
	if err := rdbparse.Parse(bytes.NewReader(buf.Bytes()), loadFeed{ld: ld}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ld.Commit(); err != nil {
		t.Fatal(err)
	}
	// Both vdrs answer as the server under test (VDR_REDIS_SERVER): 7.2+
	// shows consumers' active-time.
	v, err := compat.Parse(redistest.Version(t).String())
	if err != nil {
		t.Fatal(err)
	}
	orig, again := startVDR(t, Options{Projection: proj, Compat: v}), startVDR(t, Options{Projection: reloaded, Compat: v})
	rc, oc, ac := dialRaw(t, srv.Addr()), dialRaw(t, orig.Addr()), dialRaw(t, again.Addr())
	for _, k := range []string{"s", "empty", "big"} {
		for _, args := range [][]string{
			{"XRANGE", k, "-", "+"},
			{"XINFO", "STREAM", k, "FULL", "COUNT", "0"},
			{"XINFO", "GROUPS", k},
			{"XPENDING", k, "g1"},
		} {
			want := maskStream(args, rc.do(bs(args...)...))
			if got := maskStream(args, oc.do(bs(args...)...)); got != want {
				t.Errorf("%q: redis loaded the snapshot as\n %.500q\nvdr had\n %.500q%s", args, want, got, firstDiff(want, got))
			}
			if got := maskStream(args, ac.do(bs(args...)...)); got != want {
				t.Errorf("%q: redis loaded the snapshot as\n %.500q\nvdr reloaded it as\n %.500q%s", args, want, got, firstDiff(want, got))
			}
		}
	}
}

// loadFeed feeds a Loader from rdbparse.Parse.
type loadFeed struct {
	rdbparse.NopHandler
	ld *projection.Loader
}

func (h loadFeed) Entry(e *rdbparse.Entry) error { return h.ld.Entry(e) }
