// Package script runs Redis 7.0 Lua scripts and function libraries on
// github.com/yuin/gopher-lua (Lua 5.1), sandboxed as Redis sandboxes them.
//
// What it does: builds Lua states with Redis's globals (the base library
// without dofile/loadfile/print/module/require, table, string, math,
// coroutine, and the cjson, cmsgpack, bit and struct libraries of
// openRedisLibs), the redis table (call, pcall, error_reply, status_reply,
// sha1hex, log, setresp, set_repl, replicate_commands, breakpoint, debug,
// REDIS_VERSION…), globals protection with Redis's error texts, and
// math.random on Redis's rand48 (see src/script_lua.c luaRegisterRedisAPI,
// src/eval.c scriptingInit). It compiles a script once per SHA1
// (Compile; a Script is shared by every state), pools states, converts
// Lua values to RESP2/RESP3 replies and command replies to Lua values as
// src/script_lua.c does, and wraps errors as Redis does
// ("… script: <sha>, on @user_script:<line>.").
//
// Limits (limits.go, state.go): Lua 5.1's call depth (20000 calls, 200
// nested pcalls: "stack overflow", "C stack overflow"), unpack's 8000
// results, string.rep bounded ("not enough memory"), the reply
// conversion's "reached lua stack limit" at Redis's depth, a time limit
// (Engine.TimeLimit, lua-time-limit) and kills (Engine.Kill) through the
// state's context, and an allocation bound sampled by a watchdog
// (Engine.MaxAllocBytes). A stopped script cannot catch its stop with
// pcall.
//
// What it does not do: run commands. redis.call hands its argv to a Host
// (package commands), which checks it against the command table, runs it
// and returns the RESP reply bytes, which this package parses back into
// Lua values. It knows nothing of sockets or the projection.
//
// Sandbox differences from Redis's Lua (which marks tables read-only in
// its patched VM): gopher-lua has no read-only tables, so the global table
// and the library tables are empty proxies whose __index is the real
// table and whose __newindex raises "Attempt to modify a readonly table";
// rawset/setmetatable refuse the protected tables with the same error.
// pairs/next over a library table (e.g. pairs(string)) therefore see
// nothing. gopher-lua formats numbers with Go's shortest form rather than
// "%.14g" in tostring and "..", and its compiler's syntax error texts are
// its own, so "Error compiling script" details differ from Redis's.
package script
