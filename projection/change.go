package projection

// One hook says "these keys changed", as Redis's signalModifiedKey and
// signalFlushedDb do (src/db.c): every command the applier runs reports
// what it changed once, and everything that cares listens to that one
// report — WATCH (inside the projection, under the write locks, so EXEC
// never sees a new value with an old version), and through OnChange the
// front end's CLIENT TRACKING invalidations and XREAD BLOCK wake-ups (and
// whatever comes next: downstream replicas). Keyspace notifications are
// recorded beside the changes, handler by handler, since their names and
// conditions are each command's own (notify.go, OnEvents).
//
// What a command changed comes from its apply row: the row's written
// keys (a row's keys minus those it only reads: SUNIONSTORE's sources,
// COPY's source, SORT's key…), in the order Redis signals them. A handler
// that knows better reports its own changes (ctx.signal…): MOVE and COPY
// … DB touch another database, SWAPDB and the flushes whole ones. A
// command that could not be applied exactly reports what its OnUnknown
// policy removed.

// ChangeKind says what a Change covers.
type ChangeKind uint8

const (
	// Modified: Keys of DB were written or removed (signalModifiedKey,
	// once per key).
	Modified ChangeKind = iota
	// FlushedDB: every key of DB may have changed (FLUSHDB, or a command
	// vdr could not apply whose keys are unknown) (signalFlushedDb).
	FlushedDB
	// FlushedAll: every key of every database (FLUSHALL, a full sync).
	FlushedAll
	// SwappedDB: DB and DB2 swapped contents (SWAPDB). Redis 7.0 touches
	// WATCHed keys and wakes blocked readers of both, and invalidates no
	// tracked key (swapdbCommand calls no signalModifiedKey).
	SwappedDB
)

// Change is one report of what an applied command changed. Keys and their
// bytes are valid only during the OnChange call.
type Change struct {
	Kind ChangeKind
	Cmd  string // the command's lower-case name; "" for a full sync
	DB   int
	DB2  int      // SwappedDB: the other database
	Keys [][]byte // Modified: the keys, in the order Redis signals them
}

// OnChange sets the function told of every change, in the order the
// commands were applied, on the applier's goroutine, after the change is
// visible to readers (the write locks are released). Set it before
// applying starts; nil turns it off. fn must not call Apply.
func (p *Projection) OnChange(fn func(ch *Change)) { p.onChange = fn }

// change is a Change recorded while the write locks are held; its keys
// are chgKeys[k0:k1].
type change struct {
	kind    ChangeKind
	cmd     string
	db, db2 int
	k0, k1  int
}

// signal records that key of database db changed.
func (c *ctx) signal(db int, keys ...[]byte) {
	a := c.a
	k0 := len(a.chgKeys)
	a.chgKeys = append(a.chgKeys, keys...)
	a.chg = append(a.chg, change{kind: Modified, cmd: c.name, db: db, k0: k0, k1: len(a.chgKeys)})
}

// signalFlush records that every key of db changed; db < 0: of every db.
func (c *ctx) signalFlush(db int) {
	if db < 0 {
		c.a.chg = append(c.a.chg, change{kind: FlushedAll, cmd: c.name})
		return
	}
	c.a.chg = append(c.a.chg, change{kind: FlushedDB, cmd: c.name, db: db})
}

// signalScope records keys, a db or everything, by the scope a key
// function returned.
func (c *ctx) signalScope(keys [][]byte, sc scope) {
	switch sc {
	case scopeKeys:
		if len(keys) > 0 {
			c.signal(c.dbi, keys...)
		}
	case scopeDB:
		c.signalFlush(c.dbi)
	case scopeAll:
		c.signalFlush(-1)
	}
}

// signalDefault records what the command's row says it wrote, for a
// handler that reported nothing itself.
func (c *ctx) signalDefault(d *cmdDesc) {
	kf := d.written
	if kf == nil {
		kf = d.keys
	}
	var sc scope
	c.a.wkeys, sc = kf(c.argv, c.a.wkeys[:0])
	c.signalScope(c.a.wkeys, sc)
}

// touchWatched bumps the WATCH versions of the changes recorded from
// index from on (the caller holds the write locks).
func (a *applier) touchWatched(from int) {
	w := &a.p.watch
	if w.n.Load() == 0 {
		return
	}
	for _, ch := range a.chg[from:] {
		switch ch.kind {
		case Modified:
			w.touch(ch.db, a.chgKeys[ch.k0:ch.k1], scopeKeys)
		case FlushedDB:
			w.touch(ch.db, nil, scopeDB)
		case SwappedDB:
			w.touch(ch.db, nil, scopeDB)
			w.touch(ch.db2, nil, scopeDB)
		case FlushedAll:
			w.touch(0, nil, scopeAll)
		}
	}
}

// deliver hands the recorded changes to OnChange (after the write locks
// are released) and forgets them.
func (a *applier) deliver() {
	if fn := a.p.onChange; fn != nil && len(a.chg) > 0 {
		var ch Change
		for _, c := range a.chg {
			ch = Change{Kind: c.kind, Cmd: c.cmd, DB: c.db, DB2: c.db2, Keys: a.chgKeys[c.k0:c.k1]}
			fn(&ch)
		}
	}
	clear(a.chgKeys) // drop references to argv
	a.chg, a.chgKeys = a.chg[:0], a.chgKeys[:0]
	a.deliverEvents()
}

// flushedAll tells OnChange that every key changed (a full sync's swap).
func (p *Projection) flushedAll() {
	if fn := p.onChange; fn != nil {
		fn(&Change{Kind: FlushedAll})
	}
}

// keysWrittenLMove: LMOVE/RPOPLPUSH src dst signal the destination first
// (lmoveHandlePush), then the source.
func keysWrittenLMove(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	if len(argv) > 2 {
		keys = append(keys, argv[2], argv[1])
	}
	return keys, scopeKeys
}

// keysSortStore: SORT … STORE dst writes only its destination (the last
// STORE given wins, as in sortCommand).
func keysSortStore(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	return storeKey(argv, 2, keys), scopeKeys
}

// keysGeoStoreDest: GEORADIUS[BYMEMBER] … STORE|STOREDIST dst writes only
// its destination (the member of GEORADIUSBYMEMBER, argv[2], is no option).
func keysGeoStoreDest(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	return storeKey(argv, 3, keys), scopeKeys
}

func storeKey(argv [][]byte, from int, keys [][]byte) [][]byte {
	var dst []byte
	for i := from; i+1 < len(argv); i++ {
		switch {
		case eq(argv[i], "limit"):
			i += 2
		case eq(argv[i], "by"), eq(argv[i], "get"):
			i++
		case eq(argv[i], "store"), eq(argv[i], "storedist"):
			dst = argv[i+1]
			i++
		}
	}
	if dst != nil {
		keys = append(keys, dst)
	}
	return keys
}

// keysBitopDest: BITOP op dest src… writes dest only.
func keysBitopDest(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	return keysSecond(argv, keys)
}
