package commands

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Keyspace commands: EXISTS TYPE TTL PTTL EXPIRETIME PEXPIRETIME KEYS SCAN
// RANDOMKEY DBSIZE DUMP OBJECT MEMORY TOUCH (src/db.c, src/object.c).

// dataHandlers binds the data commands; merged into handlers at init.
var dataHandlers = map[string]HandlerFunc{
	"exists": existsCommand, "type": typeCommand, "ttl": ttlCommand, "pttl": pttlCommand,
	"expiretime": expiretimeCommand, "pexpiretime": pexpiretimeCommand, "keys": keysCommand,
	"scan": scanCommand, "randomkey": randomkeyCommand, "dbsize": dbsizeCommand, "dump": dumpCommand,
	"object|encoding": objectEncodingCommand, "object|freq": objectFreqCommand,
	"object|idletime": objectIdletimeCommand, "object|refcount": objectRefcountCommand,
	"object|help": objectHelpCommand, "memory|usage": memoryUsageCommand, "memory|help": memoryHelpCommand,
	"touch": touchCommand,
	// strings (string.go)
	"get": getCommand, "mget": mgetCommand, "strlen": strlenCommand, "getrange": getrangeCommand,
	"substr": getrangeCommand, "getbit": getbitCommand, "bitcount": bitcountCommand,
	"bitpos": bitposCommand, "bitfield_ro": bitfieldRoCommand, "lcs": lcsCommand,
	// lists (list.go)
	"llen": llenCommand, "lindex": lindexCommand, "lrange": lrangeCommand, "lpos": lposCommand,
	// sets (set.go)
	"scard": scardCommand, "sismember": sismemberCommand, "smismember": smismemberCommand,
	"smembers": smembersCommand, "srandmember": srandmemberCommand, "sinter": sinterCommand,
	"sintercard": sintercardCommand, "sunion": sunionCommand, "sdiff": sdiffCommand, "sscan": sscanCommand,
	// sorted sets (zset.go)
	"zcard": zcardCommand, "zscore": zscoreCommand, "zmscore": zmscoreCommand, "zrank": zrankCommand,
	"zrevrank": zrevrankCommand, "zcount": zcountCommand, "zlexcount": zlexcountCommand,
	"zrange": zrangeCommand, "zrangebyscore": zrangebyscoreCommand, "zrevrangebyscore": zrevrangebyscoreCommand,
	"zrangebylex": zrangebylexCommand, "zrevrangebylex": zrevrangebylexCommand, "zrevrange": zrevrangeCommand,
	"zrandmember": zrandmemberCommand, "zunion": zunionCommand, "zinter": zinterCommand,
	"zdiff": zdiffCommand, "zintercard": zintercardCommand, "zscan": zscanCommand,
	// hashes (hash.go)
	"hget": hgetCommand, "hmget": hmgetCommand, "hgetall": hgetallCommand, "hkeys": hkeysCommand,
	"hvals": hvalsCommand, "hlen": hlenCommand, "hexists": hexistsCommand, "hstrlen": hstrlenCommand,
	"hrandfield": hrandfieldCommand, "hscan": hscanCommand,
	// geo (geo.go), SORT_RO (sort.go), PFCOUNT (hll.go)
	"geopos": geoposCommand, "geodist": geodistCommand, "geohash": geohashCommand,
	"georadius_ro": geosearchCommand, "georadiusbymember_ro": geosearchCommand,
	"geosearch": geosearchCommand, "pfcount": pfcountCommand,
	"sort_ro": sortroCommand,
	// streams (stream.go)
	"xrange": xrangeCommand, "xrevrange": xrevrangeCommand, "xlen": xlenCommand, "xread": xreadCommand,
	"xpending": xpendingCommand, "xinfo|stream": xinfoStreamCommand, "xinfo|groups": xinfoGroupsCommand,
	"xinfo|consumers": xinfoConsumersCommand, "xinfo|help": xinfoHelpCommand,
}

// ---- access helpers ----

// read runs fn in a View of the client's database locking keys; inside
// EXEC it reuses the transaction's all-databases view.
func (c *Ctx) read(keys [][]byte, fn func(v *projection.View)) {
	if c.tx != nil {
		if err := c.tx.Select(c.Client.db); err != nil {
			c.W.Error(errDBIndex)
			return
		}
		c.tx.SetTouch(!c.touchOff)
		fn(c.tx)
		return
	}
	var err error
	if c.touchOff {
		err = c.Env.Proj.ViewNoTouch(c.Client.db, keys, fn)
	} else {
		err = c.Env.Proj.View(c.Client.db, keys, fn)
	}
	if err != nil {
		c.W.Error(errDBIndex)
	}
}

// read1 is read for one key.
func (c *Ctx) read1(key []byte, fn func(v *projection.View)) {
	var ks [1][]byte
	ks[0] = key
	c.read(ks[:], fn)
}

// readDB runs fn with the whole database locked.
func (c *Ctx) readDB(fn func(v *projection.View)) {
	if c.tx != nil {
		c.read(nil, fn)
		return
	}
	if err := c.Env.Proj.ViewDB(c.Client.db, fn); err != nil {
		c.W.Error(errDBIndex)
	}
}

// atomically runs fn with one all-databases view active, so every read
// inside (EXEC's queued commands) sees one consistent state.
func (c *Ctx) atomically(fn func()) {
	if c.Env.Proj == nil || c.tx != nil {
		fn()
		return
	}
	c.Env.Proj.ViewAll(func(v *projection.View) {
		c.tx = v
		defer func() { c.tx = nil }()
		fn()
	})
	c.flushPFWrites()
}

// checkType writes WRONGTYPE and returns false when x exists with another
// kind than want (Redis's checkType).
func (c *Ctx) checkType(x projection.Value, want rdbparse.Kind) bool {
	if x.Exists() && x.Kind() != want {
		c.W.Error(errWrongType)
		return false
	}
	return true
}

// lookup counts a keyspace hit or miss, as lookupKeyRead does.
func (c *Ctx) lookup(v *projection.View, key []byte) projection.Value {
	x := v.Get(key)
	if x.Exists() {
		c.Client.nHits++
	} else {
		c.Client.nMisses++
	}
	return x
}

// ---- commands ----

func existsCommand(c *Ctx, args [][]byte) {
	c.read(args[1:], func(v *projection.View) {
		n := 0
		for _, k := range args[1:] {
			if c.lookup(v, k).Exists() {
				n++
			}
		}
		c.W.Int(int64(n))
	})
}

func touchCommand(c *Ctx, args [][]byte) { existsCommand(c, args) }

func typeCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		c.W.Status(c.lookup(v, args[1]).Type())
	})
}

func ttlGeneric(c *Ctx, key []byte, ms, abs bool) {
	c.read1(key, func(v *projection.View) {
		x := c.lookup(v, key)
		exp := x.ExpireMs()
		if exp < 0 {
			c.W.Int(exp)
			return
		}
		// ttlGenericCommand: the absolute forms report the expire time,
		// rounded to seconds the same way as TTL.
		ttl := exp
		if !abs {
			ttl = exp - v.Now()
			if ttl < 0 {
				ttl = 0
			}
		}
		if ms {
			c.W.Int(ttl)
		} else {
			c.W.Int((ttl + 500) / 1000)
		}
	})
}

func ttlCommand(c *Ctx, args [][]byte)         { ttlGeneric(c, args[1], false, false) }
func pttlCommand(c *Ctx, args [][]byte)        { ttlGeneric(c, args[1], true, false) }
func expiretimeCommand(c *Ctx, args [][]byte)  { ttlGeneric(c, args[1], false, true) }
func pexpiretimeCommand(c *Ctx, args [][]byte) { ttlGeneric(c, args[1], true, true) }

func keysCommand(c *Ctx, args [][]byte) {
	pat := args[1]
	all := len(pat) == 1 && pat[0] == '*'
	c.readDB(func(v *projection.View) {
		at := c.W.Defer()
		n := 0
		v.Keys(func(key []byte, _ projection.Value) bool {
			if all || StringMatch(pat, key, false) {
				c.W.Bulk(key)
				n++
			}
			return true
		})
		c.W.SetArray(at, n)
	})
}

func dbsizeCommand(c *Ctx, args [][]byte) {
	n, err := c.Env.Proj.DBSize(c.Client.db)
	if err != nil {
		c.W.Error(errDBIndex)
		return
	}
	c.W.Int(n)
}

func randomkeyCommand(c *Ctx, args [][]byte) {
	c.readDB(func(v *projection.View) {
		k, ok := v.RandomKey(nil)
		if !ok {
			c.W.Null()
			return
		}
		c.W.Bulk(k)
	})
}

func dumpCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Null()
			return
		}
		p, err := x.Dump()
		if err != nil {
			c.W.Error("ERR vdr: DUMP is not supported yet")
			return
		}
		c.W.Bulk(relabelDump(p, c.Version().RDBVersion()))
	})
}

func objectEncodingCommand(c *Ctx, args [][]byte) {
	c.read1(args[2], func(v *projection.View) {
		x := c.lookup(v, args[2])
		if !x.Exists() {
			c.W.Null()
			return
		}
		c.W.BulkString(x.Encoding())
	})
}

func objectFreqCommand(c *Ctx, args [][]byte) {
	c.read1(args[2], func(v *projection.View) {
		if !c.lookup(v, args[2]).Exists() {
			c.W.Null()
			return
		}
		// vdr reports maxmemory-policy noeviction, as a default replica.
		c.W.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	})
}

func objectIdletimeCommand(c *Ctx, args [][]byte) {
	c.read1(args[2], func(v *projection.View) {
		if !c.lookup(v, args[2]).Exists() {
			c.W.Null()
			return
		}
		c.W.Int(v.Get(args[2]).IdleSeconds(c.Env.Proj))
	})
}

func objectRefcountCommand(c *Ctx, args [][]byte) {
	c.read1(args[2], func(v *projection.View) {
		x := c.lookup(v, args[2])
		if !x.Exists() {
			c.W.Null()
			return
		}
		// Small integers are shared objects (OBJ_SHARED_INTEGERS) whose
		// refcount reads as INT_MAX under a non-LRU/LFU policy.
		if x.Kind() == rdbparse.KindString && x.Encoding() == "int" {
			if n, ok := parseInt(x.Bytes()); ok && n >= 0 && n < 10000 {
				c.W.Int(2147483647)
				return
			}
		}
		c.W.Int(1)
	})
}

// memoryUsageCommand is MEMORY USAGE key [SAMPLES count] (src/object.c
// memoryCommand): a collection's size is estimated from count elements
// (default 5, 0 for all), so its cost is O(count).
func memoryUsageCommand(c *Ctx, args [][]byte) {
	samples := int64(projection.DefaultMemorySamples)
	for j := 3; j < len(args); j++ {
		if equalFold(args[j], "samples") && j+1 < len(args) {
			n, ok := parseInt(args[j+1])
			if !ok {
				c.W.Error(errNotInteger)
				return
			}
			if n < 0 {
				c.W.Error(errSyntax)
				return
			}
			samples = n // 0: all (LLONG_MAX in Redis)
			j++
			continue
		}
		c.W.Error(errSyntax)
		return
	}
	if samples > math.MaxInt32 {
		samples = 0
	}
	c.read1(args[2], func(v *projection.View) {
		// A logically expired key still has a size: memoryCommand finds it
		// in the dict without a lookup (no expiry check, no access time).
		if !v.Peek(args[2]).Exists() {
			c.W.Null()
			return
		}
		c.W.Int(v.MemoryUsage(args[2], int(samples)))
	})
}

// ---- SCAN ----

// scanOpts are the parsed options of SCAN/SSCAN/HSCAN/ZSCAN.
type scanOpts struct {
	count int64
	pat   []byte
	typ   []byte
	// noValues: HSCAN … NOVALUES (7.4, Valkey 8) or ZSCAN … NOSCORES
	// (Valkey 8) — reply with the fields or members only.
	noValues bool
}

// parseScanCursor mirrors parseScanCursorOrReply (src/db.c), which is
// strtoul(3) refusing a leading space, trailing bytes and ERANGE: an
// optional sign, then decimal digits; "-n" wraps to 2⁶⁴-n (so "SCAN -1"
// is cursor 18446744073709551615), and "" is 0.
func parseScanCursor(c *Ctx, b []byte) (uint64, bool) {
	parse := parseStrtoul
	if c.Version().ScanCursorULL() {
		parse = parseString2ull
	}
	v, ok := parse(b)
	if !ok {
		c.W.Error("ERR invalid cursor")
		return 0, false
	}
	return v, true
}

// parseStrtoul is strtoul(b, &end, 10) with *end == '\0', no leading
// space and no ERANGE.
func parseStrtoul(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true // no digits: strtoul returns 0 with end at the NUL
	}
	return signedDigits(b)
}

// parseString2ull is Redis 7.4's and Valkey 8.0's cursor parsing
// (string2ull in src/util.c): a strict decimal that must not be negative,
// else strtoull over the whole string (leading blanks and a sign allowed,
// at least one digit, no ERANGE).
func parseString2ull(b []byte) (uint64, bool) {
	if v, ok := parseInt(b); ok {
		return uint64(v), v >= 0
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	return signedDigits(b[i:])
}

// signedDigits is the rest of strtoul/strtoull in base 10 once blanks are
// skipped: an optional sign (a minus wraps, as in C), then at least one
// digit and nothing else, without overflow.
func signedDigits(d []byte) (uint64, bool) {
	neg := false
	if len(d) > 0 && (d[0] == '+' || d[0] == '-') {
		neg = d[0] == '-'
		d = d[1:]
	}
	if len(d) == 0 {
		return 0, false // no digits: the end stays at the sign
	}
	var v uint64
	for _, ch := range d {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		x := uint64(ch - '0')
		if v > (math.MaxUint64-x)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + x
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseScanOpts mirrors step 1 of scanGenericCommand; kind is the type of
// the value scanned (rdbparse.KindHash for HSCAN …), ignored for SCAN.
func parseScanOpts(c *Ctx, args [][]byte, i int, isKeyspace bool, kind rdbparse.Kind) (scanOpts, bool) {
	o := scanOpts{count: 10}
	ver := c.Version()
	for i < len(args) {
		j := len(args) - i
		switch {
		case equalFold(args[i], "count") && j >= 2:
			n, ok := parseInt(args[i+1])
			if !ok {
				c.W.Error(errNotInteger)
				return o, false
			}
			if n < 1 {
				c.W.Error(errSyntax)
				return o, false
			}
			o.count = n
			i += 2
		case equalFold(args[i], "match") && j >= 2:
			o.pat = args[i+1]
			if len(o.pat) == 1 && o.pat[0] == '*' {
				o.pat = nil
			}
			i += 2
		case equalFold(args[i], "type") && isKeyspace && j >= 2:
			o.typ = args[i+1]
			if ver.ScanRejectsUnknownType() && !knownTypeName(o.typ) {
				c.W.Error("ERR unknown type name '" + string(o.typ) + "'")
				return o, false
			}
			i += 2
		case equalFold(args[i], "novalues") && ver.HScanNoValues():
			if isKeyspace || kind != rdbparse.KindHash {
				c.W.Error("ERR NOVALUES option can only be used in HSCAN")
				return o, false
			}
			o.noValues = true
			i++
		case equalFold(args[i], "noscores") && ver.ZScanNoScores():
			if isKeyspace || kind != rdbparse.KindZSet {
				c.W.Error("ERR NOSCORES option can only be used in ZSCAN")
				return o, false
			}
			o.noValues = true
			i++
		default:
			c.W.Error(errSyntax)
			return o, false
		}
	}
	return o, true
}

// knownTypeName reports whether name is a type SCAN … TYPE knows
// (obj_type_name, case-insensitively; Valkey 8's getObjectTypeByName).
func knownTypeName(name []byte) bool {
	for _, t := range [...]string{"string", "list", "set", "zset", "hash", "stream"} {
		if equalFold(name, t) {
			return true
		}
	}
	return false
}

func (o *scanOpts) match(b []byte) bool {
	return o.pat == nil || StringMatch(o.pat, b, false)
}

func writeScanReply(w *Writer, cursor uint64, items [][]byte) {
	w.Array(2)
	var tmp [24]byte
	w.Bulk(strconv.AppendUint(tmp[:0], cursor, 10))
	w.Array(len(items))
	for _, it := range items {
		w.Bulk(it)
	}
}

func scanCommand(c *Ctx, args [][]byte) {
	cursor, ok := parseScanCursor(c, args[1])
	if !ok {
		return
	}
	o, ok := parseScanOpts(c, args, 2, true, 0)
	if !ok {
		return
	}
	var items [][]byte
	add := func(key []byte, val projection.Value) {
		if o.typ != nil && !strings.EqualFold(string(o.typ), val.Type()) {
			return
		}
		if !o.match(key) {
			return
		}
		items = append(items, append([]byte(nil), key...))
	}
	if c.tx != nil {
		// Inside EXEC the whole keyspace is already locked: return it all
		// in one step (cursor 0), which meets SCAN's guarantees.
		c.readDB(func(v *projection.View) {
			v.Keys(func(key []byte, val projection.Value) bool { add(key, val); return true })
		})
		writeScanReply(c.W, 0, items)
		return
	}
	next, err := c.Env.Proj.Scan(c.Client.db, cursor, int(min(o.count, 1<<20)), add)
	if err != nil {
		c.W.Error(errDBIndex)
		return
	}
	writeScanReply(c.W, next, items)
}

// ---- glob matching ----

// StringMatch reports whether s matches the glob pattern as Redis's
// stringmatchlen does: * ? [set] [^set] [a-z] and \ escapes; nocase folds
// ASCII case.
func StringMatch(pat, s []byte, nocase bool) bool {
	skipLongerMatches := false
	return stringMatch(pat, s, nocase, &skipLongerMatches, 0)
}

func lowerByte(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func stringMatch(p, s []byte, nocase bool, skip *bool, nesting int) bool {
	// Guard against pathological patterns (src/util.c uses 1000).
	if nesting > 1000 {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if stringMatch(p[1:], s, nocase, skip, nesting+1) {
					return true
				}
				if *skip {
					return false
				}
				s = s[1:]
			}
			*skip = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) > 0 && p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if len(p) > 0 && p[0] == ']' {
					break
				} else if len(p) == 0 {
					// Unterminated set: Redis steps back one so the
					// outer loop ends on this character.
					p = []byte{0}
					p = p[:0]
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end := p[0], p[2]
					ch := s[0]
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, ch = lowerByte(start), lowerByte(end), lowerByte(ch)
					}
					p = p[2:]
					if ch >= start && ch <= end {
						match = true
					}
				} else {
					if nocase {
						if lowerByte(p[0]) == lowerByte(s[0]) {
							match = true
						}
					} else if p[0] == s[0] {
						match = true
					}
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			if len(p) == 0 {
				// The set ran to the end of the pattern.
				return len(s) == 0
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if nocase {
				if lowerByte(p[0]) != lowerByte(s[0]) {
					return false
				}
			} else if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

// elementScan is SSCAN, HSCAN and ZSCAN: the cursor, the key's type, the
// MATCH/COUNT options and the reply are common (src/db.c scanGenericCommand);
// scan walks one step of the value and returns the items to reply with
// and the next cursor.
func elementScan(c *Ctx, args [][]byte, kind rdbparse.Kind, scan func(x projection.Value, cursor uint64, o *scanOpts) ([][]byte, uint64)) {
	cursor, ok := parseScanCursor(c, args[2])
	if !ok {
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.RawString("*2\r\n$1\r\n0\r\n*0\r\n")
			return
		}
		if !c.checkType(x, kind) {
			return
		}
		o, ok := parseScanOpts(c, args, 3, false, kind)
		if !ok {
			return
		}
		items, next := scan(x, cursor, &o)
		writeScanReply(c.W, next, items)
	})
}

// relabelDump makes a DUMP payload (fresh, owned by the caller) declare
// the personality's RDB version, as that server's DUMP does (createDumpPayload
// writes RDB_VERSION), when it is newer than the payload's: the 2-byte
// version and the CRC64 after it are rewritten.
func relabelDump(p []byte, rdbVersion int) []byte {
	if len(p) < 10 || int(binary.LittleEndian.Uint16(p[len(p)-10:])) >= rdbVersion {
		return p
	}
	binary.LittleEndian.PutUint16(p[len(p)-10:], uint16(rdbVersion))
	binary.LittleEndian.PutUint64(p[len(p)-8:], rdbparse.CRC64(p[:len(p)-8]))
	return p
}
