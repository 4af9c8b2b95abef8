package projection

import (
	"fmt"
	"math"
)

// The sane methods check a structure's invariants; tests call them after
// random workloads (like tidwall/btree's sane()). They return nil or a
// description of the first violation.

func (l *listObj) sane() error {
	n := 0
	if l.more != nil && len(*l.more) < 2 {
		return fmt.Errorf("list of %d chunks not in one", len(*l.more))
	}
	for i, k := 0, l.numChunks(); i < k; i++ {
		c := l.chunk(i)
		if c.n == 0 {
			return fmt.Errorf("list chunk %d empty", i)
		}
		off, k := 0, 0
		for off < len(c.b) {
			var e []byte
			var coded bool
			e, coded, off = entryNext(c.b, off)
			if err := saneEntry(e, coded); err != nil {
				return fmt.Errorf("list chunk %d element %d: %w", i, k, err)
			}
			k++
		}
		if off != len(c.b) || k != c.n {
			return fmt.Errorf("list chunk %d: %d elements decoded, %d counted", i, k, c.n)
		}
		n += c.n
	}
	if n != l.size() {
		return fmt.Errorf("list length %d, chunks hold %d", l.size(), n)
	}
	return nil
}

func (s *setObj) sane() error {
	if s.d != nil {
		if len(s.pk.bytes()) != 0 || s.n != 0 {
			return fmt.Errorf("set has both a map and a pack")
		}
		if err := saneDense(s.d); err != nil {
			return err
		}
		return s.saneOrder()
	}
	seen := map[string]bool{}
	k := 0
	for off := 0; off < len(s.pk.bytes()); k++ {
		var e []byte
		e, off = packNext(s.pk.bytes(), off)
		if seen[string(e)] {
			return fmt.Errorf("set member %q twice", e)
		}
		seen[string(e)] = true
	}
	if k != int(s.n) {
		return fmt.Errorf("set pack holds %d, counted %d", k, s.n)
	}
	return nil
}

func (h *hashObj) sane() error {
	if h.dn() != nil {
		if len(h.pk.bytes()) != 0 || h.n != 0 {
			return fmt.Errorf("hash has both a map and a pack")
		}
		if err := saneDense(h.dn()); err != nil {
			return err
		}
		return h.saneTTL()
	}
	if !h.lp() {
		return fmt.Errorf("packed hash not reported as listpack")
	}
	seen := map[string]bool{}
	k := 0
	for off := 0; off < len(h.pk.bytes()); k++ {
		var f []byte
		var v []byte
		var coded bool
		f, off = fieldNext(h.pk.bytes(), off)
		v, coded, off = entryNext(h.pk.bytes(), off)
		if err := saneEntry(v, coded); err != nil {
			return fmt.Errorf("hash field %q: %w", f, err)
		}
		if seen[string(f)] {
			return fmt.Errorf("hash field %q twice", f)
		}
		seen[string(f)] = true
	}
	if k != int(h.n) {
		return fmt.Errorf("hash pack holds %d, counted %d", k, h.n)
	}
	return h.saneTTL()
}

func (z *zsetObj) sane() error {
	if z.big != nil {
		if z.big.tree.Len() != z.big.dict.len() {
			return fmt.Errorf("zset tree %d items, dict %d", z.big.tree.Len(), z.big.dict.len())
		}
		if err := saneDense(z.big.dict); err != nil {
			return err
		}
		var err error
		z.big.tree.Scan(func(x zitem) bool {
			if s, ok := z.score(stringBytes(x.member)); !ok || s != x.score {
				err = fmt.Errorf("zset member %q: tree score %v, dict %v %v", x.member, x.score, s, ok)
			}
			return err == nil
		})
		return err
	}
	pack := z.pk.bytes()
	for off := 0; off < len(pack); {
		var e []byte
		var coded bool
		e, coded, _, off = zpackNext(pack, off)
		if err := saneEntry(e, coded); err != nil {
			return fmt.Errorf("zset member: %w", err)
		}
	}
	items := z.items(nil)
	if len(items) != int(z.n) {
		return fmt.Errorf("zset pack holds %d, counted %d", len(items), z.n)
	}
	for i := range items {
		if math.IsNaN(items[i].s) {
			return fmt.Errorf("zset NaN score")
		}
		if i > 0 && !zless(zitem{items[i-1].s, string(items[i-1].m)}, zitem{items[i].s, string(items[i].m)}) {
			return fmt.Errorf("zset pack out of order at %d", i)
		}
	}
	return nil
}

// sane checks every value of every db and the key counters, holding every
// stripe's read lock (the applier may be running).
func (p *Projection) sane() error {
	ds := p.cur.Load()
	for _, d := range ds.dbs {
		d.rlockAll()
	}
	defer func() {
		for _, d := range ds.dbs {
			d.runlockAll()
		}
	}()
	for dbi, d := range ds.dbs {
		keys, expires := int64(0), int64(0)
		for b, nb := 0, d.numBuckets(); b < nb; b++ {
			if err := d.tabs.Load().t[b].sane(); err != nil {
				return fmt.Errorf("db %d bucket %d: %w", dbi, b, err)
			}
			var err error
			d.each(b, func(sl *slot) bool {
				k, o := sl.keyString(), sl.obj()
				keys++
				if o.exp != 0 {
					expires++
				}
				if got := d.bucketOf(stringBytes(k)); got != b {
					err = fmt.Errorf("db %d key %q in bucket %d, belongs in %d", dbi, k, b, got)
					return false
				}
				switch o.kind {
				case KindList:
					err = o.list().sane()
					if err == nil && o.list().size() == 0 {
						err = fmt.Errorf("empty list kept")
					}
				case KindSet:
					err = o.set().sane()
					if err == nil && o.set().card() == 0 {
						err = fmt.Errorf("empty set kept")
					}
				case KindZSet:
					err = o.zset().sane()
					if err == nil && o.zset().card() == 0 {
						err = fmt.Errorf("empty zset kept")
					}
				case KindHash:
					err = o.hash().sane()
					if err == nil && o.hash().count() == 0 {
						err = fmt.Errorf("empty hash kept")
					}
				case KindStream:
					err = o.stream().sane() // an empty stream is legal (XDEL, MKSTREAM)
				default:
					// a string has no structure to check.
				}
				if err != nil {
					err = fmt.Errorf("db %d key %q: %w", dbi, k, err)
					return false
				}
				return true
			})
			if err != nil {
				return err
			}
		}
		if keys != d.keys.Load() || expires != d.expires.Load() {
			return fmt.Errorf("db %d: counters say %d keys %d expires, found %d %d", dbi, d.keys.Load(), d.expires.Load(), keys, expires)
		}
	}
	return nil
}

// saneDense checks that the index and the slice of a dense agree.
func saneDense[T denseItem](d *dense[T]) error {
	if len(d.idx)+len(d.over) != len(d.items) {
		return fmt.Errorf("dense: %d items, %d+%d in the index", len(d.items), len(d.idx), len(d.over))
	}
	if d.over != nil && len(d.over) == 0 {
		return fmt.Errorf("dense: empty overflow map kept")
	}
	for i, it := range d.items {
		if j, ok := d.find(stringBytes(it.key())); !ok || j != i {
			return fmt.Errorf("dense: item %d %q indexed at %d %v", i, it.key(), j, ok)
		}
	}
	return nil
}

// saneOrder checks that a set reported as an intset is ascending.
func (s *setObj) saneOrder() error {
	if s.enc != setEncIntset {
		return nil
	}
	var prev int64
	first, err := true, error(nil)
	s.each(func(m []byte) bool {
		v, ok := parseStrictInt(m)
		if !ok {
			err = fmt.Errorf("intset member %q is not an integer", m)
		} else if !first && v <= prev {
			err = fmt.Errorf("intset not ascending at %q", m)
		}
		prev, first = v, false
		return err == nil
	})
	return err
}
