//go:build linux

package server

import (
	"strconv"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/keyslot"
)

// TestClusterSlotScanOffLoop checks that CLUSTER COUNTKEYSINSLOT over a
// big database leaves the event loop (offload): while it is held there,
// another client of the same loop is answered.
func TestClusterSlotScanOffLoop(t *testing.T) {
	_, bySlot, start := clusterKeys(t, 20000)
	s := start(Options{ClusterMode: true, EventLoops: 1})
	entered, release := make(chan struct{}), make(chan struct{})
	hook := func() { close(entered); <-release }
	offloadHook.Store(&hook)
	defer offloadHook.Store(nil)
	c, ctl := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
	sl := keyslot.OfString("k:1")
	c.send(encodeCmd(bs("CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(sl))...))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("COUNTKEYSINSLOT over 20000 keys did not go off the loop")
	}
	if r := ctl.dos("PING"); r != "+PONG\r\n" {
		t.Fatalf("another client's PING meanwhile: %q", r)
	}
	close(release)
	if r := string(c.read()); r != ":"+strconv.Itoa(len(bySlot[sl]))+"\r\n" {
		t.Fatalf("COUNTKEYSINSLOT: %q, want %d", r, len(bySlot[sl]))
	}
	// A small database stays on the loop.
	offloadHook.Store(nil)
	small := dialRaw(t, startVDR(t, Options{ClusterMode: true, EventLoops: 1}).Addr())
	hook2 := func() { t.Error("COUNTKEYSINSLOT of an empty database went off the loop") }
	offloadHook.Store(&hook2)
	if r := small.dos("CLUSTER", "COUNTKEYSINSLOT", "1"); r != ":0\r\n" {
		t.Fatalf("COUNTKEYSINSLOT of an empty database: %q", r)
	}
}
