package server

import (
	"bytes"
	"fmt"
	"testing"
)

// tapAll feeds cmds to b as the replica client would, from offset off.
func tapAll(b *backlog, off int64, cmds ...string) int64 {
	for _, c := range cmds {
		off += int64(len(c))
		b.TapCommand([]byte(c), off)
	}
	return off
}

func readAll(t *testing.T, b *backlog, epoch uint64, from int64) (string, string) {
	t.Helper()
	var out bytes.Buffer
	p := make([]byte, 7) // small reads: wraps and partial copies
	for {
		n, _, gone := b.readFrom(epoch, from, p)
		if gone != "" || n == 0 {
			return out.String(), gone
		}
		out.Write(p[:n])
		from += int64(n)
	}
}

func TestBacklogRing(t *testing.T) {
	const id1, id2 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	b := newBacklog(32)
	b.TapStart(id1, 100, true)
	end := tapAll(b, 100, "*1\r\n$4\r\nPING\r\n") // not active: only the offsets move
	if _, _, ok := b.canContinue(id1, 101); ok {
		t.Fatal("continue from an inactive backlog")
	}
	b.activate()
	var all string
	for i := 0; i < 10; i++ {
		c := fmt.Sprintf("*1\r\n$2\r\nc%d\r\n", i)
		all += c
		end = tapAll(b, end, c)
	}
	_, epoch, start, gotEnd := b.position()
	if gotEnd != end || start != end-31 {
		t.Fatalf("start %d end %d, want %d %d", start, gotEnd, end-31, end)
	}
	f := func(replID string, off int64, ok bool) {
		t.Helper()
		if _, _, got := b.canContinue(replID, off); got != ok {
			t.Fatalf("canContinue(%s, %d) = %v", replID[:1], off, got)
		}
	}
	f(id1, start, true)
	f(id1, end+1, true)
	f(id1, start-1, false)
	f(id1, end+2, false)
	f(id2, end+1, false)
	f("?", end+1, false)
	got, gone := readAll(t, b, epoch, start)
	if gone != "" || got != all[len(all)-32:] {
		t.Fatalf("read %q (%s), want %q", got, gone, all[len(all)-32:])
	}
	if _, gone := readAll(t, b, epoch, start-1); gone == "" {
		t.Fatal("a reader behind the backlog is not dropped")
	}

	// +CONTINUE with a new ID: the old one stays valid up to here.
	b.TapStart(id2, end, false)
	f(id1, end+1, true)
	f(id2, end+1, true)
	if _, gone := readAll(t, b, epoch, end+1); gone == "" {
		t.Fatal("a reader of the old epoch is not dropped")
	}
	end2 := tapAll(b, end, "*1\r\n$1\r\nx\r\n")
	f(id1, end+2, false)
	f(id2, end2+1, true)

	// Bytes that don't match the offsets (non-canonical input): the
	// history restarts after them.
	b.TapCommand([]byte("*1\r\n$1\r\ny\r\n"), end2+12)
	f(id2, end2+1, false)
	f(id2, end2+13, true)

	// A command skipped while the tap was inactive (TapBytes false),
	// arriving once active: the backlog starts after it.
	b.TapCommand(nil, end2+20)
	f(id2, end2+13, false)
	f(id2, end2+21, true)

	// The same full sync announced twice (FullSyncEnd, then the client)
	// changes nothing the second time.
	b.TapStart(id1, 500, true)
	_, e1, _, _ := b.position()
	b.TapStart(id1, 500, true)
	if _, e2, _, _ := b.position(); e1 != e2 {
		t.Fatal("a repeated full-sync start bumped the epoch")
	}
}
