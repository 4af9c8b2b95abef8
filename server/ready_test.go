package server

import (
	"io"
	"log/slog"
	"net"
	"testing"
)

// TestReadyOnlyWhileServing: ready (/readyz, vdr_ready) means a client can
// connect, so a node whose data is complete is still not ready before its
// listeners are open or after Close. (`vdr serve --rdb` loads the file
// before it listens, and a CI run once saw /readyz answer 200 while the
// Redis port still refused connections.)
func TestReadyOnlyWhileServing(t *testing.T) {
	n, err := NewNode(NodeOptions{Server: Options{Port: RandomPort},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n.link.firstSyncDone.Store(true) // as after loading an RDB file
	if n.Ready() {
		t.Error("ready before Start")
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	if !n.Ready() {
		t.Error("not ready after Start")
	}
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatalf("ready but not accepting: %v", err)
	}
	c.Close()
	n.Close()
	if n.Ready() {
		t.Error("ready after Close")
	}
}
