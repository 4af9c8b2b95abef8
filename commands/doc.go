// Package commands implements the Redis commands vdr serves, replying
// byte for byte as a replica of the primary's version does (Redis 7.0,
// 7.2, 7.4, Valkey 7.2, 8.0: the personality, Ctx.Version), in RESP2 or
// RESP3. Where versions differ, handlers ask a named compat predicate
// (doubles, ZRANK WITHSCORE, XREAD +, HSCAN NOVALUES, argument order of
// BITCOUNT/BITPOS, error texts …) and never compare version numbers.
//
// What it does: one declarative command table (table_gen.go rows generated
// from redis-server 7.0.15's COMMAND INFO/DOCS, bound to handlers in
// table.go); dispatch without allocation (Lookup lower-cases the name into
// a stack buffer); the checks of Redis's processCommand in its order (arity,
// NOAUTH, READONLY for every write command, pub/sub context, MASTERDOWN,
// LOADING, MULTI queueing); the read commands of strings, lists, sets,
// sorted sets and hashes over projection Views; connection and server
// commands (HELLO, AUTH, CLIENT, COMMAND, CONFIG GET, INFO, ROLE, …);
// MULTI/EXEC run inside one projection.ViewAll so a transaction reads one
// consistent state; pub/sub registry and message formatting; Lua
// scripting (scripting.go: EVAL*, SCRIPT, FCALL*, FUNCTION STATS/KILL/
// DUMP/LIST on internal/script), each script inside one ViewAll, its
// redis.call commands dispatched through this table into a scratch
// Writer, writes refused as on a read-only replica.
//
// What it does not do: sockets, request parsing, connection limits and
// timeouts (package server), applying writes (package projection). Not yet
// supported, each answering an explicit error or noted in NEEDS.md:
// SCRIPT DEBUG YES|SYNC (the Lua debugger). Scripts differ from Redis's in
// that they never make the server BUSY (other connections are served
// while one runs, and scripts run in parallel) and are stopped after
// lua-time-limit (they hold a view that keeps the replication applier
// waiting); FUNCTION DUMP stores code strings uncompressed. (XREAD
// BLOCK needs a front end that can park a connection, Client.Wake; both
// of package server's can.)
//
// Request flow:
//
//	server ──args──► Exec ─► Lookup ─► checks ─► handler(c *Ctx, args)
//	                                              │  c.read(keys, fn) ─► projection.View
//	                                              └► c.W (Writer: RESP2/RESP3 reply bytes)
//
// Handlers have one shape, func xxxCommand(c *Ctx, args [][]byte); args
// and every byte handed out by a View are valid only while the handler
// runs. Error texts are Redis's, word for word.
package commands
