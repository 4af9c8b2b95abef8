package server

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestXReadBlock compares XREAD … BLOCK on vdr and on a real replica of
// the same primary, raw replies byte for byte in RESP2 and RESP3: a read
// woken by an XADD from the stream (`$` meaning the last ID when it
// blocked), several keys with COUNT, a timeout, requests pipelined behind
// a blocked read (they wait for it), and a client that goes away while
// blocked. Both front ends: the event loop parks the connection, the
// goroutine front end (TLS, --event-loops -1) waits in its goroutine.
func TestXReadBlock(t *testing.T) {
	for _, fe := range []frontEnd{{"loop", 0}, {"goroutine", EventLoopsDisabled}} {
		t.Run(fe.name, func(t *testing.T) { testXReadBlock(t, fe) })
	}
}

func testXReadBlock(t *testing.T, fe frontEnd) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	primary.Do(t, "XADD", "s", "1-1", "f", "v0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	node := startNodeServing(t, primary.Addr(), replicaOptions{}, Options{EventLoops: fe.loops})
	caughtUp := func() {
		off := redistest.InfoField(primary.Addr(), "replication", "master_repl_offset")
		redistest.WaitFor(t, 15*time.Second, "both replicas caught up", func() bool {
			return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up" &&
				redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up" &&
				redistest.InfoField(replica.Addr(), "replication", "slave_repl_offset") == off &&
				redistest.InfoField(node.Addr(), "replication", "slave_repl_offset") == off
		})
	}
	caughtUp()
	id := 10
	for _, proto := range []string{"2", "3"} {
		rc, vc := dialRaw(t, replica.Addr()), dialRaw(t, node.Addr())
		rc.dos("HELLO", proto)
		vc.dos("HELLO", proto)
		both := func(args ...string) { rc.send(encodeCmd(bs(args...)...)); vc.send(encodeCmd(bs(args...)...)) }
		compare := func(what string) string {
			t.Helper()
			want, got := string(rc.read()), string(vc.read())
			if want != got {
				t.Errorf("RESP%s %s:\n redis %q\n vdr   %q", proto, what, want, got)
			}
			return got
		}
		xadd := func(key string) {
			id++
			primary.Do(t, "XADD", key, strconv.Itoa(id)+"-1", "f", "v"+strconv.Itoa(id))
		}

		// Woken by the stream.
		both("XREAD", "BLOCK", "5000", "STREAMS", "s", "$")
		time.Sleep(100 * time.Millisecond)
		xadd("s")
		if got := compare("XREAD BLOCK woken by XADD"); !strings.Contains(got, "v"+strconv.Itoa(id)) {
			t.Errorf("RESP%s: the woken XREAD did not return the new entry: %q", proto, got)
		}

		// Several keys, COUNT, a key that does not exist yet, and a
		// request pipelined behind the blocked read.
		both("XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "new"+proto, "$", "$")
		both("PING", "after")
		time.Sleep(100 * time.Millisecond)
		xadd("new" + proto)
		compare("XREAD BLOCK over two keys, the second created")
		compare("PING pipelined behind the blocked read")

		// Timeout.
		start := time.Now()
		both("XREAD", "BLOCK", "150", "STREAMS", "s", "$")
		if got := compare("XREAD BLOCK timeout"); got != "*-1\r\n" && got != "_\r\n" {
			t.Errorf("RESP%s: XREAD BLOCK timeout: %q", proto, got)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("XREAD BLOCK 150 answered after %v", d)
		}
		// An ID already behind the stream: answered at once.
		both("XREAD", "BLOCK", "0", "STREAMS", "s", "0")
		compare("XREAD BLOCK with data")
	}

	// A client that goes away while blocked is forgotten.
	gone := dialRaw(t, node.Addr())
	gone.send(encodeCmd(bs("XREAD", "BLOCK", "0", "STREAMS", "s", "$")...))
	redistest.WaitFor(t, 5*time.Second, "client blocked", func() bool { return node.srv.Blocking() })
	gone.nc.Close()
	redistest.WaitFor(t, 5*time.Second, "blocked client forgotten", func() bool { return !node.srv.Blocking() })
	caughtUp()
}
