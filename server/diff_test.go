package server

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/replica"
)

type replicaOptions = replica.Options

// The differential test: one real primary feeds a real Redis replica and
// vdr; a seeded random stream of read commands goes to both and the raw
// reply bytes are compared (order-insensitively only where Redis defines
// no order, and by shape for random replies).

// feeder writes one command to the primary and to vdr's projection. The
// projection is fed by applying the same argv (projection.Apply) until
// the replica wiring exists; swap applyFeed for a replica-backed feeder
// then.
type feeder interface {
	write(tb testing.TB, db int, argv ...string)
	// sync waits until the replica and vdr have everything written.
	sync(tb testing.TB)
}

type applyFeed struct {
	primary *rawConn
	proj    *projection.Projection
	db      int
	primDB  int
}

func (f *applyFeed) write(tb testing.TB, db int, argv ...string) {
	tb.Helper()
	if f.primDB != db {
		if r := f.primary.dos("SELECT", strconv.Itoa(db)); r != "+OK\r\n" {
			tb.Fatalf("SELECT: %q", r)
		}
		f.primDB = db
	}
	r := f.primary.dos(argv...)
	if strings.HasPrefix(r, "-") {
		tb.Fatalf("primary rejected %q: %q", argv, r)
	}
	if err := f.proj.Apply(db, bs(argv...)); err != nil {
		tb.Fatalf("projection.Apply %q: %v", argv, err)
	}
}

func (f *applyFeed) sync(tb testing.TB) {
	tb.Helper()
	if r := f.primary.dos("WAIT", "1", "10000"); r != ":1\r\n" {
		tb.Fatalf("WAIT: %q", r)
	}
}

// dataset writes a seeded dataset covering every type and encoding.
func dataset(tb testing.TB, r *rand.Rand, f feeder) []string {
	tb.Helper()
	var keys []string
	farPXAT := strconv.FormatInt(time.Now().Add(2*time.Hour).UnixMilli(), 10)
	member := func(i int) string {
		switch r.IntN(4) {
		case 0:
			return strconv.Itoa(r.IntN(200) - 50)
		case 1:
			return fmt.Sprintf("m%03d", i)
		case 2:
			return string([]byte{'b', byte(r.IntN(256)), byte(r.IntN(256))})
		}
		return strings.Repeat("x", r.IntN(80)) + strconv.Itoa(i)
	}
	for db := 0; db < 2; db++ {
		for i := 0; i < 6; i++ {
			k := fmt.Sprintf("str:%d", i)
			var v string
			switch i {
			case 0:
				v = strconv.Itoa(r.IntN(100000))
			case 1:
				v = ""
			case 2:
				v = string([]byte{0xff, 0x00, 0x0f, 0xf0, 0xaa})
			default:
				v = strings.Repeat("ab", r.IntN(40)) + "hello world"
			}
			f.write(tb, db, "SET", k, v)
			if i == 3 {
				f.write(tb, db, "PEXPIREAT", k, farPXAT)
			}
			keys = append(keys, k)
		}
		for i, n := range []int{1, 5, 40, 200} {
			k := fmt.Sprintf("list:%d", i)
			args := []string{"RPUSH", k}
			for j := 0; j < n; j++ {
				args = append(args, []string{"a", "b", "c", member(j)}[r.IntN(4)])
			}
			f.write(tb, db, args...)
			keys = append(keys, k)
		}
		for i, n := range []int{1, 10, 300, 600} {
			k := fmt.Sprintf("set:%d", i)
			args := []string{"SADD", k}
			for j := 0; j < n; j++ {
				if i == 3 {
					args = append(args, strconv.Itoa(j*3))
				} else {
					args = append(args, member(j))
				}
			}
			f.write(tb, db, args...)
			keys = append(keys, k)
		}
		for i, n := range []int{1, 8, 50, 200} {
			k := fmt.Sprintf("zset:%d", i)
			args := []string{"ZADD", k}
			for j := 0; j < n; j++ {
				var sc string
				switch r.IntN(5) {
				case 0:
					sc = strconv.Itoa(r.IntN(10))
				case 1:
					sc = strconv.FormatFloat(r.Float64()*100-50, 'g', -1, 64)
				case 2:
					sc = "1.1"
				case 3:
					sc = []string{"-inf", "+inf", "0"}[r.IntN(3)]
				default:
					sc = "0"
				}
				args = append(args, sc, member(j))
			}
			f.write(tb, db, args...)
			keys = append(keys, k)
		}
		// Lex ranges are only defined when all scores are equal.
		for i, n := range []int{6, 300} {
			k := fmt.Sprintf("zlex:%d", i)
			args := []string{"ZADD", k}
			for j := 0; j < n; j++ {
				args = append(args, "0", member(j))
			}
			f.write(tb, db, args...)
			keys = append(keys, k)
		}
		for i, n := range []int{1, 10, 100, 700} {
			k := fmt.Sprintf("hash:%d", i)
			args := []string{"HSET", k}
			for j := 0; j < n; j++ {
				args = append(args, fmt.Sprintf("f%d", j), member(j))
			}
			f.write(tb, db, args...)
			keys = append(keys, k)
		}
	}
	f.sync(tb)
	return keys
}

// gen produces random read commands over keys.
type gen struct {
	r    *rand.Rand
	keys []string
}

func (g *gen) pick(ss ...string) string { return ss[g.r.IntN(len(ss))] }

func (g *gen) key(prefix string) string {
	switch g.r.IntN(10) {
	case 0:
		return "missing:" + strconv.Itoa(g.r.IntN(3))
	case 1:
		return g.keys[g.r.IntN(len(g.keys))]
	}
	var c []string
	for _, k := range g.keys {
		if strings.HasPrefix(k, prefix) {
			c = append(c, k)
		}
	}
	if len(c) == 0 {
		return "missing:" + prefix
	}
	return c[g.r.IntN(len(c))]
}

func (g *gen) idx() string {
	switch g.r.IntN(6) {
	case 0:
		return g.pick("9223372036854775807", "-9223372036854775808", "abc", "1.5")
	case 1:
		return strconv.Itoa(g.r.IntN(400) - 200)
	}
	return strconv.Itoa(g.r.IntN(20) - 10)
}

func (g *gen) member() string {
	switch g.r.IntN(4) {
	case 0:
		return strconv.Itoa(g.r.IntN(200) - 50)
	case 1:
		return fmt.Sprintf("m%03d", g.r.IntN(60))
	case 2:
		return g.pick("a", "b", "c", "f1", "f2", "f50", "x1")
	}
	return fmt.Sprintf("f%d", g.r.IntN(100))
}

func (g *gen) score() string {
	s := g.pick("-inf", "+inf", "inf", "0", "1.1", "5", "-3", "(1.1", "(5", "(0", "abc", "(", "10", "-10", " 2", "1e1", "(-inf")
	return s
}

// lexKey picks a zset whose members all share one score: lex ranges over
// mixed scores are undefined in Redis.
func (g *gen) lexKey() string {
	k := g.key("zlex")
	if strings.HasPrefix(k, "zset:") {
		return "zlex:1"
	}
	return k
}

func (g *gen) lex() string {
	return g.pick("-", "+", "[a", "(a", "[m010", "(m030", "[b", "x", "[", "(", "[f5", "(", "[\xff")
}

func (g *gen) count() string {
	return g.pick("0", "1", "3", "10", "-3", "-1", "100", "abc")
}

// ordered reports how a command's reply is compared.
const (
	cmpExact = iota
	cmpUnordered
	cmpShape
	cmpScan
)

func (g *gen) next() ([]string, int) {
	r := g.r
	switch r.IntN(74) {
	case 0:
		return []string{"GET", g.key("str")}, cmpExact
	case 1:
		return []string{"MGET", g.key("str"), g.key("str"), g.key("list")}, cmpExact
	case 2:
		return []string{"STRLEN", g.key("str")}, cmpExact
	case 3:
		return []string{g.pick("GETRANGE", "SUBSTR"), g.key("str"), g.idx(), g.idx()}, cmpExact
	case 4:
		return []string{"GETBIT", g.key("str"), g.pick("0", "1", "7", "8", "15", "100", "-1", "x")}, cmpExact
	case 5:
		a := []string{"BITCOUNT", g.key("str")}
		if r.IntN(2) == 0 {
			a = append(a, g.idx(), g.idx())
			if r.IntN(2) == 0 {
				a = append(a, g.pick("BIT", "BYTE", "bad"))
			}
		}
		return a, cmpExact
	case 6:
		a := []string{"BITPOS", g.key("str"), g.pick("0", "1", "2")}
		n := r.IntN(4)
		if n >= 1 {
			a = append(a, g.idx())
		}
		if n >= 2 {
			a = append(a, g.idx())
		}
		if n >= 3 {
			a = append(a, g.pick("BIT", "BYTE"))
		}
		return a, cmpExact
	case 7:
		a := []string{"BITFIELD_RO", g.key("str")}
		for i := r.IntN(3); i >= 0; i-- {
			a = append(a, "GET", g.pick("u8", "i8", "u4", "i16", "u63", "i64", "u64", "x3"), g.pick("0", "3", "#1", "100", "-1"))
		}
		return a, cmpExact
	case 8:
		a := []string{"LCS", g.key("str"), g.key("str")}
		switch r.IntN(4) {
		case 1:
			a = append(a, "LEN")
		case 2:
			a = append(a, "IDX", "MINMATCHLEN", g.pick("0", "2", "4"))
		case 3:
			a = append(a, "IDX", "WITHMATCHLEN")
		}
		return a, cmpExact
	case 9:
		return []string{"EXISTS", g.key("str"), g.key("list"), g.key("missing")}, cmpExact
	case 10:
		return []string{"TYPE", g.key("")}, cmpExact
	case 11:
		return []string{g.pick("TTL", "PEXPIRETIME", "EXPIRETIME"), g.key("")}, cmpExact
	case 12:
		return []string{"KEYS", g.pick("*", "str:*", "*:1", "?et:*", "[sz]*", "nomatch*")}, cmpUnordered
	case 13:
		a := []string{"SCAN", "0"}
		if r.IntN(2) == 0 {
			a = append(a, "MATCH", g.pick("*", "s*", "*:2"))
		}
		if r.IntN(2) == 0 {
			a = append(a, "COUNT", g.pick("5", "100"))
		}
		if r.IntN(3) == 0 {
			a = append(a, "TYPE", g.pick("string", "list", "hash", "zset", "set", "none"))
		}
		return a, cmpScan
	case 14:
		return []string{"DBSIZE"}, cmpExact
	case 15:
		return []string{"OBJECT", "ENCODING", g.key("")}, cmpExact
	case 16:
		return []string{"TOUCH", g.key(""), g.key("")}, cmpExact
	case 17:
		return []string{"LLEN", g.key("list")}, cmpExact
	case 18:
		return []string{"LINDEX", g.key("list"), g.idx()}, cmpExact
	case 19, 20:
		return []string{"LRANGE", g.key("list"), g.idx(), g.idx()}, cmpExact
	case 21:
		a := []string{"LPOS", g.key("list"), g.pick("a", "b", "c", "zz")}
		if r.IntN(2) == 0 {
			a = append(a, "RANK", g.pick("1", "2", "-1", "-2", "0"))
		}
		if r.IntN(2) == 0 {
			a = append(a, "COUNT", g.pick("0", "1", "2", "-1"))
		}
		if r.IntN(3) == 0 {
			a = append(a, "MAXLEN", g.pick("0", "3", "10"))
		}
		return a, cmpExact
	case 22:
		return []string{"SCARD", g.key("set")}, cmpExact
	case 23:
		return []string{"SISMEMBER", g.key("set"), g.member()}, cmpExact
	case 24:
		return []string{"SMISMEMBER", g.key("set"), g.member(), g.member()}, cmpExact
	case 25:
		return []string{"SMEMBERS", g.key("set")}, cmpUnordered
	case 26:
		a := []string{"SRANDMEMBER", g.key("set")}
		if r.IntN(2) == 0 {
			a = append(a, g.count())
		}
		return a, cmpShape
	case 27:
		return []string{g.pick("SINTER", "SUNION", "SDIFF"), g.key("set"), g.key("set")}, cmpUnordered
	case 28:
		a := []string{"SINTERCARD", g.pick("2", "1", "0", "3"), g.key("set"), g.key("set")}
		if r.IntN(2) == 0 {
			a = append(a, "LIMIT", g.pick("0", "1", "5", "-1"))
		}
		return a, cmpExact
	case 29:
		return []string{"SSCAN", g.key("set"), "0", "COUNT", "1000"}, cmpUnordered
	case 30:
		return []string{"ZCARD", g.key("zset")}, cmpExact
	case 31:
		return []string{"ZSCORE", g.key("zset"), g.member()}, cmpExact
	case 32:
		return []string{"ZMSCORE", g.key("zset"), g.member(), g.member()}, cmpExact
	case 33:
		return []string{g.pick("ZRANK", "ZREVRANK"), g.key("zset"), g.member()}, cmpExact
	case 34:
		return []string{"ZCOUNT", g.key("zset"), g.score(), g.score()}, cmpExact
	case 35:
		return []string{"ZLEXCOUNT", g.lexKey(), g.lex(), g.lex()}, cmpExact
	case 36, 37, 38:
		a := []string{"ZRANGE", g.key("zset")}
		switch r.IntN(3) {
		case 0:
			a = append(a, g.idx(), g.idx())
		case 1:
			a = append(a, g.score(), g.score(), "BYSCORE")
		case 2:
			a[1] = g.lexKey()
			a = append(a, g.lex(), g.lex(), "BYLEX")
		}
		if r.IntN(2) == 0 {
			a = append(a, "REV")
		}
		if r.IntN(3) == 0 {
			a = append(a, "LIMIT", g.pick("0", "1", "-1", "3"), g.pick("-1", "0", "2", "10"))
		}
		if r.IntN(2) == 0 {
			a = append(a, "WITHSCORES")
		}
		return a, cmpExact
	case 39, 40:
		cmd := g.pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE")
		a := []string{cmd, g.key("zset"), g.score(), g.score()}
		if r.IntN(2) == 0 {
			a = append(a, "WITHSCORES")
		}
		if r.IntN(2) == 0 {
			a = append(a, "LIMIT", g.pick("0", "1", "-1", "2"), g.pick("-1", "0", "3"))
		}
		return a, cmpExact
	case 41:
		a := []string{g.pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), g.lexKey(), g.lex(), g.lex()}
		if r.IntN(2) == 0 {
			a = append(a, "LIMIT", g.pick("0", "1", "-1"), g.pick("-1", "2"))
		}
		return a, cmpExact
	case 42:
		a := []string{"ZREVRANGE", g.key("zset"), g.idx(), g.idx()}
		if r.IntN(2) == 0 {
			a = append(a, "WITHSCORES")
		}
		return a, cmpExact
	case 43:
		a := []string{"ZRANDMEMBER", g.key("zset")}
		if r.IntN(2) == 0 {
			a = append(a, g.count())
			if r.IntN(2) == 0 {
				a = append(a, "WITHSCORES")
			}
		}
		return a, cmpShape
	case 44, 45:
		op := g.pick("ZUNION", "ZINTER", "ZDIFF")
		a := []string{op, g.pick("2", "1", "0", "5"), g.key("zset"), g.key(g.pick("zset", "set"))}
		if op != "ZDIFF" && r.IntN(2) == 0 {
			a = append(a, "WEIGHTS", g.pick("1", "2", "-1", "x"), g.pick("0.5", "3"))
		}
		if op != "ZDIFF" && r.IntN(2) == 0 {
			a = append(a, "AGGREGATE", g.pick("SUM", "MIN", "MAX", "AVG"))
		}
		if r.IntN(2) == 0 {
			a = append(a, "WITHSCORES")
		}
		return a, cmpExact
	case 46:
		a := []string{"ZINTERCARD", g.pick("2", "1", "0"), g.key("zset"), g.key("zset")}
		if r.IntN(2) == 0 {
			a = append(a, "LIMIT", g.pick("0", "1", "-1"))
		}
		return a, cmpExact
	case 47:
		return []string{"ZSCAN", g.key("zset"), "0", "COUNT", "1000"}, cmpUnordered
	case 48:
		return []string{"HGET", g.key("hash"), g.member()}, cmpExact
	case 49:
		return []string{"HMGET", g.key("hash"), g.member(), g.member()}, cmpExact
	case 50:
		return []string{g.pick("HGETALL", "HKEYS", "HVALS"), g.key("hash")}, cmpUnordered
	case 51:
		return []string{"HLEN", g.key("hash")}, cmpExact
	case 52:
		return []string{g.pick("HEXISTS", "HSTRLEN"), g.key("hash"), g.member()}, cmpExact
	case 53:
		a := []string{"HRANDFIELD", g.key("hash")}
		if r.IntN(2) == 0 {
			a = append(a, g.count())
			if r.IntN(2) == 0 {
				a = append(a, "WITHVALUES")
			}
		}
		return a, cmpShape
	case 54:
		return []string{"HSCAN", g.key("hash"), "0", "COUNT", "1000"}, cmpUnordered
	case 55:
		return []string{"PING", g.pick("", "hello")}, cmpExact
	case 56:
		return []string{"ECHO", g.member()}, cmpExact
	case 57:
		return []string{g.pick("SET", "DEL", "LPUSH", "ZADD", "HSET", "FLUSHALL", "EXPIRE"), g.key(""), "1"}, cmpExact
	case 58:
		return []string{g.pick("nosuch", "GETX"), "a", g.member()}, cmpExact
	case 59:
		return []string{g.pick("GET", "LLEN", "ZCARD", "HGET", "LRANGE")}, cmpExact
	case 60:
		return []string{"SELECT", g.pick("0", "1", "16", "-1", "x")}, cmpExact
	case 61:
		return []string{"RANDOMKEY"}, cmpShape
	case 62:
		return []string{"OBJECT", g.pick("REFCOUNT", "FREQ", "HELP"), g.key("")}, cmpExact
	case 63:
		return []string{"ZRANGE", g.key("zset"), g.idx(), g.idx(), g.pick("WITHSCORES", "BYLEX", "LIMIT", "bad")}, cmpExact
	case 64:
		return []string{"COMMAND", "INFO", g.pick("get", "zrange", "client|list", "nosuch", "config|get", "zunion")}, cmpExact
	case 65:
		return []string{"COMMAND", "GETKEYS", g.pick("GET", "ZUNION", "MSET", "SINTERCARD", "PING"), "2", "a", "b", "c"}, cmpExact
	case 66:
		// COMMAND COUNT: TestCommandIntrospectionMatchesRedis and
		// TestPersonalitiesMatchServers check it.
		return []string{"COMMAND", "DOCS", g.pick("get", "hget", "nosuch")}, cmpExact
	case 67:
		return []string{"CONFIG", "GET", g.pick("databases", "maxmemory", "save", "appendonly", "replica-read-only", "zset-max-*")}, cmpUnordered
	case 68:
		return []string{"MULTI"}, cmpExact
	case 69:
		return []string{g.pick("EXEC", "DISCARD")}, cmpExact
	case 70:
		return []string{"WAIT", "0", "0"}, cmpExact
	case 71:
		return []string{"CLIENT", g.pick("GETNAME", "NOSUCH", "NO-EVICT")}, cmpExact
	case 72:
		return []string{"LPOS", g.key("list"), "a", "RANK", g.pick("x", "-9223372036854775808")}, cmpExact
	}
	return []string{"HELLO", g.pick("2", "3", "4", "x")}, cmpExact
}

// ---- reply normalisation ----

type node struct {
	raw  string // the whole value for leaves, header for aggregates
	kids []node
}

func parseNode(b []byte) (node, []byte, error) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return node{}, nil, fmt.Errorf("no CRLF in %q", b)
	}
	hdr := string(b[:i+2])
	rest := b[i+2:]
	n, _ := strconv.Atoi(hdr[1 : len(hdr)-2])
	switch hdr[0] {
	case '$', '=', '!':
		if n < 0 {
			return node{raw: hdr}, rest, nil
		}
		return node{raw: hdr + string(rest[:n+2])}, rest[n+2:], nil
	case '*', '~', '>', '%', '|':
		cnt := n
		if hdr[0] == '%' || hdr[0] == '|' {
			cnt = 2 * n
		}
		nd := node{raw: hdr}
		for j := 0; j < cnt; j++ {
			var k node
			var err error
			k, rest, err = parseNode(rest)
			if err != nil {
				return nd, nil, err
			}
			nd.kids = append(nd.kids, k)
		}
		return nd, rest, nil
	}
	return node{raw: hdr}, rest, nil
}

func (n node) String() string {
	var sb strings.Builder
	sb.WriteString(n.raw)
	for _, k := range n.kids {
		sb.WriteString(k.String())
	}
	return sb.String()
}

// unordered sorts an aggregate's elements (pairs for maps, HGETALL and
// the [cursor, items] shape of SSCAN/HSCAN/ZSCAN).
func unordered(args []string, b []byte) string {
	nd, _, err := parseNode(b)
	if err != nil || len(nd.kids) == 0 {
		return string(b)
	}
	cmd := strings.ToUpper(args[0])
	target := &nd
	if strings.HasSuffix(cmd, "SCAN") && len(nd.kids) == 2 {
		target = &nd.kids[1]
	}
	pairs := cmd == "HGETALL" || cmd == "HSCAN" || cmd == "ZSCAN" || cmd == "CONFIG" || nd.raw[0] == '%'
	for _, a := range args[1:] {
		if strings.EqualFold(a, "NOVALUES") || strings.EqualFold(a, "NOSCORES") {
			pairs = false // HSCAN … NOVALUES (7.4), ZSCAN … NOSCORES (Valkey 8)
		}
	}
	var items []string
	if pairs {
		for i := 0; i+1 < len(target.kids); i += 2 {
			items = append(items, target.kids[i].String()+target.kids[i+1].String())
		}
	} else {
		for _, k := range target.kids {
			items = append(items, k.String())
		}
	}
	sort.Strings(items)
	target.kids = nil
	target.raw += strings.Join(items, "")
	return nd.String()
}

// shape keeps the reply's type and element count (random replies).
func shape(b []byte) string {
	nd, _, err := parseNode(b)
	if err != nil {
		return string(b)
	}
	switch nd.raw[0] {
	case '$':
		if strings.HasPrefix(nd.raw, "$-1") {
			return "null"
		}
		return "bulk"
	case '*', '~', '%':
		return fmt.Sprintf("%c%d", nd.raw[0], len(nd.kids))
	}
	return nd.String()
}

// scanAll runs a full SCAN iteration and returns the sorted key set.
func scanAll(tb testing.TB, c *rawConn, args []string) string {
	cursor := "0"
	seen := map[string]bool{}
	for i := 0; i < 100000; i++ {
		a := append([]string{"SCAN", cursor}, args[2:]...)
		b := c.do(bs(a...)...)
		nd, _, err := parseNode(b)
		if err != nil || len(nd.kids) != 2 {
			return string(b)
		}
		for _, k := range nd.kids[1].kids {
			seen[k.String()] = true
		}
		cur := nd.kids[0].String()
		cursor = cur[strings.Index(cur, "\r\n")+2 : len(cur)-2]
		if cursor == "0" {
			break
		}
	}
	var ks []string
	for k := range seen {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, "")
}

func TestDifferential(t *testing.T) {
	sd := seed(t)
	r := rand.New(rand.NewPCG(uint64(sd), 0x5eed))
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0")
	redistest.WaitFor(t, 15*time.Second, "replica link up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up"
	})
	proj := newProjection(t)
	ver := asPrimary(t, proj, primary.Addr()) // before any write: encodings are chosen as writes apply
	f := &applyFeed{primary: dialRaw(t, primary.Addr()), proj: proj}
	keys := dataset(t, r, f)
	vdr := startVDR(t, Options{Projection: proj, Compat: ver})
	compareReads(t, r, keys, replica.Addr(), vdr.Addr())
	checkDumps(t, keys, replica.Addr(), vdr.Addr())
}

// checkDumps checks DUMP semantically: payloads need not be byte-identical
// to Redis's (encodings and compression may differ), but each must RESTORE
// in a real Redis to the same value.
func checkDumps(t *testing.T, keys []string, redisAddr, vdrAddr string) {
	t.Helper()
	scratch := redistest.Start(t)
	sc, rc, vc := dialRaw(t, scratch.Addr()), dialRaw(t, redisAddr), dialRaw(t, vdrAddr)
	for _, k := range keys {
		payload := vc.do(bs("DUMP", k)...)
		nd, _, err := parseNode(payload)
		if err != nil || !strings.HasPrefix(nd.raw, "$") || strings.HasPrefix(nd.raw, "$-1") {
			t.Errorf("DUMP %s: %.100q", k, payload)
			continue
		}
		body := nd.raw[strings.Index(nd.raw, "\r\n")+2 : len(nd.raw)-2]
		if got := sc.dos("RESTORE", k, "0", body, "REPLACE"); got != "+OK\r\n" {
			t.Errorf("RESTORE of vdr's DUMP %s: %q", k, got)
			continue
		}
		typ := strings.TrimSpace(strings.TrimPrefix(rc.dos("TYPE", k), "+"))
		var read []string
		switch typ {
		case "string":
			read = []string{"GET", k}
		case "list":
			read = []string{"LRANGE", k, "0", "-1"}
		case "set":
			read = []string{"SMEMBERS", k}
		case "zset":
			read = []string{"ZRANGE", k, "0", "-1", "WITHSCORES"}
		case "hash":
			read = []string{"HGETALL", k}
		}
		want, got := unordered(read, rc.do(bs(read...)...)), unordered(read, sc.do(bs(read...)...))
		if want != got {
			t.Errorf("%s restored from vdr's DUMP differs:\n redis %.200q\n   vdr %.200q", k, want, got)
		}
	}
}

// nodeFeed writes only to the primary: vdr (a Node) replicates it over
// PSYNC like the Redis replica does.
type nodeFeed struct {
	primary *rawConn
	addr    string
	vdrAddr string
	primDB  int
}

func (f *nodeFeed) write(tb testing.TB, db int, argv ...string) {
	tb.Helper()
	if f.primDB != db {
		f.primary.dos("SELECT", strconv.Itoa(db))
		f.primDB = db
	}
	if r := f.primary.dos(argv...); strings.HasPrefix(r, "-") {
		tb.Fatalf("primary rejected %q: %q", argv, r)
	}
}

func (f *nodeFeed) sync(tb testing.TB) {
	tb.Helper()
	want, _ := strconv.ParseInt(redistest.InfoField(f.addr, "replication", "master_repl_offset"), 10, 64)
	redistest.WaitFor(tb, 20*time.Second, "vdr caught up", func() bool {
		got, _ := strconv.ParseInt(redistest.InfoField(f.vdrAddr, "replication", "slave_repl_offset"), 10, 64)
		return got >= want
	})
	// Both replicas (the Redis one and vdr) must have everything: WAIT 1
	// would return as soon as vdr alone acknowledged.
	if r := f.primary.dos("WAIT", "2", "10000"); r != ":2\r\n" {
		tb.Fatalf("WAIT 2: %q", r)
	}
}

// TestDifferentialViaReplica is TestDifferential with vdr fed by its own
// replication link (NewNode) instead of projection.Apply.
func TestDifferentialViaReplica(t *testing.T) {
	sd := seed(t)
	r := rand.New(rand.NewPCG(uint64(sd), 0x5eed))
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port), "--replica-priority", "0")
	node := startNode(t, primary.Addr(), replicaOptions{})
	redistest.WaitFor(t, 15*time.Second, "links up", func() bool {
		return redistest.InfoField(replica.Addr(), "replication", "master_link_status") == "up" &&
			redistest.InfoField(node.Addr(), "replication", "master_link_status") == "up"
	})
	f := &nodeFeed{primary: dialRaw(t, primary.Addr()), addr: primary.Addr(), vdrAddr: node.Addr()}
	keys := dataset(t, r, f)
	compareReads(t, r, keys, replica.Addr(), node.Addr())
}

// compareReads sends the seeded read stream to the Redis replica and vdr
// and compares the replies, in RESP2 then RESP3.
func compareReads(t *testing.T, r *rand.Rand, keys []string, redisAddr, vdrAddr string) {
	t.Helper()
	n := 4000
	if os.Getenv("VDR_LONG") != "" {
		n = 100000
	}
	for _, proto := range []string{"2", "3"} {
		rc, vc := dialRaw(t, redisAddr), dialRaw(t, vdrAddr)
		if proto == "3" {
			rr, vr := rc.dos("HELLO", "3"), vc.dos("HELLO", "3")
			if len(rr) == 0 || len(vr) == 0 {
				t.Fatal("HELLO 3 failed")
			}
		}
		g := &gen{r: r, keys: keys}
		fails := 0
		inMulti := false
		for i := 0; i < n && fails < maxDiffFails(); i++ {
			args, mode := g.next()
			switch strings.ToUpper(args[0]) {
			case "MULTI":
				inMulti = true
			case "EXEC", "DISCARD":
				inMulti = false
			}
			if inMulti && mode != cmpExact {
				// EXEC's reply is compared exactly: queue only
				// deterministic commands.
				args, mode = []string{"GET", "str:0"}, cmpExact
			}
			if args[len(args)-1] == "" {
				args = args[:len(args)-1]
			}
			if strings.EqualFold(args[0], "HELLO") {
				// Keep the connection's protocol: only errors are compared.
				if args[1] == "2" || args[1] == "3" {
					args[1] = "4"
				}
			}
			var want, got string
			if mode == cmpScan {
				want, got = scanAll(t, rc, args), scanAll(t, vc, args)
			} else {
				wb, gb := rc.do(bs(args...)...), vc.do(bs(args...)...)
				switch mode {
				case cmpExact:
					want, got = string(wb), string(gb)
				case cmpUnordered:
					want, got = unordered(args, wb), unordered(args, gb)
				case cmpShape:
					want, got = shape(wb), shape(gb)
				}
			}
			if want != got {
				fails++
				t.Errorf("RESP%s #%d %q:\n redis: %.400q\n   vdr: %.400q%s", proto, i, args, want, got, firstDiff(want, got))
			}
		}
	}
}
