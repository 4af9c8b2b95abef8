package commands

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LATENCY (src/latency.c): the latency monitor keeps, per event, the
// worst latency of each second (the last 160 seconds with an event) and
// the all-time maximum, for events at least latency-monitor-threshold
// milliseconds long. vdr's events are Redis's "command" and
// "fast-command" (recordCall), and two of its own, reported by the
// server through AddLatencySample: "apply-batch" (applying one batch of
// the replication stream held the projection's locks that long) and
// "fullsync-swap" (putting a loaded data set in place of the old one).
// LATENCY HISTOGRAM reads the per-command histograms of cmdstats.go.

// latencyTSLen is LATENCY_TS_LEN: samples kept per event.
const latencyTSLen = 160

type latencySample struct {
	time    int64 // Unix seconds; 0: empty slot
	latency int64 // ms
}

type latencySeries struct {
	idx     int
	max     int64
	samples [latencyTSLen]latencySample
}

type latencyMonitor struct {
	mu     sync.Mutex
	events map[string]*latencySeries
	order  []string // event names by creation, for stable replies
}

// add is latencyAddSample: one sample per second per event, the worst.
func (m *latencyMonitor) add(event string, ms int64) {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		if m.events == nil {
			m.events = map[string]*latencySeries{}
		}
		ts = &latencySeries{}
		m.events[event] = ts
		m.order = append(m.order, event)
	}
	ts.max = max(ts.max, ms)
	prev := (ts.idx + latencyTSLen - 1) % latencyTSLen
	if ts.samples[prev].time == now {
		ts.samples[prev].latency = max(ts.samples[prev].latency, ms)
		return
	}
	ts.samples[ts.idx] = latencySample{now, ms}
	ts.idx = (ts.idx + 1) % latencyTSLen
}

// reset drops event (every event when all), returning how many it dropped.
func (m *latencyMonitor) reset(event string, all bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	kept := m.order[:0]
	for _, ev := range m.order {
		if all || strings.EqualFold(ev, event) {
			delete(m.events, ev)
			n++
			continue
		}
		kept = append(kept, ev)
	}
	m.order = kept
	return n
}

// AddLatencySample reports one of the server's own events (apply-batch,
// fullsync-swap) that took d; it is kept when latency-monitor-threshold is
// on and d reaches it (latencyAddSampleIfNeeded).
func (e *Env) AddLatencySample(event string, d time.Duration) {
	o := e.observer()
	ms := d.Milliseconds()
	if th := o.latThreshold.Load(); th > 0 && ms >= th {
		o.latency.add(event, ms)
	}
}

func latencyLatestCommand(c *Ctx, args [][]byte) {
	m := &c.Env.observer().latency
	m.mu.Lock()
	defer m.mu.Unlock()
	c.W.Array(len(m.order))
	for _, ev := range m.order {
		ts := m.events[ev]
		last := ts.samples[(ts.idx+latencyTSLen-1)%latencyTSLen]
		c.W.Array(4)
		c.W.BulkString(ev)
		c.W.Int(last.time)
		c.W.Int(last.latency)
		c.W.Int(ts.max)
	}
}

// samples returns the series' samples, oldest first.
func (ts *latencySeries) ordered() []latencySample {
	var out []latencySample
	for j := 0; j < latencyTSLen; j++ {
		s := ts.samples[(ts.idx+j)%latencyTSLen]
		if s.time != 0 {
			out = append(out, s)
		}
	}
	return out
}

func latencyHistoryCommand(c *Ctx, args [][]byte) {
	m := &c.Env.observer().latency
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[string(args[2])]
	if ts == nil {
		c.W.Array(0)
		return
	}
	ss := ts.ordered()
	c.W.Array(len(ss))
	for _, s := range ss {
		c.W.Array(2)
		c.W.Int(s.time)
		c.W.Int(s.latency)
	}
}

func latencyResetCommand(c *Ctx, args [][]byte) {
	m := &c.Env.observer().latency
	if len(args) == 2 {
		c.W.Int(int64(m.reset("", true)))
		return
	}
	n := 0
	for _, ev := range args[2:] {
		n += m.reset(string(ev), false)
	}
	c.W.Int(int64(n))
}

// latencyGraphCols is LATENCY_GRAPH_COLS.
const latencyGraphCols = 80

func latencyGraphCommand(c *Ctx, args [][]byte) {
	m := &c.Env.observer().latency
	m.mu.Lock()
	ev := string(args[2])
	ts := m.events[ev]
	var ss []latencySample
	var allMax int64
	if ts != nil {
		ss, allMax = ts.ordered(), ts.max
	}
	m.mu.Unlock()
	if ts == nil {
		c.W.Error("ERR No samples available for event '" + ev + "'")
		return
	}
	now := time.Now().Unix()
	var lo, hi int64
	values := make([]float64, len(ss))
	labels := make([]string, len(ss))
	for i, s := range ss {
		if i == 0 {
			lo, hi = s.latency, s.latency
		}
		lo, hi = min(lo, s.latency), max(hi, s.latency)
		values[i] = float64(s.latency)
		el := now - s.time
		switch {
		case el < 60:
			labels[i] = strconv.FormatInt(el, 10) + "s"
		case el < 3600:
			labels[i] = strconv.FormatInt(el/60, 10) + "m"
		case el < 86400:
			labels[i] = strconv.FormatInt(el/3600, 10) + "h"
		default:
			labels[i] = strconv.FormatInt(el/86400, 10) + "d"
		}
	}
	var sb strings.Builder
	sb.WriteString(ev + " - high " + strconv.FormatInt(hi, 10) + " ms, low " + strconv.FormatInt(lo, 10) +
		" ms (all time high " + strconv.FormatInt(allMax, 10) + " ms)\n")
	sb.WriteString(strings.Repeat("-", latencyGraphCols) + "\n")
	renderSparkline(&sb, values, labels, latencyGraphCols, 4)
	c.W.Verbatim(sb.String(), "txt")
}

// renderSparkline draws values as Redis's sparkline.c does with
// SPARKLINE_FILL: rows lines of '_', 'o', '#' and '|' scaled between the
// minimum and the maximum, then a blank line and the labels written
// downwards, in chunks of columns values.
func renderSparkline(sb *strings.Builder, values []float64, labels []string, columns, rows int) {
	if len(values) == 0 {
		return
	}
	lo, hi := values[0], values[0]
	for _, v := range values[1:] {
		if v < lo {
			lo = v
		} else if v > hi {
			hi = v
		}
	}
	const fill = "_o#"
	rel := hi - lo
	if rel == 0 {
		rel = 1
	}
	steps := len(fill) * rows
	hasLabels := false
	for _, l := range labels {
		hasLabels = hasLabels || l != ""
	}
	for off := 0; off < len(values); off += columns {
		if off != 0 {
			sb.WriteByte('\n')
		}
		n := min(columns, len(values)-off)
		line := make([]byte, n)
		for row := 0; ; row++ {
			more := false
			for j := range line {
				line[j] = ' '
			}
			for j := 0; j < n; j++ {
				step := int(float64(int((values[off+j]-lo)*float64(steps))) / rel)
				step = min(max(step, 0), steps-1)
				if row < rows {
					more = true
					ci := step - (rows-row-1)*len(fill)
					if ci >= 0 && ci < len(fill) {
						line[j] = fill[ci]
					} else if ci >= len(fill) {
						line[j] = '|'
					}
					continue
				}
				if hasLabels && row-rows < 1 {
					more = true
					break
				}
				if l := labels[off+j]; len(l) > row-rows-1 {
					more = true
					line[j] = l[row-rows-1]
				}
			}
			if !more {
				break
			}
			sb.Write(line)
			sb.WriteByte('\n')
		}
	}
}

func latencyDoctorCommand(c *Ctx, args [][]byte) {
	w := &doctorRedis
	if v := c.Version(); v.Valkey && v.Major >= 8 {
		w = &doctorValkey8
	}
	c.W.Verbatim(latencyReport(c.Env.observer(), w), "txt")
}

// doctorWords are LATENCY DOCTOR's sentences for vdr's events: Redis's,
// or Valkey 8's rewording (src/latency.c createLatencyReport). The
// slow-log ones take the suggested slowlog-log-slower-than value.
type doctorWords struct {
	disabled, intro, none, noAdvice, adviceHead string
	slowlogOn, slowlogTune                      func(us string) string
	slowlogInspect, scheduler, large            string
}

var doctorRedis = doctorWords{
	disabled:   "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n",
	intro:      "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n",
	none:       "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n",
	noAdvice:   "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n",
	adviceHead: "\nI have a few advices for you:\n\n",
	slowlogOn: func(us string) string {
		return "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than " + us + "'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"
	},
	slowlogTune: func(us string) string {
		return "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than " + us + "'.\n"
	},
	slowlogInspect: "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
	scheduler:      schedulerAdvice("Redis", "redis-cli"),
	large:          "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n",
}

var doctorValkey8 = doctorWords{
	disabled:   "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Valkey instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it.\n",
	intro:      "Latency spikes are observed in this Valkey instance.\n\n",
	none:       "No latency spike was observed during the lifetime of this Valkey instance, not in the slightest bit.\n",
	noAdvice:   "\nThere are latency events logged that are not easy to fix. Please get some help from Valkey community, providing this report in your help request.\n",
	adviceHead: "\nHere is some advice for you:\n\n",
	slowlogOn: func(us string) string {
		return "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Valkey feature using the command 'CONFIG SET slowlog-log-slower-than " + us + "'. If the Slow log is disabled Valkey is not able to log slow commands execution for you.\n"
	},
	slowlogTune:    doctorRedis.slowlogTune,
	slowlogInspect: "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://valkey.io/commands/slowlog for more information.\n",
	scheduler:      schedulerAdvice("Valkey", "valkey-cli"),
	large:          doctorRedis.large,
}

// schedulerAdvice is the advice for "fast-command" spikes, naming the
// server and its CLI.
func schedulerAdvice(server, cli string) string {
	return "- The system is slow to execute " + server + " code paths not containing system calls. This usually means the system does not provide " + server + " CPU time to run for long periods. You should try to:\n" +
		"  1) Lower the system load.\n" +
		"  2) Use a computer / VM just for " + server + " if you are running other software in the same system.\n" +
		"  3) Check if you have a \"noisy neighbour\" problem.\n" +
		"  4) Check with '" + cli + " --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
		"  5) Check if the problem is allocator-related by recompiling " + server + " with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n"
}

// latencyReport is createLatencyReport for the events vdr has.
func latencyReport(o *obsState, w *doctorWords) string {
	m := &o.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	th := o.latThreshold.Load()
	if len(m.order) == 0 && th == 0 {
		return w.disabled
	}
	var sb strings.Builder
	advSlowlogOn, advSlowlogTune, advSlowlogInspect, advLarge, advScheduler := false, false, false, false, false
	advices := 0
	now := time.Now().Unix()
	for i, ev := range m.order {
		ts := m.events[ev]
		if i == 0 {
			sb.WriteString(w.intro)
		}
		ss := ts.ordered()
		var sum, oldest int64
		for _, s := range ss {
			sum += s.latency
			if oldest == 0 || s.time < oldest {
				oldest = s.time
			}
		}
		avg := sum / int64(len(ss))
		period := max(now-oldest, 1)
		var mad int64
		for _, s := range ss {
			d := avg - s.latency
			mad += max(d, -d)
		}
		mad /= int64(len(ss))
		sb.WriteString(strconv.Itoa(i+1) + ". " + ev + ": " + strconv.Itoa(len(ss)) + " latency spikes (average " +
			strconv.FormatInt(avg, 10) + "ms, mean deviation " + strconv.FormatInt(mad, 10) + "ms, period " +
			strconv.FormatFloat(float64(period)/float64(len(ss)), 'f', 2, 64) + " sec). Worst all time event " +
			strconv.FormatInt(ts.max, 10) + "ms.")
		switch ev {
		case "command":
			if sl := o.slowlogSlower.Load(); sl < 0 {
				advSlowlogOn = true
				advices++
			} else if sl/1000 > th {
				advSlowlogTune = true
				advices++
			}
			advSlowlogInspect, advLarge = true, true
			advices += 2
		case "fast-command":
			advScheduler = true
			advices++
		}
		sb.WriteByte('\n')
	}
	us := strconv.FormatInt(th*1000, 10)
	switch {
	case len(m.order) == 0 && advices == 0:
		sb.WriteString(w.none)
	case advices == 0:
		sb.WriteString(w.noAdvice)
	default:
		sb.WriteString(w.adviceHead)
		if advSlowlogOn {
			sb.WriteString(w.slowlogOn(us))
		}
		if advSlowlogTune {
			sb.WriteString(w.slowlogTune(us))
		}
		if advSlowlogInspect {
			sb.WriteString(w.slowlogInspect)
		}
		if advScheduler {
			sb.WriteString(w.scheduler)
		}
		if advLarge {
			sb.WriteString(w.large)
		}
	}
	return sb.String()
}

// latencyHistogramCommand: LATENCY HISTOGRAM [command …], a map of
// command name to {calls, histogram_usec} (latencyAllCommandsFillCDF,
// latencySpecificCommandsFillCDF).
func latencyHistogramCommand(c *Ctx, args [][]byte) {
	o := c.Env.observer()
	type named struct {
		name   string
		counts [latBuckets]uint64
		total  uint64
	}
	var list []named
	addIdx := func(i int) {
		if counts, total, ok := o.histCounts(i); ok {
			list = append(list, named{statsNames[i], counts, total})
		}
	}
	if len(args) == 2 {
		for i := range statsNames {
			addIdx(i)
		}
	} else {
		for _, a := range args[2:] {
			name := strings.ToLower(string(a))
			cmd := c.commands().find(name)
			if cmd == nil {
				continue
			}
			if cmd.stats != nil {
				addIdx(cmd.stats.idx)
			}
			for _, sub := range cmd.Subcommands {
				if sub.stats != nil {
					addIdx(sub.stats.idx)
				}
			}
		}
	}
	c.W.Map(len(list))
	for _, e := range list {
		c.W.BulkString(e.name)
		writeCommandCDF(c.W, &e.counts, e.total)
	}
}

// writeCommandCDF is fillCommandCDF: the calls, and the cumulative count
// at each doubling bucket from 1024 ns, labelled in µs as Redis labels
// them (its HdrHistogram's highest equivalent value of 1024·2^k ns, with
// two significant digits), where the count grew.
func writeCommandCDF(w *Writer, counts *[latBuckets]uint64, total uint64) {
	w.Map(2)
	w.BulkString("calls")
	w.Int(int64(total))
	w.BulkString("histogram_usec")
	type pt struct{ us, cum int64 }
	var pts []pt
	var cum, prev uint64
	i := 0
	for level := int64(1024); ; level *= 2 {
		for i < latBuckets {
			if lo, _ := latBounds(i); lo >= level {
				break
			}
			cum += counts[i]
			i++
		}
		if cum > prev {
			// hdr: at 2^m (m ≥ 8) a bucket is 2^(m-7) wide.
			pts = append(pts, pt{(level + level>>7 - 1) / 1000, int64(cum)})
		}
		prev = cum
		if cum >= total || i >= latBuckets {
			break
		}
	}
	w.Map(len(pts))
	for _, p := range pts {
		w.Int(p.us)
		w.Int(p.cum)
	}
}

func latencyHelpCommand(c *Ctx, args [][]byte) { writeHelp(c, "latency") }

func init() {
	helpTexts["latency"] = []string{
		"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
		"HELP",
		"    Prints this help.",
	}
}

// sortedEvents is for tests: the events the monitor holds.
func (m *latencyMonitor) sortedEvents() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]string(nil), m.order...)
	sort.Strings(out)
	return out
}
