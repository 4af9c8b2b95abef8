package commands

import (
	"strings"

	"github.com/vdr-project/vdr/projection"
)

// CONFIG SET: vdr changes notify-keyspace-events at run time, as Redis
// does (src/config.c configSetCommand, setConfigNotifyKeyspaceEventsOption);
// every other parameter answers that it is not supported.

const notifyKeyspaceEventsName = "notify-keyspace-events"

// configSetCommand: CONFIG SET parameter value [parameter value …].
func configSetCommand(c *Ctx, args [][]byte) {
	if len(args)%2 == 1 {
		c.W.Error("ERR syntax error")
		return
	}
	var value []byte
	found := false
	for i := 2; i < len(args); i += 2 {
		if !strings.EqualFold(string(args[i]), notifyKeyspaceEventsName) || c.Env.Proj == nil {
			c.W.Error("ERR vdr: config|set is not supported yet")
			return
		}
		if found {
			c.W.Error("ERR CONFIG SET failed (possibly related to argument '" + string(args[i]) + "') - duplicate parameter")
			return
		}
		found, value = true, args[i+1]
	}
	f, ok := projection.ParseNotifyFlags(string(value))
	if !ok {
		c.W.Error("ERR CONFIG SET failed (possibly related to argument '" + notifyKeyspaceEventsName + "') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
		return
	}
	c.Env.Proj.SetNotifyKeyspaceEvents(f)
	c.W.Status("OK")
}

// notifyKeyspaceEventsValue is CONFIG GET notify-keyspace-events: the
// current classes in Redis's canonical form (keyspaceEventsFlagsToString).
func notifyKeyspaceEventsValue(env *Env) string {
	if env.Proj == nil {
		return ""
	}
	return env.Proj.NotifyKeyspaceEvents().String()
}
