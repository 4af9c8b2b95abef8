package projection

import (
	"strings"
	"unsafe"
)

// Keyspace notifications (src/notify.c): the events a Redis replica
// publishes for every write it applies from its primary's stream, as
// __keyspace@<db>__:<key> <event> and __keyevent@<db>__:<event> <key>.
//
// The applier records them beside the changes of change.go: each handler
// calls c.notify where the command's Redis implementation calls
// notifyKeyspaceEvent, in the same order, and the "new" event is recorded
// where a key is created (db.store, as Redis's dbAdd does). They are
// handed to OnEvents after the write locks are released, in apply order,
// on the applier's goroutine. The projection knows nothing of pub/sub:
// the server publishes them.
//
// With notifications off (no K or E, or no class, or no OnEvents) the
// handlers' c.notify is one test of a field loaded once per Apply, and
// db.store one nil test: nothing is recorded.
//
// A command vdr cannot apply exactly (OnUnknown Invalidate) records "del"
// for each key it removed; a whole-database invalidation records nothing
// (as FLUSHDB).

// NotifyFlags is a set of keyspace event classes (notify-keyspace-events).
type NotifyFlags uint32

const (
	NotifyKeyspace NotifyFlags = 1 << iota // K: __keyspace@<db>__ channels (NOTIFY_KEYSPACE)
	NotifyKeyevent                         // E: __keyevent@<db>__ channels (NOTIFY_KEYEVENT)
	NotifyGeneric                          // g: del, expire, rename… (NOTIFY_GENERIC)
	NotifyString                           // $: string commands (NOTIFY_STRING)
	NotifyList                             // l: list commands (NOTIFY_LIST)
	NotifySet                              // s: set commands (NOTIFY_SET)
	NotifyHash                             // h: hash commands (NOTIFY_HASH)
	NotifyZSet                             // z: sorted set commands (NOTIFY_ZSET)
	NotifyExpired                          // x: expired keys (NOTIFY_EXPIRED)
	NotifyEvicted                          // e: evicted keys (NOTIFY_EVICTED)
	NotifyStream                           // t: stream commands (NOTIFY_STREAM)
	NotifyKeyMiss                          // m: key misses of reads (NOTIFY_KEY_MISS)
	NotifyLoaded                           // modules only (NOTIFY_LOADED)
	NotifyModule                           // d: module events (NOTIFY_MODULE)
	NotifyNew                              // n: a key was created (NOTIFY_NEW)

	// NotifyAll is 'A': every class but m and n (NOTIFY_ALL).
	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash |
		NotifyZSet | NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

// ParseNotifyFlags parses a notify-keyspace-events value
// (keyspaceEventsStringToFlags); ok is false if it holds a character that
// names no class. The empty string is no class.
func ParseNotifyFlags(s string) (f NotifyFlags, ok bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			f |= NotifyAll
		case 'g':
			f |= NotifyGeneric
		case '$':
			f |= NotifyString
		case 'l':
			f |= NotifyList
		case 's':
			f |= NotifySet
		case 'h':
			f |= NotifyHash
		case 'z':
			f |= NotifyZSet
		case 'x':
			f |= NotifyExpired
		case 'e':
			f |= NotifyEvicted
		case 'K':
			f |= NotifyKeyspace
		case 'E':
			f |= NotifyKeyevent
		case 't':
			f |= NotifyStream
		case 'm':
			f |= NotifyKeyMiss
		case 'd':
			f |= NotifyModule
		case 'n':
			f |= NotifyNew
		default:
			return 0, false
		}
	}
	return f, true
}

// String returns f in Redis's canonical form (keyspaceEventsFlagsToString):
// "A" or the classes in the order g$lshzxetdn, then K, E, m.
func (f NotifyFlags) String() string {
	var b strings.Builder
	if f&NotifyAll == NotifyAll {
		b.WriteByte('A')
	} else {
		for _, x := range [...]struct {
			f NotifyFlags
			c byte
		}{
			{NotifyGeneric, 'g'}, {NotifyString, '$'}, {NotifyList, 'l'}, {NotifySet, 's'},
			{NotifyHash, 'h'}, {NotifyZSet, 'z'}, {NotifyExpired, 'x'}, {NotifyEvicted, 'e'},
			{NotifyStream, 't'}, {NotifyModule, 'd'}, {NotifyNew, 'n'},
		} {
			if f&x.f != 0 {
				b.WriteByte(x.c)
			}
		}
	}
	if f&NotifyKeyspace != 0 {
		b.WriteByte('K')
	}
	if f&NotifyKeyevent != 0 {
		b.WriteByte('E')
	}
	if f&NotifyKeyMiss != 0 {
		b.WriteByte('m')
	}
	return b.String()
}

// Event is one keyspace event of an applied command, or a message a
// PUBLISH or SPUBLISH of the stream carries. Key and Msg are valid only
// during the OnEvents call.
type Event struct {
	DB    int
	Class NotifyFlags // one class: NotifyGeneric, NotifyString, …, NotifyNew; 0: a message
	Event string      // "set", "del", "rename_from", …; a message: "publish" or "spublish"
	Key   []byte      // the key; a message: its channel
	Msg   []byte      // a message: its payload
}

// SetNotifyKeyspaceEvents sets the classes of events recorded (the value
// of notify-keyspace-events). Safe to call at any time, from any
// goroutine; it takes effect from the next Apply.
func (p *Projection) SetNotifyKeyspaceEvents(f NotifyFlags) { p.notify.Store(uint32(f)) }

// NotifyKeyspaceEvents returns the classes set by SetNotifyKeyspaceEvents.
func (p *Projection) NotifyKeyspaceEvents() NotifyFlags { return NotifyFlags(p.notify.Load()) }

// OnEvents sets the function told of the keyspace events of applied
// commands, in order, on the applier's goroutine, after the changes are
// visible to readers (with OnChange's changes, after them). Set it before
// applying starts; nil turns events off. fn must not call Apply and must
// not keep evs.
//
// The PUBLISH and SPUBLISH commands applied are reported too (Class 0),
// whatever the classes set, in their place among the events: a script's
// effects arrive as a MULTI unit, and its messages must reach subscribers
// after the writes before them are visible, and among their events.
func (p *Projection) OnEvents(fn func(evs []Event)) { p.onEvents = fn }

// loadNotify reads the event classes for the commands about to be
// applied, and hooks key creation ("new") into ds's databases when asked.
func (a *applier) loadNotify(ds *dataset) {
	f := NotifyFlags(a.p.notify.Load())
	if f&(NotifyKeyspace|NotifyKeyevent) == 0 || a.p.onEvents == nil {
		f = 0
	}
	a.nf = f
	on := f&NotifyNew != 0
	if on || a.newHooked {
		for i, d := range ds.dbs {
			if on {
				d.ev, d.evDB = a, i
			} else {
				d.ev = nil
			}
		}
		a.newHooked = on
	}
}

// notify records event of class for key of the command's db
// (notifyKeyspaceEvent).
func (c *ctx) notify(class NotifyFlags, event string, key []byte) {
	if c.a.nf&class != 0 {
		c.a.evs = append(c.a.evs, Event{DB: c.dbi, Class: class, Event: event, Key: key})
	}
}

// notifyDB is notify for a key of database db (MOVE, COPY … DB).
func (c *ctx) notifyDB(db int, class NotifyFlags, event string, key []byte) {
	if c.a.nf&class != 0 {
		c.a.evs = append(c.a.evs, Event{DB: db, Class: class, Event: event, Key: key})
	}
}

// notifyOn reports whether events of class are recorded (to spare work
// that only an event needs).
func (c *ctx) notifyOn(class NotifyFlags) bool { return c.a.nf&class != 0 }

// newKey records "new" for a key db.store just created (dbAdd).
func (a *applier) newKey(db int, key []byte) {
	if a.nf&NotifyNew != 0 {
		a.evs = append(a.evs, Event{DB: db, Class: NotifyNew, Event: "new", Key: key})
	}
}

// newKeyString is newKey for a key held as a string (the stored key: it
// lives as long as the value, at least until the events are delivered).
func (a *applier) newKeyString(db int, key string) {
	if a.nf&NotifyNew != 0 {
		a.newKey(db, unsafe.Slice(unsafe.StringData(key), len(key)))
	}
}

// publishCommand records PUBLISH/SPUBLISH channel message (see OnEvents).
func publishCommand(c *ctx) error {
	if len(c.argv) == 3 && c.a.p.onEvents != nil {
		c.a.evs = append(c.a.evs, Event{DB: c.dbi, Event: c.name, Key: c.argv[1], Msg: c.argv[2]})
	}
	return nil
}

// deliverEvents hands the recorded events to OnEvents and forgets them.
func (a *applier) deliverEvents() {
	if len(a.evs) == 0 {
		return
	}
	if fn := a.p.onEvents; fn != nil {
		fn(a.evs)
	}
	clear(a.evs) // drop references to argv
	a.evs = a.evs[:0]
}
