package server

import (
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/projection"
)

// TestNotifyConfigLikeRedis sends the same CONFIG SET / CONFIG GET
// notify-keyspace-events commands to a real Redis and to vdr and compares
// the replies byte for byte (canonical form, error texts).
func TestNotifyConfigLikeRedis(t *testing.T) {
	srv := redistest.Start(t)
	v := startVDR(t, Options{})
	rc, vc := dialRaw(t, srv.Addr()), dialRaw(t, v.Addr())
	same := func(args ...string) {
		t.Helper()
		want, got := rc.dos(args...), vc.dos(args...)
		if want != got {
			t.Errorf("%q: redis %q, vdr %q", args, want, got)
		}
	}
	same("CONFIG", "GET", "notify-keyspace-events")
	for _, val := range []string{"KEA", "AKE", "Kg$lshzxetdnm", "gA", "EKm", "x", "Q", "KEAn", "AmKEn", "$", "lK",
		"", "KEA ", "m", "n", "d", "AAd", "Ex", "Kt", "KEg$lshzxetd"} {
		same("CONFIG", "SET", "notify-keyspace-events", val)
		same("CONFIG", "GET", "notify-keyspace-events")
		same("CONFIG", "GET", "notify-*")
	}
	same("CONFIG", "SET", "NOTIFY-keyspace-events", "Elg")
	same("CONFIG", "GET", "notify-keyspace-events")
	same("CONFIG", "SET", "notify-keyspace-events", "K", "notify-keyspace-events", "E")
	same("CONFIG", "SET", "notify-keyspace-events", "K", "NOTIFY-KEYSPACE-EVENTS", "E")
	same("CONFIG", "SET", "notify-keyspace-events", "K", "x")
	same("CONFIG", "SET", "notify-keyspace-events")
	same("CONFIG", "GET", "notify-keyspace-events")
	// A parameter vdr cannot change at run time answers Redis's immutable
	// error, and a CONFIG SET naming one changes nothing.
	before := vc.dos("CONFIG", "GET", "notify-keyspace-events")
	const immutable = "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - can't set immutable config\r\n"
	if r := vc.dos("CONFIG", "SET", "maxmemory", "1"); r != immutable {
		t.Errorf("CONFIG SET maxmemory: %q", r)
	}
	if r := vc.dos("CONFIG", "SET", "notify-keyspace-events", "K", "maxmemory", "1"); r != immutable {
		t.Errorf("CONFIG SET notify-keyspace-events K maxmemory 1: %q", r)
	}
	if after := vc.dos("CONFIG", "GET", "notify-keyspace-events"); after != before {
		t.Errorf("notify-keyspace-events %q after a refused CONFIG SET, was %q", after, before)
	}
}

// TestNotifyOptions: the server option is validated and applied.
func TestNotifyOptions(t *testing.T) {
	o := Options{NotifyKeyspaceEvents: "KEAq"}
	o.EnsureDefaults()
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "notify-keyspace-events") {
		t.Errorf("Validate KEAq: %v", err)
	}
	p := newProjection(t)
	v := startVDR(t, Options{Projection: p, NotifyKeyspaceEvents: "EKl"})
	if got := p.NotifyKeyspaceEvents(); got != projection.NotifyKeyspace|projection.NotifyKeyevent|projection.NotifyList {
		t.Errorf("flags %v", got)
	}
	c := dialRaw(t, v.Addr())
	if r := c.dos("CONFIG", "GET", "notify-keyspace-events"); r != "*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nlKE\r\n" {
		t.Errorf("CONFIG GET: %q", r)
	}
}

// TestNotifyPublish: a write applied to the projection reaches SUBSCRIBE
// and PSUBSCRIBE clients, RESP2 and RESP3, on the channels Redis uses.
func TestNotifyPublish(t *testing.T) {
	p := newProjection(t)
	v := startVDR(t, Options{Projection: p, NotifyKeyspaceEvents: "KEA"})
	sub := dialRaw(t, v.Addr())
	sub.dos("SUBSCRIBE", "__keyspace@0__:mykey", "__keyevent@0__:set")
	sub.read()
	psub := dialRaw(t, v.Addr())
	psub.dos("HELLO", "3")
	psub.dos("PSUBSCRIBE", "__key*@1__:*")
	if err := p.Apply(0, bs("SET", "mykey", "v", "EX", "100")); err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(1, bs("LPUSH", "l", "a")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"*3\r\n$7\r\nmessage\r\n$20\r\n__keyspace@0__:mykey\r\n$3\r\nset\r\n",
		"*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$5\r\nmykey\r\n",
	} {
		if got := string(sub.read()); got != want {
			t.Errorf("SUBSCRIBE got %q, want %q", got, want)
		}
	}
	for _, want := range []string{
		">4\r\n$8\r\npmessage\r\n$12\r\n__key*@1__:*\r\n$16\r\n__keyspace@1__:l\r\n$5\r\nlpush\r\n",
		">4\r\n$8\r\npmessage\r\n$12\r\n__key*@1__:*\r\n$20\r\n__keyevent@1__:lpush\r\n$1\r\nl\r\n",
	} {
		if got := string(psub.read()); got != want {
			t.Errorf("PSUBSCRIBE got %q, want %q", got, want)
		}
	}
}
