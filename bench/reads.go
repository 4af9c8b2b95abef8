package bench

import (
	"context"
	"crypto/sha1"
	"encoding/csv"
	"fmt"
	"github.com/vdr-project/vdr/internal/resp"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/vdr-project/vdr/internal/dataset"
)

// readCase is one read workload for redis-benchmark. __rand_int__ is
// replaced by redis-benchmark with a 12-digit number below the keyspace of
// the case's type, which matches dataset's key names.
type readCase struct {
	name  string
	kind  dataset.Kind
	args  []string
	setup []string // run once on each target first (SCRIPT LOAD)
}

// The read scripts: three GETs in one round trip, as EVALSHA_RO of a
// script cached on each server, and as FCALL_RO of a library the primary
// propagates (loaded before the dataset is dumped, so both replicas have
// it from the start).
const (
	script3Get   = "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3])}"
	benchLibrary = "#!lua name=vdrbench\n" +
		"redis.register_function{function_name='get3', flags={'no-writes'}, callback=function(keys, args) " +
		"return {redis.call('GET', keys[1]), redis.call('GET', keys[2]), redis.call('GET', keys[3])} end}"
)

func readCases() []readCase {
	k := func(kind dataset.Kind) string { return dataset.Prefix(kind) + "__rand_int__" }
	mget := []string{"MGET"}
	for i := 0; i < 10; i++ {
		mget = append(mget, k(dataset.String))
	}
	sha := fmt.Sprintf("%x", sha1.Sum([]byte(script3Get)))
	s := k(dataset.String)
	return []readCase{
		{"GET", dataset.String, []string{"GET", k(dataset.String)}, nil},
		{"MGET 10", dataset.String, mget, nil},
		{"HGETALL", dataset.Hash, []string{"HGETALL", k(dataset.Hash)}, nil},
		{"LRANGE 0 9", dataset.List, []string{"LRANGE", k(dataset.List), "0", "9"}, nil},
		{"ZRANGE 0 -1 WITHSCORES", dataset.ZSet, []string{"ZRANGE", k(dataset.ZSet), "0", "-1", "WITHSCORES"}, nil},
		{"SMEMBERS", dataset.Set, []string{"SMEMBERS", k(dataset.Set)}, nil},
		{"EVALSHA_RO 3 GETs", dataset.String, []string{"EVALSHA_RO", sha, "3", s, s, s}, []string{"SCRIPT", "LOAD", script3Get}},
		{"FCALL_RO 3 GETs", dataset.String, []string{"FCALL_RO", "get3", "3", s, s, s}, nil},
	}
}

// wantRead reports whether the read case named name runs: every case
// unless Reads names some, by their first word.
func (cfg Config) wantRead(name string) bool {
	return len(cfg.Reads) == 0 || slices.Contains(cfg.Reads, strings.Fields(name)[0])
}

// benchResult is one redis-benchmark CSV row.
type benchResult struct {
	rps, p50, p99 float64
}

// redisBenchmark runs redis-benchmark against addr and parses its CSV row.
func redisBenchmark(ctx context.Context, addr string, clients, pipeline, requests, keyspace int, args []string) (benchResult, error) {
	host, port, _ := strings.Cut(addr, ":")
	argv := []string{"-h", host, "-p", port, "-c", strconv.Itoa(clients), "-P", strconv.Itoa(pipeline),
		"-n", strconv.Itoa(requests), "-r", strconv.Itoa(max(keyspace, 1)), "--csv"}
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, "redis-benchmark", argv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return benchResult{}, fmt.Errorf("redis-benchmark %v: %v: %s", args, err, out)
	}
	return parseBenchCSV(out)
}

func parseBenchCSV(out []byte) (benchResult, error) {
	recs, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil {
		return benchResult{}, fmt.Errorf("redis-benchmark output: %v: %q", err, out)
	}
	if len(recs) < 2 || len(recs[0]) < 7 {
		return benchResult{}, fmt.Errorf("redis-benchmark output: no result row: %q", out)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	row := recs[len(recs)-1]
	get := func(name string) float64 {
		i, ok := col[name]
		if !ok || i >= len(row) {
			return 0
		}
		v, _ := strconv.ParseFloat(row[i], 64)
		return v
	}
	return benchResult{rps: get("rps"), p50: get("p50_latency_ms"), p99: get("p99_latency_ms")}, nil
}

// errorReplies counts error replies for one command, so a benchmark of a
// command the target refuses is never reported as a fast result.
func errorReply(addr string, args []string) error {
	c, err := resp.Dial(addr, 5e9)
	if err != nil {
		return err
	}
	defer c.Close()
	probe := make([]string, len(args))
	for i, a := range args {
		probe[i] = strings.ReplaceAll(a, "__rand_int__", "000000000000")
	}
	r, err := c.Do(probe...)
	if err != nil {
		return err
	}
	return r.Err()
}

// readBenchmarks runs each read case at -P 1 and -P 16 against every
// target in turn: Redis, then vdr and vdr-base, or vdr-base and vdr with
// baseFirst.
func readBenchmarks(ctx context.Context, cfg Config, res *Results, targets map[string]*proc, baseFirst bool, logf func(string, ...any)) error {
	order := []string{"redis", "vdr", "vdr-base"}
	if baseFirst {
		order = []string{"redis", "vdr-base", "vdr"}
	}
	spec, err := dataset.ParseMix(cfg.Mix)
	if err != nil {
		return err
	}
	counts := spec.Counts(cfg.N)
	for _, rc := range readCases() {
		if counts[rc.kind] == 0 {
			continue // a single-type dataset has no keys for this case
		}
		if !cfg.wantRead(rc.name) {
			continue
		}
		for _, pipeline := range []int{1, 16} {
			for _, target := range order {
				p := targets[target]
				if p == nil {
					continue // no vdr-base in this run
				}
				if rc.setup != nil {
					if err := errorReply(p.addr(), rc.setup); err != nil {
						return fmt.Errorf("%s answers %v with an error: %v", target, rc.setup[:2], err)
					}
				}
				if err := errorReply(p.addr(), rc.args); err != nil {
					return fmt.Errorf("%s answers %s with an error: %v", target, rc.name, err)
				}
				r, err := redisBenchmark(ctx, p.addr(), cfg.Clients, pipeline, cfg.Requests, counts[rc.kind], rc.args)
				if err != nil {
					return err
				}
				m := fmt.Sprintf("%s -P %d", rc.name, pipeline)
				res.add(m+": requests/s", "req/s", "higher", target, r.rps)
				res.add(m+": p50", "ms", "lower", target, r.p50)
				res.add(m+": p99", "ms", "lower", target, r.p99)
				logf("%-8s %-28s %10.0f req/s  p50 %.3f ms  p99 %.3f ms", target, m, r.rps, r.p50, r.p99)
			}
		}
	}
	return nil
}
