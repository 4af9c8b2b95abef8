package server

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestGCPercentOption: Start sets GOGC to NodeOptions.GCPercent, and 0
// leaves the runtime's setting alone.
func TestGCPercentOption(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	for _, tc := range []struct{ opt, want int }{{37, 37}, {0, 100}} {
		debug.SetGCPercent(100)
		n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort}, RDBFile: writeEmptyRDB(t), GCPercent: tc.opt})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		got := debug.SetGCPercent(100)
		n.Close()
		if got != tc.want {
			t.Errorf("GCPercent %d: GOGC is %d, want %d", tc.opt, got, tc.want)
		}
	}
}

// writeEmptyRDB writes an RDB file of no keys (a zero checksum: not
// checked, as rdb-checksum no writes it).
func writeEmptyRDB(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "empty.rdb")
	if err := os.WriteFile(p, append([]byte("REDIS0009\xff"), make([]byte, 8)...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
