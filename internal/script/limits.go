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

// watch runs while scripts run (started by begin, ends when none is
// left): it records each run's allocation baseline the first time it sees
// it and stops the runs over the bound.
func (e *Engine) watch() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for range t.C {
		now := heapAllocs()
		e.mu.Lock()
		if len(e.running) == 0 {
			e.watching = false
			e.mu.Unlock()
			return
		}
		for r := range e.running {
			if !r.watched {
				r.watched, r.allocBase = true, now
				continue
			}
			if now-r.allocBase > e.maxAlloc() {
				r.cancel(errMemory)
			}
			// The time limit is checked here too, within watchEvery of
			// it: a timer per call cost more than a short script.
			if time.Since(r.start) > e.timeLimit() {
				r.cancel(errTimeLimit)
			}
		}
		e.mu.Unlock()
	}
}
