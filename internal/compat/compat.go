// Package compat names the server versions vdr can answer as — its
// personalities — and what each one has.
//
// vdr answers as its primary does: the primary's INFO server tells the
// version at the handshake (redis_version, plus valkey_version on Valkey),
// and `--compat` fixes it for `vdr serve --rdb` and before the first
// handshake. Code that behaves differently between versions asks a
// Version what it has ("does this personality format doubles the 7.2
// way?") through the predicates below, never by comparing version numbers
// itself, so that every difference between versions is listed in one
// place.
//
// It does not hold the current personality: a Holder does, one per node.
package compat

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// Version is one server version: Redis's, or Valkey's (Valkey is set and
// Major/Minor/Patch are the Valkey version; RedisVersion then is what that
// Valkey reports as redis_version).
type Version struct {
	Valkey              bool
	Major, Minor, Patch int
}

// The personalities vdr is tested against (../shared/redis-builds and
// Debian's redis-server).
var (
	Redis70   = Version{Major: 7, Minor: 0, Patch: 15}
	Redis72   = Version{Major: 7, Minor: 2, Patch: 6}
	Redis74   = Version{Major: 7, Minor: 4, Patch: 1}
	Valkey72  = Version{Valkey: true, Major: 7, Minor: 2, Patch: 7}
	Valkey80  = Version{Valkey: true, Major: 8, Minor: 0, Patch: 1}
	Default   = Redis70
	Supported = []Version{Redis70, Redis72, Redis74, Valkey72, Valkey80}
)

// String is "7.2.6" for Redis and "valkey-8.0.1" for Valkey.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Valkey {
		return "valkey-" + s
	}
	return s
}

// Name is the personality's short name as --compat takes it: "7.0",
// "7.4", "valkey-8.0".
func (v Version) Name() string {
	s := fmt.Sprintf("%d.%d", v.Major, v.Minor)
	if v.Valkey {
		return "valkey-" + s
	}
	return s
}

// RedisVersion is what INFO's redis_version says under this personality
// (Valkey 7.2 and 8.0 report the Redis API level they forked from, 7.2.4).
func (v Version) RedisVersion() string {
	if v.Valkey {
		return "7.2.4"
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Parse reads a --compat value or a version string: "7.0", "7.2.6",
// "valkey-8.0", "valkey-7.2.7". A missing patch level becomes the
// supported release of that line (7.0 → 7.0.15); for a line vdr has no
// release of, 0.
func Parse(s string) (Version, error) {
	orig := s
	var v Version
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "valkey-"); ok {
		v.Valkey, s = true, rest
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("compat: %q is not a version (want 7.0, 7.2, 7.4, valkey-7.2, valkey-8.0)", orig)
	}
	nums := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("compat: %q is not a version (want 7.0, 7.2, 7.4, valkey-7.2, valkey-8.0)", orig)
		}
		nums[i] = n
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	if len(parts) == 2 {
		for _, sup := range Supported {
			if sup.Valkey == v.Valkey && sup.Major == v.Major && sup.Minor == v.Minor {
				v.Patch = sup.Patch
			}
		}
	}
	return v, nil
}

// FromInfo returns the version a primary reports in INFO server:
// valkeyVersion when it is set (a Valkey server), redisVersion otherwise.
// ok is false when neither parses.
func FromInfo(redisVersion, valkeyVersion string) (Version, bool) {
	if valkeyVersion != "" {
		if v, err := Parse("valkey-" + valkeyVersion); err == nil {
			return v, true
		}
	}
	v, err := Parse(redisVersion)
	return v, err == nil
}

// level is the Redis API level of v: Valkey 7.2 and 8.0 are built on
// Redis 7.2.
func (v Version) level() (major, minor int) {
	if v.Valkey {
		return 7, 2
	}
	return v.Major, v.Minor
}

// AtLeastRedis reports whether v's Redis API level is at least
// major.minor (Valkey counts as the Redis 7.2 it forked from). Prefer a
// named predicate below when the difference is a feature.
func (v Version) AtLeastRedis(major, minor int) bool {
	ma, mi := v.level()
	return ma > major || ma == major && mi >= minor
}

// ValkeyAtLeast reports whether v is Valkey major.minor or later.
func (v Version) ValkeyAtLeast(major, minor int) bool {
	return v.Valkey && (v.Major > major || v.Major == major && v.Minor >= minor)
}

// ---- what each personality has ----
//
// Add a predicate per difference, named after what differs, with the
// source that shows it.

// Doubles72 reports whether doubles in replies are the shortest string
// that reads back as the same double (Redis 7.2+ and Valkey), rather than
// 7.0's "%.17g".
func (v Version) Doubles72() bool { return v.AtLeastRedis(7, 2) }

// Encodings72 reports whether small lists are "listpack" and small
// non-integer sets "listpack" (Redis 7.2+ and Valkey).
func (v Version) Encodings72() bool { return v.AtLeastRedis(7, 2) }

// ZAddLongestMember reports whether ZADD chooses a sorted set's encoding
// by the longest member it names, for a new key and for an existing
// listpack one alike (Valkey 8.0's zaddGenericCommand and
// zsetTypeMaybeConvert); Redis 7.2+ and Valkey 7.2 size a new key by its
// first member and convert an existing one by the number of pairs only.
func (v Version) ZAddLongestMember() bool { return v.ValkeyAtLeast(8, 0) }

// HashFieldTTL reports whether hashes have per-field TTLs (Redis 7.4+;
// Valkey 8.0 does not).
func (v Version) HashFieldTTL() bool { return !v.Valkey && v.AtLeastRedis(7, 4) }

// ZRankWithScore reports whether ZRANK and ZREVRANK take WITHSCORE
// (Redis 7.2+, Valkey): see zrankGenericCommand in 7.2's src/t_zset.c.
func (v Version) ZRankWithScore() bool { return v.AtLeastRedis(7, 2) }

// StreamActiveTime reports whether stream consumers have an active-time:
// XINFO CONSUMERS answers "inactive" and XINFO STREAM FULL "active-time"
// (Redis 7.2+, Valkey): xinfoReplyWithStreamInfo and xinfoCommand in
// 7.2's src/t_stream.c.
func (v Version) StreamActiveTime() bool { return v.AtLeastRedis(7, 2) }

// HelpSaysPrint reports whether the HELP line of every container command
// reads "Print this help." rather than 7.0's "Prints this help."
// (addReplyHelp in 7.2's src/networking.c).
func (v Version) HelpSaysPrint() bool { return v.AtLeastRedis(7, 2) }

// LposRankRange reports whether LPOS RANK is limited to ±LONG_MAX, so
// that LONG_MIN is an out-of-range error (7.2's lposCommand uses
// getRangeLongFromObjectOrReply; 7.0 took any long).
func (v Version) LposRankRange() bool { return v.AtLeastRedis(7, 2) }

// XReadUnbalancedNamed reports whether XREAD's "Unbalanced" error names
// the command in quotes, "Unbalanced 'xread' list of streams" (7.2's
// xreadCommand formats c->cmd->fullname; 7.0 wrote XREAD).
func (v Version) XReadUnbalancedNamed() bool { return v.AtLeastRedis(7, 2) }

// BitArgsBeforeLookup reports whether BITCOUNT and BITPOS check their
// arguments before looking the key up, so a bad argument is an error even
// on a missing or wrongly typed key (Redis 7.4, Valkey 8.0: bitcountCommand
// and bitposCommand in src/bitops.c).
func (v Version) BitArgsBeforeLookup() bool {
	return v.AtLeastRedis(7, 4) || v.ValkeyAtLeast(8, 0)
}

// BitcountStartOnly reports whether BITCOUNT takes a start without an end
// (Valkey 8.0's bitcountCommand: argc 3 counts from start to the end).
func (v Version) BitcountStartOnly() bool { return v.ValkeyAtLeast(8, 0) }

// XReadLastEntry reports whether XREAD takes "+" as an ID, reading the
// stream's last entry (Redis 7.4, Valkey 8.0: xreadCommand in
// src/t_stream.c).
func (v Version) XReadLastEntry() bool { return v.AtLeastRedis(7, 4) || v.ValkeyAtLeast(8, 0) }

// HScanNoValues reports whether HSCAN takes NOVALUES (Redis 7.4, Valkey
// 8.0: scanGenericCommand in src/db.c).
func (v Version) HScanNoValues() bool { return v.AtLeastRedis(7, 4) || v.ValkeyAtLeast(8, 0) }

// ZScanNoScores reports whether ZSCAN takes NOSCORES (Valkey 8.0's
// scanGenericCommand; Redis 7.4 has only HSCAN's NOVALUES).
func (v Version) ZScanNoScores() bool { return v.ValkeyAtLeast(8, 0) }

// ZRangeSkiplistNegativeOffset reports whether a BYSCORE/BYLEX range
// with a negative LIMIT offset on a skiplist-encoded zset answers members
// (counted back from the end of the range) instead of nothing: Redis 7.4
// and Valkey 8.0 find the start with zslNthInRange, which takes negative
// ranks (genericZrangebyscoreCommand in src/t_zset.c); listpacks still
// answer nothing.
func (v Version) ZRangeSkiplistNegativeOffset() bool {
	return v.AtLeastRedis(7, 4) || v.ValkeyAtLeast(8, 0)
}

// ClientKillMaxAge reports whether CLIENT KILL takes MAXAGE (Redis 7.4,
// Valkey 8.0: clientKillCommand in src/networking.c).
func (v Version) ClientKillMaxAge() bool { return v.AtLeastRedis(7, 4) || v.ValkeyAtLeast(8, 0) }

// ClientTypePrimary reports whether "primary" names the master client
// type in CLIENT KILL/LIST TYPE (Valkey 8.0's getClientTypeByName).
func (v Version) ClientTypePrimary() bool { return v.ValkeyAtLeast(8, 0) }

// ClientSetInfo reports whether CLIENT SETINFO exists (Redis 7.2+,
// Valkey): CLIENT HELP lists it.
func (v Version) ClientSetInfo() bool { return v.AtLeastRedis(7, 2) }

// ClientNoTouch reports whether CLIENT NO-TOUCH exists (Redis 7.2+,
// Valkey): CLIENT HELP lists it.
func (v Version) ClientNoTouch() bool { return v.AtLeastRedis(7, 2) }

// ClientCapa reports whether CLIENT CAPA exists (Valkey 8.0): CLIENT HELP
// lists it.
func (v Version) ClientCapa() bool { return v.ValkeyAtLeast(8, 0) }

// CapaRedirect reports whether CLIENT CAPA REDIRECT exists and READONLY
// and READWRITE work outside cluster mode: a replica answers a REDIRECT
// client's reads and writes with -REDIRECT host:port unless it sent
// READONLY (Valkey 8.0's processCommand in src/server.c, clientCommand
// in src/networking.c, readonlyCommand in src/cluster.c).
func (v Version) CapaRedirect() bool { return v.ValkeyAtLeast(8, 0) }

// ClientInfoWatch reports whether CLIENT INFO/LIST lines have "watch="
// after "multi=" (Redis 7.4, Valkey 8.0: catClientInfoString).
func (v Version) ClientInfoWatch() bool { return v.AtLeastRedis(7, 4) || v.ValkeyAtLeast(8, 0) }

// ClientInfoNetTotals reports whether CLIENT INFO/LIST lines end with
// tot-net-in, tot-net-out and tot-cmds (Valkey 8.0: catClientInfoString).
func (v Version) ClientInfoNetTotals() bool { return v.ValkeyAtLeast(8, 0) }

// HelpWithoutRedisName reports whether COMMAND HELP speaks of "commands"
// and "this server" rather than "Redis commands" and "this Redis server"
// (Valkey 8.0's commandHelpCommand in src/server.c).
func (v Version) HelpWithoutRedisName() bool { return v.ValkeyAtLeast(8, 0) }

// ScanRejectsUnknownType reports whether SCAN … TYPE with a type name
// that does not exist is an error, "unknown type name '…'" (Valkey 8.0's
// scanGenericCommand; Redis returns no keys).
func (v Version) ScanRejectsUnknownType() bool { return v.ValkeyAtLeast(8, 0) }

// WaitTextWithoutRedis4 reports whether WAIT's error on a replica drops
// "since Redis 4.0" from its text (Valkey 8.0's waitCommand in
// src/replication.c).
func (v Version) WaitTextWithoutRedis4() bool { return v.ValkeyAtLeast(8, 0) }

// Holder holds the current personality of one node; the zero value holds
// Default. It is safe for concurrent use.
type Holder struct{ p atomic.Pointer[Version] }

// Load returns the current personality.
func (h *Holder) Load() Version {
	if h == nil {
		return Default
	}
	if p := h.p.Load(); p != nil {
		return *p
	}
	return Default
}

// Store sets the personality.
func (h *Holder) Store(v Version) { h.p.Store(&v) }

// ---- identity and error texts (tables and identity, issue 13) ----

// Number is the server's own version number as HELLO and LOLWUT show it:
// "7.0.15", "8.0.1" (Valkey's own, not the Redis level).
func (v Version) Number() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// ServerName is HELLO's "server" and INFO's server_name: "valkey" from
// Valkey 8.0 (src/server.h SERVER_NAME); Valkey 7.2 still says "redis".
func (v Version) ServerName() string {
	if v.ValkeyAtLeast(8, 0) {
		return "valkey"
	}
	return "redis"
}

// HelloNoAuthProto reports whether HELLO's NOAUTH error names the
// protocol argument ("HELLO <proto> AUTH <user> <pass>", Redis 7.2+ and
// Valkey) rather than 7.0's "HELLO AUTH <user> <pass>".
func (v Version) HelloNoAuthProto() bool { return v.AtLeastRedis(7, 2) }

// RDBVersion is the RDB version the server writes (RDB_VERSION in
// src/rdb.h): 12 for Redis 7.4 (type-24 hashes with field TTLs), 11 for
// Redis 7.2 and Valkey 7.2 and 8.0, 10 for Redis 7.0. A server loads files
// up to its own version.
func (v Version) RDBVersion() int {
	switch {
	case v.HashFieldTTL():
		return 12
	case v.AtLeastRedis(7, 2):
		return 11
	}
	return 10
}

// ClientLibInfo reports whether CLIENT LIST/INFO show lib-name and lib-ver
// (CLIENT SETINFO, Redis 7.2+ and Valkey).
func (v Version) ClientLibInfo() bool { return v.AtLeastRedis(7, 2) }

// ClientWatchField reports whether CLIENT LIST/INFO show watch=<keys>
// after multi= (Redis 7.4, Valkey 8.0).
func (v Version) ClientWatchField() bool {
	return v.ValkeyAtLeast(8, 0) || !v.Valkey && v.AtLeastRedis(7, 4)
}

// ClientNetCounters reports whether CLIENT LIST/INFO end with tot-net-in,
// tot-net-out and tot-cmds (Valkey 8.0).
func (v Version) ClientNetCounters() bool { return v.ValkeyAtLeast(8, 0) }

// StandaloneRedirect reports whether a replica redirects a client that
// announced CLIENT CAPA redirect (-REDIRECT primary:port for writes, and
// for reads unless it sent READONLY), and READONLY/READWRITE work outside
// cluster mode (Valkey 8.0, src/server.c processCommand).
func (v Version) StandaloneRedirect() bool { return v.ValkeyAtLeast(8, 0) }

// WaitReplicaErrorNoVersion reports whether WAIT's replica error drops
// "since Redis 4.0" (Valkey 8.0).
func (v Version) WaitReplicaErrorNoVersion() bool { return v.ValkeyAtLeast(8, 0) }

// BitcountArgsFirst reports whether BITCOUNT parses its start, end and
// BYTE|BIT before looking the key up, so a missing key with bad arguments
// is an error rather than 0 (Redis 7.4, Valkey 8.0).
func (v Version) BitcountArgsFirst() bool {
	return v.ValkeyAtLeast(8, 0) || !v.Valkey && v.AtLeastRedis(7, 4)
}

// BitcountArgcFirst reports whether BITCOUNT with a wrong number of range
// arguments is a syntax error even for a missing key (Redis 7.4).
func (v Version) BitcountArgcFirst() bool { return !v.Valkey && v.AtLeastRedis(7, 4) }

// NoValuesElsewhereError reports whether NOVALUES given to SCAN, SSCAN
// or ZSCAN answers "NOVALUES option can only be used in HSCAN" rather
// than a syntax error (Redis 7.4).
func (v Version) NoValuesElsewhereError() bool { return !v.Valkey && v.AtLeastRedis(7, 4) }

// ScanCursorULL reports whether SCAN cursors are parsed with string2ull
// (Redis 7.4, Valkey 8.0: "-1" and "" are invalid, " 1" and "+5" valid)
// rather than 7.0's strtoul ("-1" wraps to a huge cursor, "" is 0).
func (v Version) ScanCursorULL() bool {
	return v.ValkeyAtLeast(8, 0) || !v.Valkey && v.AtLeastRedis(7, 4)
}
