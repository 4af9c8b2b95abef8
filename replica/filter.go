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
// find its source; documented limitation). An RDB entry is kept when its
// key matches.
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

// keepCommand reports whether a stream command is delivered.
func (f *filter) keepCommand(db int, argv [][]byte) bool {
	if f == nil {
		return true
	}
	if len(argv) < 2 || keyless(argv[0]) {
		return true
	}
	if !f.keepDB(db) {
		return false
	}
	if len(f.prefixes) == 0 {
		return true
	}
	var name [24]byte
	lower := lowerInto(name[:], argv[0])
	args := argv[1:]
	step, first, last := 1, 0, 1 // keys are args[first:last:step]
	switch lower {
	case "del", "unlink", "exists", "touch", "watch":
		last = len(args)
	case "mset", "msetnx":
		step, last = 2, len(args)
	case "rename", "renamenx", "copy", "smove", "lmove", "rpoplpush", "blmove", "brpoplpush",
		"zrangestore", "geosearchstore":
		last = 2
	case "pfmerge", "sinterstore", "sunionstore", "sdiffstore":
		last = len(args)
	case "bitop":
		first, last = 1, len(args)
	case "zunionstore", "zinterstore", "zdiffstore":
		last = 1
		if len(args) >= 2 {
			if n, err := strconv.Atoi(string(args[1])); err == nil && n > 0 && 2+n <= len(args) {
				if f.keepKey(args[0]) {
					return true
				}
				first, last = 2, 2+n
			}
		}
	}
	last = min(last, len(args))
	for i := first; i < last; i += step {
		if f.keepKey(args[i]) {
			return true
		}
	}
	return false
}

// keyless reports commands that name no key and are always delivered.
func keyless(name []byte) bool {
	var buf [24]byte
	switch lowerInto(buf[:], name) {
	case "flushall", "flushdb", "swapdb", "publish", "spublish", "function", "script", "multi", "exec":
		return true
	}
	return false
}

// lowerInto lower-cases name into buf and returns it as a string the
// compiler does not allocate for in a switch; names longer than buf give "".
func lowerInto(buf []byte, name []byte) string {
	if len(name) > len(buf) {
		return ""
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return string(buf[:len(name)])
}
