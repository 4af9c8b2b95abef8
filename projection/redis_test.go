package projection

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rconn is a tiny RESP2 client for tests: pipelined sends, generic replies.
type rconn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// redisErr is an error reply.
type redisErr string

func dialRedis(tb testing.TB, addr string) *rconn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return &rconn{c: c, br: bufio.NewReaderSize(c, 64<<10), bw: bufio.NewWriterSize(c, 64<<10)}
}

func (r *rconn) send(args ...string) {
	fmt.Fprintf(r.bw, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(r.bw, "$%d\r\n%s\r\n", len(a), a)
	}
}

func (r *rconn) read() (any, error) {
	line, err := r.br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return redisErr(line[1:]), nil
	case ':':
		n, err := strconv.ParseInt(line[1:], 10, 64)
		return n, err
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r.br, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = r.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply line %q", line)
}

func ioReadFull(br *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := br.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// do sends one command and returns its reply; it fails the test on I/O
// errors (error replies are returned as redisErr).
func (r *rconn) do(tb testing.TB, args ...string) any {
	tb.Helper()
	r.send(args...)
	if err := r.bw.Flush(); err != nil {
		tb.Fatalf("%v: %v", args, err)
	}
	v, err := r.read()
	if err != nil {
		tb.Fatalf("%v: %v", args, err)
	}
	return v
}

// drain flushes pending sends and reads n replies.
func (r *rconn) drain(tb testing.TB, n int) {
	tb.Helper()
	if err := r.bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := r.read(); err != nil {
			tb.Fatal(err)
		}
	}
}

func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, len(a))
	for i, x := range a {
		out[i], _ = x.(string)
	}
	return out
}

// projKey is a key as the projection holds it, read without hiding
// expired keys (tests only).
type projKey struct {
	kind Kind
	exp  int64
	enc  string
	vals []string // string: [value]; list: elements; set: sorted members; zset: member, score…; hash: field, value…
}

func snapshotDB(p *Projection, dbi int) map[string]projKey {
	out := map[string]projKey{}
	ds := p.cur.Load()
	d := ds.dbs[dbi]
	d.rlockAll()
	defer d.runlockAll()
	ec := p.enc.Load()
	for b, nb := 0, d.numBuckets(); b < nb; b++ {
		d.each(b, func(sl *slot) bool {
			k, o := sl.keyString(), sl.obj()
			v := Value{o: o, ok: true, enc: ec}
			pk := projKey{kind: o.kind, exp: o.exp, enc: v.Encoding()}
			switch o.kind {
			case KindString:
				pk.vals = []string{string(v.Bytes())}
			case KindList:
				v.ListRange(0, -1, func(_ int, e []byte) bool { pk.vals = append(pk.vals, string(e)); return true })
			case KindSet:
				v.SetEach(func(m []byte) bool { pk.vals = append(pk.vals, string(m)); return true })
				sort.Strings(pk.vals)
			case KindZSet:
				v.ZRangeByRank(0, -1, false, func(m []byte, s float64) bool {
					pk.vals = append(pk.vals, string(m), FormatScore(s))
					return true
				})
			case KindHash:
				v.HashEach(func(f, x []byte) bool { pk.vals = append(pk.vals, string(f), string(x)); return true })
			case KindStream:
				pk.vals = streamVals(o.stream())
			}
			out[strings.Clone(k)] = pk
			return true
		})
	}
	return out
}

// compareWithRedis checks that every live key of the given databases has
// the same type, value (and order where Redis defines one), absolute
// expire time and OBJECT ENCODING in p and on the server r. Keys whose
// expire time is within slack of the comparison window are skipped (they
// may expire in between), as are keys for which skip returns true.
func compareWithRedis(t *testing.T, p *Projection, r *rconn, dbs []int, skip func(db int, key string) bool) (compared int) {
	t.Helper()
	const slack = 1500
	for _, dbi := range dbs {
		now0 := time.Now().UnixMilli()
		r.do(t, "SELECT", strconv.Itoa(dbi))
		snap := snapshotDB(p, dbi)
		rkeys := strs(r.do(t, "KEYS", "*"))
		now1 := time.Now().UnixMilli()
		near := func(exp int64) bool { return exp != 0 && exp >= now0-slack && exp <= now1+slack }
		live := func(exp int64) bool { return exp == 0 || exp > now1 }
		seen := map[string]bool{}
		for _, k := range rkeys {
			seen[k] = true
			if skip != nil && skip(dbi, k) {
				continue
			}
			pk, ok := snap[k]
			if ok && near(pk.exp) {
				continue
			}
			if !ok || !live(pk.exp) {
				pt, _ := r.do(t, "PEXPIRETIME", k).(int64)
				if pt > 0 && near(pt) {
					continue
				}
				t.Errorf("db %d key %q: on redis (pexpiretime %d), missing in projection (present=%v exp=%d)", dbi, k, pt, ok, pk.exp)
				continue
			}
			compared++
			compareKey(t, r, dbi, k, pk)
		}
		for k, pk := range snap {
			if seen[k] || !live(pk.exp) || near(pk.exp) || (skip != nil && skip(dbi, k)) {
				continue
			}
			t.Errorf("db %d key %q: in projection (%s %v exp %d), missing on redis", dbi, k, pk.kind, pk.vals, pk.exp)
		}
	}
	return compared
}

func compareKey(t *testing.T, r *rconn, dbi int, k string, pk projKey) {
	t.Helper()
	typ, _ := r.do(t, "TYPE", k).(string)
	if typ != pk.kind.String() {
		t.Errorf("db %d key %q: type redis %s, projection %s", dbi, k, typ, pk.kind)
		return
	}
	var want []string
	switch pk.kind {
	case KindString:
		s, _ := r.do(t, "GET", k).(string)
		want = []string{s}
	case KindList:
		want = strs(r.do(t, "LRANGE", k, "0", "-1"))
	case KindSet:
		want = strs(r.do(t, "SMEMBERS", k))
		sort.Strings(want)
	case KindZSet:
		// Scores are compared as doubles: 7.2+ servers print the shortest
		// form, 7.0 (and FormatScore) "%.17g" — the same double.
		want = strs(r.do(t, "ZRANGE", k, "0", "-1", "WITHSCORES"))
		for i := 1; i < len(want); i += 2 {
			if f, err := strconv.ParseFloat(want[i], 64); err == nil {
				want[i] = FormatScore(f)
			}
		}
	case KindHash:
		want = strs(r.do(t, "HGETALL", k))
	case KindStream:
		want = redisStreamVals(t, r, k)
	}
	got := pk.vals
	enc, _ := r.do(t, "OBJECT", "ENCODING", k).(string)
	if pk.kind == KindHash && enc == "hashtable" {
		want, got = sortedPairs(want), sortedPairs(got)
	}
	if strings.Join(want, "\x00") != strings.Join(got, "\x00") || len(want) != len(got) {
		t.Errorf("db %d key %q (%s): value\n redis      %q\n projection %q", dbi, k, pk.kind, want, got)
	}
	pt, _ := r.do(t, "PEXPIRETIME", k).(int64)
	pexp := pk.exp
	if pexp == 0 {
		pexp = -1
	}
	if pt != pexp {
		t.Errorf("db %d key %q: pexpiretime redis %d, projection %d", dbi, k, pt, pexp)
	}
	if enc != pk.enc {
		t.Errorf("db %d key %q (%s, len %d): encoding redis %s, projection %s", dbi, k, pk.kind, len(got), enc, pk.enc)
	}
}

func sortedPairs(a []string) []string {
	type pair struct{ f, v string }
	ps := make([]pair, 0, len(a)/2)
	for i := 0; i+1 < len(a); i += 2 {
		ps = append(ps, pair{a[i], a[i+1]})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].f < ps[j].f })
	out := make([]string, 0, len(a))
	for _, p := range ps {
		out = append(out, p.f, p.v)
	}
	return out
}

// seedFromEnv returns SEED if set, else def.
func seedFromEnv(t *testing.T, def int64) int64 {
	if s := os.Getenv("SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("SEED=%q: %v", s, err)
		}
		return v
	}
	return def
}
