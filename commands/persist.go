package commands

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// SAVE, BGSAVE, LASTSAVE and BGREWRITEAOF (src/rdb.c saveCommand,
// bgsaveCommand; src/aof.c bgrewriteaofCommand).
//
// vdr's RDB file is its snapshot (the server's Persister writes it: the
// snapshot path, or dir/dbfilename as Redis names it). A write takes as
// long as the data set is large, so no loop runs it: SAVE parks its
// client (parkSave) until the write, on a goroutine of its own, is done;
// BGSAVE answers at once. LASTSAVE and INFO persistence read the outcome
// (PersistenceInfo).

// Persister writes vdr's snapshot file.
type Persister interface {
	// SaveSnapshot writes the file and returns when it is on disk. It is
	// called on a goroutine of its own, never on a loop.
	SaveSnapshot() error
	// Changes counts the writes applied since start (monotonic), for
	// rdb_changes_since_last_save.
	Changes() int64
}

// ErrNothingToSave is what a Persister returns when there is no complete
// data set to save yet (before the first full sync).
var ErrNothingToSave = errors.New("commands: nothing to save yet")

// persistState is the bookkeeping of saves, in Env.
type persistState struct {
	mu          sync.Mutex
	inProgress  bool  // a SAVE or BGSAVE is writing
	isBG        bool  // … and it is a BGSAVE
	scheduled   bool  // BGSAVE SCHEDULE: run another when this one ends
	lastSave    int64 // Unix s of the last successful save; 0: StartTime
	lastOK      bool  // the last BGSAVE succeeded (rdb_last_bgsave_status)
	lastBGRan   bool
	changesAt   int64 // Changes() at the last successful save
	lastBGStart time.Time
	lastBGTook  time.Duration
}

// PersistInfo is what INFO persistence shows of saves.
type PersistInfo struct {
	LastSaveUnix         int64 // rdb_last_save_time
	BgsaveInProgress     bool  // rdb_bgsave_in_progress
	LastBgsaveOK         bool  // rdb_last_bgsave_status ok/err
	ChangesSinceLastSave int64 // rdb_changes_since_last_save
	LastBgsaveSeconds    int64 // rdb_last_bgsave_time_sec (-1: none yet)
	CurrentBgsaveSeconds int64 // rdb_current_bgsave_time_sec (-1: none running)
}

// PersistenceInfo returns the state of saves for INFO persistence.
func (e *Env) PersistenceInfo() PersistInfo {
	ps := &e.persist
	ps.mu.Lock()
	defer ps.mu.Unlock()
	pi := PersistInfo{LastSaveUnix: ps.lastSave, BgsaveInProgress: ps.inProgress && ps.isBG,
		LastBgsaveOK: ps.lastOK || !ps.lastBGRan, LastBgsaveSeconds: -1, CurrentBgsaveSeconds: -1}
	if pi.LastSaveUnix == 0 {
		pi.LastSaveUnix = e.StartTime.Unix()
	}
	if ps.lastBGRan {
		pi.LastBgsaveSeconds = int64(ps.lastBGTook / time.Second)
	}
	if pi.BgsaveInProgress {
		pi.CurrentBgsaveSeconds = int64(time.Since(ps.lastBGStart) / time.Second)
	}
	if e.Persist != nil {
		pi.ChangesSinceLastSave = e.Persist.Changes() - ps.changesAt
	}
	return pi
}

// saveWait is a SAVE's write, which its parked client polls.
type saveWait struct {
	done atomic.Bool
	err  error // set before done
}

// startSave begins a write on its own goroutine; it reports false when
// one is in progress. done, when set, is called with the result.
func (e *Env) startSave(bg bool, done func(error)) bool {
	ps := &e.persist
	ps.mu.Lock()
	if ps.inProgress {
		ps.mu.Unlock()
		return false
	}
	ps.inProgress, ps.isBG = true, bg
	if bg {
		ps.lastBGStart = time.Now()
	}
	ps.mu.Unlock()
	go func() {
		t0 := time.Now()
		changes := e.Persist.Changes()
		err := e.Persist.SaveSnapshot()
		ps.mu.Lock()
		ps.inProgress = false
		if err == nil {
			ps.lastSave = time.Now().Unix()
			ps.changesAt = changes
		}
		if bg {
			ps.lastBGRan, ps.lastOK, ps.lastBGTook = true, err == nil, time.Since(t0)
		}
		again := ps.scheduled
		ps.scheduled = false
		ps.mu.Unlock()
		if err != nil && e.Logger != nil {
			e.Logger.Warn("snapshot save failed", "error", err)
		}
		if done != nil {
			done(err)
		}
		if again {
			e.startSave(true, nil)
		}
	}()
	return true
}

// saveCommand: SAVE. The client waits (parked) for the write.
func saveCommand(c *Ctx, args [][]byte) {
	if c.Env.Persist == nil || c.Client.Wake == nil || c.inScript || c.tx != nil {
		c.W.Error("ERR")
		return
	}
	sw := &saveWait{}
	cl := c.Client
	br := c.park(parkSave, nil, time.Now().Add(savePoll))
	br.save = sw
	if !c.Env.startSave(false, func(err error) {
		sw.err = err
		sw.done.Store(true)
		cl.Wake()
	}) {
		c.Client.blocked = nil
		c.W.Error("ERR Background save already in progress")
	}
}

// savePoll is how often a parked SAVE looks whether its write ended, in
// case its wake-up was missed.
const savePoll = 100 * time.Millisecond

// saveDone answers a parked SAVE once its write ended.
func (c *Ctx) saveDone(br *blockedRead) bool {
	if !br.save.done.Load() {
		br.deadline = time.Now().Add(savePoll)
		return false
	}
	c.unblock()
	if br.save.err != nil {
		c.W.Error("ERR")
		return true
	}
	c.W.OK()
	return true
}

// bgsaveCommand: BGSAVE [SCHEDULE].
func bgsaveCommand(c *Ctx, args [][]byte) {
	schedule := false
	if len(args) > 1 {
		if len(args) == 2 && equalFold(args[1], "schedule") {
			schedule = true
		} else {
			c.W.Error(errSyntax)
			return
		}
	}
	if c.Env.Persist == nil {
		c.W.Error("ERR")
		return
	}
	if c.Env.startSave(true, nil) {
		c.W.Status("Background saving started")
		return
	}
	if !schedule {
		c.W.Error("ERR Background save already in progress")
		return
	}
	ps := &c.Env.persist
	ps.mu.Lock()
	ps.scheduled = true
	ps.mu.Unlock()
	c.W.Status("Background saving scheduled")
}

func lastsaveCommand(c *Ctx, args [][]byte) { c.W.Int(c.Env.PersistenceInfo().LastSaveUnix) }

// bgrewriteaofCommand: vdr keeps no append-only file, so the rewrite
// fails as Redis's does when it cannot start one.
func bgrewriteaofCommand(c *Ctx, args [][]byte) {
	c.W.Error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetConfigValue makes CONFIG GET name answer value (a setting the
// server was started with). Call it before serving.
func (e *Env) SetConfigValue(name, value string) {
	if e.Config.ExtraConfigOptions == nil {
		e.Config.ExtraConfigOptions = map[string]string{}
	}
	e.Config.ExtraConfigOptions[name] = value
}
