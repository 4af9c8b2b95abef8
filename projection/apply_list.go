package projection

import "fmt"

// ---- list commands (src/t_list.c) ----

func (c *ctx) listFor(key []byte, create bool) (*listObj, error) {
	o, exists, err := c.typed(key, KindList)
	if err != nil {
		return nil, err
	}
	if exists {
		return o.list(), nil
	}
	if !create {
		return nil, nil
	}
	o = obj{kind: KindList}
	c.d.storeNew(key, &o)
	return o.list(), nil
}

// dropIfEmpty deletes key when its collection became empty, as Redis does
// after every removal.
// It records the "del" event that follows.
func (c *ctx) dropIfEmpty(d *db, key []byte, n int) {
	if n == 0 {
		d.remove(key)
		c.notify(NotifyGeneric, "del", key)
	}
}

func pushGeneric(c *ctx, head, onlyExisting bool) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	l, err := c.listFor(c.argv[1], !onlyExisting)
	if err != nil || l == nil {
		return err
	}
	tp := c.a.p.textPack()
	l.reserve(c.argv[2:], tp)
	for _, e := range c.argv[2:] {
		if head {
			l.pushHead(e, tp)
		} else {
			l.pushTail(e, tp)
		}
	}
	l.updateLP(c.ec)
	if head {
		c.notify(NotifyList, "lpush", c.argv[1])
	} else {
		c.notify(NotifyList, "rpush", c.argv[1])
	}
	return nil
}

func lpushCommand(c *ctx) error  { return pushGeneric(c, true, false) }
func rpushCommand(c *ctx) error  { return pushGeneric(c, false, false) }
func lpushxCommand(c *ctx) error { return pushGeneric(c, true, true) }
func rpushxCommand(c *ctx) error { return pushGeneric(c, false, true) }

func linsertCommand(c *ctx) error {
	if err := c.arity(5, false); err != nil {
		return err
	}
	var after bool
	switch {
	case eq(c.argv[2], "after"):
		after = true
	case eq(c.argv[2], "before"):
	default:
		return ErrSyntax
	}
	l, err := c.listFor(c.argv[1], false)
	if err != nil || l == nil {
		return err
	}
	tp := c.a.p.textPack()
	es := l.entries()
	pivot := entryOf(nil, c.argv[3], tp) // entries are canonical: compare them
	for i, e := range es {
		if string(e) == string(pivot) {
			at := i
			if after {
				at++
			}
			es = append(es, nil)
			copy(es[at+1:], es[at:])
			es[at] = entryOf(nil, c.argv[4], tp)
			l.rebuild(es)
			l.updateLP(c.ec)
			c.notify(NotifyList, "linsert", c.argv[1])
			return nil
		}
	}
	return nil
}

func lsetCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	idx, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	l, err := c.listFor(c.argv[1], false)
	if err != nil {
		return err
	}
	if l == nil {
		return ErrNoSuchKey
	}
	if idx < 0 {
		idx += int64(l.size())
	}
	if idx < 0 || idx >= int64(l.size()) {
		return ErrOutOfRange
	}
	es := l.entries()
	es[idx] = entryOf(nil, c.argv[3], c.a.p.textPack())
	l.rebuild(es)
	l.updateLP(c.ec)
	c.notify(NotifyList, "lset", c.argv[1])
	return nil
}

func lremCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	count, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	l, err := c.listFor(c.argv[1], false)
	if err != nil || l == nil {
		return err
	}
	es := l.entries()
	target := string(entryOf(nil, c.argv[3], c.a.p.textPack())) // entries are canonical
	keep := make([]bool, len(es))
	removed := int64(0)
	for i := range es {
		keep[i] = true
	}
	if count >= 0 {
		for i := 0; i < len(es) && (count == 0 || removed < count); i++ {
			if string(es[i]) == target {
				keep[i] = false
				removed++
			}
		}
	} else {
		for i := len(es) - 1; i >= 0 && removed < -count; i-- {
			if string(es[i]) == target {
				keep[i] = false
				removed++
			}
		}
	}
	if removed == 0 {
		return nil
	}
	out := es[:0]
	for i, e := range es {
		if keep[i] {
			out = append(out, e)
		}
	}
	l.rebuild(out)
	l.updateLP(c.ec)
	c.notify(NotifyList, "lrem", c.argv[1])
	c.dropIfEmpty(c.d, c.argv[1], l.size())
	return nil
}

func ltrimCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	start, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	end, err := parseInt(c.argv[3])
	if err != nil {
		return err
	}
	l, err := c.listFor(c.argv[1], false)
	if err != nil || l == nil {
		return err
	}
	n := int64(l.size())
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	var ltrim, rtrim int64
	if start > end || start >= n {
		ltrim, rtrim = n, 0
	} else {
		if end >= n {
			end = n - 1
		}
		ltrim, rtrim = start, n-end-1
	}
	for i := int64(0); i < ltrim; i++ {
		l.popHead()
	}
	for i := int64(0); i < rtrim; i++ {
		l.popTail()
	}
	l.updateLP(c.ec)
	c.notify(NotifyList, "ltrim", c.argv[1])
	c.dropIfEmpty(c.d, c.argv[1], l.size())
	return nil
}

func popGeneric(c *ctx, head bool) error {
	if err := c.arity(2, true); err != nil {
		return err
	}
	if len(c.argv) > 3 {
		return ErrSyntax
	}
	count := int64(1)
	if len(c.argv) == 3 {
		v, err := parseInt(c.argv[2])
		if err != nil {
			return err
		}
		if v < 0 {
			return fmt.Errorf("value is out of range, must be positive: %w", ErrOutOfRange)
		}
		count = v
	}
	l, err := c.listFor(c.argv[1], false)
	if err != nil || l == nil {
		return err
	}
	if len(c.argv) == 3 && count == 0 {
		return nil // popGenericCommand's fast exit: no event
	}
	for i := int64(0); i < count && l.size() > 0; i++ {
		if head {
			l.popHead()
		} else {
			l.popTail()
		}
	}
	l.updateLP(c.ec)
	if head {
		c.notify(NotifyList, "lpop", c.argv[1])
	} else {
		c.notify(NotifyList, "rpop", c.argv[1])
	}
	c.dropIfEmpty(c.d, c.argv[1], l.size())
	return nil
}

func lpopCommand(c *ctx) error { return popGeneric(c, true) }
func rpopCommand(c *ctx) error { return popGeneric(c, false) }

func lmoveGeneric(c *ctx, fromHead, toHead bool) error {
	src, dst := c.argv[1], c.argv[2]
	sl, err := c.listFor(src, false)
	if err != nil || sl == nil {
		return err
	}
	if _, _, err := c.typed(dst, KindList); err != nil {
		return err
	}
	var e []byte
	if fromHead {
		e = sl.popHead()
	} else {
		e = sl.popTail()
	}
	dl, _ := c.listFor(dst, true) // same object as sl when src == dst
	if toHead {
		dl.pushHeadEntry(e)
	} else {
		dl.pushTailEntry(e)
	}
	sl.updateLP(c.ec)
	dl.updateLP(c.ec)
	if toHead {
		c.notify(NotifyList, "lpush", dst)
	} else {
		c.notify(NotifyList, "rpush", dst)
	}
	if fromHead {
		c.notify(NotifyList, "lpop", src)
	} else {
		c.notify(NotifyList, "rpop", src)
	}
	c.dropIfEmpty(c.d, src, sl.size())
	return nil
}

func rpoplpushCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	return lmoveGeneric(c, false, true)
}

func lmoveCommand(c *ctx) error {
	if err := c.arity(5, false); err != nil {
		return err
	}
	side := func(b []byte) (bool, error) {
		switch {
		case eq(b, "left"):
			return true, nil
		case eq(b, "right"):
			return false, nil
		}
		return false, ErrSyntax
	}
	from, err := side(c.argv[3])
	if err != nil {
		return err
	}
	to, err := side(c.argv[4])
	if err != nil {
		return err
	}
	return lmoveGeneric(c, from, to)
}
