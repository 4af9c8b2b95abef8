package server

import (
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/internal/compat"
)

// TestNoCommandSaysNotSupported walks every command and subcommand of
// Redis 7.0's table with the fewest arguments its arity allows, each on
// a fresh connection, and checks that every one answers, and that none
// answers with vdr's old "not supported yet" wording: what vdr does not
// serve answers as Redis does for a command it lacks. The commands other
// helpers are building (ACL, SLOWLOG, LATENCY, CONFIG SET) are left out.
func TestNoCommandSaysNotSupported(t *testing.T) {
	s := startVDR(t, Options{})
	v, _ := compat.Parse("7.0.15")
	var names [][]string
	for _, cmd := range commands.CommandsOf(v) {
		if len(cmd.Subcommands) == 0 {
			names = append(names, []string{cmd.Name})
			continue
		}
		for _, sub := range cmd.Subcommands {
			names = append(names, strings.Split(sub.Name, "|"))
		}
	}
	if len(names) < 300 {
		t.Fatalf("only %d commands in the 7.0 table", len(names))
	}
	skip := map[string]bool{"acl": true, "slowlog": true, "latency": true, "config set": true, "quit": true}
	checked := 0
	for _, name := range names {
		full := strings.Join(name, " ")
		if skip[name[0]] || skip[full] {
			continue
		}
		cmd := commands.FindIn(v, strings.Join(name, "|"))
		n := cmd.Arity
		if n < 0 {
			n = -n
		}
		args := append([]string(nil), name...)
		for len(args) < n {
			args = append(args, "0")
		}
		c := dialRaw(t, s.Addr())
		c.nc.SetDeadline(time.Now().Add(10 * time.Second))
		r := c.dos(args...)
		if strings.Contains(r, "not supported yet") {
			t.Errorf("%q: %q", args, r)
		}
		c.nc.Close()
		checked++
	}
	// The server is still up and answering.
	if r := dialRaw(t, s.Addr()).dos("PING"); r != "+PONG\r\n" {
		t.Fatalf("PING after the walk: %q", r)
	}
	t.Logf("%d commands answered", checked)
}
