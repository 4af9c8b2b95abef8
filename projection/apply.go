package projection

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
)

// Command is one propagated command with the database it runs in.
type Command struct {
	DB   int
	Argv [][]byte
}

// scope says which locks a command needs.
type scope uint8

const (
	scopeNone scope = iota // touches no data (PING, PUBLISH, …)
	scopeKeys              // the keys its keySpec names, in its db
	scopeDB                // every key of its db (FLUSHDB, unknown commands)
	scopeAll               // every db (FLUSHALL, SWAPDB, MOVE, COPY … DB)
)

// keyFunc returns the keys a command names and the scope it needs. It
// must not fail: malformed commands return what can be found.
type keyFunc func(argv [][]byte, keys [][]byte) ([][]byte, scope)

// cmdDesc is one row of the apply table.
type cmdDesc struct {
	name string
	fn   func(c *ctx) error // nil: known but not applicable exactly (invalidate/resync)
	keys keyFunc
	// written: the keys it writes, when not all of keys (see change.go);
	// nil: keys.
	written keyFunc
	count   atomic.Uint64
	// noTouch: applying it leaves access times alone (it sets them itself).
	noTouch bool
}

// ctx is what a handler gets: the command, its db, and the dataset, with
// every needed lock already held by the caller.
type ctx struct {
	a    *applier
	ds   *dataset
	d    *db
	dbi  int
	name string // the row's name
	argv [][]byte
	ec   *EncodingConfig
	now  int64 // the clock, read on first use (only relative expiries need it)
}

// nowMs returns the projection's clock, reading it once per command.
func (c *ctx) nowMs() int64 {
	if c.now == 0 {
		c.now = c.a.p.opts.Now()
	}
	return c.now
}

// applier is the single-writer side of a Projection.
type applier struct {
	p     *Projection
	table map[string]*cmdDesc
	keys  [][]byte
	tkeys [][]byte // keys to touch after a command (keys may be in use)
	descs []*cmdDesc
	cx    ctx        // reused: a ctx passed through a func value would escape
	batch [1]Command // Apply's slow path
	plan  []uint64   // (db<<32 | stripe) pairs to lock
	full  []bool     // per db: lock every stripe
	all   bool
	// What the commands applied under the current locks changed, for
	// WATCH and OnChange (change.go).
	chg     []change
	chgKeys [][]byte
	wkeys   [][]byte
	// Keyspace events (notify.go): the classes recorded for the commands
	// under the current locks, and what they recorded.
	nf        NotifyFlags
	evs       []Event
	newHooked bool // some db's ev points here
}

func (a *applier) init(p *Projection) {
	a.p = p
	a.table = map[string]*cmdDesc{}
	for _, c := range commandTable() {
		if _, dup := a.table[c.name]; dup {
			panic("projection: command registered twice: " + c.name)
		}
		a.table[c.name] = c
	}
	a.full = make([]bool, p.opts.NumDBs)
}

// lookup finds a command by name, case-insensitively, without allocating.
func (a *applier) lookup(name []byte) *cmdDesc {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return a.table[string(buf[:len(name)])]
}

// Apply applies one propagated write command to database db. It is
// atomic with respect to readers. argv is not retained. Control commands
// (SELECT, MULTI, EXEC, PING, REPLCONF, PUBLISH, SPUBLISH, FUNCTION) are
// accepted and change nothing: the caller tracks SELECT and groups
// MULTI…EXEC into ApplyBatch (see Link, which does both).
//
// A command that cannot be applied exactly (unknown, unsupported, or
// failing where the primary succeeded) is handled by Options.OnUnknown:
// its keys are removed (Invalidate; nil is returned) or ErrNeedResync is
// returned (Resync). Apply must be called from one goroutine at a time.
func (p *Projection) Apply(db int, argv [][]byte) error {
	a := &p.ap
	ds := p.cur.Load()
	if db < 0 || db >= len(ds.dbs) {
		return fmt.Errorf("projection: db %d: %w", db, ErrDBIndex)
	}
	if len(argv) == 0 {
		return nil
	}
	desc := a.lookup(argv[0])
	if desc == nil {
		a.batch[0] = Command{DB: db, Argv: argv}
		err := p.ApplyBatch(a.batch[:])
		a.batch[0] = Command{}
		return err
	}
	var sc scope
	a.keys, sc = desc.keys(argv, a.keys[:0])
	if sc != scopeKeys || len(a.keys) > 2 {
		a.batch[0] = Command{DB: db, Argv: argv}
		err := p.ApplyBatch(a.batch[:])
		a.batch[0] = Command{}
		return err
	}
	// Fast path: one command on at most two keys of one db.
	p.hold.Lock()
	ds = p.cur.Load()
	a.loadNotify(ds)
	d := ds.dbs[db]
	s0, s1 := -1, -1
	if len(a.keys) > 0 {
		s0 = d.stripeOf(a.keys[0])
	}
	if len(a.keys) > 1 {
		s1 = d.stripeOf(a.keys[1])
		if s1 == s0 {
			s1 = -1
		} else if s1 < s0 {
			s0, s1 = s1, s0
		}
	}
	if cw := p.cow.Load(); cw != nil && s0 >= 0 {
		cw.beforeKeys(ds, db, a.keys) // pre-images first (cow.go)
	}
	if s0 >= 0 {
		d.stripes[s0].mu.Lock()
	}
	if s1 >= 0 {
		d.stripes[s1].mu.Lock()
	}
	cx := &a.cx
	*cx = ctx{a: a, ds: ds, d: d, dbi: db, argv: argv, ec: p.enc.Load()}
	err := a.exec(cx, desc)
	*cx = ctx{}
	a.touchWatched(0)
	if s1 >= 0 {
		d.stripes[s1].mu.Unlock()
	}
	if s0 >= 0 {
		d.stripes[s0].mu.Unlock()
	}
	ds.compactQueued()
	p.hold.Unlock()
	a.deliver()
	return err
}

// ApplyBatch applies a MULTI…EXEC unit: readers see all of it or none of
// it. It write-locks every stripe the unit touches (every stripe of a db
// for db-wide commands, of every db for FLUSHALL/SWAPDB/MOVE/COPY DB) in
// (db, stripe) order, applies the commands in order, and unlocks.
func (p *Projection) ApplyBatch(cmds []Command) error {
	a := &p.ap
	p.hold.Lock()
	ds := p.cur.Load()
	descs := a.descs[:0]
	for range cmds {
		descs = append(descs, nil)
	}
	a.descs = descs
	a.plan = a.plan[:0]
	a.all = false
	clear(a.full)
	for i, c := range cmds {
		if c.DB < 0 || c.DB >= len(ds.dbs) {
			p.hold.Unlock()
			return fmt.Errorf("projection: db %d: %w", c.DB, ErrDBIndex)
		}
		if len(c.Argv) == 0 {
			continue
		}
		d := a.lookup(c.Argv[0])
		descs[i] = d
		var sc scope
		if d == nil {
			sc = scopeDB
		} else {
			a.keys, sc = d.keys(c.Argv, a.keys[:0])
		}
		switch sc {
		case scopeKeys:
			dd := ds.dbs[c.DB]
			for _, k := range a.keys {
				a.plan = append(a.plan, uint64(c.DB)<<32|uint64(dd.stripeOf(k)))
			}
		case scopeDB:
			a.full[c.DB] = true
		case scopeAll:
			a.all = true
		}
	}
	a.loadNotify(ds)
	if cw := p.cow.Load(); cw != nil {
		cw.beforeBatch(ds, cmds, descs) // pre-images first (cow.go)
	}
	a.lock(ds)
	var firstErr error
	ec := p.enc.Load()
	cx := &a.cx
	for i, c := range cmds {
		if len(c.Argv) == 0 {
			continue
		}
		*cx = ctx{a: a, ds: ds, d: ds.dbs[c.DB], dbi: c.DB, argv: c.Argv, ec: ec}
		from := len(a.chg)
		if err := a.exec(cx, descs[i]); err != nil && firstErr == nil {
			firstErr = err
		}
		a.touchWatched(from)
	}
	*cx = ctx{}
	a.unlock(ds)
	ds.compactQueued()
	p.hold.Unlock()
	a.deliver()
	return firstErr
}

func (a *applier) lock(ds *dataset) {
	if a.all {
		for _, d := range ds.dbs {
			d.lockAll()
		}
		return
	}
	slices.Sort(a.plan)
	a.plan = slices.Compact(a.plan)
	// Lock in (db, stripe) order; full dbs take every stripe at their turn.
	pi := 0
	for dbi, d := range ds.dbs {
		if a.full[dbi] {
			d.lockAll()
			for pi < len(a.plan) && int(a.plan[pi]>>32) == dbi {
				pi++
			}
			continue
		}
		for pi < len(a.plan) && int(a.plan[pi]>>32) == dbi {
			d.stripes[uint32(a.plan[pi])].mu.Lock()
			pi++
		}
	}
}

func (a *applier) unlock(ds *dataset) {
	if a.all {
		for _, d := range ds.dbs {
			d.unlockAll()
		}
		return
	}
	for _, x := range a.plan {
		dbi := int(x >> 32)
		if !a.full[dbi] {
			ds.dbs[dbi].stripes[uint32(x)].mu.Unlock()
		}
	}
	for dbi, f := range a.full {
		if f {
			ds.dbs[dbi].unlockAll()
		}
	}
}

// exec runs one command under the locks already held.
func (a *applier) exec(c *ctx, d *cmdDesc) error {
	if d == nil {
		c.name = string(lower(c.argv[0]))
		return a.cannotApply(c, c.name, nil, ErrUnsupported)
	}
	c.name = d.name
	if d.fn == nil {
		return a.cannotApply(c, d.name, d, ErrUnsupported)
	}
	from := len(a.chg)
	if err := d.fn(c); err != nil {
		if !errors.Is(err, ErrUnsupported) {
			a.p.st.mu.Lock()
			a.p.st.failed[d.name]++
			a.p.st.mu.Unlock()
		}
		return a.cannotApply(c, d.name, d, err)
	}
	d.count.Add(1)
	if len(a.chg) == from {
		c.signalDefault(d)
	}
	if !d.noTouch {
		// Every key the command named was looked up by the primary (and
		// a replica), which refreshes its access time; a created key is
		// new. RESTORE sets its own (IDLETIME).
		var sc scope
		a.tkeys, sc = d.keys(c.argv, a.tkeys[:0])
		if sc == scopeKeys {
			c.d.touchKeys(a.tkeys, a.p.lruNow())
		}
	}
	return nil
}

// cannotApply handles a command that cannot be mirrored exactly, by the
// OnUnknown policy: under Invalidate, remove the keys it names (or flush
// its db when its keys are unknown), except for a command whose source
// key is missing (ErrNoSuchKey), which changes nothing, as on a Redis
// replica; under Resync, return ErrNeedResync.
func (a *applier) cannotApply(c *ctx, name string, d *cmdDesc, cause error) error {
	st := &a.p.st
	st.mu.Lock()
	if errors.Is(cause, ErrUnsupported) {
		st.unknown[name]++
	}
	first := !st.logged[name]
	st.logged[name] = true
	st.mu.Unlock()
	if first {
		a.p.opts.Logger.Warn("projection: command not applied exactly",
			"command", name, "policy", a.p.opts.OnUnknown.String(), "cause", cause.Error())
	}
	if a.p.opts.OnUnknown == Resync {
		st.resyncsRequested.Add(1)
		return fmt.Errorf("projection: %s: %w (%w)", name, ErrNeedResync, cause)
	}
	if errors.Is(cause, ErrNoSuchKey) {
		// The key the command reads (RENAME's source, LSET's list) is
		// not here, and a Redis replica holding what this one holds
		// rejects the command too and changes nothing: the primary's
		// stream named a key it never sent into this database (Redis
		// does that, rarely: diff_test.go, replicaRejected). Do as the
		// replica does; removing the command's other keys (RENAME's
		// destination) would drop a key the replica keeps.
		return nil
	}
	if d == nil {
		c.d.clear()
		st.flushedForUnknown.Add(1)
		c.signalFlush(c.dbi)
		return nil
	}
	keys, sc := d.keys(c.argv, nil)
	c.signalScope(keys, sc)
	switch sc {
	case scopeKeys:
		for _, k := range keys {
			if c.d.remove(k) {
				st.invalidatedKeys.Add(1)
				// What Redis emitted is unknown; the key is gone
				// (notify.go).
				c.notify(NotifyGeneric, "del", k)
			}
		}
	case scopeDB:
		c.d.clear()
		st.flushedForUnknown.Add(1)
	case scopeAll:
		for _, dd := range c.ds.dbs {
			dd.clear()
		}
		st.flushedForUnknown.Add(1)
	}
	return nil
}

func lower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// eq reports whether b equals the lower-case token s, ignoring case.
func eq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// ---- key position functions (see src/commands/*.json key_specs) ----

func keysNone(argv [][]byte, keys [][]byte) ([][]byte, scope) { return keys, scopeNone }

func keysFirst(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	if len(argv) > 1 {
		keys = append(keys, argv[1])
	}
	return keys, scopeKeys
}

func keysSecond(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	if len(argv) > 2 {
		keys = append(keys, argv[2])
	}
	return keys, scopeKeys
}

func keysFirstTwo(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	for i := 1; i < len(argv) && i <= 2; i++ {
		keys = append(keys, argv[i])
	}
	return keys, scopeKeys
}

func keysRest(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	return append(keys, argv[1:]...), scopeKeys
}

func keysStep2(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	for i := 1; i < len(argv); i += 2 {
		keys = append(keys, argv[i])
	}
	return keys, scopeKeys
}

func keysDB(argv [][]byte, keys [][]byte) ([][]byte, scope)  { return keys, scopeDB }
func keysAll(argv [][]byte, keys [][]byte) ([][]byte, scope) { return keys, scopeAll }

// keysNumkeys: dst numkeys key… (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE).
func keysNumkeys(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	if len(argv) < 3 {
		return keysFirst(argv, keys)
	}
	keys = append(keys, argv[1])
	n, err := strconv.Atoi(string(argv[2]))
	if err != nil || n < 0 || 3+n > len(argv) {
		return append(keys, argv[3:]...), scopeKeys // a superset is fine
	}
	return append(keys, argv[3:3+n]...), scopeKeys
}

// keysCopy: COPY src dst [DB n] [REPLACE]; with DB, another db is touched.
func keysCopy(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	for i := 3; i < len(argv); i++ {
		if eq(argv[i], "db") {
			return keys, scopeAll
		}
	}
	return keysFirstTwo(argv, keys)
}

// keysSort: SORT key … STORE dst. BY/GET patterns with '*' read other
// keys of the db, so such a SORT locks the whole db.
func keysSort(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	keys, _ = keysFirst(argv, keys)
	for i := 2; i+1 < len(argv); i++ {
		if eq(argv[i], "store") {
			keys = append(keys, argv[i+1])
		}
	}
	if SortNeedsDB(argv) {
		return keys, scopeDB
	}
	return keys, scopeKeys
}

// keysGeoStore: GEORADIUS[BYMEMBER] key … STORE|STOREDIST dst.
func keysGeoStore(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	keys, _ = keysFirst(argv, keys)
	for i := 2; i+1 < len(argv); i++ {
		if eq(argv[i], "store") || eq(argv[i], "storedist") {
			keys = append(keys, argv[i+1])
		}
	}
	return keys, scopeKeys
}

// keysNumkeysAt1: numkeys key… (LMPOP, ZMPOP, and their blocking forms
// with a timeout first).
func keysNumkeysAt1(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	at := 1
	if len(argv) > 0 && (eq(argv[0], "blmpop") || eq(argv[0], "bzmpop")) {
		at = 2
	}
	if len(argv) <= at {
		return keys, scopeKeys
	}
	n, err := strconv.Atoi(string(argv[at]))
	if err != nil || n < 0 || at+1+n > len(argv) {
		return append(keys, argv[at+1:]...), scopeKeys
	}
	return append(keys, argv[at+1:at+1+n]...), scopeKeys
}

// keysButLast: key… timeout (BLPOP, BRPOP, BZPOPMIN, BZPOPMAX).
func keysButLast(argv [][]byte, keys [][]byte) ([][]byte, scope) {
	if len(argv) < 3 {
		return keysFirst(argv, keys)
	}
	return append(keys, argv[1:len(argv)-1]...), scopeKeys
}

// commandTable lists every command the applier knows. fn == nil marks a
// command whose key positions are known but whose effect is not mirrored
// (hash field TTL commands a primary never sends, blocking commands
// it rewrites): it goes through the OnUnknown policy.
func commandTable() []*cmdDesc {
	row := func(name string, fn func(*ctx) error, keys keyFunc) *cmdDesc {
		return &cmdDesc{name: name, fn: fn, keys: keys}
	}
	// wrow is a row whose command reads some of its keys: written names
	// the ones it writes (see change.go).
	wrow := func(name string, fn func(*ctx) error, keys, written keyFunc) *cmdDesc {
		return &cmdDesc{name: name, fn: fn, keys: keys, written: written}
	}
	nop := func(*ctx) error { return nil }
	return []*cmdDesc{
		// control
		row("select", nop, keysNone),
		row("multi", nop, keysNone),
		row("exec", nop, keysNone),
		row("ping", nop, keysNone),
		row("replconf", nop, keysNone),
		row("publish", publishCommand, keysNone),   // a message event (notify.go)
		row("spublish", publishCommand, keysNone),  // a message event (notify.go)
		row("function", functionCommand, keysNone), // libraries: functions.go
		// keyspace
		row("del", delCommand, keysRest),
		row("unlink", delCommand, keysRest),
		row("pexpireat", pexpireatCommand, keysFirst),
		row("expireat", expireatCommand, keysFirst),
		row("expire", expireCommand, keysFirst),
		row("pexpire", pexpireCommand, keysFirst),
		row("persist", persistCommand, keysFirst),
		row("rename", renameCommand, keysFirstTwo),
		row("renamenx", renamenxCommand, keysFirstTwo),
		wrow("move", moveCommand, keysAll, keysNone),     // signals itself
		wrow("copy", copyCommand, keysCopy, keysNone),    // signals itself
		wrow("swapdb", swapdbCommand, keysAll, keysNone), // signals itself
		row("flushdb", flushdbCommand, keysDB),
		row("flushall", flushallCommand, keysAll),
		{name: "restore", fn: restoreCommand, keys: keysFirst, noTouch: true},
		{name: "restore-asking", fn: restoreCommand, keys: keysFirst, noTouch: true},
		wrow("sort", sortCommand, keysSort, keysSortStore),
		// strings
		row("set", setCommand, keysFirst),
		row("setnx", setnxCommand, keysFirst),
		row("setex", setexCommand, keysFirst),
		row("psetex", psetexCommand, keysFirst),
		row("getset", getsetCommand, keysFirst),
		row("mset", msetCommand, keysStep2),
		row("msetnx", msetnxCommand, keysStep2),
		row("append", appendCommand, keysFirst),
		row("setrange", setrangeCommand, keysFirst),
		row("incr", incrCommand, keysFirst),
		row("decr", decrCommand, keysFirst),
		row("incrby", incrbyCommand, keysFirst),
		row("decrby", decrbyCommand, keysFirst),
		row("incrbyfloat", nil, keysFirst),
		row("getdel", delCommand, keysFirst),
		row("setbit", setbitCommand, keysFirst),
		row("bitfield", bitfieldCommand, keysFirst),
		wrow("bitop", bitopCommand, keysBitop, keysBitopDest),
		row("pfadd", pfaddCommand, keysFirst),
		wrow("pfmerge", pfmergeCommand, keysRest, keysFirst),
		row("pfcount", pfcountCommand, keysRest),
		row("pfdebug", pfdebugCommand, keysSecond),
		// lists
		row("lpush", lpushCommand, keysFirst),
		row("rpush", rpushCommand, keysFirst),
		row("lpushx", lpushxCommand, keysFirst),
		row("rpushx", rpushxCommand, keysFirst),
		row("linsert", linsertCommand, keysFirst),
		row("lset", lsetCommand, keysFirst),
		row("lrem", lremCommand, keysFirst),
		row("ltrim", ltrimCommand, keysFirst),
		row("lpop", lpopCommand, keysFirst),
		row("rpop", rpopCommand, keysFirst),
		wrow("rpoplpush", rpoplpushCommand, keysFirstTwo, keysWrittenLMove),
		wrow("lmove", lmoveCommand, keysFirstTwo, keysWrittenLMove),
		// sets
		row("sadd", saddCommand, keysFirst),
		row("srem", sremCommand, keysFirst),
		row("smove", smoveCommand, keysFirstTwo),
		wrow("sinterstore", sinterstoreCommand, keysRest, keysFirst),
		wrow("sunionstore", sunionstoreCommand, keysRest, keysFirst),
		wrow("sdiffstore", sdiffstoreCommand, keysRest, keysFirst),
		// sorted sets
		row("zadd", zaddCommand, keysFirst),
		row("zincrby", zincrbyCommand, keysFirst),
		row("zrem", zremCommand, keysFirst),
		row("zremrangebyscore", zremrangebyscoreCommand, keysFirst),
		row("zremrangebyrank", zremrangebyrankCommand, keysFirst),
		row("zremrangebylex", zremrangebylexCommand, keysFirst),
		row("zpopmin", zpopminCommand, keysFirst),
		row("zpopmax", zpopmaxCommand, keysFirst),
		wrow("zunionstore", zunionstoreCommand, keysNumkeys, keysFirst),
		wrow("zinterstore", zinterstoreCommand, keysNumkeys, keysFirst),
		wrow("zdiffstore", zdiffstoreCommand, keysNumkeys, keysFirst),
		wrow("zrangestore", zrangestoreCommand, keysFirstTwo, keysFirst),
		wrow("geosearchstore", georadiusStoreCommand, keysFirstTwo, keysFirst),
		wrow("georadius", georadiusStoreCommand, keysGeoStore, keysGeoStoreDest),
		wrow("georadiusbymember", georadiusStoreCommand, keysGeoStore, keysGeoStoreDest),
		// hashes
		row("hset", hsetCommand, keysFirst),
		row("hmset", hsetCommand, keysFirst),
		row("hsetnx", hsetnxCommand, keysFirst),
		row("hdel", hdelCommand, keysFirst),
		row("hincrby", hincrbyCommand, keysFirst),
		row("hincrbyfloat", nil, keysFirst),
		row("hpexpireat", hpexpireatCommand, keysFirst),
		row("hpersist", hpersistCommand, keysFirst),
		row("hsetex", hsetexCommand, keysFirst),
		// Never on a 7.x link (always rewritten), but their keys are known,
		// so a primary that did send one costs those keys, not the db.
		row("getex", nil, keysFirst),
		row("spop", nil, keysFirst),
		row("geoadd", nil, keysFirst),
		row("hexpire", nil, keysFirst),
		row("hpexpire", nil, keysFirst),
		row("hexpireat", nil, keysFirst),
		row("hgetex", nil, keysFirst),
		row("hgetdel", nil, keysFirst),
		row("blpop", nil, keysButLast),
		row("brpop", nil, keysButLast),
		row("bzpopmin", nil, keysButLast),
		row("bzpopmax", nil, keysButLast),
		wrow("blmove", nil, keysFirstTwo, keysWrittenLMove),
		wrow("brpoplpush", nil, keysFirstTwo, keysWrittenLMove),
		row("lmpop", nil, keysNumkeysAt1),
		row("blmpop", nil, keysNumkeysAt1),
		row("zmpop", nil, keysNumkeysAt1),
		row("bzmpop", nil, keysNumkeysAt1),
		// streams
		row("xadd", xaddCommand, keysFirst),
		row("xtrim", xtrimCommand, keysFirst),
		row("xdel", xdelCommand, keysFirst),
		row("xack", xackCommand, keysFirst),
		row("xclaim", xclaimCommand, keysFirst),
		row("xsetid", xsetidCommand, keysFirst),
		row("xgroup", xgroupCommand, keysSecond),
	}
}
