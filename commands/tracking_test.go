package commands

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/compat"
)

// trackingClient is a connection without a server: its pushes are
// collected.
type trackingClient struct {
	c      *Ctx
	pushed []string
}

func newTrackingClient(t *testing.T, env *Env, proto string) *trackingClient {
	tc := &trackingClient{}
	tc.c = NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	tc.c.Client.Push = func(b []byte) bool { tc.pushed = append(tc.pushed, string(b)); return true }
	tc.run(t, "HELLO", proto)
	return tc
}

// run executes one command and returns its reply.
func (tc *trackingClient) run(t *testing.T, args ...string) string {
	t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	tc.c.W.Reset()
	Exec(tc.c, argv)
	return string(tc.c.W.Bytes())
}

// take returns and clears the collected pushes.
func (tc *trackingClient) take() []string {
	p := tc.pushed
	tc.pushed = nil
	return p
}

func invalidation(keys ...string) string {
	b := ">2\r\n$10\r\ninvalidate\r\n"
	if keys == nil {
		return b + "_\r\n"
	}
	b += "*" + strconv.Itoa(len(keys)) + "\r\n"
	for _, k := range keys {
		b += "$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n"
	}
	return b
}

// TestTrackingTable: a key read by two clients is invalidated once for
// each, then forgotten; the table is global across databases; keys of a
// client that closed are dropped without a message; BCAST batches come
// one per prefix in prefix order with sorted keys; a flush sends a null.
func TestTrackingTable(t *testing.T) {
	env := newTestEnv(t)
	env.Tracking = NewTracking(0)
	tr := env.Tracking
	a, b := newTrackingClient(t, env, "3"), newTrackingClient(t, env, "3")
	for _, tc := range []*trackingClient{a, b} {
		if got := tc.run(t, "CLIENT", "TRACKING", "on"); got != "+OK\r\n" {
			t.Fatalf("CLIENT TRACKING on: %q", got)
		}
	}
	a.run(t, "GET", "k")
	b.run(t, "SELECT", "3")
	b.run(t, "MGET", "k", "other")
	if keys, items, _ := tr.Totals(); keys != 2 || items != 3 || tr.Clients() != 2 {
		t.Errorf("Totals = %d keys %d items, %d clients; want 2, 3, 2", keys, items, tr.Clients())
	}
	tr.Invalidate([]byte("k"))
	tr.Invalidate([]byte("k")) // forgotten: nothing more
	if got, want := a.take(), []string{invalidation("k")}; !reflect.DeepEqual(got, want) {
		t.Errorf("client a got %q, want %q", got, want)
	}
	if got, want := b.take(), []string{invalidation("k")}; !reflect.DeepEqual(got, want) {
		t.Errorf("client b got %q, want %q", got, want)
	}

	// Forget on close: the closed client's IDs go lazily, with no message.
	b.run(t, "GET", "k")
	b.c.Close()
	if tr.Clients() != 1 {
		t.Errorf("tracking clients after a close = %d, want 1", tr.Clients())
	}
	tr.Invalidate([]byte("k"))
	tr.Invalidate([]byte("other"))
	if got := b.take(); got != nil {
		t.Errorf("a closed client got %q", got)
	}
	if keys, items, _ := tr.Totals(); keys != 0 || items != 0 {
		t.Errorf("Totals after the invalidations = %d keys %d items, want 0", keys, items)
	}

	// RESP2 without REDIRECT: remembered and forgotten, nothing sent.
	r2 := newTrackingClient(t, env, "2")
	r2.run(t, "CLIENT", "TRACKING", "on")
	r2.run(t, "GET", "k")
	tr.Invalidate([]byte("k"))
	if got := r2.take(); got != nil {
		t.Errorf("a RESP2 client without REDIRECT got %q", got)
	}

	// BCAST.
	bc := newTrackingClient(t, env, "3")
	if got := bc.run(t, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a"); got != "+OK\r\n" {
		t.Fatalf("BCAST: %q", got)
	}
	for _, k := range []string{"bz", "ay", "c", "ax", "ay"} {
		tr.Invalidate([]byte(k))
	}
	if got := bc.take(); got != nil {
		t.Errorf("BCAST sent before Broadcast: %q", got)
	}
	tr.Broadcast()
	tr.Broadcast() // nothing new
	if got, want := bc.take(), []string{invalidation("ax", "ay"), invalidation("bz")}; !reflect.DeepEqual(got, want) {
		t.Errorf("BCAST got %q, want %q", got, want)
	}
	if _, _, prefixes := tr.Totals(); prefixes != 2 {
		t.Errorf("tracking_total_prefixes = %d, want 2", prefixes)
	}

	// A flush: a null to every tracking client, the table emptied.
	a.run(t, "GET", "k")
	tr.InvalidateAll()
	if got, want := a.take(), []string{invalidation()}; !reflect.DeepEqual(got, want) {
		t.Errorf("flush: client a got %q, want %q", got, want)
	}
	if got, want := bc.take(), []string{invalidation()}; !reflect.DeepEqual(got, want) {
		t.Errorf("flush: BCAST client got %q, want %q", got, want)
	}
	if keys, _, _ := tr.Totals(); keys != 0 {
		t.Errorf("keys after a flush = %d", keys)
	}
	bc.run(t, "CLIENT", "TRACKING", "off")
	if _, _, prefixes := tr.Totals(); prefixes != 0 {
		t.Errorf("tracking_total_prefixes after OFF = %d, want 0", prefixes)
	}
}

// TestTrackingTableMaxKeys: over tracking-table-max-keys, keys are
// evicted with an invalidation, as if written.
func TestTrackingTableMaxKeys(t *testing.T) {
	env := newTestEnv(t)
	env.Tracking = NewTracking(2)
	a := newTrackingClient(t, env, "3")
	a.run(t, "CLIENT", "TRACKING", "on")
	a.run(t, "MGET", "k1", "k2", "k3")
	if keys, _, _ := env.Tracking.Totals(); keys != 2 {
		t.Errorf("keys = %d, want 2 (the limit)", keys)
	}
	if got := a.take(); len(got) != 1 || !strings.HasPrefix(got[0], ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk") {
		t.Errorf("eviction sent %q, want one invalidation", got)
	}
}

// TestWrittenKeys checks the keys a stream command invalidates: every key
// its key specs write, none it only reads.
func TestWrittenKeys(t *testing.T) {
	f := func(cmd string, want ...string) {
		t.Helper()
		var argv [][]byte
		for _, a := range strings.Fields(cmd) {
			argv = append(argv, []byte(a))
		}
		keys, ok := WrittenKeys(compat.Default, argv, nil)
		var got []string
		for _, k := range keys {
			got = append(got, string(k))
		}
		if ok != (want != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("WrittenKeys(%s) = %q, %v; want %q", cmd, got, ok, want)
		}
	}
	f("SET k v", "k")
	f("set k v EX 10", "k")
	f("MSET a 1 b 2", "a", "b")
	f("DEL a b c", "a", "b", "c")
	f("RENAME a b", "a", "b")
	f("COPY src dst", "dst")
	f("MOVE k 1", "k")
	f("SUNIONSTORE d s1 s2", "d")
	f("LMOVE a b LEFT RIGHT", "b", "a")
	f("RPOPLPUSH a b", "b", "a")
	f("SORT k BY w STORE d", "d")
	f("BITOP AND d a b", "d")
	f("XGROUP CREATE s g $", "s")
	f("ZUNIONSTORE d 2 a b", "d")
	f("GET k")
	f("FLUSHALL")
	f("PUBLISH ch m")
	f("NOSUCHCOMMAND k")
}
