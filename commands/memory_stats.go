package commands

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/vdr-project/vdr/projection"
)

// MEMORY STATS, DOCTOR, MALLOC-STATS, PURGE (src/object.c memoryCommand,
// getMemoryOverheadData, getMemoryDoctorReport) and MODULE (src/module.c
// moduleCommand), with vdr's own numbers.
//
// vdr's memory is the Go runtime's, so the fields Redis takes from its
// allocator come from the runtime:
//
//	total.allocated      the heap the last garbage collection found live
//	                     (/gc/heap/live:bytes; INFO used_memory): the
//	                     projection's keys, values and index, and what else
//	                     the process keeps reachable (clients, scripts) —
//	                     without the garbage not collected yet, which
//	                     HeapAlloc counts (up to GOGC% more); HeapAlloc
//	                     before the first collection
//	peak.allocated       the largest total.allocated MEMORY or INFO has seen
//	startup.allocated    HeapAlloc when the commands package started
//	allocator.allocated  total.allocated
//	allocator.active     HeapInuse (spans in use, with their free slots)
//	allocator.resident   Sys - HeapReleased (what the runtime holds from the OS)
//	rss                  the process's resident set (/proc; INFO used_memory_rss)
//
// The per-database overhead is the key index's real size (its tables'
// 16-byte slots and bucket headers, projection.DBStats.IndexBytes); an
// expire time lives in its key's record or box, so there is no second
// table to count for expires. Fields for what vdr has none of (replication
// backlog, replicas' buffers, AOF, cluster links) are 0.

// startupAllocated is HeapAlloc when the process started serving
// commands (startup.allocated).
var startupAllocated = func() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}()

// peakAllocated is the largest total.allocated seen by MEMORY STATS,
// DOCTOR or INFO.
var peakAllocated atomic.Uint64

// memoryFigures are the numbers of MEMORY STATS.
type memoryFigures struct {
	ms                                  runtime.MemStats
	peak, total, startup, clientsNormal int64
	dbs                                 []projection.DBStats
	overheadTotal, keys                 int64
}

func (c *Ctx) memoryFigures() *memoryFigures {
	f := &memoryFigures{}
	runtime.ReadMemStats(&f.ms)
	total := f.ms.HeapAlloc
	if live := liveHeapBytes(); live > 0 {
		total = live
	}
	f.total = int64(total)
	for {
		p := peakAllocated.Load()
		if total <= p || peakAllocated.CompareAndSwap(p, total) {
			break
		}
	}
	f.peak = int64(peakAllocated.Load())
	f.startup = int64(startupAllocated)
	if c.Env.Host != nil {
		// A client's reply buffer is its Writer's (not counted here);
		// the struct itself is what every client holds.
		f.clientsNormal = int64(len(c.Env.Host.Clients())) * int64(unsafe.Sizeof(Client{}))
	}
	f.overheadTotal = f.startup + f.clientsNormal
	if c.Env.Proj != nil && c.tx == nil {
		f.dbs = c.Env.Proj.Stats().DBs
	}
	for _, d := range f.dbs {
		f.keys += d.Keys
		f.overheadTotal += d.IndexBytes
	}
	return f
}

// liveHeapBytes is the heap the last garbage collection found live, 0
// before the first one.
func liveHeapBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// memoryStatsCommand: MEMORY STATS.
func memoryStatsCommand(c *Ctx, args [][]byte) {
	f := c.memoryFigures()
	net := max(f.total-f.startup, 0)
	dataset := max(f.total-f.overheadTotal, 0)
	active, resident, rss := int64(f.ms.HeapInuse), int64(f.ms.Sys-f.ms.HeapReleased), processRSS(&f.ms)
	var ndb int
	for _, d := range f.dbs {
		if d.Keys > 0 {
			ndb++
		}
	}
	// Redis 7.4 and Valkey 8 moved the rehashing overheads out of db.N
	// and added allocator.muzzy (getMemoryOverheadData of each).
	v := c.Version()
	newLayout := v.AtLeastRedis(7, 4) || v.Valkey && v.Major >= 8
	w := c.W
	if newLayout {
		w.Map(31 + ndb)
	} else {
		w.Map(27 + ndb)
	}
	pairInt := func(k string, v int64) { w.BulkString(k); w.Int(v) }
	pairDouble := func(k string, v float64) { w.BulkString(k); w.Double(v) }
	pairInt("peak.allocated", f.peak)
	pairInt("total.allocated", f.total)
	pairInt("startup.allocated", f.startup)
	pairInt("replication.backlog", 0)
	pairInt("clients.slaves", 0)
	pairInt("clients.normal", f.clientsNormal)
	pairInt("cluster.links", 0)
	pairInt("aof.buffer", 0)
	pairInt("lua.caches", 0)
	pairInt("functions.caches", 0)
	for db, d := range f.dbs {
		if d.Keys == 0 {
			continue
		}
		w.BulkString("db." + strconv.Itoa(db))
		if newLayout {
			w.Map(2)
		} else {
			w.Map(3)
		}
		pairInt("overhead.hashtable.main", d.IndexBytes)
		pairInt("overhead.hashtable.expires", 0) // kept in the records and boxes
		if !newLayout {
			pairInt("overhead.hashtable.slot-to-keys", 0)
		}
	}
	if newLayout {
		pairInt("overhead.db.hashtable.lut", 0)
		pairInt("overhead.db.hashtable.rehashing", 0)
	}
	pairInt("overhead.total", f.overheadTotal)
	if newLayout {
		pairInt("db.dict.rehashing.count", 0) // Go maps grow incrementally, never counted as rehashing
	}
	pairInt("keys.count", f.keys)
	if f.keys > 0 {
		pairInt("keys.bytes-per-key", net/f.keys)
	} else {
		pairInt("keys.bytes-per-key", 0)
	}
	pairInt("dataset.bytes", dataset)
	pairDouble("dataset.percentage", ratio(dataset*100, net))
	pairDouble("peak.percentage", ratio(f.total*100, f.peak))
	pairInt("allocator.allocated", f.total)
	pairInt("allocator.active", active)
	pairInt("allocator.resident", resident)
	if newLayout {
		pairInt("allocator.muzzy", 0)
	}
	pairDouble("allocator-fragmentation.ratio", ratio(active, f.total))
	pairInt("allocator-fragmentation.bytes", active-f.total)
	pairDouble("allocator-rss.ratio", ratio(resident, active))
	pairInt("allocator-rss.bytes", resident-active)
	pairDouble("rss-overhead.ratio", ratio(rss, resident))
	pairInt("rss-overhead.bytes", rss-resident)
	pairDouble("fragmentation", ratio(rss, f.total))
	pairInt("fragmentation.bytes", rss-f.total)
}

// memoryDoctorSmall is Redis's report for an instance using under 5 MB
// (getMemoryDoctorReport), where it has nothing to judge.
const memoryDoctorSmall = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."

// memoryDoctorCommand: MEMORY DOCTOR. Below 5 MB allocated Redis's own
// words; above, what vdr can tell from the runtime's figures.
func memoryDoctorCommand(c *Ctx, args [][]byte) {
	f := c.memoryFigures()
	if f.total < 5<<20 {
		c.W.Verbatim(memoryDoctorSmall+"\n", "txt")
		return
	}
	var issues []string
	if f.peak > f.total*3/2 {
		issues = append(issues, fmt.Sprintf(" * Peak memory: the heap once held %s live, %.2f times what it holds now (%s). The Go runtime returns unused pages to the system over time; MEMORY PURGE does it at once.", humanBytes(uint64(f.peak)), ratio(f.peak, f.total), humanBytes(uint64(f.total))))
	}
	if active := int64(f.ms.HeapInuse); active > f.total*14/10 && active-f.total > 10<<20 {
		issues = append(issues, fmt.Sprintf(" * Fragmentation: %s of heap spans are in use for %s of live objects (ratio %.2f). It shrinks as the garbage collector reuses the free slots.", humanBytes(uint64(active)), humanBytes(uint64(f.total)), ratio(active, f.total)))
	}
	if n := f.ms.NumGC; n > 0 && f.ms.GCCPUFraction > 0.25 {
		issues = append(issues, fmt.Sprintf(" * Garbage collection: %.0f%% of the CPU time since start went to the garbage collector (%d cycles). A larger GOGC or GOMEMLIMIT trades memory for less of it.", f.ms.GCCPUFraction*100, n))
	}
	if len(issues) == 0 {
		c.W.Verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n", "txt")
		return
	}
	c.W.Verbatim("Sam, I detected a few issues in this vdr instance memory implants:\n\n"+strings.Join(issues, "\n\n")+"\n\nI'm here to keep you safe, Sam. I want to help you.\n", "txt")
}

// memoryMallocStatsCommand: MEMORY MALLOC-STATS, as Redis answers when
// built with an allocator that keeps no statistics (Go's is not jemalloc).
func memoryMallocStatsCommand(c *Ctx, args [][]byte) {
	c.W.BulkString("Stats not supported for the current allocator")
}

// memoryPurgeCommand: MEMORY PURGE returns free memory to the system, on
// a goroutine of its own (a full collection takes long on a big heap and
// must not hold a loop).
func memoryPurgeCommand(c *Ctx, args [][]byte) {
	go debug.FreeOSMemory()
	c.W.OK()
}

// moduleListCommand: MODULE LIST — vdr loads no modules.
func moduleListCommand(c *Ctx, args [][]byte) { c.W.Array(0) }

// moduleHelpCommand: MODULE HELP (moduleCommand's help in src/module.c).
func moduleHelpCommand(c *Ctx, args [][]byte) {
	lines := []string{
		"MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"LIST",
		"    Return a list of loaded modules.",
		"LOAD <path> [<arg> ...]",
		"    Load a module library from <path>, passing to it any optional arguments.",
		"LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
		"    Load a module library from <path>, while passing it module configurations and optional arguments.",
		"UNLOAD <name>",
		"    Unload a module.",
		"HELP",
		"    Prints this help.",
	}
	replyHelp(c, lines)
}

// replyHelp writes help lines as addReplyHelp does, with the last line's
// wording of the personality ("Print this help." from 7.2 on).
func replyHelp(c *Ctx, lines []string) {
	c.W.Array(len(lines))
	for i, l := range lines {
		if i == len(lines)-1 && l == "    Prints this help." && c.Version().HelpSaysPrint() {
			l = "    Print this help."
		}
		c.W.Status(l)
	}
}

// moduleLoadCommand: MODULE LOAD / LOADEX. With enable-module-command
// off (Redis's default, and vdr's only setting) processCommand refuses
// them before this runs (protectedCommandError); were it on, loading
// fails as Redis's does for a library it cannot load.
func moduleLoadCommand(c *Ctx, args [][]byte) {
	c.W.Error("ERR Error loading the extension. Please check the server logs.")
}

// moduleUnloadCommand: MODULE UNLOAD name; no module is loaded.
func moduleUnloadCommand(c *Ctx, args [][]byte) {
	c.W.Error("ERR Error unloading module: no such module with that name")
}
