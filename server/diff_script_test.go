package server

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

// The scripting differential test: one primary feeds a Redis 7.0 replica
// and vdr; the same scripts run on both, in RESP2 and RESP3, and the raw
// reply bytes are compared. The corpus follows tests/unit/scripting.tcl
// and tests/unit/functions.tcl where they make sense on a replica.

const scriptLib = "#!lua name=mylib\n" +
	"redis.register_function{function_name='myget', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='gets a key'}\n" +
	"redis.register_function('myset', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n" +
	"redis.register_function{function_name='myincr', callback=function(keys, args)\n" +
	"  return redis.call('incr', keys[1])\n" +
	"end, flags={'no-writes', 'allow-stale'}}\n" +
	"redis.register_function{function_name='myargs', callback=function(keys, args) return {#keys, #args, keys[1], args[1]} end, flags={'no-writes'}}\n" +
	"local function helper(x) return x * 2 end\n" +
	"for i = 1, 2 do redis.register_function{function_name='dyn' .. i, callback=function() return helper(i) end, flags={'no-writes'}} end\n"

// scriptCase is one command; unordered compares the reply's lines sorted
// (a Lua table's iteration order is the VM's own).
type scriptCase struct {
	args      []string
	unordered bool
}

func ev(body string, keysAndArgs ...string) scriptCase {
	n := 0
	var rest []string
	for _, a := range keysAndArgs {
		if strings.HasPrefix(a, "k:") {
			n++
			rest = append(rest, a[2:])
		}
	}
	for _, a := range keysAndArgs {
		if !strings.HasPrefix(a, "k:") {
			rest = append(rest, a)
		}
	}
	return scriptCase{args: append([]string{"EVAL", body, strconv.Itoa(n)}, rest...)}
}

func cmd(args ...string) scriptCase { return scriptCase{args: args} }

func scriptCorpus() []scriptCase {
	sha := func(s string) string { return redistest.Sha1Hex(s) }
	loaded := "return redis.call('get', KEYS[1])"
	cs := []scriptCase{
		// Conversions Lua → Redis (scripting.tcl "EVAL - Lua … -> Redis protocol type conversion").
		ev("return 100.5"), ev("return -3.99"), ev("return 'hello world'"), ev("return true"), ev("return false"),
		ev("return nil"), ev("return {1,2,3,'ciao',{1,2}}"), ev("return {1,2,nil,4}"), ev("return {}"),
		ev("return {err='My Error'}"), ev("return {err='My Error\\nwith newline'}"), ev("return {ok='fine'}"),
		ev("return redis.error_reply('My Error')"), ev("return redis.error_reply('-CODE my error')"),
		ev("return redis.error_reply('')"), ev("return redis.error_reply()"), ev("return redis.status_reply('FINE')"),
		ev("return redis.status_reply(1)"), ev("return {double=3.14}"), ev("return {double=1e100}"), ev("return {double=0.1}"),
		ev("return {big_number='123456789012345678901234567890'}"),
		ev("return {verbatim_string={format='txt', string='hello'}}"),
		ev("return {map={a=1}}"), ev("return {set={a=true}}"),
		{args: []string{"EVAL", "return {map={a=1,b=2,c={1,2}}}", "0"}, unordered: true},
		ev("redis.setresp(3); return true"), ev("redis.setresp(3); return false"), ev("redis.setresp(3); return nil"),
		ev("return #KEYS + #ARGV", "k:a", "k:b", "c"), ev("return {KEYS[1], ARGV[1], ARGV[2]}", "k:key", "arg1", "arg2"),
		// Redis → Lua (redis.call replies), RESP2 and RESP3.
		ev("return redis.call('get', KEYS[1])", "k:foo"), ev("return redis.call('get', 'nosuchkey')"),
		ev("return tostring(redis.call('get', 'nosuchkey'))"), ev("return redis.call('hgetall', KEYS[1])", "k:h"),
		ev("redis.setresp(3); return redis.call('hgetall', KEYS[1])", "k:h"),
		ev("return redis.call('ping')"), ev("return redis.call('type', 'foo')"), ev("return redis.call('exists', 'foo', 'nope')"),
		ev("return redis.call('lrange', 'l', 0, -1)"), ev("return redis.call('zrange', 'z', 0, -1, 'withscores')"),
		ev("redis.setresp(3); return redis.call('zrange', 'z', 0, -1, 'withscores')"),
		ev("redis.setresp(3); return redis.call('zscore', 'z', 'a')"),
		ev("redis.setresp(3); return redis.call('hget', 'h', 'nope')"),
		ev("redis.setresp(3); local r = redis.call('hgetall', 'h'); return type(r['map'])"),
		ev("redis.setresp(3); local r = redis.call('zscore', 'z', 'b'); return r['double'] * 2"),
		ev("return redis.call('get', 1.5)"), ev("return redis.call('smembers', 'nope')"),
		ev("redis.call('select', 1); return redis.call('get', 'foo')"), ev("return redis.call('get', 'foo')"),
		ev("return redis.call('incrbyfloat', 'foo', 1)"),
		// Errors.
		ev("return redis.call('incr', KEYS[1])", "k:foo"), ev("return redis.pcall('incr', KEYS[1])", "k:foo"),
		ev("return redis.call('lpush', 'foo', 'x')"), ev("return redis.call('nosuchcommand')"),
		ev("return redis.call('get')"), ev("return redis.call('multi')"), ev("return redis.call('eval', 'return 1', 0)"),
		ev("return redis.call()"), ev("return redis.call({})"), ev("return redis.pcall({})"), ev("return redis.call('get', nil)"),
		ev("return redis.call('hget', 'foo', 'x')"), ev("return redis.pcall('hget', 'foo', 'x')"),
		ev("local a = 1\nlocal b = 2\nreturn redis.call('incr', 'foo')"),
		ev("error('my error')"), ev("error({err='TABLE error'})"), ev("error(redis.error_reply('ERR from error_reply'))"),
		ev("local ok, e = pcall(function() redis.call('incr', 'foo') end) return e"),
		ev("local ok, e = pcall(function() error('x') end) return {tostring(ok), e}"),
		ev("return redis.pcall('incr', 'foo')['err']"),
		ev("local t = redis.pcall('nosuch'); return {t['err'], tostring(t['ignore_error_stats_update'])}"),
		// gopher-lua's own runtime and syntax error texts differ from
		// Lua 5.1's ("attempt to index local 'x'…", "unexpected symbol
		// near '<eof>'"): those are checked in TestScriptErrorsVDR.
		ev("return nosuchfunction()"), ev("return"), ev(""),
		// Globals protection.
		ev("a = 10"), ev("return a"), ev("loadfile('x')"), ev("dofile('x')"), ev("print('x')"),
		ev("setmetatable(_G, {})"), ev("local g = getmetatable(_G)\ng.__index = {}"), ev("redis = function() return 1 end"),
		ev("_G = {}"), ev("redis.call = function() return 1 end"), ev("rawset(redis, 'call', 1)"),
		ev("string.rep = nil"), ev("math.random = nil"),
		ev("return type(math.floor) .. type(string.upper) .. type(table.concat) .. type(unpack) .. type(loadstring) .. type(coroutine.create)"),
		// redis.* helpers.
		ev("return redis.sha1hex('Pizza & Mandolino')"), ev("return redis.sha1hex('')"), ev("return redis.sha1hex()"),
		ev("return redis.REDIS_VERSION"), ev("return redis.REDIS_VERSION_NUM"),
		ev("redis.log(redis.LOG_WARNING, 'from a script'); return 1"), ev("redis.log(redis.LOG_WARNING)"), ev("redis.log('x', 'y')"),
		ev("redis.log(10, 'y')"), ev("return redis.set_repl(redis.REPL_ALL)"), ev("return redis.set_repl(99)"),
		ev("return redis.set_repl()"), ev("return redis.replicate_commands()"), ev("return redis.breakpoint()"),
		ev("return redis.debug('x')"), ev("redis.setresp(4)"), ev("redis.setresp()"),
		ev("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING, redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}"),
		ev("return math.random(1000)"), ev("math.randomseed(42); return {math.random(100), math.random(5, 10)}"),
		ev("return string.format('%d %s', 5, 'x') .. table.concat({'a', 'b'}, ',') .. string.upper('q')"),
		ev("local t = {} for i = 1, 100 do t[i] = i end return t"),
		ev("return unpack({1, 2, 3})"), ev("return select('#', 1, 2, 3)"),
		// math.huge is infinity; a far integer index stays cheap (it was a
		// gigabyte of array part in gopher-lua); the libraries Redis adds.
		ev("return tostring(math.huge) .. ' ' .. tostring(-math.huge) .. ' ' .. tostring(math.huge > 1e308)"),
		ev("local t = {}; t[60000000] = 1; t[1] = 2; return {#t, t[60000000]}"),
		ev("return cjson.encode({1, 2, {a = 'x'}})"), ev("return cjson.decode('[1,2,{\"a\":3}]')[3].a"),
		ev("return cmsgpack.unpack(cmsgpack.pack({1, 'two', 3.5}))"), ev("return bit.band(0xff, 0x0f) .. ' ' .. bit.tohex(255)"),
		ev("return struct.unpack('>I2', struct.pack('>I2', 513))"), ev("cjson.encode = nil"), ev("bit.band = 1"),
		ev("return _G"), ev("local a = {}; setmetatable(a, {__index=function() foo() end}) return a"),
		ev("local a = {}; setmetatable(a, {__index=function() redis.call('set', 'x', '1') end}) return a"),
		ev("local foo = redis.pcall('lrange', KEYS[1], 0, -1) return {type(foo), foo[1], foo[2], foo[3], # foo}", "k:l"),
		ev("local foo = redis.pcall('get', 'nope') return {type(foo), tostring(foo)}"),
		ev("local a = {}; local b = {a}; a[1] = b; return a"), ev("local a = {}; a['map'] = a; return a"),
		ev("local a = {}; a['set'] = {[a] = true}; return a"), ev("local a = {}; a['map'] = {x = a}; return a"),
		ev("local a = {} for i = 1, 7999 do a[i] = 1 end return redis.call('lpush', 'l', unpack(a))"),
		ev("local a = {} for i = 1, 7999 do a[i] = 'x' end return redis.call('mget', unpack(a))"),
		ev("return select('#', unpack({}, 1, 7997))"), ev("return select('#', unpack({}, 1, 7998))"),
		ev("local a = {} for i = 1, 8000 do a[i] = 1 end return select('#', unpack(a))"),
		ev("local a = {} for i = 1, 7999 do a[i] = 1 end return select('#', unpack(a))"),
		ev("local function r(n) if n == 0 then return 0 end return 1 + r(n - 1) end return r(15000)"),
		ev("local function r(n) local ok, e = pcall(r, n + 1) if not ok then return {n, e} end return e end return r(1)"),
		ev("local function r(n) local ok, e = xpcall(function() return r(n + 1) end, function(e) return e end) if not ok then return {n, e} end return e end return r(1)"),
		ev("return redis.acl_check_cmd('get', 'x')"), ev("return redis.acl_check_cmd('nosuch')"), ev("return redis.acl_check_cmd()"),
		ev("redis.setresp(3); local r = redis.call('info', 'keyspace'); return r['verbatim_string']['format']"),
		ev("redis.setresp(3); local r = redis.call('info', 'keyspace'); return type(r['verbatim_string']['string'])"),
		ev("local r = redis.call('info', 'keyspace'); return type(r)"),
		ev("redis.setresp(3); return redis.call('smembers', 's')"), ev("redis.setresp(3); return redis.call('hgetall', 'nope')"),
		ev("redis.setresp(3); return redis.call('zrange', 'z', 0, -1)"), ev("redis.setresp(3); return redis.call('lpos', 'l', 'nope')"),
		ev("redis.setresp(3); return {redis.call('get', 'nope')}"), ev("redis.setresp(3); return redis.call('mget', 'foo', 'nope', 'foo')"),
		ev("return redis.call('mget', 'foo', 'nope', 'foo')"),
		ev("return 'hello' --trailing comment"), ev("redis.call('set', 'invalid')"), ev("redis.call('incr')"),
		ev("return redis.pcall('xread', 'STREAMS', 's', '$')"), ev("return redis.pcall('xread', 'BLOCK', 0, 'STREAMS', 's', '$')"),
		ev("return redis.call('XREAD', 'block', 0, 'STREAMS', 's', '$')"),
		ev("return redis.pcall('xreadgroup', 'group', 'g', 'c', 'BLOCK', 0, 'STREAMS', 's', '>')"),
		ev("return redis.call('blpop', 'l', 0)"), ev("return redis.call('cluster', 'reset', 'hard')"),
		ev("return redis.pcall('randomkey') ~= nil"),
		ev("local value = 9007199254740991; return redis.call('get', value)"),
		ev("return redis.call('echo', 12039611435714932082)"), ev("return redis.call('echo', 0.1)"), ev("return redis.call('echo', 1e300)"),
		ev("return redis.call('echo', 1/0)"), ev("return redis.call('echo', -1/0)"),
		ev("return {tostring(0.1), tostring(1/3), tostring(1e100), tostring(-0.5), tostring(100), tostring(2^53)}"),
		ev("local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t"),
		// cjson, cmsgpack, bit and struct come with openRedisLibs.
		ev("local t = {} for k in pairs(_G) do if k ~= 'cjson' and k ~= 'cmsgpack' and k ~= 'bit' and k ~= 'struct' then t[#t+1] = k end end table.sort(t) return t"),
		ev("return table.foreach({10, 20}, function(k, v) if v == 20 then return k end end)"),
		ev("return table.foreachi({10, 20}, function(i, v) if v == 10 then return i * 7 end end)"),
		ev("return table.setn({}, 3)"),
		ev("local t = {} for k in pairs(math) do t[#t+1] = k end table.sort(t) return t"),
		ev("local t = {} for k in pairs(table) do t[#t+1] = k end table.sort(t) return t"),
		ev("local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t"),
		ev("return _VERSION"), ev("return rawget(redis, 'call') ~= nil"), ev("return type(getfenv(0))"),
		// Shebang flags, _RO.
		ev("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "k:foo"),
		ev("#!lua flags=no-writes\nreturn redis.call('set', 'x', 'y')"), ev("#!lua\nreturn 1"),
		ev("#!lua flags=no-writes,allow-stale\nreturn 1"), ev("#!lua flags=allow-oom\nreturn 1"),
		ev("#!lua name=foo\nreturn 1"), ev("#!lua flags=bad\nreturn 1"), ev("#!nolua\nreturn 1"), ev("#!lua"),
		ev("#!lua flags=no-writes\nreturn redis.call('incr', 'foo')"),
		cmd("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "foo"),
		cmd("EVAL_RO", "return redis.call('set', KEYS[1], 'x')", "1", "foo"),
		cmd("EVAL_RO", "return redis.pcall('set', KEYS[1], 'x')", "1", "foo"),
		cmd("EVAL_RO", "#!lua\nreturn 1", "0"), cmd("EVAL_RO", "#!lua flags=no-writes\nreturn 2", "0"),
		// numkeys, EVALSHA, SCRIPT.
		cmd("EVAL", "return 1", "2", "a"), cmd("EVAL", "return 1", "-1"), cmd("EVAL", "return 1", "x"),
		cmd("EVAL", "return 1"), cmd("EVALSHA", "abc", "0"), cmd("EVALSHA", strings.Repeat("a", 40), "0"),
		cmd("SCRIPT", "LOAD", loaded), cmd("SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1"),
		cmd("EVALSHA", sha(loaded), "1", "foo"), cmd("EVALSHA", strings.ToUpper(sha(loaded)), "1", "foo"),
		cmd("EVALSHA_RO", sha(loaded), "1", "foo"), cmd("EVALSHA", sha(loaded), "x"),
		cmd("SCRIPT", "EXISTS", sha(loaded), strings.Repeat("b", 40), strings.ToUpper(sha(loaded))),
		cmd("SCRIPT", "EXISTS"), cmd("SCRIPT", "LOAD"), cmd("SCRIPT", "FLUSH", "bogus"), cmd("SCRIPT", "KILL"),
		cmd("SCRIPT", "HELP"), cmd("SCRIPT", "BOGUS"), cmd("SCRIPT", "DEBUG", "bogus"),
		// MULTI/EXEC.
		cmd("MULTI"), ev("return redis.call('get', 'foo')"), ev("return 1"), cmd("EXEC"),
		cmd("MULTI"), ev("#!lua\nreturn 1"), cmd("EXEC"),
		// Functions.
		cmd("FCALL", "myget", "1", "foo"), cmd("FCALL_RO", "myget", "1", "foo"), cmd("FCALL", "myset", "1", "foo", "x"),
		cmd("FCALL_RO", "myset", "1", "foo", "x"), cmd("FCALL_RO", "myincr", "1", "foo"), cmd("FCALL", "myincr", "1", "foo"),
		cmd("FCALL", "myargs", "2", "a", "b", "c"), cmd("FCALL", "myargs", "0"), cmd("FCALL", "dyn1", "0"), cmd("FCALL", "dyn2", "0"),
		cmd("FCALL", "nosuch", "0"), cmd("FCALL", "myget", "x"), cmd("FCALL", "myget", "3", "a"), cmd("FCALL", "myget", "-1"),
		cmd("FCALL", "myget"), {args: []string{"FUNCTION", "LIST", "LIBRARYNAME", "mylib"}, unordered: true},
		{args: []string{"FUNCTION", "LIST", "WITHCODE"}, unordered: true},
		cmd("FUNCTION", "STATS"), cmd("FUNCTION", "KILL"), cmd("FUNCTION", "HELP"),
		cmd("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('f', function() return 1 end)"),
		cmd("FUNCTION", "DELETE", "mylib"), cmd("FUNCTION", "FLUSH"),
		cmd("FUNCTION", "RESTORE", "x"),
		cmd("SCRIPT", "FLUSH"), cmd("EVALSHA", sha(loaded), "1", "foo"), cmd("SCRIPT", "EXISTS", sha(loaded)),
		cmd("CONFIG", "GET", "lua-time-limit"),
	}
	return cs
}

func TestScriptDifferential(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0")
	node := startNode(t, primary.Addr(), replicaOptions{})
	redistest.WaitFor(t, 15*time.Second, "links up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up"
	})
	f := &nodeFeed{primary: dialRaw(t, primary.Addr()), addr: primary.Addr(), vdrAddr: node.Addr()}
	for _, w := range [][]string{
		{"SET", "foo", "bar"}, {"HSET", "h", "f", "v"}, {"RPUSH", "l", "1", "2", "3"},
		{"ZADD", "z", "1", "a", "2.5", "b"}, {"SADD", "s", "x"},
		{"FUNCTION", "LOAD", scriptLib},
	} {
		f.write(t, 0, w...)
	}
	f.write(t, 1, "SET", "foo", "in-db1")
	f.sync(t)

	// FUNCTION DUMP: a payload Redis's FUNCTION RESTORE accepts, giving
	// the same libraries.
	dump := dialRaw(t, node.Addr()).do(bs("FUNCTION", "DUMP")...)
	payload := dump[bytes.IndexByte(dump, '\n')+1 : len(dump)-2]
	fresh := redistest.Start(t)
	fc := dialRaw(t, fresh.Addr())
	if r := fc.do([]byte("FUNCTION"), []byte("RESTORE"), payload); string(r) != "+OK\r\n" {
		t.Fatalf("FUNCTION RESTORE of vdr's dump: %q", r)
	}
	if want, got := fc.dos("FUNCTION", "LIST", "WITHCODE"), dialRaw(t, replica.Addr()).dos("FUNCTION", "LIST", "WITHCODE"); sortedLines(want) != sortedLines(got) {
		t.Errorf("restored libraries: %q, want %q", got, want)
	}
	for _, proto := range []string{"2", "3"} {
		rc, vc := dialRaw(t, replica.Addr()), dialRaw(t, node.Addr())
		if proto == "3" {
			rc.dos("HELLO", "3")
			vc.dos("HELLO", "3")
		}
		for i, c := range scriptCorpus() {
			want, got := string(rc.do(bs(c.args...)...)), string(vc.do(bs(c.args...)...))
			if c.unordered {
				want, got = sortedLines(want), sortedLines(got)
			}
			if want != got {
				at := 0
				for at < len(want) && at < len(got) && want[at] == got[at] {
					at++
				}
				from := max(0, at-80)
				t.Errorf("RESP%s #%d %.300q: differ at byte %d of %d/%d:\n redis: %.400q\n   vdr: %.400q",
					proto, i, c.args, at, len(want), len(got), want[from:], got[from:])
			}
		}
	}
}

func sortedLines(s string) string {
	l := strings.Split(s, "\r\n")
	sort.Strings(l)
	return strings.Join(l, "\n")
}
