package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestMasterClient compares the link to the primary as a client with a
// real replica's: CLIENT LIST (TYPE master, and unfiltered) shows it with
// flags=M, user=(superuser) and the primary's address; CLIENT KILL TYPE
// master answers 1 and the link comes back; TYPE normal does not list it.
func TestMasterClient(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	rep := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	node := startNode(t, primary.Addr(), replicaOptions{})
	up := func(addr string) bool {
		return redistest.InfoField(addr, "replication", "master_link_status") == "up"
	}
	redistest.WaitFor(t, 15*time.Second, "both linked", func() bool { return up(rep.Addr()) && up(node.Addr()) })
	field := regexp.MustCompile(`\b(addr|flags|user|db)=(\S*)`)
	masterLine := func(addr string, args ...string) string {
		r, err := redistest.Do(addr, append([]string{"CLIENT", "LIST"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(r, "\n") {
			if strings.Contains(line, "flags=M") {
				var kept []string
				for _, m := range field.FindAllStringSubmatch(line, -1) {
					kept = append(kept, m[0])
				}
				return strings.Join(kept, " ")
			}
		}
		return ""
	}
	for _, args := range [][]string{nil, {"TYPE", "master"}, {"TYPE", "normal"}} {
		want, got := masterLine(rep.Addr(), args...), masterLine(node.Addr(), args...)
		if got != want {
			t.Errorf("CLIENT LIST %v master line: redis %q, vdr %q", args, want, got)
		}
	}
	if masterLine(node.Addr()) == "" {
		t.Fatal("vdr lists no master client")
	}
	for name, addr := range map[string]string{"redis": rep.Addr(), "vdr": node.Addr()} {
		if r, _ := redistest.Do(addr, "CLIENT", "KILL", "TYPE", "master"); r != ":1\r\n" {
			t.Errorf("%s: CLIENT KILL TYPE master = %q", name, r)
		}
	}
	primary.Do(t, "SET", "after", "kill")
	redistest.WaitFor(t, 15*time.Second, "vdr relinked and got the write", func() bool {
		r, _ := redistest.Do(node.Addr(), "GET", "after")
		return r == "$4\r\nkill\r\n"
	})
	if r, _ := redistest.Do(node.Addr(), "CLIENT", "KILL", "TYPE", "normal"); r != ":0\r\n" {
		t.Errorf("CLIENT KILL TYPE normal with no other client: %q", r)
	}
}
