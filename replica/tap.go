package replica

// Tap receives the replication stream as the primary sent it, so that a
// node can serve it on to its own replicas with the primary's replication
// ID and offsets (the proxying a Redis sub-replica does: see
// replicationFeedStreamFromMasterStream in src/replication.c).
//
// A Client calls a Tap from its one goroutine, in stream order, before
// the commands are handed to the Handler: a command is tapped as soon as
// it is consumed, so the tap is always at or ahead of the applied offset.
//
// What the tap gets is every consumed command of the stream after the
// RDB, PINGs, SELECTs, MULTI/EXEC and REPLCONF GETACKs included, and
// whatever Options.DBs and Options.KeyPrefixes filter out. The bytes are
// re-encoded from the decoded command, which is byte-exact for the
// canonical RESP a primary writes (*<n>\r\n$<len>\r\n<arg>\r\n…); where
// the input was not canonical, the bytes are shorter or longer than what
// the command consumed, and TapCommand's end offset shows it.
type Tap interface {
	// TapStart says a stream of history replID continues after offset
	// off: full after a full sync (the RDB reflects off), not full after
	// +CONTINUE (replID is then the primary's current ID, which may be a
	// new one: psync2 after a failover).
	TapStart(replID string, off int64, full bool)
	// TapCommand passes one command's bytes; end is the replication
	// offset of its last byte as consumed from the wire. raw is valid
	// only during the call.
	TapCommand(raw []byte, end int64)
	// TapBytes reports whether the tap keeps the bytes now; while it
	// does not, TapCommand gets raw nil (the offsets only), which spares
	// encoding every command for nothing.
	TapBytes() bool
}
