package replica

import (
	"bytes"
	"strconv"
)

// filter implements Options.DBs and Options.KeyPrefixes.
//
// Which arguments of a command are keys, kept simple on purpose:
//
//   - keyless commands (FLUSHALL, FLUSHDB, SWAPDB, PUBLISH, FUNCTION, …,
//     anything with fewer than 2 arguments) are always kept, so the handler
//     sees database-wide events;
//   - "all keys" commands list every key: DEL UNLINK EXISTS TOUCH WATCH
//     (every argument), MSET MSETNX (every other argument), RENAME RENAMENX
//     COPY SMOVE LMOVE RPOPLPUSH BLMOVE BRPOPLPUSH (the first two), PFMERGE
//     SINTERSTORE SUNIONSTORE SDIFFSTORE BITOP (arguments from the first
//     key on; BITOP skips its operation), ZUNIONSTORE ZINTERSTORE
//     ZDIFFSTORE (destination and the numkeys keys), ZRANGESTORE
//     GEOSEARCHSTORE (the first two);
//   - every other command has one key, its first argument.
//
// A command is kept when any of its keys matches a prefix (so a RENAME
// from a projected key to another one keeps the renamed key, and a RENAME
// into a projected key from an unprojected one is delivered but can't
// find its source; documented limitation). Likewise SWAPDB between a
// projected and an unprojected database is delivered as is, and the
// handler only holds one side. An RDB entry is kept when its key matches.
type filter struct {
	dbs      map[int]bool // nil: all
	prefixes [][]byte
}

func newFilter(o *Options) *filter {
	if len(o.DBs) == 0 && len(o.KeyPrefixes) == 0 {
		return nil
	}
	f := &filter{}
	if len(o.DBs) > 0 {
		f.dbs = make(map[int]bool, len(o.DBs))
		for _, db := range o.DBs {
			f.dbs[db] = true
		}
	}
	for _, p := range o.KeyPrefixes {
		f.prefixes = append(f.prefixes, []byte(p))
	}
	return f
}

func (f *filter) keepDB(db int) bool {
	if f == nil || f.dbs == nil {
		return true
	}
	return f.dbs[db]
}

func (f *filter) keepKey(key []byte) bool {
	if f == nil || len(f.prefixes) == 0 {
		return true
	}
	for _, p := range f.prefixes {
		if bytes.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// keepEntry reports whether an RDB entry is projected.
func (f *filter) keepEntry(db int, key []byte) bool {
	return f == nil || (f.keepDB(db) && f.keepKey(key))
}

// keyRule says which arguments (after the name) are keys: args[first],
// args[first+step], … up to args[last-1]; last 0 means to the end. With
// numkeys, args[0] is a key and args[1] counts the keys that follow.
type keyRule struct {
	first, last, step int
	numkeys           bool
}

// keyRules lists the commands with more than one key (see the filter doc);
// any other command's only key is its first argument. Looked up with
// string(lowered) so the lookup doesn't allocate.
var keyRules = map[string]keyRule{
	"del": {step: 1}, "unlink": {step: 1}, "exists": {step: 1}, "touch": {step: 1}, "watch": {step: 1},
	"mset": {step: 2}, "msetnx": {step: 2},
	"rename": {last: 2, step: 1}, "renamenx": {last: 2, step: 1}, "copy": {last: 2, step: 1},
	"smove": {last: 2, step: 1}, "lmove": {last: 2, step: 1}, "rpoplpush": {last: 2, step: 1},
	"blmove": {last: 2, step: 1}, "brpoplpush": {last: 2, step: 1},
	"zrangestore": {last: 2, step: 1}, "geosearchstore": {last: 2, step: 1},
	"pfmerge": {step: 1}, "sinterstore": {step: 1}, "sunionstore": {step: 1}, "sdiffstore": {step: 1},
	"bitop":       {first: 1, step: 1},
	"zunionstore": {numkeys: true}, "zinterstore": {numkeys: true}, "zdiffstore": {numkeys: true},
}

// keylessCommands are always delivered: they name no key.
var keylessCommands = map[string]bool{
	"flushall": true, "flushdb": true, "swapdb": true, "publish": true, "spublish": true,
	"function": true, "script": true, "multi": true, "exec": true,
}

// keepCommand reports whether a stream command is delivered.
func (f *filter) keepCommand(db int, argv [][]byte) bool {
	if f == nil {
		return true
	}
	var buf [24]byte
	name := lowerInto(buf[:], argv[0])
	if len(argv) < 2 || keylessCommands[string(name)] {
		return true
	}
	if !f.keepDB(db) {
		return false
	}
	if len(f.prefixes) == 0 {
		return true
	}
	args := argv[1:]
	rule, ok := keyRules[string(name)]
	if !ok {
		return f.keepKey(args[0])
	}
	if rule.numkeys {
		if f.keepKey(args[0]) {
			return true
		}
		n := 0
		if len(args) >= 2 {
			n, _ = strconv.Atoi(string(args[1]))
		}
		if n <= 0 || 2+n > len(args) {
			return false
		}
		rule = keyRule{first: 2, last: 2 + n, step: 1}
	}
	last := len(args)
	if rule.last > 0 {
		last = min(rule.last, len(args))
	}
	for i := rule.first; i < last; i += rule.step {
		if f.keepKey(args[i]) {
			return true
		}
	}
	return false
}

// lowerInto lower-cases name into buf; names longer than buf give an
// empty result (no such command has a key rule).
func lowerInto(buf []byte, name []byte) []byte {
	if len(name) > len(buf) {
		return nil
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(name)]
}
