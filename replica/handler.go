package replica

import "github.com/vdr-project/vdr/rdbparse"

// Command is one write command from the primary's replication stream.
//
// Lifetime: Argv and every []byte in it are valid only until the
// Handler.Commands call that carries them returns; the client reuses the
// memory for the next batch. Copy what you keep (this is the same rule as
// rdbparse.Entry). The slices are capped, so appending to them never
// overwrites a neighbour.
type Command struct {
	DB     int      // database the command applies to (the last SELECT before it)
	Argv   [][]byte // name and arguments, in the case the primary sent them
	Offset int64    // replication offset of the command's last byte
	// Unit is set on every command of a MULTI/EXEC unit: the commands of
	// that Handler.Commands call must become visible together.
	Unit bool
}

// Handler receives what the primary sends. A Client calls it from one
// goroutine only (the one running Run), in stream order, so an
// implementation needs no locking against the client itself.
//
// What an error returned from each method does:
//
//   - rdbparse.Handler methods (Header, Aux, Entry, …, called during a full
//     sync) and FullSyncEnd: the full sync is abandoned: FullSyncAbort is
//     called, the link is dropped and, after backoff, the client reconnects
//     with its previous (replid, offset), so the primary may continue from
//     the data the handler still holds or send a new full sync.
//   - FullSyncBegin: the same, except FullSyncAbort is not called.
//   - Commands: the batch counts as not applied (Offset() stays before it);
//     the link is dropped and the client resyncs from the last applied
//     offset, so the batch is sent again. If the handler applied part of
//     the batch and cannot undo it, it returns an error wrapping
//     ErrFullResync and the client asks for a full resync instead.
//   - Any method returning an error wrapping ErrStop: as above, then Run
//     returns that error and the client stays stopped.
type Handler interface {
	// FullSyncBegin is called when the primary answered +FULLRESYNC and its
	// RDB starts arriving. offset is the replication offset the RDB
	// reflects. The handler should keep serving its previous data until
	// FullSyncEnd.
	FullSyncBegin(replID string, offset int64) error
	// Handler receives the RDB as it is parsed off the socket (Header, Aux,
	// Entry in batches, End). Entries outside Options.DBs or
	// Options.KeyPrefixes are not delivered.
	rdbparse.Handler
	// FullSyncEnd is called once the whole RDB was parsed and verified.
	// From here on the handler serves the new data set.
	FullSyncEnd(replID string, offset int64) error
	// FullSyncAbort is called when a full sync fails after FullSyncBegin
	// (link cut, corrupt RDB, handler error, Stop): the handler discards
	// the partial load and keeps its previous data.
	FullSyncAbort(err error)
	// Commands delivers write commands in stream order. A MULTI/EXEC unit
	// always arrives alone in one call, without the MULTI and EXEC
	// themselves; other commands arrive in batches of one or more. After
	// a nil return everything up to the last command's Offset (or EXEC's
	// offset for a unit) counts as applied and may be acknowledged to the
	// primary. SELECT, ping and REPLCONF are consumed by the client and
	// never delivered; everything else (PUBLISH, FUNCTION, FLUSHALL, …)
	// is, and the handler decides.
	Commands(cmds []Command) error
	// LinkState reports each state change of the link, with the error
	// that caused it when there is one (entering StateBackoff).
	LinkState(s State, err error)
}

// ConfigHandler is implemented by a Handler that wants the primary's
// configuration (Options.PrimaryConfig). PrimaryConfig is called on every
// connection after authentication and before PSYNC, from the client's
// goroutine, so it comes before that connection's FullSyncBegin or
// Commands. config holds the parameters the primary returned (lower-case
// names; missing when it refused); version is its INFO redis_version, or
// "valkey-" and its valkey_version on Valkey ("" when unknown).
type ConfigHandler interface {
	PrimaryConfig(config map[string]string, version string)
}

// PingHandler is implemented by a Handler that wants to see the
// primary's PINGs (repl-ping-replica-period), e.g. to show them in
// MONITOR as a Redis replica does. Ping is called in stream order: the
// commands before it were delivered (and returned) first. db is the
// stream's selected database; argv is the PING as the primary sent it
// (valid only during the call).
type PingHandler interface {
	Ping(db int, argv [][]byte) error
}

// State is where the link to the primary is, like REPL_STATE_* in
// src/server.h.
type State int32

// The states of a link, in the order a sync goes through them.
const (
	StateNone       State = iota // not started, or stopped (REPL_STATE_NONE)
	StateConnecting              // resolving (Sentinel) and dialing (REPL_STATE_CONNECTING)
	StateHandshake               // PING, AUTH, REPLCONF, PSYNC (REPL_STATE_RECEIVE_PING_REPLY … REPL_STATE_RECEIVE_PSYNC_REPLY)
	StateTransfer                // +FULLRESYNC received, waiting for the RDB payload (REPL_STATE_TRANSFER)
	StateLoading                 // parsing the RDB off the socket
	StateStreaming               // applying the command stream (REPL_STATE_CONNECTED)
	StateBackoff                 // link down, waiting before reconnecting
)

// String returns the state's lower-case name.
func (s State) String() string {
	switch s {
	case StateNone:
		return "none"
	case StateConnecting:
		return "connecting"
	case StateHandshake:
		return "handshake"
	case StateTransfer:
		return "transfer"
	case StateLoading:
		return "loading"
	case StateStreaming:
		return "streaming"
	case StateBackoff:
		return "backoff"
	}
	return "unknown"
}

// NopHandler implements Handler by doing nothing. Embed it to implement
// only the methods you need.
type NopHandler struct{ rdbparse.NopHandler }

func (NopHandler) FullSyncBegin(string, int64) error { return nil }
func (NopHandler) FullSyncEnd(string, int64) error   { return nil }
func (NopHandler) FullSyncAbort(error)               {}
func (NopHandler) Commands([]Command) error          { return nil }
func (NopHandler) LinkState(State, error)            {}
