package script

import (
	"errors"
	"runtime/metrics"
	"time"
)

// Memory bound. gopher-lua allocates on the Go heap and has no allocator
// hook (Redis's Lua has none either: a script may fill memory up to the
// OOM killer), so vdr bounds a script by what the process allocated while
// it ran: a watchdog samples the runtime's cumulative allocation counter
// and stops every script during which more than Engine.MaxAllocBytes were
// allocated. Allocations of other connections count too, so under heavy
// load a long script may be stopped early; the bound is generous for that
// reason. Strings are also bounded at creation (string.rep).

// errMemory stops a script that allocated too much.
var errMemory = errors.New("vdr: script stopped: it allocated more memory than allowed")

const (
	defaultMaxAllocBytes = 1 << 30
	watchEvery           = 5 * time.Millisecond
)

// heapAllocs is the process's cumulative heap allocation, in bytes.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func (e *Engine) maxAlloc() uint64 {
	if e.MaxAllocBytes > 0 {
		return uint64(e.MaxAllocBytes)
	}
	return defaultMaxAllocBytes
}

// watchIdle is how many ticks without a running script end the
// watchdog; a script started later starts it again.
const watchIdle = 200

// watch runs while scripts run (started by begin): it records each run's
// allocation baseline the first time it sees it and stops the runs over
// the bound or past the time limit.
func (e *Engine) watch() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	idle := 0
	for range t.C {
		if e.watchOnce() {
			idle = 0
			continue
		}
		if idle++; idle < watchIdle {
			continue
		}
		// Stop, then look once more: a run that began before the Store
		// is seen now, and one that begins after it sees watching false
		// and starts a new watchdog.
		e.watching.Store(false)
		if !e.watchOnce() || !e.watching.CompareAndSwap(false, true) {
			return
		}
		idle = 0
	}
}

// watchOnce checks the running scripts and reports whether any runs.
func (e *Engine) watchOnce() bool {
	var now uint64
	running := false
	e.eachState(func(st *State) {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.cur == nil {
			return
		}
		running = true
		if now == 0 {
			now = heapAllocs()
		}
		if !st.watched {
			// A run's start is when the watchdog first sees it (within
			// watchEvery of it): a clock read per run cost more than
			// that precision is worth to the time limit and STATS.
			st.watched, st.alloc0, st.start = true, now, time.Now()
		} else if now-st.alloc0 > e.maxAlloc() {
			st.stopLocked(errMemory)
		}
		// The time limit is checked here too, within watchEvery of it: a
		// timer per call cost more than a short script.
		if time.Since(st.start) > e.timeLimit() {
			st.stopLocked(errTimeLimit)
		}
	})
	return running
}
