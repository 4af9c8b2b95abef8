package commands

import (
	"math/bits"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "unsafe" // go:linkname
)

// Per-command statistics (INFO commandstats and latencystats, LATENCY
// HISTOGRAM), the slow log and the latency monitor are fed from one place,
// call(), as Redis feeds them from call() in src/server.c:
//
//   - every executed command is timed (one monotonic clock read per
//     command, see callStart) and adds to its row's calls and time, and to
//     its latency histogram while latency-tracking is on;
//   - a command whose handler wrote an error reply counts as failed, one
//     refused before running (arity, NOAUTH, READONLY…) as rejected
//     (incrCommandStatsOnError);
//   - a command slower than slowlog-log-slower-than goes to the slow log,
//     one slower than latency-monitor-threshold to the latency monitor
//     ("command", or "fast-command" for a command flagged fast).
//
// The counters are per Env (per server), in one slot per command name
// (statsNames), updated with atomic adds: calls, time and a histogram
// bucket, three per command. With the clock read that is about 60 ns a
// command (BenchmarkRecordCall), where timing one command in eight cost
// about 35.

// LatencyBuckets are the upper bounds in seconds of the /metrics histogram
// vdr_command_duration_seconds (every command of every name).
var LatencyBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1}

// cmdStats ties a command row to its statistics slot: rows of the same
// name in several personalities share it.
type cmdStats struct {
	idx int // index in statsNames and in obsState.cmds
}

// cmdCounters are one command name's statistics.
type cmdCounters struct {
	calls, ns, rejected, failed atomic.Int64
	hist                        atomic.Pointer[latHist]
}

// ---- latency histogram ----

// latHist is a log-linear histogram of durations in nanoseconds, the
// compact counterpart of the HdrHistogram Redis keeps per command
// (LATENCY_HISTOGRAM_MIN_VALUE 1 ns to _MAX_VALUE 1 s): values below 16
// have a bucket each, larger ones 8 buckets per power of two (12.5%
// resolution), up to 2^30 ns. Power-of-two boundaries are exact, which
// LATENCY HISTOGRAM's doubling buckets need.
type latHist struct {
	buckets [latBuckets]atomic.Uint64
}

const (
	latSubBits  = 3
	latLinear   = 16 // values below it have a bucket each
	latMaxValue = 1_000_000_000
	latBuckets  = latLinear + (30-4)*(1<<latSubBits)
)

// latIndex is the bucket of v (1 ≤ v ≤ latMaxValue).
func latIndex(v int64) int {
	if v < latLinear {
		return int(v)
	}
	msb := bits.Len64(uint64(v)) - 1 // ≥ 4
	sub := int(v>>(msb-latSubBits)) & (1<<latSubBits - 1)
	return latLinear + (msb-4)<<latSubBits + sub
}

// latBounds are the lowest and highest value of bucket i.
func latBounds(i int) (lo, hi int64) {
	if i < latLinear {
		return int64(i), int64(i)
	}
	msb := (i-latLinear)>>latSubBits + 4
	sub := int64((i - latLinear) & (1<<latSubBits - 1))
	w := int64(1) << (msb - latSubBits)
	lo = (1<<latSubBits + sub) * w
	return lo, lo + w - 1
}

func (h *latHist) record(ns int64) {
	ns = min(max(ns, 1), latMaxValue)
	h.buckets[latIndex(ns)].Add(1)
}

// snapshot copies the counts (consistent enough: each is one atomic load).
func (h *latHist) snapshot() (counts [latBuckets]uint64, total uint64) {
	for i := range counts {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	return counts, total
}

// percentile is hdr_value_at_percentile: the highest value of the bucket
// holding the value at percentile p.
func percentile(counts *[latBuckets]uint64, total uint64, p float64) int64 {
	p = min(p, 100)
	at := uint64(p/100*float64(total) + 0.5)
	at = max(at, 1)
	var cum uint64
	for i, n := range counts {
		cum += n
		if cum >= at {
			_, hi := latBounds(i)
			return hi
		}
	}
	return 0
}

// ---- the clock ----

// nanotime is the runtime's monotonic clock: one vDSO clock_gettime,
// where time.Now makes two (wall and monotonic); on this project's VM a
// read costs about 75 ns against 135. Widely linked (the runtime keeps
// it linkable for that reason).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// callStart is when the command about to run started: the end of the
// previous command of the same batch of requests (one clock read per
// command, the time between two commands of a batch — parsing and
// checking the next — counted to the second), or now for the first of a
// batch and for a command run by another (EXEC's queue, a script).
func (c *Ctx) callStart() int64 {
	if c.clockMark != 0 && c.callDepth == 0 {
		return c.clockMark
	}
	return nanotime()
}

// ---- the state: settings, counters, slow log, latency monitor ----

// obsState is a server's observability state; Env.observer creates it.
type obsState struct {
	// shards are copies of the per-command counters (each by
	// cmdStats.idx): a client counts in the copy its ID picks, so event
	// loops running the same command on other cores do not bounce one
	// cache line between them; the readers sum the copies.
	shards [statShards][]cmdCounters

	// Settings (CONFIG SET): see configParams.
	slowlogSlower atomic.Int64 // µs; -1 off (slowlog-log-slower-than)
	slowlogMaxLen atomic.Int64 // slowlog-max-len
	latThreshold  atomic.Int64 // ms; 0 off (latency-monitor-threshold)
	latTracking   atomic.Bool  // latency-tracking
	percentiles   atomic.Pointer[[]float64]
	serveStale    atomic.Int32           // replica-serve-stale-data by CONFIG SET: 1 yes, 2 no, 0 as configured
	requirePass   atomic.Pointer[string] // by CONFIG SET; nil: as configured
	maxClients    atomic.Int64           // by CONFIG SET; 0: as configured
	idleTimeout   atomic.Int64           // by CONFIG SET, ns; -1: as configured

	slowlog slowlog
	latency latencyMonitor
	inst    instMetrics

	setMu        sync.Mutex
	setByCommand map[string]bool // names CONFIG SET changed (CONFIG REWRITE writes them)
}

// statShards is how many copies of the counters there are (a power of
// two; more than the cores of a typical sidecar).
const statShards = 8

// sums returns command i's counters summed over the shards.
func (o *obsState) sums(i int) (calls, ns, rejected, failed int64) {
	for s := range o.shards {
		cc := &o.shards[s][i]
		calls += cc.calls.Load()
		ns += cc.ns.Load()
		rejected += cc.rejected.Load()
		failed += cc.failed.Load()
	}
	return
}

// histCounts returns command i's latency histogram summed over the
// shards; ok is false while no call was timed.
func (o *obsState) histCounts(i int) (counts [latBuckets]uint64, total uint64, ok bool) {
	for s := range o.shards {
		h := o.shards[s][i].hist.Load()
		if h == nil {
			continue
		}
		ok = true
		for b := range counts {
			n := h.buckets[b].Load()
			counts[b] += n
			total += n
		}
	}
	return counts, total, ok
}

// obsHolder creates the state on first use (Env is built as a literal).
type obsHolder struct {
	once sync.Once
	s    *obsState
}

// observer returns the server's observability state.
func (e *Env) observer() *obsState {
	e.obs.once.Do(func() {
		s := &obsState{}
		for i := range s.shards {
			s.shards[i] = make([]cmdCounters, len(statsNames))
		}
		s.slowlogSlower.Store(10000)
		s.slowlogMaxLen.Store(128)
		s.latTracking.Store(true)
		s.idleTimeout.Store(-1)
		s.percentiles.Store(&[]float64{50, 99, 99.9})
		s.inst.reset(time.Now())
		e.obs.s = s
	})
	return e.obs.s
}

// counters returns the statistics slot of cmd in the shard of client id.
func (o *obsState) counters(cmd *Command, id int64) *cmdCounters {
	if cmd.stats == nil {
		return nil
	}
	return &o.shards[int(id)&(statShards-1)][cmd.stats.idx]
}

// recordCall is the bookkeeping after a command ran for d: commandstats,
// latency histogram, latency monitor and slow log. failed says the command
// wrote an error reply.
func (c *Ctx) recordCall(cmd *Command, args [][]byte, d time.Duration, failed bool) {
	o := c.Env.observer()
	ns := int64(d)
	cc := o.counters(cmd, c.Client.ID)
	if cc == nil {
		return
	}
	if failed {
		cc.failed.Add(1)
	}
	cc.calls.Add(1)
	cc.ns.Add(ns)
	if c.Client.blocked != nil {
		return // counted again when it unblocks, as Redis's updateStatsOnUnblock
	}
	if o.latTracking.Load() {
		h := cc.hist.Load()
		if h == nil {
			cc.hist.CompareAndSwap(nil, new(latHist))
			h = cc.hist.Load()
		}
		h.record(ns)
	}
	us := ns / 1000
	if th := o.latThreshold.Load(); th > 0 && us/1000 >= th {
		ev := "command"
		if cmd.Flags&CmdFast != 0 {
			ev = "fast-command"
		}
		o.latency.add(ev, us/1000)
	}
	if th := o.slowlogSlower.Load(); th >= 0 && us >= th && cmd.Flags&CmdSkipSlowlog == 0 {
		o.slowlog.push(c, cmd, args, us, o.slowlogMaxLen.Load())
	}
}

// recordReject counts a known command refused before it ran.
func (c *Ctx) recordReject(cmd *Command) {
	if cc := c.Env.observer().counters(cmd, c.Client.ID); cc != nil {
		cc.rejected.Add(1)
	}
}

// CommandStat is one command's INFO commandstats line.
type CommandStat struct {
	Name                          string // "get", "config|get"
	Calls, Usec, Rejected, Failed int64
}

// CommandStats returns the commands (and subcommands) called, rejected or
// failed at least once, by name.
func (e *Env) CommandStats() []CommandStat {
	o := e.observer()
	var out []CommandStat
	for i, name := range statsNames {
		calls, ns, rejected, failed := o.sums(i)
		st := CommandStat{Name: name, Calls: calls, Usec: ns / 1000, Rejected: rejected, Failed: failed}
		if st.Calls != 0 || st.Rejected != 0 || st.Failed != 0 {
			out = append(out, st)
		}
	}
	return out
}

// EachCommandCalls calls fn for every command (and subcommand) of env
// that was called at least once, with its name and call count.
func (e *Env) EachCommandCalls(fn func(name string, calls int64)) {
	for _, st := range e.CommandStats() {
		if st.Calls > 0 {
			fn(st.Name, st.Calls)
		}
	}
}

// LatencyHistogram returns the execution time of every command, from the
// per-command histograms (so while latency-tracking is on): the count per
// bucket of LatencyBuckets (not cumulative; the last is above every
// bound), and the sum of the commands' times.
func (e *Env) LatencyHistogram() (counts []uint64, sum time.Duration) {
	o := e.observer()
	counts = make([]uint64, len(LatencyBuckets)+1)
	for i := range statsNames {
		_, ns, _, _ := o.sums(i)
		sum += time.Duration(ns)
		all, _, ok := o.histCounts(i)
		if !ok {
			continue
		}
		for b, n := range all {
			if n == 0 {
				continue
			}
			_, hi := latBounds(b)
			counts[sort.SearchFloat64s(LatencyBuckets, float64(hi)/1e9)] += n
		}
	}
	return counts, sum
}

// resetStats is CONFIG RESETSTAT: Redis's resetServerStats,
// resetCommandTableStats and resetErrorTableStats. The slow log and the
// latency monitor's events stay (Redis keeps them too).
func (e *Env) resetStats() {
	o := e.observer()
	for s := range o.shards {
		for i := range o.shards[s] {
			cc := &o.shards[s][i]
			cc.calls.Store(0)
			cc.ns.Store(0)
			cc.rejected.Store(0)
			cc.failed.Store(0)
			cc.hist.Store(nil)
		}
	}
	st := &e.Stats
	for _, a := range []*atomic.Int64{&st.ConnectionsReceived, &st.CommandsProcessed, &st.RejectedConns,
		&st.KeyspaceHits, &st.KeyspaceMisses, &st.NetInputBytes, &st.NetOutputBytes,
		&st.NetReplInputBytes, &st.NetReplOutputBytes, &st.ErrorReplies} {
		a.Store(0)
	}
	st.errMu.Lock()
	st.errCounts = nil
	st.errMu.Unlock()
	o.inst.mu.Lock()
	o.inst.reset(time.Now())
	o.inst.mu.Unlock()
}

func configResetstatCommand(c *Ctx, args [][]byte) {
	c.Env.resetStats()
	c.W.OK()
}

// ---- INFO sections ----

// infoCommandstats writes cmdstat_<name> lines (genRedisInfoStringCommandStats).
func infoCommandstats(env *Env, add func(string, any)) {
	for _, st := range env.CommandStats() {
		perCall := 0.0
		if st.Calls > 0 {
			perCall = float64(st.Usec) / float64(st.Calls)
		}
		add("cmdstat_"+infoSafe(st.Name), "calls="+strconv.FormatInt(st.Calls, 10)+",usec="+strconv.FormatInt(st.Usec, 10)+
			",usec_per_call="+strconv.FormatFloat(perCall, 'f', 2, 64)+
			",rejected_calls="+strconv.FormatInt(st.Rejected, 10)+",failed_calls="+strconv.FormatInt(st.Failed, 10))
	}
}

// infoErrorstats writes errorstat_<CODE> lines, sorted as Redis's rax.
func infoErrorstats(env *Env, add func(string, any)) {
	errs := env.Stats.ErrorCounts()
	codes := make([]string, 0, len(errs))
	for k := range errs {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, k := range codes {
		add("errorstat_"+infoSafe(k), "count="+strconv.FormatInt(errs[k], 10))
	}
}

// infoLatencystats writes latency_percentiles_usec_<name> lines
// (fillPercentileDistributionLatencies), nothing while latency-tracking is
// off.
func infoLatencystats(env *Env, add func(string, any)) {
	o := env.observer()
	if !o.latTracking.Load() {
		return
	}
	ps := *o.percentiles.Load()
	for i, name := range statsNames {
		counts, total, ok := o.histCounts(i)
		if !ok {
			continue
		}
		var sb strings.Builder
		for j, p := range ps {
			if j > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("p" + formatPercentile(p) + "=")
			sb.WriteString(strconv.FormatFloat(float64(percentile(&counts, total, p))/1000, 'f', 3, 64))
		}
		add("latency_percentiles_usec_"+infoSafe(name), sb.String())
	}
}

// formatPercentile is "%f" with trailing zeros (and a trailing dot)
// removed, as trimDoubleString leaves it: 50, 99.9.
func formatPercentile(p float64) string {
	s := strconv.FormatFloat(p, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// infoSafe replaces the characters INFO cannot carry (getSafeInfoString).
func infoSafe(s string) string {
	if !strings.ContainsAny(s, "#:\n\r") {
		return s
	}
	return strings.NewReplacer("#", "_", ":", "_", "\n", "_", "\r", "_").Replace(s)
}

// infoCPU writes the CPU section from getrusage, as Redis does.
func infoCPU(add func(string, any)) {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string {
		return strconv.FormatInt(int64(t.Sec), 10) + "." + leftPad6(int64(t.Usec))
	}
	add("used_cpu_sys", tv(self.Stime))
	add("used_cpu_user", tv(self.Utime))
	add("used_cpu_sys_children", tv(children.Stime))
	add("used_cpu_user_children", tv(children.Utime))
	// vdr has no main thread: the event loops and the applier are
	// goroutines on every thread, so the process's time is the closest.
	if runtime.GOOS == "linux" { // Redis prints them where RUSAGE_THREAD exists
		add("used_cpu_sys_main_thread", tv(self.Stime))
		add("used_cpu_user_main_thread", tv(self.Utime))
	}
}

func leftPad6(v int64) string {
	s := strconv.FormatInt(v, 10)
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}

// CPUSeconds returns the process's system and user CPU time, as INFO's
// used_cpu_sys and used_cpu_user.
func CPUSeconds() (sys, user float64) {
	var self syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	f := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return f(self.Stime), f(self.Utime)
}

// ---- instantaneous metrics ----

// instSamples is STATS_METRIC_SAMPLES: the ring the average is taken over.
const instSamples = 16

// The metrics sampled, as Redis's STATS_METRIC_*.
const (
	instCommand = iota
	instNetInput
	instNetOutput
	instNetReplInput
	instNetReplOutput
	numInst
)

// instMetrics are Redis's inst_metric: every 100 ms (SampleStats) the rate
// since the last sample goes into a 16-slot ring; INFO shows the mean of
// the ring (trackInstantaneousMetric / getInstantaneousMetric).
type instMetrics struct {
	mu sync.Mutex
	m  [numInst]struct {
		lastTime  time.Time
		lastCount int64
		samples   [instSamples]int64
		idx       int
	}
}

func (im *instMetrics) reset(now time.Time) {
	for i := range im.m {
		im.m[i].lastTime, im.m[i].lastCount, im.m[i].idx = now, 0, 0
		im.m[i].samples = [instSamples]int64{}
	}
}

func (im *instMetrics) track(metric int, reading int64, now time.Time) {
	m := &im.m[metric]
	ms := now.Sub(m.lastTime).Milliseconds()
	var rate int64
	if ms > 0 {
		rate = (reading - m.lastCount) * 1000 / ms
	}
	m.samples[m.idx] = rate
	m.idx = (m.idx + 1) % instSamples
	m.lastTime, m.lastCount = now, reading
}

func (im *instMetrics) get(metric int) int64 {
	im.mu.Lock()
	defer im.mu.Unlock()
	var sum int64
	for _, s := range im.m[metric].samples {
		sum += s
	}
	return sum / instSamples
}

// SampleStatsEvery is how often the server calls SampleStats (Redis's
// serverCron samples every 100 ms).
const SampleStatsEvery = 100 * time.Millisecond

// SampleStats takes one sample of the instantaneous metrics (commands,
// network input and output); the server calls it every SampleStatsEvery.
func (e *Env) SampleStats(now time.Time) {
	o := e.observer()
	o.inst.mu.Lock()
	defer o.inst.mu.Unlock()
	o.inst.track(instCommand, e.Stats.CommandsProcessed.Load(), now)
	replIn, replOut := e.Stats.NetReplInputBytes.Load(), e.Stats.NetReplOutputBytes.Load()
	o.inst.track(instNetInput, e.Stats.NetInputBytes.Load()+replIn, now)
	o.inst.track(instNetOutput, e.Stats.NetOutputBytes.Load()+replOut, now)
	o.inst.track(instNetReplInput, replIn, now)
	o.inst.track(instNetReplOutput, replOut, now)
}

// kbps formats a bytes/s rate as INFO's instantaneous_*_kbps ("%.2f" of KB/s).
func kbps(bytesPerSec int64) string {
	return strconv.FormatFloat(float64(float32(bytesPerSec)/1024), 'f', 2, 64)
}
