package main

// The "vdr verify" subcommand: read keys from the primary and from a
// replica (vdr, or any Redis replica) and report where they differ.
//
// Divergences come in four kinds: missing (on the replica), extra (on the
// replica, not on the primary), value (type or content differs), ttl
// (absolute expire times differ by more than --ttl-slack). A key that
// differs is read again from both sides, up to --rechecks times with a
// pause between, and reported only if it still differs each time, so keys
// that changed while the check ran (and reached the replica a moment
// later) are not reported. Exit code 1 when a divergence remains.
//
// --scan walks every key of both sides (SCAN); otherwise --sample random
// keys of the primary are checked (RANDOMKEY). With --interval the check
// repeats forever and --http exposes counters as Prometheus metrics.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vdr-project/vdr/internal/resp"
)

var verifySettings = []setting{
	{"replica", "Verify", "", "the replica to check: host:port of vdr or of a Redis replica", kString},
	{"replica-password", "Verify", "", "password for the replica", kString},
	{"scan", "Verify", "no", "check every key of both sides instead of a sample", kBool},
	{"sample", "Verify", "1000", "random keys of the primary to check per database when not scanning", kInt},
	{"rechecks", "Verify", "3", "times a differing key is read again before it is reported", kInt},
	{"recheck-delay", "Verify", "200ms", "pause before each recheck", kDuration},
	{"ttl-slack", "Verify", "0s", "expire-time difference tolerated", kDuration},
	{"interval", "Verify", "0s", "repeat the check this often, forever (0: once)", kDuration},
}

// divergence kinds.
const (
	divMissing = "missing"
	divExtra   = "extra"
	divValue   = "value"
	divTTL     = "ttl"
)

type verifier struct {
	primary, replica *resp.Conn
	pdb, rdb         int // selected db on each connection
	rechecks         int
	delay            time.Duration
	ttlSlack         int64
	out              io.Writer
}

// snapshot is what one side holds for a key: type, a canonical rendering
// of the value (collections without a defined order sorted), expire time.
type snapshot struct {
	typ    string
	value  string
	expire int64
}

func (v *verifier) selectDB(c *resp.Conn, cur *int, db int) error {
	if *cur == db {
		return nil
	}
	r, err := c.Do("SELECT", strconv.Itoa(db))
	if err != nil {
		return err
	}
	if err := r.Err(); err != nil {
		return err
	}
	*cur = db
	return nil
}

func flat(r resp.Reply) []string {
	out := make([]string, 0, len(r.Array))
	for _, e := range r.Array {
		out = append(out, e.Str)
	}
	return out
}

func pairs(items []string) []string {
	var out []string
	for i := 0; i+1 < len(items); i += 2 {
		out = append(out, strconv.Quote(items[i])+"="+strconv.Quote(items[i+1]))
	}
	return out
}

// read returns what c holds for key.
func read(c *resp.Conn, key string) (snapshot, error) {
	r, err := c.Do("TYPE", key)
	if err != nil {
		return snapshot{}, err
	}
	if err := r.Err(); err != nil {
		return snapshot{}, err
	}
	s := snapshot{typ: r.Str}
	var items []string
	switch s.typ {
	case "none":
		return s, nil
	case "string":
		r, err = c.Do("GET", key)
		items = []string{strconv.Quote(r.Str)}
	case "list":
		r, err = c.Do("LRANGE", key, "0", "-1")
		items = flat(r)
	case "set":
		r, err = c.Do("SMEMBERS", key)
		items = flat(r)
		sort.Strings(items)
	case "zset":
		r, err = c.Do("ZRANGE", key, "0", "-1", "WITHSCORES")
		items = pairs(flat(r))
	case "hash":
		r, err = c.Do("HGETALL", key)
		items = pairs(flat(r))
		sort.Strings(items)
	case "stream":
		r, err = c.Do("XRANGE", key, "-", "+")
		items = []string{fmt.Sprint(r.Array)}
	default:
		items = []string{"(type " + s.typ + " not compared)"}
	}
	if err != nil {
		return snapshot{}, err
	}
	if err := r.Err(); err != nil {
		return snapshot{}, fmt.Errorf("%s %q: %w", s.typ, key, err)
	}
	s.value = strings.Join(items, ",")
	r, err = c.Do("PEXPIRETIME", key)
	if err != nil {
		return snapshot{}, err
	}
	s.expire = r.Num
	return s, nil
}

// compare reads key on both sides and returns the divergence kind, or "".
func (v *verifier) compare(db int, key string) (string, string, error) {
	if err := v.selectDB(v.primary, &v.pdb, db); err != nil {
		return "", "", err
	}
	if err := v.selectDB(v.replica, &v.rdb, db); err != nil {
		return "", "", err
	}
	p, err := read(v.primary, key)
	if err != nil {
		return "", "", fmt.Errorf("primary: %w", err)
	}
	r, err := read(v.replica, key)
	if err != nil {
		return "", "", fmt.Errorf("replica: %w", err)
	}
	switch {
	case p.typ == "none" && r.typ == "none":
		return "", "", nil
	case r.typ == "none":
		return divMissing, "", nil
	case p.typ == "none":
		return divExtra, "", nil
	case p.typ != r.typ:
		return divValue, fmt.Sprintf("type %s on the primary, %s on the replica", p.typ, r.typ), nil
	case p.value != r.value:
		return divValue, "content differs", nil
	}
	d := p.expire - r.expire
	if (p.expire < 0) != (r.expire < 0) || d > v.ttlSlack || -d > v.ttlSlack {
		return divTTL, fmt.Sprintf("expire %d ms on the primary, %d on the replica", p.expire, r.expire), nil
	}
	return "", "", nil
}

// check compares key, rechecking a divergence before it counts.
func (v *verifier) check(db int, key string) (string, string, error) {
	kind, detail, err := v.compare(db, key)
	for i := 0; kind != "" && err == nil && i < v.rechecks; i++ {
		time.Sleep(v.delay)
		kind, detail, err = v.compare(db, key)
	}
	return kind, detail, err
}

// keyspaceDBs returns the databases holding keys, from INFO keyspace.
func keyspaceDBs(c *resp.Conn) ([]int, error) {
	r, err := c.Do("INFO", "keyspace")
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	var dbs []int
	for _, l := range strings.Split(r.Str, "\r\n") {
		if name, _, ok := strings.Cut(l, ":"); ok && strings.HasPrefix(name, "db") {
			if n, err := strconv.Atoi(name[2:]); err == nil {
				dbs = append(dbs, n)
			}
		}
	}
	return dbs, nil
}

// scanKeys returns every key of db on c.
func scanKeys(c *resp.Conn, cur *int, db int, sel func(*resp.Conn, *int, int) error) ([]string, error) {
	if err := sel(c, cur, db); err != nil {
		return nil, err
	}
	var keys []string
	cursor := "0"
	for {
		r, err := c.Do("SCAN", cursor, "COUNT", "1000")
		if err != nil {
			return nil, err
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if len(r.Array) != 2 {
			return nil, fmt.Errorf("SCAN: unexpected reply")
		}
		keys = append(keys, flat(r.Array[1])...)
		if cursor = r.Array[0].Str; cursor == "0" {
			return keys, nil
		}
	}
}

type verifyReport struct {
	checked int
	found   map[string]int
}

// run does one pass and prints each divergence.
func (v *verifier) run(scan bool, sample int) (verifyReport, error) {
	rep := verifyReport{found: map[string]int{}}
	pdbs, err := keyspaceDBs(v.primary)
	if err != nil {
		return rep, err
	}
	dbset := map[int]bool{}
	for _, d := range pdbs {
		dbset[d] = true
	}
	if scan {
		rdbs, err := keyspaceDBs(v.replica)
		if err != nil {
			return rep, err
		}
		for _, d := range rdbs {
			dbset[d] = true
		}
	}
	dbs := make([]int, 0, len(dbset))
	for d := range dbset {
		dbs = append(dbs, d)
	}
	sort.Ints(dbs)
	for _, db := range dbs {
		var keys []string
		if scan {
			pk, err := scanKeys(v.primary, &v.pdb, db, v.selectDB)
			if err != nil {
				return rep, fmt.Errorf("primary: %w", err)
			}
			rk, err := scanKeys(v.replica, &v.rdb, db, v.selectDB)
			if err != nil {
				return rep, fmt.Errorf("replica: %w", err)
			}
			seen := map[string]bool{}
			for _, k := range append(pk, rk...) {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
		} else {
			if err := v.selectDB(v.primary, &v.pdb, db); err != nil {
				return rep, err
			}
			seen := map[string]bool{}
			for i := 0; i < sample; i++ {
				r, err := v.primary.Do("RANDOMKEY")
				if err != nil {
					return rep, err
				}
				if r.Null {
					break
				}
				if !seen[r.Str] {
					seen[r.Str] = true
					keys = append(keys, r.Str)
				}
			}
		}
		for _, k := range keys {
			kind, detail, err := v.check(db, k)
			if err != nil {
				return rep, err
			}
			rep.checked++
			if kind != "" {
				rep.found[kind]++
				fmt.Fprintf(v.out, "%s db=%d key=%s %s\n", kind, db, strconv.Quote(k), detail)
			}
		}
	}
	return rep, nil
}

func dialAuth(addr, user, pass string) (*resp.Conn, error) {
	c, err := resp.Dial(addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if pass != "" {
		args := []string{"AUTH", pass}
		if user != "" {
			args = []string{"AUTH", user, pass}
		}
		r, err := c.Do(args...)
		if err == nil {
			err = r.Err()
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("AUTH to %s: %w", addr, err)
		}
	}
	return c, nil
}

// runVerify implements "vdr verify".
func runVerify(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfigWith(args, getenv, stderr, verifySettings)
	if err != nil {
		return exitCodeFor(err, stderr)
	}
	if cfg.PrimaryAddr == "" {
		return exitCodeFor(&configError{name: "primary", msg: "vdr verify needs --primary"}, stderr)
	}
	if _, _, err := net.SplitHostPort(cfg.Str("replica")); err != nil {
		return exitCodeFor(&configError{name: "replica", msg: "want host:port of the replica to check"}, stderr)
	}
	if cfg.Int("sample") < 1 || cfg.Int("rechecks") < 0 {
		return exitCodeFor(&configError{name: "sample", msg: "--sample must be ≥ 1 and --rechecks ≥ 0"}, stderr)
	}
	pc, err := dialAuth(cfg.PrimaryAddr, cfg.PrimaryUser, cfg.PrimaryPass)
	if err != nil {
		fmt.Fprintln(stderr, "vdr verify:", err)
		return 1
	}
	defer pc.Close()
	rc, err := dialAuth(cfg.Str("replica"), "", cfg.Str("replica-password"))
	if err != nil {
		fmt.Fprintln(stderr, "vdr verify:", err)
		return 1
	}
	defer rc.Close()
	v := &verifier{primary: pc, replica: rc, rechecks: cfg.Int("rechecks"), delay: cfg.Duration("recheck-delay"),
		ttlSlack: cfg.Duration("ttl-slack").Milliseconds(), out: stdout}
	interval := cfg.Duration("interval")
	if interval == 0 {
		rep, err := v.run(cfg.Bool("scan"), cfg.Int("sample"))
		if err != nil {
			fmt.Fprintln(stderr, "vdr verify:", err)
			return 1
		}
		total := 0
		for _, n := range rep.found {
			total += n
		}
		fmt.Fprintf(stdout, "checked %d keys: %d missing, %d extra, %d value, %d ttl\n",
			rep.checked, rep.found[divMissing], rep.found[divExtra], rep.found[divValue], rep.found[divTTL])
		if total > 0 {
			return 1
		}
		return 0
	}
	return verifyForever(cfg, v, interval, stdout, stderr)
}

// verifyForever repeats the check every interval, exposing counters on
// --http, until SIGINT/SIGTERM.
func verifyForever(cfg *Config, v *verifier, interval time.Duration, stdout, stderr io.Writer) int {
	checked := prometheus.NewCounter(prometheus.CounterOpts{Name: "vdr_verify_checked_keys_total", Help: "Keys compared."})
	passes := prometheus.NewCounter(prometheus.CounterOpts{Name: "vdr_verify_passes_total", Help: "Completed verification passes."})
	found := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vdr_verify_divergences_total", Help: "Divergences found (after rechecks), by kind."}, []string{"kind"})
	last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "vdr_verify_last_pass_divergences", Help: "Divergences in the last completed pass."})
	reg := prometheus.NewRegistry()
	reg.MustRegister(checked, passes, found, last)
	for _, k := range []string{divMissing, divExtra, divValue, divTTL} {
		found.WithLabelValues(k)
	}
	if cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			fmt.Fprintln(stderr, "vdr verify:", err)
			return 1
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	for {
		rep, err := v.run(cfg.Bool("scan"), cfg.Int("sample"))
		if err != nil {
			fmt.Fprintln(stderr, "vdr verify:", err)
			return 1
		}
		total := 0
		for k, n := range rep.found {
			found.WithLabelValues(k).Add(float64(n))
			total += n
		}
		checked.Add(float64(rep.checked))
		passes.Inc()
		last.Set(float64(total))
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(interval):
		}
	}
}
