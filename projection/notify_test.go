package projection

import (
	"fmt"
	"strings"
	"testing"
)

func TestNotifyFlags(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		fl, ok := ParseNotifyFlags(in)
		if !ok {
			if want != "invalid" {
				t.Errorf("%q: invalid, want %q", in, want)
			}
			return
		}
		if want == "invalid" {
			t.Errorf("%q: parsed as %q, want invalid", in, fl)
			return
		}
		if got := fl.String(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
		// The canonical form parses back to the same classes (but for n
		// next to A, which Redis 7.0's keyspaceEventsFlagsToString drops).
		if back, ok := ParseNotifyFlags(fl.String()); !ok || back != fl && fl&NotifyAll != NotifyAll {
			t.Errorf("%q: %q parses back as %q", in, fl, back)
		}
	}
	f("", "")
	f("KEA", "AKE")
	f("AKE", "AKE")
	f("EK", "KE")
	f("g$lshzxetd", "A")
	f("g$lshzxet", "g$lshzxet")
	f("KEAnm", "AKEm") // Redis 7.0 writes no n after A (it still applies)
	f("nKE", "nKE")
	f("m", "m")
	f("Ex", "xE")
	f("zhslg$K", "g$lshzK")
	f("d", "d")
	f("KEA ", "invalid")
	f("q", "invalid")
	f("k", "invalid")
	f("a", "invalid")
}

// TestNotifyEvents checks the events the applier records for commands,
// in Redis's order (the differential test, server/notify_diff_test.go,
// compares them with a real replica at random).
func TestNotifyEvents(t *testing.T) {
	p := newTestProjection(t, nil)
	var got []string
	p.OnEvents(func(evs []Event) {
		for _, ev := range evs {
			got = append(got, fmt.Sprintf("%d:%s:%s", ev.DB, ev.Event, ev.Key))
		}
	})
	p.SetNotifyKeyspaceEvents(NotifyKeyspace | NotifyAll | NotifyNew)
	f := func(db int, cmd string, want ...string) {
		t.Helper()
		got = nil
		if err := p.Apply(db, args(cmd)); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: events %q, want %q", cmd, got, want)
		}
	}
	f(0, "SET k v EX 100", "0:new:k", "0:set:k", "0:expire:k")
	f(0, "SET k v2", "0:set:k")
	f(0, "SET k v3 NX")
	f(0, "EXPIRE k 1", "0:expire:k")    // a replica keeps a past TTL: "expire", not "del"
	f(0, "PEXPIREAT k 1", "0:expire:k") // already past
	f(0, "PERSIST k", "0:persist:k")
	f(0, "PERSIST k")
	f(0, "RPUSH l a b", "0:new:l", "0:rpush:l")
	f(0, "LPOP l 0")
	f(0, "LPOP l 2", "0:lpop:l", "0:del:l")
	f(0, "RPUSH l a", "0:new:l", "0:rpush:l")
	f(0, "RENAME l l2", "0:new:l2", "0:rename_from:l", "0:rename_to:l2")
	f(0, "SET l x", "0:new:l", "0:set:l")
	f(0, "RENAME l l2", "0:new:l2", "0:rename_from:l", "0:rename_to:l2") // dst existed: deleted, then added
	f(0, "SADD s a", "0:new:s", "0:sadd:s")
	f(0, "SADD s a")
	f(0, "SINTERSTORE d s nosuch")
	f(0, "SINTERSTORE s s nosuch", "0:del:s")
	f(0, "HSET h f v g w", "0:new:h", "0:hset:h")
	f(0, "HDEL h f nope", "0:hdel:h")
	f(0, "HDEL h g", "0:hdel:h", "0:del:h")
	f(0, "ZADD z 1 a", "0:new:z", "0:zadd:z")
	f(0, "ZADD z 1 a")
	f(0, "ZINCRBY z 1 a", "0:zincr:z")
	f(0, "ZPOPMIN z 5", "0:zpopmin:z", "0:del:z")
	f(0, "XADD x MAXLEN 1 1-1 f v", "0:new:x", "0:xadd:x")
	f(0, "XADD x MAXLEN 1 2-1 f v", "0:xadd:x", "0:xtrim:x")
	f(0, "XGROUP CREATE x g $", "0:xgroup-create:x")
	f(0, "XGROUP CREATECONSUMER x g c", "0:xgroup-createconsumer:x")
	f(0, "XGROUP CREATECONSUMER x g c")
	f(0, "MOVE x 1", "1:new:x", "0:move_from:x", "1:move_to:x")
	f(1, "COPY x y DB 2", "2:new:y", "2:copy_to:y")
	f(0, "INCRBY n 3", "0:new:n", "0:incrby:n")
	f(0, "DEL n nope", "0:del:n")
	f(0, "SWAPDB 0 1")
	f(0, "FLUSHDB")
	f(0, "FLUSHALL")

	// MULTI: the events of every command, in order, after the unit.
	got = nil
	if err := p.ApplyBatch([]Command{{DB: 0, Argv: args("SET a 1")}, {DB: 3, Argv: args("LPUSH b 1")}}); err != nil {
		t.Fatal(err)
	}
	if w := "0:new:a 0:set:a 3:new:b 3:lpush:b"; strings.Join(got, " ") != w {
		t.Errorf("batch: %q, want %q", got, w)
	}

	// A PUBLISH is a message event in its place, whatever the classes.
	got = nil
	p.OnEvents(func(evs []Event) {
		for _, ev := range evs {
			if ev.Class == 0 {
				got = append(got, fmt.Sprintf("%d:%s:%s:%s", ev.DB, ev.Event, ev.Key, ev.Msg))
			} else {
				got = append(got, fmt.Sprintf("%d:%s:%s", ev.DB, ev.Event, ev.Key))
			}
		}
	})
	if err := p.ApplyBatch([]Command{{DB: 0, Argv: args("SET a 2")}, {DB: 0, Argv: args("PUBLISH ch m")}, {DB: 0, Argv: args("DEL a")}}); err != nil {
		t.Fatal(err)
	}
	if w := "0:set:a 0:publish:ch:m 0:del:a"; strings.Join(got, " ") != w {
		t.Errorf("batch with PUBLISH: %q, want %q", got, w)
	}
	p.SetNotifyKeyspaceEvents(0)
	f(0, "SPUBLISH ch m", "0:spublish:ch:m")

	// Classes filter; without K and E nothing is recorded.
	p.SetNotifyKeyspaceEvents(NotifyKeyevent | NotifyGeneric)
	f(0, "SET k v EX 100", "0:expire:k")
	p.SetNotifyKeyspaceEvents(NotifyAll | NotifyNew)
	f(0, "DEL k")
	p.SetNotifyKeyspaceEvents(0)
	f(0, "SET k2 v EX 100")

	// A command vdr cannot apply exactly removes its keys: "del" for each
	// key that existed.
	p.SetNotifyKeyspaceEvents(NotifyKeyspace | NotifyAll)
	mustApply(t, p, 0, "SET f 1.5")
	f(0, "INCRBYFLOAT f 1", "0:del:f")
	f(0, "INCRBYFLOAT f 1") // nothing removed, nothing published
	// An unknown command flushes its database: no event, as FLUSHDB.
	mustApply(t, p, 0, "SET g 1")
	f(0, "NOSUCHCOMMAND g")
}

// TestNotifyOffAllocs: with notifications off, applying records nothing
// and allocates no more than before.
func TestNotifyOffAllocs(t *testing.T) {
	p := newTestProjection(t, nil)
	p.OnEvents(func(evs []Event) { t.Errorf("events with notifications off: %v", evs) })
	argv := args("SET k v")
	mustApply(t, p, 0, "SET k v")
	a := testing.AllocsPerRun(100, func() { p.Apply(0, argv) })
	p.SetNotifyKeyspaceEvents(NotifyKeyspace | NotifyAll | NotifyNew)
	p.OnEvents(func(evs []Event) {})
	b := testing.AllocsPerRun(100, func() { p.Apply(0, argv) })
	if b > a {
		t.Errorf("SET allocates %v with events on, %v with them off", b, a)
	}
}
