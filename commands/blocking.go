package commands

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdr-project/vdr/projection"
)

// Blocking reads. XREAD … BLOCK is the one read a replica serves that
// waits: when none of its streams has an entry after the given IDs, the
// client waits until one does (or the timeout passes), as Redis's
// blockForKeys does. Here the command leaves the client "blocked" without
// a reply; the front end stops running that client's requests and, when
// the applier signals one of the keys (Blocking.Signal) or the timeout
// passes, calls Ctx.RetryBlocked or Ctx.BlockTimeout from the
// connection's own goroutine. A front end that cannot park a connection
// leaves Client.Wake nil, and XREAD BLOCK answers an explicit error there
// (both of package server's front ends can).

// blockedRead is a parked client: an XREAD with every `$` already
// replaced by the ID it meant when it blocked, or (kind) a DEBUG SLEEP,
// a command held by CLIENT PAUSE, or a SAVE waiting for its write; and
// the deadline. The front end treats them alike: it runs nothing more of
// the client until RetryBlocked (on Wake) or BlockTimeout (at the
// deadline) answers, and checks Blocked again after either, since a
// paused command that runs may park again.
type blockedRead struct {
	kind     parkKind
	db       int
	args     [][]byte
	keys     [][]byte
	deadline time.Time // zero: no timeout (BLOCK 0)
	save     *saveWait // parkSave: the write it waits for
}

// parkKind says what a parked client waits for.
type parkKind uint8

const (
	parkXRead parkKind = iota // XREAD BLOCK: data on one of its keys
	parkSleep                 // DEBUG SLEEP: its deadline, then +OK
	parkPause                 // CLIENT PAUSE: the pause's end, then the command runs
	parkSave                  // SAVE: the snapshot write, then its result
)

// Blocking is the registry of blocked clients by (db, key).
type Blocking struct {
	n  atomic.Int64 // registered clients, for a lock-free "anyone?" check
	mu sync.Mutex
	m  map[blockKey]map[*Client]struct{}
}

type blockKey struct {
	db  int
	key string
}

// NewBlocking returns an empty registry.
func NewBlocking() *Blocking { return &Blocking{m: map[blockKey]map[*Client]struct{}{}} }

// Waiting reports whether any client is blocked.
func (b *Blocking) Waiting() bool { return b != nil && b.n.Load() > 0 }

func (b *Blocking) add(cl *Client, db int, keys [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		bk := blockKey{db, string(k)}
		set := b.m[bk]
		if set == nil {
			set = map[*Client]struct{}{}
			b.m[bk] = set
		}
		set[cl] = struct{}{}
	}
	b.n.Add(1)
}

func (b *Blocking) remove(cl *Client, db int, keys [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		bk := blockKey{db, string(k)}
		if set := b.m[bk]; set != nil {
			delete(set, cl)
			if len(set) == 0 {
				delete(b.m, bk)
			}
		}
	}
	b.n.Add(-1)
}

// Signal wakes the clients blocked on key of db: something was written
// to it. Cheap when nobody waits.
func (b *Blocking) Signal(db int, key []byte) {
	if !b.Waiting() {
		return
	}
	b.mu.Lock()
	var wake []*Client
	for cl := range b.m[blockKey{db, string(key)}] {
		wake = append(wake, cl)
	}
	b.mu.Unlock()
	for _, cl := range wake {
		cl.Wake()
	}
}

// SignalAll wakes every blocked client (a full sync, FLUSHALL, SWAPDB,
// MOVE: writes whose keys are not known one by one).
func (b *Blocking) SignalAll() {
	if !b.Waiting() {
		return
	}
	b.mu.Lock()
	seen := map[*Client]bool{}
	for _, set := range b.m {
		for cl := range set {
			seen[cl] = true
		}
	}
	b.mu.Unlock()
	for cl := range seen {
		cl.Wake()
	}
}

// block parks the client on an XREAD that found nothing.
func (c *Ctx) block(args, keys [][]byte, ids []projection.StreamID, idAt int, timeoutMs int64) {
	br := &blockedRead{db: c.Client.db}
	br.args = make([][]byte, len(args))
	for i, a := range args {
		br.args[i] = append([]byte(nil), a...)
	}
	for i := range keys {
		// `$` means the last ID at the time of blocking (Redis resolves it
		// in xreadCommand before blocking).
		br.args[idAt+i] = []byte(projection.FormatStreamID(ids[i]))
	}
	br.keys = br.args[idAt-len(keys) : idAt]
	if timeoutMs > 0 {
		br.deadline = time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	}
	c.Client.blocked = br
	c.Client.unblockReq.Store(0)
	c.Client.xreadWaiting.Store(true)
	c.Env.Blocking.add(c.Client, br.db, br.keys)
}

// park leaves the client waiting without a reply (see blockedRead).
func (c *Ctx) park(kind parkKind, args [][]byte, deadline time.Time) *blockedRead {
	br := &blockedRead{kind: kind, db: c.Client.db, deadline: deadline}
	if args != nil {
		br.args = make([][]byte, len(args))
		for i, a := range args {
			br.args[i] = append([]byte(nil), a...)
		}
	}
	c.Client.blocked = br
	return br
}

// Blocked reports whether the client waits on a blocking read (the front
// end runs none of its further requests meanwhile) and its deadline (zero:
// none).
func (c *Ctx) Blocked() (bool, time.Time) {
	if br := c.Client.blocked; br != nil {
		return true, br.deadline
	}
	return false, time.Time{}
}

// RetryBlocked runs the blocked read again; it reports whether the client
// got its reply (and is no longer blocked).
func (c *Ctx) RetryBlocked() bool {
	br := c.Client.blocked
	if br == nil {
		return true
	}
	switch br.kind {
	case parkSleep:
		return false
	case parkPause:
		return c.resumePaused(br)
	case parkSave:
		return c.saveDone(br)
	}
	if r := c.Client.unblockReq.Swap(0); r != 0 {
		c.unblock()
		if r == unblockError {
			c.W.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
		} else {
			c.W.NullArray()
		}
		return true
	}
	db := c.Client.db
	c.Client.db = br.db
	c.retrying = true
	before := c.W.Len()
	xreadCommand(c, br.args)
	c.retrying = false
	c.Client.db = db
	if c.W.Len() == before {
		return false // still nothing: stays blocked
	}
	c.unblock()
	return true
}

// BlockTimeout answers a blocked read whose timeout passed: a null array,
// as Redis's replyToBlockedClientTimedOut.
// A DEBUG SLEEP answers +OK, a paused command runs (or waits on, when
// the pause was extended).
func (c *Ctx) BlockTimeout() {
	br := c.Client.blocked
	if br == nil {
		return
	}
	switch br.kind {
	case parkSleep:
		c.unblock()
		c.W.OK()
		return
	case parkPause:
		c.resumePaused(br)
		return
	case parkSave:
		return // a SAVE has no deadline
	}
	c.unblock()
	c.W.NullArray()
}

func (c *Ctx) unblock() {
	br := c.Client.blocked
	if br == nil {
		return
	}
	c.Client.blocked = nil
	switch br.kind {
	case parkXRead:
		c.Client.xreadWaiting.Store(false)
		c.Env.Blocking.remove(c.Client, br.db, br.keys)
	case parkPause:
		c.Env.Pause.forget(c.Client)
	}
}
