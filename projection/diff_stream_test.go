package projection

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// streamVals renders a projected stream for compareKey: metadata, entries,
// then each group (last ID, entries-read, lag, PEL with owners, delivery
// times and counts) and its consumers with their PELs. Consumer seen
// times are left out: a replica stamps them with its own clock.
func streamVals(s *streamObj) []string {
	streamCoverage.streams++
	streamCoverage.entries += s.length()
	for _, g := range s.groups {
		streamCoverage.groups++
		streamCoverage.pending += g.pel.Len()
	}
	out := []string{
		"length=" + strconv.Itoa(s.length()),
		"last=" + FormatStreamID(s.lastID),
		"maxdel=" + FormatStreamID(s.maxDeleted),
		"added=" + strconv.FormatUint(s.entriesAdded, 10),
		"first=" + FormatStreamID(s.firstID),
	}
	s.entries.ascend(StreamID{}, func(id StreamID, fv [][]byte) bool {
		out = append(out, "E "+FormatStreamID(id))
		for _, x := range fv {
			out = append(out, string(x))
		}
		return true
	})
	for _, g := range s.groups {
		er := "nil"
		if g.entriesRead != scgInvalidEntriesRead {
			er = strconv.FormatInt(g.entriesRead, 10)
		}
		lag := "nil"
		if l, ok := s.lag(g); ok {
			lag = strconv.FormatInt(l, 10)
		}
		out = append(out, "G "+g.name, "last="+FormatStreamID(g.lastID), "er="+er, "lag="+lag, "pel="+strconv.Itoa(g.pel.Len()))
		g.pel.Scan(func(x *nack) bool {
			out = append(out, fmt.Sprintf("P %s %s %d %d", FormatStreamID(x.id), x.owner.name, x.time, x.count))
			return true
		})
		for _, c := range g.consumers {
			out = append(out, "C "+c.name+" pel="+strconv.Itoa(c.pel.Len()))
			c.pel.Scan(func(x *nack) bool {
				out = append(out, fmt.Sprintf("p %s %d %d", FormatStreamID(x.id), x.time, x.count))
				return true
			})
		}
	}
	return out
}

// streamCoverage counts what the stream comparisons saw, so that the test
// can fail when its workload stops producing groups and PELs.
var streamCoverage struct{ streams, entries, groups, pending int }

// respMap turns a RESP2 flat key/value array into a map.
func respMap(v any) map[string]any {
	a, _ := v.([]any)
	m := map[string]any{}
	for i := 0; i+1 < len(a); i += 2 {
		k, _ := a[i].(string)
		m[k] = a[i+1]
	}
	return m
}

func respStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

// redisStreamVals renders a real server's stream like streamVals, from
// XINFO STREAM key FULL COUNT 0.
func redisStreamVals(t *testing.T, r *rconn, k string) []string {
	t.Helper()
	info := respMap(r.do(t, "XINFO", "STREAM", k, "FULL", "COUNT", "0"))
	out := []string{
		"length=" + respStr(info["length"]),
		"last=" + respStr(info["last-generated-id"]),
		"maxdel=" + respStr(info["max-deleted-entry-id"]),
		"added=" + respStr(info["entries-added"]),
		"first=" + respStr(info["recorded-first-entry-id"]),
	}
	entries, _ := info["entries"].([]any)
	for _, e := range entries {
		ea, _ := e.([]any)
		if len(ea) != 2 {
			t.Fatalf("XINFO entry %v", e)
		}
		out = append(out, "E "+respStr(ea[0]))
		out = append(out, strs(ea[1])...)
	}
	groups, _ := info["groups"].([]any)
	for _, gv := range groups {
		g := respMap(gv)
		out = append(out, "G "+respStr(g["name"]), "last="+respStr(g["last-delivered-id"]), "er="+respStr(g["entries-read"]),
			"lag="+respStr(g["lag"]), "pel="+respStr(g["pel-count"]))
		pel, _ := g["pending"].([]any)
		for _, p := range pel {
			pa, _ := p.([]any)
			out = append(out, fmt.Sprintf("P %s %s %s %s", respStr(pa[0]), respStr(pa[1]), respStr(pa[2]), respStr(pa[3])))
		}
		cons, _ := g["consumers"].([]any)
		for _, cv := range cons {
			c := respMap(cv)
			out = append(out, "C "+respStr(c["name"])+" pel="+respStr(c["pel-count"]))
			cp, _ := c["pending"].([]any)
			for _, p := range cp {
				pa, _ := p.([]any)
				out = append(out, fmt.Sprintf("p %s %s %s", respStr(pa[0]), respStr(pa[1]), respStr(pa[2])))
			}
		}
	}
	return out
}

// streamWorkload generates stream commands. Keys s0–s1 take generated IDs
// ("*"); e0–e2 take explicit IDs from a counter, so that XDEL, XCLAIM,
// XACK and MINID name entries that exist. Occasionally a core key is used
// (WRONGTYPE both ways).
func streamWorkload() func(w *workload) []string {
	counter := uint64(1)
	return func(w *workload) []string {
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

func TestDifferentialStreams(t *testing.T) {
	// The coverage is judged over all the seeds of a run: about one seed
	// in sixteen ends with no pending entry left to compare (a valid
	// workload, not a failure), so judging each seed alone failed runs at
	// random. A single seed (SEED=…) reproduces comparisons; it is not judged.
	var total struct{ streams, entries, groups, pending, bigSeeds int }
	forSeeds(t, 3, 3000, 20, 20000, func(t *testing.T, seed int64, ops int) {
		streamCoverage.streams, streamCoverage.entries, streamCoverage.groups, streamCoverage.pending = 0, 0, 0, 0
		runDifferentialMix(t, seed, ops, streamWorkload())
		cv := streamCoverage
		t.Logf("stream comparisons: %d streams, %d entries, %d groups, %d pending entries", cv.streams, cv.entries, cv.groups, cv.pending)
		if ops >= 1000 {
			total.bigSeeds++
			total.streams += cv.streams
			total.entries += cv.entries
			total.groups += cv.groups
			total.pending += cv.pending
		}
	})
	if total.bigSeeds >= 3 && (total.streams == 0 || total.groups == 0 || total.pending == 0) {
		t.Errorf("the workload compared too little over %d seeds: %+v", total.bigSeeds, total)
	}
}
