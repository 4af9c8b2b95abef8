package projection

// ---- set commands (src/t_set.c) ----

func (c *ctx) setFor(key []byte) (*setObj, error) {
	o, exists, err := c.typed(key, KindSet)
	if err != nil || !exists {
		return nil, err
	}
	return o.set(), nil
}

func saddCommand(c *ctx) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	s, err := c.setFor(c.argv[1])
	if err != nil {
		return err
	}
	if s == nil {
		o := obj{kind: KindSet, ptr: ptrOf(newSet(c.argv[2], len(c.argv)-2, c.ec))}
		c.d.storeNew(c.argv[1], &o)
		s = o.set()
	} else {
		s.sizeFor(len(c.argv)-2, c.ec)
	}
	s.reserve(c.argv[2:])
	added := false
	for _, m := range c.argv[2:] {
		if s.add(m, c.ec) {
			added = true
		}
	}
	if added {
		c.notify(NotifySet, "sadd", c.argv[1])
	}
	return nil
}

func sremCommand(c *ctx) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	s, err := c.setFor(c.argv[1])
	if err != nil || s == nil {
		return err
	}
	deleted := false
	for _, m := range c.argv[2:] {
		if s.remove(m) {
			deleted = true
		}
	}
	if !deleted {
		return nil
	}
	c.notify(NotifySet, "srem", c.argv[1])
	c.dropIfEmpty(c.d, c.argv[1], s.card())
	return nil
}

func smoveCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	src, dst, m := c.argv[1], c.argv[2], c.argv[3]
	ss, err := c.setFor(src)
	if err != nil {
		return err
	}
	ds, err := c.setFor(dst)
	if err != nil {
		return err
	}
	if ss == nil || string(src) == string(dst) || !ss.has(m) {
		return nil
	}
	ss.remove(m)
	c.notify(NotifySet, "srem", src)
	c.dropIfEmpty(c.d, src, ss.card())
	if ds == nil {
		o := obj{kind: KindSet, ptr: ptrOf(newSet(m, 1, c.ec))}
		c.d.storeNew(dst, &o)
		ds = o.set()
	}
	if ds.add(m, c.ec) {
		c.notify(NotifySet, "sadd", dst)
	}
	return nil
}

const (
	opUnion = iota
	opInter
	opDiff
)

// setStore implements SINTERSTORE/SUNIONSTORE/SDIFFSTORE dst key…: the
// result replaces dst (without its TTL), or deletes it when empty.
func setStore(c *ctx, op int) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	dst := c.argv[1]
	srcs := make([]*setObj, 0, len(c.argv)-2)
	for _, k := range c.argv[2:] {
		s, err := c.setFor(k)
		if err != nil {
			return err
		}
		srcs = append(srcs, s) // nil: missing, an empty set
	}
	var result [][]byte
	seen := map[string]struct{}{}
	switch op {
	case opUnion:
		for _, s := range srcs {
			if s == nil {
				continue
			}
			s.each(func(m []byte) bool {
				if _, dup := seen[string(m)]; !dup {
					seen[string(m)] = struct{}{}
					result = append(result, append([]byte(nil), m...))
				}
				return true
			})
		}
	case opInter:
		ok := true
		for _, s := range srcs {
			if s == nil {
				ok = false
			}
		}
		if ok {
			srcs[0].each(func(m []byte) bool {
				for _, s := range srcs[1:] {
					if !s.has(m) {
						return true
					}
				}
				result = append(result, append([]byte(nil), m...))
				return true
			})
		}
	case opDiff:
		if srcs[0] != nil {
			srcs[0].each(func(m []byte) bool {
				for _, s := range srcs[1:] {
					if s != nil && s.has(m) {
						return true
					}
				}
				result = append(result, append([]byte(nil), m...))
				return true
			})
		}
	}
	if len(result) == 0 {
		if c.d.remove(dst) {
			c.notify(NotifyGeneric, "del", dst)
		}
		return nil
	}
	// The result starts as an intset and converts as members are added,
	// like Redis's createIntsetObject + setTypeAdd in 7.0.
	ns := &setObj{enc: setEncIntset}
	if c.ec.Redis72 {
		ns = newSet(result[0], len(result), c.ec)
	}
	for _, m := range result {
		ns.add(m, c.ec)
	}
	c.d.storeNew(dst, &obj{kind: KindSet, ptr: ptrOf(ns)}) // setKey: overwrites, or adds ("new")
	c.notify(NotifySet, setStoreEvents[op], dst)
	return nil
}

var setStoreEvents = [...]string{opUnion: "sunionstore", opInter: "sinterstore", opDiff: "sdiffstore"}

func sinterstoreCommand(c *ctx) error { return setStore(c, opInter) }
func sunionstoreCommand(c *ctx) error { return setStore(c, opUnion) }
func sdiffstoreCommand(c *ctx) error  { return setStore(c, opDiff) }
