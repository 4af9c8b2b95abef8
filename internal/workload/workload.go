// Package workload generates the seeded random write workloads of the
// differential tests: client commands over a small keyspace of every
// type (strings, lists, sets, sorted sets, hashes), with keyspace
// commands (EXPIRE, RENAME, MOVE, COPY, SWAPDB, FLUSHDB/FLUSHALL), reads
// whose lazy expiry the primary propagates as DEL/UNLINK, and extra
// generators for bitmaps and HyperLogLogs, SORT/GEO … STORE, and streams.
// A test sends W.Cmd's commands to a real primary (which propagates what
// it accepted) and compares what its replicas did.
//
// It is a copy of the generators of projection's differential tests
// (diff_test.go, diff_bits_test.go, diff_sortgeo_test.go,
// diff_stream_test.go), which other packages' tests cannot import.
//
// It does not talk to any server.
package workload

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// W generates commands; it is not safe for concurrent use.
type W struct {
	r    *rand.Rand
	db   int
	keys []string
	// Extra generates commands beyond the core five types (bitmaps, HLL,
	// streams, SORT, geo…); when set, Cmd draws from it one time in three.
	Extra func(w *W) []string
}

// New returns a generator for seed.
func New(seed int64) *W {
	w := &W{r: rand.New(rand.NewPCG(uint64(seed), 0x5eed))}
	for i := 0; i < 16; i++ {
		w.keys = append(w.keys, "k"+strconv.Itoa(i))
	}
	// Keys that end in a number, as most keyspaces' do: the projection
	// stores those of six digits or more packed (projection/keypack.go),
	// an odd run with its first digit unpacked, all digits, and a key too
	// long to pack.
	w.keys = append(w.keys, "user:000123", "order:2024:1234567", "90210123456",
		"session:"+strings.Repeat("a", 45)+"0123456789")
	return w
}

// Rand is the generator's random source (for the test's own choices, so
// that one seed reproduces the whole run).
func (w *W) Rand() *rand.Rand { return w.r }

// Key returns one of the core keys.
func (w *W) Key() string { return w.key() }

// TTLMs returns a TTL in ms: short (expires during the run) or long.
func (w *W) TTLMs() int64 { return w.ttlMs() }

// Val returns a random value of the kinds the workload writes.
func (w *W) Val() string { return w.val() }

// Cmd returns the next command.
func (w *W) Cmd() []string { return w.cmd() }

// Bits generates bitmap and HyperLogLog commands (an Extra).
func Bits(w *W) []string { return bitsExtra(w) }

// SortGeo generates SORT … STORE and GEO … STORE commands with the keys
// they read (an Extra).
func SortGeo(w *W) []string { return sortGeoCommand(w) }

// Streams returns a generator of stream commands (an Extra).
func Streams() func(w *W) []string { return streamWorkload() }

// Mix returns an Extra drawing from each of gens in turn at random.
func Mix(gens ...func(w *W) []string) func(w *W) []string {
	return func(w *W) []string { return gens[w.r.IntN(len(gens))](w) }
}

func (w *W) val() string {
	switch w.r.IntN(10) {
	case 0, 1, 2:
		return strconv.Itoa(w.r.IntN(200) - 50)
	case 3:
		return strings.Repeat("x", 40+w.r.IntN(40)) // around the 44/64 byte limits
	case 4:
		return ""
	case 5:
		return "1.5"
	default:
		return "v" + strconv.Itoa(w.r.IntN(30))
	}
}

func (w *W) key() string { return w.keys[w.r.IntN(len(w.keys))] }

func (w *W) member() string {
	if w.r.IntN(20) == 0 {
		return strings.Repeat("m", 60+w.r.IntN(10))
	}
	if w.r.IntN(3) == 0 {
		return strconv.Itoa(w.r.IntN(40))
	}
	return "m" + strconv.Itoa(w.r.IntN(40))
}

func (w *W) score() string {
	switch w.r.IntN(12) {
	case 0:
		return "inf"
	case 1:
		return "-inf"
	case 2:
		return "1.5e1"
	case 3:
		return strconv.FormatFloat(w.r.Float64()*10-5, 'g', -1, 64)
	case 4:
		return "0.1"
	default:
		return strconv.Itoa(w.r.IntN(20) - 5)
	}
}

func (w *W) idx() string { return strconv.Itoa(w.r.IntN(14) - 7) }

func (w *W) ttlMs() int64 {
	if w.r.IntN(2) == 0 {
		return int64(20 + w.r.IntN(200)) // expires during the run
	}
	return int64(100000 + w.r.IntN(100000))
}

func (w *W) cmd() []string {
	if w.Extra != nil && w.r.IntN(3) == 0 {
		return w.Extra(w)
	}
	k := w.key()
	now := time.Now().UnixMilli()
	pick := func(xs ...string) string { return xs[w.r.IntN(len(xs))] }
	switch w.r.IntN(72) {
	case 0:
		return []string{"SET", k, w.val()}
	case 1:
		c := []string{"SET", k, w.val()}
		switch w.r.IntN(6) {
		case 0:
			c = append(c, "PX", strconv.FormatInt(w.ttlMs(), 10))
		case 1:
			c = append(c, "EX", "1000")
		case 2:
			c = append(c, "PXAT", strconv.FormatInt(now+w.ttlMs(), 10))
		case 3:
			c = append(c, "KEEPTTL")
		case 4:
			c = append(c, "EXAT", strconv.FormatInt(now/1000+500, 10))
		}
		if w.r.IntN(3) == 0 {
			c = append(c, pick("NX", "XX", "nx", "xx"))
		}
		if w.r.IntN(3) == 0 {
			c = append(c, "GET")
		}
		return c
	case 2:
		return []string{pick("SETEX", "PSETEX"), k, strconv.FormatInt(w.ttlMs()/10+1, 10), w.val()}
	case 3:
		return []string{"SETNX", k, w.val()}
	case 4:
		return []string{"GETSET", k, w.val()}
	case 5:
		return []string{"GETDEL", k}
	case 6:
		return []string{"GETEX", k, pick("PX", "EX", "PERSIST", "PXAT"), strconv.FormatInt(now+w.ttlMs(), 10)}[:3+w.r.IntN(2)]
	case 7:
		return []string{"MSET", k, w.val(), w.key(), w.val()}
	case 8:
		return []string{"MSETNX", k, w.val(), w.key(), w.val()}
	case 9:
		return []string{"APPEND", k, w.val()}
	case 10:
		return []string{"SETRANGE", k, strconv.Itoa(w.r.IntN(10) * (1 + 10*w.r.IntN(2))), w.val()}
	case 11:
		return []string{pick("INCR", "DECR"), k}
	case 12:
		return []string{pick("INCRBY", "DECRBY"), k, strconv.Itoa(w.r.IntN(1000) - 500)}
	case 13:
		return []string{"INCRBYFLOAT", k, pick("1.5", "0.1", "-3", "1e3", "2.0e-3")}
	case 14:
		return []string{pick("DEL", "UNLINK"), k, w.key()}
	case 15:
		c := []string{pick("EXPIRE", "PEXPIRE", "PEXPIREAT", "EXPIREAT"), k}
		switch c[0] {
		case "EXPIRE":
			c = append(c, strconv.Itoa(100+w.r.IntN(100)))
		case "PEXPIRE":
			c = append(c, strconv.FormatInt(w.ttlMs(), 10))
		case "PEXPIREAT":
			c = append(c, strconv.FormatInt(now+w.ttlMs(), 10))
		default:
			c = append(c, strconv.FormatInt(now/1000+300, 10))
		}
		if w.r.IntN(2) == 0 {
			c = append(c, pick("NX", "XX", "GT", "LT", "gt"))
		}
		return c
	case 16:
		return []string{"PERSIST", k}
	case 17:
		return []string{pick("RENAME", "RENAMENX"), k, w.key()}
	case 18:
		return []string{"MOVE", k, strconv.Itoa(w.r.IntN(3))}
	case 19:
		c := []string{"COPY", k, w.key()}
		if w.r.IntN(2) == 0 {
			c = append(c, "DB", strconv.Itoa(w.r.IntN(3)))
		}
		if w.r.IntN(2) == 0 {
			c = append(c, "REPLACE")
		}
		return c
	case 20:
		if w.r.IntN(8) == 0 {
			return []string{"SWAPDB", strconv.Itoa(w.r.IntN(3)), strconv.Itoa(w.r.IntN(3))}
		}
		if w.r.IntN(30) == 0 {
			return []string{"FLUSHDB", pick("ASYNC", "SYNC")}[:1+w.r.IntN(2)]
		}
		if w.r.IntN(60) == 0 {
			return []string{"FLUSHALL"}
		}
		w.db = w.r.IntN(3)
		return []string{"SELECT", strconv.Itoa(w.db)}
	case 21, 22:
		c := []string{pick("LPUSH", "RPUSH", "lpush"), k}
		for n := 1 + w.r.IntN(4); n > 0; n-- {
			c = append(c, w.val())
		}
		return c
	case 23:
		return []string{pick("LPUSHX", "RPUSHX"), k, w.val()}
	case 24:
		return []string{"LINSERT", k, pick("BEFORE", "AFTER", "after"), w.val(), w.val()}
	case 25:
		return []string{"LSET", k, w.idx(), w.val()}
	case 26:
		return []string{"LREM", k, strconv.Itoa(w.r.IntN(5) - 2), w.val()}
	case 27:
		return []string{"LTRIM", k, w.idx(), w.idx()}
	case 28:
		c := []string{pick("LPOP", "RPOP"), k}
		if w.r.IntN(2) == 0 {
			c = append(c, strconv.Itoa(w.r.IntN(4)))
		}
		return c
	case 29:
		return []string{"RPOPLPUSH", k, w.key()}
	case 30:
		return []string{"LMOVE", k, w.key(), pick("LEFT", "RIGHT"), pick("left", "RIGHT")}
	case 31:
		return []string{"LMPOP", "2", k, w.key(), pick("LEFT", "RIGHT"), "COUNT", strconv.Itoa(1 + w.r.IntN(3))}
	case 32, 33:
		c := []string{"SADD", k}
		for n := 1 + w.r.IntN(4); n > 0; n-- {
			c = append(c, w.member())
		}
		return c
	case 34:
		return []string{"SREM", k, w.member(), w.member()}
	case 35:
		return []string{"SMOVE", k, w.key(), w.member()}
	case 36:
		c := []string{"SPOP", k}
		if w.r.IntN(2) == 0 {
			c = append(c, strconv.Itoa(w.r.IntN(4)))
		}
		return c
	case 37:
		return []string{pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), k, w.key(), w.key()}
	case 38, 39, 40:
		c := []string{pick("ZADD", "zadd"), k}
		for _, f := range []string{"NX", "XX", "GT", "LT", "CH"} {
			if w.r.IntN(8) == 0 {
				c = append(c, f)
			}
		}
		if w.r.IntN(6) == 0 {
			return append(c, "INCR", w.score(), w.member())
		}
		for n := 1 + w.r.IntN(3); n > 0; n-- {
			c = append(c, w.score(), w.member())
		}
		return c
	case 41:
		return []string{"ZINCRBY", k, w.score(), w.member()}
	case 42:
		return []string{"ZREM", k, w.member(), w.member()}
	case 43:
		return []string{"ZREMRANGEBYSCORE", k, pick("-inf", "(1", "0", "2"), pick("+inf", "5", "(3")}
	case 44:
		return []string{"ZREMRANGEBYRANK", k, w.idx(), w.idx()}
	case 45:
		// Lex ranges are defined only over equal scores (with mixed scores
		// a skiplist's answer depends on its random levels, and a real
		// replica can differ from its own primary), so they get their own
		// keys, which only ever hold score 0.
		lk := pick("L0", "L1")
		switch w.r.IntN(3) {
		case 0:
			c := []string{"ZADD", lk}
			for n := 1 + w.r.IntN(5); n > 0; n-- {
				c = append(c, "0", w.member())
			}
			if w.r.IntN(10) == 0 {
				for i := 0; i < 130; i++ {
					c = append(c, "0", "q"+strconv.Itoa(w.r.IntN(300)))
				}
			}
			return c
		case 1:
			return []string{"ZREMRANGEBYLEX", lk, pick("-", "[m1", "(m2"), pick("+", "[m3", "(m5")}
		default:
			return []string{"ZRANGESTORE", pick("L0", "L1"), lk, pick("-", "[m1"), pick("+", "(m5", "[q5"), "BYLEX", "LIMIT", "0", strconv.Itoa(w.r.IntN(200) - 1)}
		}
	case 46:
		c := []string{pick("ZPOPMIN", "ZPOPMAX"), k}
		if w.r.IntN(2) == 0 {
			c = append(c, strconv.Itoa(w.r.IntN(4)))
		}
		return c
	case 47:
		return []string{"ZMPOP", "1", k, pick("MIN", "MAX"), "COUNT", strconv.Itoa(1 + w.r.IntN(3))}
	case 48, 49:
		c := []string{pick("ZUNIONSTORE", "ZINTERSTORE"), k, "2", w.key(), w.key()}
		if w.r.IntN(2) == 0 {
			c = append(c, "WEIGHTS", pick("1", "2", "0.5", "-1", "0"), pick("1", "3", "inf"))
		}
		if w.r.IntN(2) == 0 {
			c = append(c, "AGGREGATE", pick("SUM", "MIN", "MAX", "max"))
		}
		return c
	case 50:
		return []string{"ZDIFFSTORE", k, "2", w.key(), w.key()}
	case 51:
		switch w.r.IntN(3) {
		case 0:
			c := []string{"ZRANGESTORE", k, w.key(), w.idx(), w.idx()}
			if w.r.IntN(2) == 0 {
				c = append(c, "REV")
			}
			return c
		case 1:
			c := []string{"ZRANGESTORE", k, w.key(), pick("-inf", "0", "(1"), pick("+inf", "5", "(10"), "BYSCORE"}
			if w.r.IntN(2) == 0 {
				c = []string{"ZRANGESTORE", k, w.key(), pick("+inf", "5"), pick("-inf", "(0"), "BYSCORE", "REV"}
			}
			if w.r.IntN(2) == 0 {
				c = append(c, "LIMIT", strconv.Itoa(w.r.IntN(3)), strconv.Itoa(w.r.IntN(5)-1))
			}
			return c
		default:
			return []string{"ZRANGESTORE", k, w.key(), "-1", "-3", "REV"}
		}
	case 52, 53, 54:
		c := []string{pick("HSET", "HMSET"), k}
		for n := 1 + w.r.IntN(3); n > 0; n-- {
			c = append(c, "f"+strconv.Itoa(w.r.IntN(20)), w.val())
		}
		return c
	case 55:
		return []string{"HSETNX", k, "f" + strconv.Itoa(w.r.IntN(20)), w.val()}
	case 56:
		return []string{"HDEL", k, "f" + strconv.Itoa(w.r.IntN(20)), "f" + strconv.Itoa(w.r.IntN(20))}
	case 57:
		return []string{"HINCRBY", k, "f" + strconv.Itoa(w.r.IntN(20)), strconv.Itoa(w.r.IntN(100) - 50)}
	case 58:
		return []string{"HINCRBYFLOAT", k, "f" + strconv.Itoa(w.r.IntN(20)), pick("1.5", "0.1", "-2")}
	case 59:
		// grow a collection past the listpack/intset limits
		switch w.r.IntN(4) {
		case 0:
			c := []string{"RPUSH", k}
			for i := 0; i < 130; i++ {
				c = append(c, strconv.Itoa(i))
			}
			return c
		case 1:
			c := []string{"SADD", k}
			for i := 0; i < 130; i++ {
				c = append(c, strconv.Itoa(w.r.IntN(600)))
			}
			return c
		case 2:
			c := []string{"ZADD", k}
			for i := 0; i < 130; i++ {
				c = append(c, strconv.Itoa(w.r.IntN(50)), "z"+strconv.Itoa(i))
			}
			return c
		default:
			c := []string{"HSET", k}
			for i := 0; i < 130; i++ {
				c = append(c, "h"+strconv.Itoa(i), strconv.Itoa(i))
			}
			return c
		}
	case 60:
		return []string{"SET", k, w.val(), "PXAT", "1000"} // already expired
	case 61:
		return []string{"BLPOP", k, w.key(), "0.01"}
	case 62:
		return []string{"BZPOPMIN", k, "0.01"}
	case 63:
		return []string{"SPOP", k, strconv.Itoa(20)}
	default:
		// reads: lazy expiry on access sends DELs
		return []string{pick("GET", "EXISTS", "TYPE", "LLEN", "SCARD", "ZCARD", "HLEN", "TTL"), k}
	}
}

// bitsExtra generates bitmap and HyperLogLog commands for the
// differential test: on their own keys (b*, h*) and on the workload's
// keys, where they collide with other types (the primary answers
// WRONGTYPE and propagates nothing) and with each other (SETBIT or
// SETRANGE over an HLL leaves a corrupt one that later PFADDs refuse).
func bitsExtra(w *W) []string {
	key := func(prefix string) string {
		if w.r.IntN(4) == 0 {
			return w.key()
		}
		return prefix + strconv.Itoa(w.r.IntN(4))
	}
	off := func() string {
		if w.r.IntN(10) == 0 {
			return strconv.Itoa(w.r.IntN(5000))
		}
		return strconv.Itoa(w.r.IntN(200))
	}
	elem := func() string {
		if w.r.IntN(2) == 0 {
			return strconv.Itoa(w.r.IntN(1000))
		}
		return w.val()
	}
	switch n := w.r.IntN(20); {
	case n < 3:
		return []string{"SETBIT", key("b"), off(), strconv.Itoa(w.r.IntN(2))}
	case n < 5:
		ops := []string{"AND", "OR", "XOR", "NOT"}
		op := ops[w.r.IntN(4)]
		c := []string{"BITOP", op, key("b")}
		srcs := 1
		if op != "NOT" {
			srcs += w.r.IntN(3)
		}
		for i := 0; i < srcs; i++ {
			c = append(c, key("b"))
		}
		return c
	case n < 8:
		c := []string{"BITFIELD", key("b")}
		for i := 1 + w.r.IntN(4); i > 0; i-- {
			typ := "u" + strconv.Itoa(1+w.r.IntN(63))
			if w.r.IntN(2) == 0 {
				typ = "i" + strconv.Itoa(1+w.r.IntN(64))
			}
			o := off()
			if w.r.IntN(4) == 0 {
				o = "#" + strconv.Itoa(w.r.IntN(20))
			}
			var v string
			switch w.r.IntN(4) {
			case 0:
				v = strconv.FormatInt(int64(w.r.Uint64()), 10)
			case 1:
				v = strconv.Itoa(w.r.IntN(600) - 300)
			default:
				v = strconv.Itoa(w.r.IntN(20) - 10)
			}
			switch w.r.IntN(5) {
			case 0:
				c = append(c, "GET", typ, o)
			case 1:
				c = append(c, "OVERFLOW", []string{"WRAP", "SAT", "FAIL"}[w.r.IntN(3)])
				fallthrough
			case 2:
				c = append(c, "SET", typ, o, v)
			default:
				c = append(c, "INCRBY", typ, o, v)
			}
		}
		return c
	case n < 9:
		return []string{"SETRANGE", key("b"), off(), w.val()}
	case n < 10:
		return []string{"APPEND", key("b"), w.val()}
	case n < 11:
		return []string{"GETRANGE", key("b"), "0", "-1"}
	case n < 15:
		c := []string{"PFADD", key("h")}
		cnt := w.r.IntN(6)
		if w.r.IntN(10) == 0 {
			cnt = 20 + w.r.IntN(200)
		}
		for i := 0; i < cnt; i++ {
			c = append(c, elem())
		}
		return c
	case n < 16:
		c := []string{"PFMERGE", key("h")}
		for i := w.r.IntN(3); i > 0; i-- {
			c = append(c, key("h"))
		}
		return c
	case n < 19:
		c := []string{"PFCOUNT", key("h")}
		if w.r.IntN(3) == 0 {
			c = append(c, key("h"))
		}
		return c
	default:
		return []string{"PFDEBUG", "TODENSE", key("h")}
	}
}

// geoCenters are the areas the geo workload draws points around: two
// cities, the origin, and corners next to the GEO limits.
var geoCenters = [][2]float64{{13.361389, 38.115556}, {-73.98, 40.75}, {0, 0}, {179.5, 84.5}, {-179.9, -84.9}}

func (w *W) geoPoint() (string, string) {
	c := geoCenters[w.r.IntN(len(geoCenters))]
	lon := min(max(c[0]+(w.r.Float64()*2-1)*w.r.Float64()*3, -180), 180)
	lat := min(max(c[1]+(w.r.Float64()*2-1)*w.r.Float64()*3, -85.05112878), 85.05112878)
	return strconv.FormatFloat(lon, 'f', -1, 64), strconv.FormatFloat(lat, 'f', -1, 64)
}

func (w *W) geoKey() string {
	if w.r.IntN(8) == 0 {
		return w.key() // any type: WRONGTYPE on the primary, nothing propagated
	}
	return "g" + strconv.Itoa(w.r.IntN(4))
}

func (w *W) dstKey() string {
	if w.r.IntN(4) == 0 {
		return w.key()
	}
	return "d" + strconv.Itoa(w.r.IntN(4))
}

func pickOne(w *W, s ...string) string { return s[w.r.IntN(len(s))] }

// geoOpts appends a random radius or box, order and COUNT [ANY].
func (w *W) geoOpts(c []string, byRadius bool) []string {
	size := strconv.FormatFloat(float64(1+w.r.IntN(400))*pow10(w.r.IntN(3)), 'f', -1, 64)
	unit := pickOne(w, "m", "km", "mi", "ft", "KM")
	if unit == "m" || unit == "ft" {
		size += "000"
	}
	if byRadius {
		c = append(c, size, unit)
	} else {
		c = append(c, size, strconv.Itoa(1+w.r.IntN(300)), unit)
	}
	switch w.r.IntN(3) {
	case 1:
		c = append(c, "ASC")
	case 2:
		c = append(c, "DESC")
	}
	if w.r.IntN(3) == 0 {
		c = append(c, "COUNT", strconv.Itoa(1+w.r.IntN(8)))
		if w.r.IntN(2) == 0 {
			c = append(c, "ANY")
		}
	}
	return c
}

func pow10(n int) float64 {
	f := 1.0
	for range n {
		f *= 10
	}
	return f
}

// sortGeoCommand is the extra generator of TestDifferentialSortGeo.
func sortGeoCommand(w *W) []string {
	switch n := w.r.IntN(100); {
	case n < 25: // GEOADD (a ZADD on the link)
		c := []string{"GEOADD", w.geoKey()}
		for range 1 + w.r.IntN(4) {
			lon, lat := w.geoPoint()
			c = append(c, lon, lat, w.member())
		}
		return c
	case n < 35: // GEOSEARCHSTORE
		c := []string{"GEOSEARCHSTORE", w.dstKey(), w.geoKey()}
		if w.r.IntN(2) == 0 {
			c = append(c, "FROMMEMBER", w.member())
		} else {
			lon, lat := w.geoPoint()
			c = append(c, "FROMLONLAT", lon, lat)
		}
		radius := w.r.IntN(2) == 0
		if radius {
			c = append(c, "BYRADIUS")
		} else {
			c = append(c, "BYBOX")
		}
		c = w.geoOpts(c, radius)
		if w.r.IntN(2) == 0 {
			c = append(c, "STOREDIST")
		}
		return c
	case n < 43: // GEORADIUS … STORE|STOREDIST
		lon, lat := w.geoPoint()
		c := w.geoOpts([]string{"GEORADIUS", w.geoKey(), lon, lat}, true)
		return append(c, pickOne(w, "STORE", "STOREDIST"), w.dstKey())
	case n < 50: // GEORADIUSBYMEMBER … STORE|STOREDIST
		c := w.geoOpts([]string{"GEORADIUSBYMEMBER", w.geoKey(), w.member()}, true)
		return append(c, pickOne(w, "STORE", "STOREDIST"), w.dstKey())
	case n < 58: // the keys BY and GET patterns read
		m := w.member()
		if w.r.IntN(2) == 0 {
			v := strconv.Itoa(w.r.IntN(50) - 10)
			if w.r.IntN(6) == 0 {
				v = pickOne(w, "x"+m, "1.5", "", " 7", "inf", "nan")
			}
			return []string{"SET", "w_" + m, v}
		}
		return []string{"HSET", "h_" + m, "f", strconv.Itoa(w.r.IntN(50)), "s", "s" + m}
	case n < 66: // sources: lists, sets, sorted sets of members
		k := "s" + strconv.Itoa(w.r.IntN(4))
		c := []string{pickOne(w, "RPUSH", "SADD"), k}
		if k == "s3" {
			c[0] = "ZADD"
		}
		for range 1 + w.r.IntN(5) {
			if c[0] == "ZADD" {
				c = append(c, strconv.Itoa(w.r.IntN(10)))
			}
			c = append(c, w.member())
		}
		if k == "s0" {
			c[0] = "RPUSH" // s0 is always a list: ALPHA BY sorts it
		}
		return c
	default: // SORT … STORE
		src := "s" + strconv.Itoa(w.r.IntN(4))
		if w.r.IntN(8) == 0 {
			src = w.key()
		}
		c := []string{"SORT", src}
		alpha := w.r.IntN(3) == 0
		by := ""
		switch w.r.IntN(5) {
		case 0:
			by = "w_*"
		case 1:
			by = "h_*->f"
		case 2:
			by = "nosort"
		}
		// ALPHA BY orders ties by where they start (glibc's stable qsort,
		// or Redis's pqsort with LIMIT): only a list has an input order
		// both sides share (a set's is the primary's hash order).
		if alpha && by != "" && by != "nosort" {
			src = "s0"
			c[1] = src
		}
		if by != "" {
			c = append(c, "BY", by)
		}
		if w.r.IntN(3) == 0 {
			c = append(c, "LIMIT", strconv.Itoa(w.r.IntN(6)-1), strconv.Itoa(w.r.IntN(8)-2))
		}
		for range w.r.IntN(3) {
			c = append(c, "GET", pickOne(w, "#", "w_*", "h_*->s", "h_*->f", "nokey"))
		}
		if w.r.IntN(2) == 0 {
			c = append(c, pickOne(w, "ASC", "DESC"))
		}
		if alpha {
			c = append(c, "ALPHA")
		}
		return append(c, "STORE", w.dstKey())
	}
}

// streamWorkload generates stream commands. Keys s0–s1 take generated IDs
// ("*"); e0–e2 take explicit IDs from a counter, so that XDEL, XCLAIM,
// XACK and MINID name entries that exist. Occasionally a core key is used
// (WRONGTYPE both ways).
func streamWorkload() func(w *W) []string {
	counter := uint64(1)
	return func(w *W) []string {
		pick := func(xs ...string) string { return xs[w.r.IntN(len(xs))] }
		explicit := w.r.IntN(3) != 0
		var k string
		switch {
		case w.r.IntN(30) == 0:
			k = w.key()
		case explicit:
			k = "e" + strconv.Itoa(w.r.IntN(3))
		default:
			k = "s" + strconv.Itoa(w.r.IntN(2))
		}
		now := time.Now().UnixMilli()
		// oldID names an entry that probably exists (explicit streams) or a
		// time a little in the past (generated ones).
		oldID := func() string {
			if explicit || k[0] == 'k' {
				return strconv.FormatUint(1+uint64(w.r.Int64N(int64(counter))), 10) + "-" + strconv.Itoa(w.r.IntN(2))
			}
			return strconv.FormatInt(now-int64(w.r.IntN(300)), 10) + "-0"
		}
		group := "g" + strconv.Itoa(w.r.IntN(3))
		consumer := "c" + strconv.Itoa(w.r.IntN(4))
		fields := func() []string {
			var f []string
			for n := 1 + w.r.IntN(3); n > 0; n-- {
				f = append(f, pick("a", "b", "name", "n"), w.val())
			}
			return f
		}
		trim := func() []string {
			var c []string
			if w.r.IntN(2) == 0 {
				c = []string{"MAXLEN"}
			} else {
				c = []string{"MINID"}
			}
			switch w.r.IntN(3) {
			case 0:
				c = append(c, "~")
			case 1:
				c = append(c, "=")
			}
			if c[0] == "MAXLEN" {
				c = append(c, strconv.Itoa(w.r.IntN(12)))
			} else {
				c = append(c, oldID())
			}
			if c[1] == "~" && w.r.IntN(2) == 0 {
				c = append(c, "LIMIT", strconv.Itoa(w.r.IntN(5)))
			}
			return c
		}
		switch w.r.IntN(24) {
		case 0, 1, 2, 3, 4, 5:
			c := []string{"XADD", k}
			if w.r.IntN(8) == 0 {
				c = append(c, "NOMKSTREAM")
			}
			if w.r.IntN(4) == 0 {
				c = append(c, trim()...)
			}
			if explicit {
				counter += 1 + uint64(w.r.IntN(3))
				if w.r.IntN(4) == 0 {
					c = append(c, strconv.FormatUint(counter, 10)+"-*")
				} else {
					c = append(c, strconv.FormatUint(counter, 10)+"-"+strconv.Itoa(w.r.IntN(3)))
				}
			} else {
				c = append(c, "*")
			}
			return append(c, fields()...)
		case 6:
			return append([]string{"XTRIM", k}, trim()...)
		case 7:
			c := []string{"XDEL", k}
			for n := 1 + w.r.IntN(3); n > 0; n-- {
				c = append(c, oldID())
			}
			return c
		case 8:
			c := []string{"XGROUP", "CREATE", k, group, pick("$", "0", oldID())}
			if w.r.IntN(3) == 0 {
				c = append(c, "MKSTREAM")
			}
			if w.r.IntN(3) == 0 {
				c = append(c, "ENTRIESREAD", strconv.Itoa(w.r.IntN(5)))
			}
			return c
		case 9:
			c := []string{"XGROUP", "SETID", k, group, pick("$", "0", oldID())}
			if w.r.IntN(2) == 0 {
				c = append(c, "ENTRIESREAD", strconv.Itoa(w.r.IntN(5)-1))
			}
			return c
		case 10:
			return []string{"XGROUP", pick("DESTROY", "CREATECONSUMER", "DELCONSUMER", "CREATECONSUMER"), k, group, consumer}[:4+w.r.IntN(2)]
		case 11, 12, 13:
			c := []string{"XREADGROUP", "GROUP", group, consumer}
			if w.r.IntN(2) == 0 {
				c = append(c, "COUNT", strconv.Itoa(1+w.r.IntN(4)))
			}
			if w.r.IntN(5) == 0 {
				c = append(c, "NOACK")
			}
			return append(c, "STREAMS", k, pick(">", ">", ">", "0"))
		case 14, 15:
			c := []string{"XACK", k, group}
			for n := 1 + w.r.IntN(3); n > 0; n-- {
				c = append(c, oldID())
			}
			return c
		case 16, 17:
			c := []string{"XCLAIM", k, group, consumer, strconv.Itoa(w.r.IntN(3) * 20)}
			for n := 1 + w.r.IntN(3); n > 0; n-- {
				c = append(c, oldID())
			}
			switch w.r.IntN(4) {
			case 0:
				c = append(c, "IDLE", strconv.Itoa(w.r.IntN(5000)))
			case 1:
				c = append(c, "TIME", strconv.FormatInt(now-int64(w.r.IntN(5000))+int64(w.r.IntN(2)*100000), 10))
			}
			if w.r.IntN(3) == 0 {
				c = append(c, "RETRYCOUNT", strconv.Itoa(w.r.IntN(9)))
			}
			if w.r.IntN(3) == 0 {
				c = append(c, "FORCE")
			}
			if w.r.IntN(3) == 0 {
				c = append(c, "JUSTID")
			}
			if w.r.IntN(4) == 0 {
				c = append(c, "LASTID", oldID())
			}
			return c
		case 18:
			c := []string{"XAUTOCLAIM", k, group, consumer, strconv.Itoa(w.r.IntN(2) * 20), pick("0", "0-0", oldID())}
			if w.r.IntN(2) == 0 {
				c = append(c, "COUNT", strconv.Itoa(1+w.r.IntN(5)))
			}
			if w.r.IntN(3) == 0 {
				c = append(c, "JUSTID")
			}
			return c
		case 19:
			counter += 5
			c := []string{"XSETID", k, strconv.FormatUint(counter, 10) + "-0"}
			if !explicit {
				c[2] = strconv.FormatInt(now+int64(w.r.IntN(100)), 10) + "-0"
			}
			if w.r.IntN(2) == 0 {
				c = append(c, "ENTRIESADDED", strconv.Itoa(w.r.IntN(60)))
			}
			if w.r.IntN(2) == 0 {
				c = append(c, "MAXDELETEDID", oldID())
			}
			return c
		case 20:
			other := pick("e0", "e1", "e2", "s0", "s1", w.key())
			switch w.r.IntN(4) {
			case 0:
				return []string{"RENAME", k, other}
			case 1:
				return []string{"COPY", k, other, "REPLACE"}[:3+w.r.IntN(2)]
			case 2:
				return []string{"MOVE", k, strconv.Itoa(1 + w.r.IntN(2))}
			}
			return []string{"DEL", k}
		case 21:
			return []string{pick("PEXPIRE", "EXPIRE"), k, strconv.FormatInt(w.ttlMs()/int64(1+999*w.r.IntN(2)), 10)}
		case 22:
			return []string{"PERSIST", k}
		default:
			return []string{"XGROUP", "CREATE", k, group, "$", "MKSTREAM"}
		}
	}
}
