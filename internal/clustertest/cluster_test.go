package clustertest

import (
	"context"
	"testing"
)

// TestStart creates a 3×1 cluster, writes through a cluster client, and
// finds every key on exactly one primary.
func TestStart(t *testing.T) {
	c := Start(t, 3, 1)
	if n := len(c.Primaries()); n != 3 {
		t.Fatalf("primaries: %d, want 3", n)
	}
	cl := c.Client()
	ctx := context.Background()
	for i := range 200 {
		if err := cl.Set(ctx, "k"+string(rune('a'+i%26))+string(rune('a'+i/26)), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.Keys()); n != 200 {
		t.Fatalf("keys on the primaries: %d, want 200", n)
	}
}
