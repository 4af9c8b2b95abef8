package commands

import (
	"testing"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
)

// TestApplyRowsAreWriteRows checks that every command the projection
// applies has a command row in the table of every personality that has
// it, flagged write, so that a client sending it gets -READONLY (not
// unknown command), and that it is in some personality's table at all.
func TestApplyRowsAreWriteRows(t *testing.T) {
	// Control commands the stream carries that are not writes.
	control := map[string]bool{"select": true, "multi": true, "exec": true, "ping": true,
		"replconf": true, "publish": true, "spublish": true, "function": true,
		// A read that a primary propagates when it refreshes the cached
		// cardinality (pfcountCommand in src/hyperloglog.c: server.dirty++).
		"pfcount": true}
	// Writes of servers newer than every personality (Redis 8.0's hash
	// field commands), applied for a primary that sends them.
	newer := map[string]bool{"hsetex": true, "hgetex": true, "hgetdel": true}
	for _, name := range projection.CommandNames() {
		if control[name] {
			continue
		}
		found := false
		for _, v := range compat.Supported {
			cmd := FindIn(v, name)
			if cmd == nil {
				continue
			}
			found = true
			if !applyRowOK(cmd) {
				t.Errorf("%s: %s's row is not flagged write", name, v)
			}
		}
		if !found && !newer[name] {
			t.Errorf("%s: applied, but in no personality's command table", name)
		}
	}
}

// applyRowOK: a write, or a container (XGROUP) whose subcommands are
// writes but for HELP.
func applyRowOK(cmd *Command) bool {
	if cmd.IsWrite() {
		return true
	}
	if len(cmd.Subcommands) == 0 {
		return false
	}
	for _, sub := range cmd.Subcommands {
		if !sub.IsWrite() && sub.Name != cmd.Name+"|help" {
			return false
		}
	}
	return true
}
