package projection

import (
	"fmt"
	"math"
	"strconv"
)

// ---- helpers shared by the apply handlers ----

func (c *ctx) arity(n int, atLeast bool) error {
	if len(c.argv) < n || (!atLeast && len(c.argv) != n) {
		return fmt.Errorf("wrong number of arguments: %w", ErrSyntax)
	}
	return nil
}

// typed looks key up (ignoring expiry: writes from the primary see
// logically expired keys, see src/db.c expireIfNeeded) and checks its kind.
func (c *ctx) typed(key []byte, k Kind) (obj, bool, error) {
	o, ok := c.d.lookup(key)
	if !ok {
		return obj{}, false, nil
	}
	if o.kind != k {
		return obj{}, false, ErrWrongType
	}
	return o, true, nil
}

func parseInt(b []byte) (int64, error) {
	v, ok := parseStrictInt(b)
	if !ok {
		return 0, ErrNotInteger
	}
	return v, nil
}

// storeMoved stores o under key in d: an inline string is copied into a
// record of the new key (store does that), a collection becomes a packed
// record of the new key when it can be (crec.go), or is folded with it
// (storeNew: nothing uses o's pointer after).
func storeMoved(d *db, key []byte, o obj) {
	if o.kind >= KindList && o.kind <= KindHash {
		if ns, ok := crecSlot(key, &o); ok {
			d.putSlot(ns)
			return
		}
		d.storeNew(key, &o)
		return
	}
	d.store(key, o)
}

// deepCopy duplicates a value for COPY.
func deepCopy(o obj, ec *EncodingConfig) obj {
	switch o.kind {
	case KindString:
		if o.flags&flagBoxed != 0 {
			b := append([]byte(nil), o.bytes()...)
			o.ptr = ptrOf(&rawStr{b: b})
		}
		return o // inline bytes are immutable; storeMoved repacks them
	case KindList:
		o.ptr = ptrOf(o.list().clone())
	case KindSet:
		o.ptr = ptrOf(o.set().clone())
	case KindZSet:
		o.ptr = ptrOf(o.zset().clone())
	case KindHash:
		o.ptr = ptrOf(o.hash().clone())
	case KindStream:
		o.ptr = ptrOf(o.stream().copy())
	}
	return o
}

// ---- keyspace commands (src/db.c, src/expire.c) ----

func delCommand(c *ctx) error {
	if err := c.arity(2, true); err != nil {
		return err
	}
	for _, k := range c.argv[1:] {
		if c.d.remove(k) {
			c.notify(NotifyGeneric, "del", k)
		}
	}
	return nil
}

// expireGeneric implements PEXPIREAT and its relatives: when is absolute
// ms. On a replica the time is set even if already past (checkAlreadyExpired
// is false for replicas): the primary sends DEL when it expires.
func expireGeneric(c *ctx, when int64) error {
	key := c.argv[1]
	var nx, xx, gt, lt bool
	for _, a := range c.argv[3:] {
		switch {
		case eq(a, "nx"):
			nx = true
		case eq(a, "xx"):
			xx = true
		case eq(a, "gt"):
			gt = true
		case eq(a, "lt"):
			lt = true
		default:
			return fmt.Errorf("unsupported option %q: %w", a, ErrSyntax)
		}
	}
	if (nx && (xx || gt || lt)) || (gt && lt) {
		return fmt.Errorf("incompatible options: %w", ErrSyntax)
	}
	o, ok := c.d.lookup(key)
	if !ok {
		return nil
	}
	cur := o.exp // 0: no TTL, i.e. infinite
	switch {
	case nx && cur != 0, xx && cur == 0:
		return nil
	case gt && (cur == 0 || when <= cur):
		return nil
	case lt && cur != 0 && when >= cur:
		return nil
	}
	if when == 0 {
		when = 1 // 0 means "no TTL" in obj; 1 ms is just as expired
	}
	c.d.setExpire(key, when)
	c.notify(NotifyGeneric, "expire", key)
	return nil
}

func expireArg(c *ctx, unitMs int64, relative bool) (int64, error) {
	if err := c.arity(3, true); err != nil {
		return 0, err
	}
	v, err := parseInt(c.argv[2])
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt64/unitMs || v < math.MinInt64/unitMs {
		return 0, fmt.Errorf("invalid expire time: %w", ErrSyntax)
	}
	v *= unitMs
	if relative {
		if (v > 0 && c.nowMs() > math.MaxInt64-v) || (v < 0 && c.nowMs() < math.MinInt64-v) {
			return 0, fmt.Errorf("invalid expire time: %w", ErrSyntax)
		}
		v += c.nowMs()
	}
	return v, nil
}

func pexpireatCommand(c *ctx) error {
	w, err := expireArg(c, 1, false)
	if err != nil {
		return err
	}
	return expireGeneric(c, w)
}

func expireatCommand(c *ctx) error {
	w, err := expireArg(c, 1000, false)
	if err != nil {
		return err
	}
	return expireGeneric(c, w)
}

func expireCommand(c *ctx) error {
	w, err := expireArg(c, 1000, true)
	if err != nil {
		return err
	}
	return expireGeneric(c, w)
}

func pexpireCommand(c *ctx) error {
	w, err := expireArg(c, 1, true)
	if err != nil {
		return err
	}
	return expireGeneric(c, w)
}

func persistCommand(c *ctx) error {
	if err := c.arity(2, false); err != nil {
		return err
	}
	if o, ok := c.d.lookup(c.argv[1]); ok && o.exp != 0 {
		c.d.setExpire(c.argv[1], 0)
		c.notify(NotifyGeneric, "persist", c.argv[1])
	}
	return nil
}

func renameGeneric(c *ctx, nx bool) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	src, dst := c.argv[1], c.argv[2]
	o, ok := c.d.lookup(src)
	if !ok {
		return ErrNoSuchKey
	}
	if string(src) == string(dst) {
		return nil
	}
	if nx {
		if _, exists := c.d.lookup(dst); exists {
			return nil
		}
	}
	// Redis deletes an old destination and adds the key anew (dbAdd: a
	// "new" event even when dst existed), see renameGenericCommand.
	c.d.remove(dst)
	c.d.remove(src)
	storeMoved(c.d, dst, o)
	c.notify(NotifyGeneric, "rename_from", src)
	c.notify(NotifyGeneric, "rename_to", dst)
	return nil
}

func renameCommand(c *ctx) error   { return renameGeneric(c, false) }
func renamenxCommand(c *ctx) error { return renameGeneric(c, true) }

func dbArg(c *ctx, b []byte) (*db, error) {
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 || n >= len(c.ds.dbs) {
		return nil, ErrDBIndex
	}
	return c.ds.dbs[n], nil
}

// dstIndex is the number of database d.
func dstIndex(c *ctx, d *db) int {
	for i, x := range c.ds.dbs {
		if x == d {
			return i
		}
	}
	return c.dbi
}

func moveCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	dst, err := dbArg(c, c.argv[2])
	if err != nil {
		return err
	}
	if dst == c.d {
		return fmt.Errorf("source and destination objects are the same: %w", ErrSyntax)
	}
	o, ok := c.d.lookup(c.argv[1])
	if !ok {
		return nil
	}
	if _, exists := dst.lookup(c.argv[1]); exists {
		return nil
	}
	c.d.remove(c.argv[1])
	storeMoved(dst, c.argv[1], o)
	dst.touchKeys(c.argv[1:2], c.a.p.lruNow()) // MOVE looked the key up
	c.signal(c.dbi, c.argv[1])
	c.signal(dstIndex(c, dst), c.argv[1])
	c.notify(NotifyGeneric, "move_from", c.argv[1])
	c.notifyDB(dstIndex(c, dst), NotifyGeneric, "move_to", c.argv[1])
	return nil
}

func copyCommand(c *ctx) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	dst := c.d
	replace := false
	for i := 3; i < len(c.argv); i++ {
		switch {
		case eq(c.argv[i], "replace"):
			replace = true
		case eq(c.argv[i], "db") && i+1 < len(c.argv):
			d, err := dbArg(c, c.argv[i+1])
			if err != nil {
				return err
			}
			dst = d
			i++
		default:
			return ErrSyntax
		}
	}
	src, dkey := c.argv[1], c.argv[2]
	if dst == c.d && string(src) == string(dkey) {
		return fmt.Errorf("source and destination objects are the same: %w", ErrSyntax)
	}
	o, ok := c.d.lookup(src)
	if !ok {
		return nil
	}
	if _, exists := dst.lookup(dkey); exists {
		if !replace {
			return nil
		}
		dst.remove(dkey)
	}
	storeMoved(dst, dkey, deepCopy(o, c.ec))
	dst.touchKeys([][]byte{dkey}, c.a.p.lruNow()) // a new object (COPY … DB reaches here too)
	c.signal(dstIndex(c, dst), dkey)
	c.notifyDB(dstIndex(c, dst), NotifyGeneric, "copy_to", dkey)
	return nil
}

func swapdbCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	a, err := dbArg(c, c.argv[1])
	if err != nil {
		return err
	}
	b, err := dbArg(c, c.argv[2])
	if err != nil {
		return err
	}
	if a != b {
		a.swapContents(b)
		c.a.chg = append(c.a.chg, change{kind: SwappedDB, cmd: c.name, db: dstIndex(c, a), db2: dstIndex(c, b)})
	}
	return nil
}

func flushArgs(c *ctx) error {
	if len(c.argv) > 2 {
		return ErrSyntax
	}
	if len(c.argv) == 2 && !eq(c.argv[1], "async") && !eq(c.argv[1], "sync") {
		return ErrSyntax
	}
	return nil
}

func flushdbCommand(c *ctx) error {
	if err := flushArgs(c); err != nil {
		return err
	}
	c.d.clear()
	c.signalFlush(c.dbi)
	return nil
}

func flushallCommand(c *ctx) error {
	if err := flushArgs(c); err != nil {
		return err
	}
	for _, d := range c.ds.dbs {
		d.clear()
	}
	c.signalFlush(-1)
	return nil
}
