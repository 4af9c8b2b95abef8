// Package replica is a Redis/Valkey replication client: it attaches to a
// primary exactly as a replica does (PSYNC), parses the RDB snapshot off
// the socket with rdbparse, then reads the live command stream, and hands
// everything to a Handler. It reconnects forever, with a partial resync
// (+CONTINUE) when the primary's backlog allows it.
//
// It does not store data, answer reads, or know about the projection: the
// Handler does that. It does not speak the old SYNC protocol or RESP3. It
// reads a Redis Cluster's topology (DiscoverCluster) but does not follow
// it: a caller replicating a cluster runs one Client per shard.
//
// # The link
//
//	replica                                   primary
//	PING                              ─────▶
//	                                  ◀─────  +PONG (or -NOAUTH)
//	AUTH [user] password              ─────▶
//	                                  ◀─────  +OK
//	ROLE (Sentinel only)              ─────▶
//	                                  ◀─────  *3 $6 master …
//	REPLCONF listening-port <port>    ─────▶
//	REPLCONF ip-address <ip> (opt.)   ─────▶
//	REPLCONF capa eof capa psync2     ─────▶
//	PSYNC <replid> <offset+1> | ? -1  ─────▶
//	                                  ◀─────  [\n]* +FULLRESYNC <replid> <offset>
//	                                  ◀─────  [\n]* $EOF:<40-byte mark>\r\n <RDB> <mark>   (diskless)
//	                                          [\n]* $<len>\r\n <RDB: len bytes>           (disk)
//	REPLCONF ACK <offset>             ─────▶  (at once, then every AckInterval)
//	                                  ◀─────  *N\r\n $len\r\n arg\r\n … (the command stream)
//	                          or:     ◀─────  +CONTINUE [<new replid>], then the stream
//
// After a full sync the primary starts the stream at the first ACK that
// finds the replica online on its side, which it marks only once its RDB
// child has been reaped. An earlier ACK is ignored, so until the stream
// shows life the ACK is repeated at 10 ms, doubling up to AckInterval.
//
// # Offsets
//
// The byte right after the RDB has offset FULLRESYNC's offset + 1; every
// byte of the stream counts, including ping, SELECT, MULTI, EXEC and
// REPLCONF GETACK, which are consumed here and not delivered. A
// Command's Offset is that of its last byte. The applied offset
// (Offset()) advances only when the Handler returned nil for everything
// before it, and only the applied offset is ever sent in REPLCONF ACK, so
// WAIT on the primary counts this replica only after apply.
//
// # Limits
//
// Every length from the wire is checked before anything is allocated:
// lines are bounded by Options.ReadBufferBytes (64 KiB), a bulk string by
// Options.MaxBulkBytes (512 MiB, proto-max-bulk-len) and read in growing
// chunks above 1 MiB, a command by Options.MaxMultibulkLen (16M
// elements, grown as they arrive). Bad input is an error wrapping
// ErrProtocol or ErrTooLarge: the link is dropped and re-established.
package replica
