package projection

import (
	"fmt"
	"math"
	"slices"
)

// ---- sorted set commands (src/t_zset.c) ----

func (c *ctx) zsetFor(key []byte) (*zsetObj, error) {
	o, exists, err := c.typed(key, KindZSet)
	if err != nil || !exists {
		return nil, err
	}
	return o.zset(), nil
}

const (
	zaddNX   = 1 << iota // only add new members
	zaddXX               // only update existing members
	zaddGT               // only update when the new score is greater
	zaddLT               // only update when the new score is less
	zaddCH               // (reply only)
	zaddINCR             // increment instead of set
)

// zaddGeneric implements ZADD and ZINCRBY.
func zaddGeneric(c *ctx, flags int, i int) error {
	key := c.argv[1]
	for ; i < len(c.argv); i++ {
		a := c.argv[i]
		switch {
		case eq(a, "nx"):
			flags |= zaddNX
		case eq(a, "xx"):
			flags |= zaddXX
		case eq(a, "gt"):
			flags |= zaddGT
		case eq(a, "lt"):
			flags |= zaddLT
		case eq(a, "ch"):
			flags |= zaddCH
		case eq(a, "incr"):
			flags |= zaddINCR
		default:
			goto pairs
		}
	}
pairs:
	rest := c.argv[i:]
	if len(rest) == 0 || len(rest)%2 != 0 {
		return ErrSyntax
	}
	if flags&zaddNX != 0 && flags&zaddXX != 0 {
		return fmt.Errorf("XX and NX options at the same time are not compatible: %w", ErrSyntax)
	}
	if (flags&zaddGT != 0 && flags&(zaddNX|zaddLT) != 0) || (flags&zaddLT != 0 && flags&zaddNX != 0) {
		return fmt.Errorf("GT, LT, and/or NX options at the same time are not compatible: %w", ErrSyntax)
	}
	if flags&zaddINCR != 0 && len(rest) != 2 {
		return fmt.Errorf("INCR option supports a single increment-element pair: %w", ErrSyntax)
	}
	scores := make([]float64, len(rest)/2)
	maxLen := 0
	for j := range scores {
		f, err := ParseFloat(rest[2*j])
		if err != nil {
			return err
		}
		scores[j] = f
		maxLen = max(maxLen, len(rest[2*j+1]))
	}
	z, err := c.zsetFor(key)
	if err != nil {
		return err
	}
	// The encoding is chosen before any pair is looked at (7.2+'s
	// zsetTypeCreate and zsetTypeMaybeConvert): 7.0 by the first member's
	// length only; 7.2+ also by the number of pairs, duplicates and pairs
	// that NX/XX will skip included, so an existing listpack set becomes a
	// skiplist even when it ends up small; Valkey 8 by the longest member.
	lenHint := len(rest[1])
	if c.ec.ZAddLongestMember {
		lenHint = maxLen
	}
	if z == nil {
		if flags&zaddXX != 0 {
			return nil
		}
		if c.ec.Redis72 {
			z = newZSet(len(scores), lenHint, c.ec)
		} else {
			z = newZSet(0, lenHint, c.ec)
		}
		o := obj{kind: KindZSet, ptr: ptrOf(z)}
		c.d.storeNew(key, &o)
		z = o.zset()
	} else if z.big == nil && c.ec.Redis72 && (len(scores) > c.ec.ZSetMaxListpackEntries ||
		c.ec.ZAddLongestMember && maxLen > c.ec.ZSetMaxListpackValue) {
		z.toBig()
	}
	tp := c.a.p.textPack()
	z.reserve(rest, scores, c.ec, tp)
	changed := false
	for j, s := range scores {
		m := rest[2*j+1]
		cur, exists := z.score(m)
		if exists {
			if flags&zaddNX != 0 {
				continue
			}
			ns := s
			if flags&zaddINCR != 0 {
				ns = cur + s
				if math.IsNaN(ns) {
					return fmt.Errorf("resulting score is not a number (NaN): %w", ErrNotFloat)
				}
			}
			if (flags&zaddGT != 0 && ns <= cur) || (flags&zaddLT != 0 && ns >= cur) {
				continue
			}
			if ns != cur {
				z.set(m, ns, c.ec, tp)
				changed = true
			}
			continue
		}
		if flags&zaddXX != 0 {
			continue
		}
		z.set(m, s, c.ec, tp)
		changed = true
	}
	if z.card() == 0 {
		c.d.remove(key) // never with a valid ZADD; Redis sends no event
	}
	if changed {
		if flags&zaddINCR != 0 {
			c.notify(NotifyZSet, "zincr", key)
		} else {
			c.notify(NotifyZSet, "zadd", key)
		}
	}
	return nil
}

func zaddCommand(c *ctx) error {
	if err := c.arity(4, true); err != nil {
		return err
	}
	return zaddGeneric(c, 0, 2)
}

func zincrbyCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	return zaddGeneric(c, zaddINCR, 2)
}

func zremCommand(c *ctx) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	z, err := c.zsetFor(c.argv[1])
	if err != nil || z == nil {
		return err
	}
	deleted := false
	for _, m := range c.argv[2:] {
		if z.remove(m) {
			deleted = true
		}
	}
	if !deleted {
		return nil
	}
	c.notify(NotifyZSet, "zrem", c.argv[1])
	c.dropIfEmpty(c.d, c.argv[1], z.card())
	return nil
}

func zremrangeGeneric(c *ctx, event string, rng func(z *zsetObj) (int, int, error)) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	z, err := c.zsetFor(c.argv[1])
	if err != nil {
		return err
	}
	var zz *zsetObj
	if z != nil {
		zz = z
	} else {
		zz = &zsetObj{}
	}
	lo, hi, err := rng(zz) // parse errors are reported even for a missing key
	if err != nil || z == nil {
		return err
	}
	if z.removeIdx(lo, hi) == 0 {
		return nil
	}
	c.notify(NotifyZSet, event, c.argv[1])
	c.dropIfEmpty(c.d, c.argv[1], z.card())
	return nil
}

func zremrangebyscoreCommand(c *ctx) error {
	return zremrangeGeneric(c, "zremrangebyscore", func(z *zsetObj) (int, int, error) {
		min, err1 := ParseScoreBound(c.argv[2])
		max, err2 := ParseScoreBound(c.argv[3])
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("min or max is not a float: %w", ErrNotFloat)
		}
		lo, hi := z.scoreRankRange(min, max)
		return lo, hi, nil
	})
}

func zremrangebylexCommand(c *ctx) error {
	return zremrangeGeneric(c, "zremrangebylex", func(z *zsetObj) (int, int, error) {
		min, err1 := ParseLexBound(c.argv[2])
		max, err2 := ParseLexBound(c.argv[3])
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("min or max not valid string range item: %w", ErrSyntax)
		}
		lo, hi := z.lexRankRange(min, max)
		return lo, hi, nil
	})
}

func zremrangebyrankCommand(c *ctx) error {
	return zremrangeGeneric(c, "zremrangebyrank", func(z *zsetObj) (int, int, error) {
		start, err := parseInt(c.argv[2])
		if err != nil {
			return 0, 0, err
		}
		end, err := parseInt(c.argv[3])
		if err != nil {
			return 0, 0, err
		}
		n := int64(z.card())
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		if start < 0 {
			start = 0
		}
		if start > end || start >= n {
			return 0, 0, nil
		}
		if end >= n {
			end = n - 1
		}
		return int(start), int(end) + 1, nil
	})
}

func zpopGeneric(c *ctx, max bool) error {
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
	z, err := c.zsetFor(c.argv[1])
	if err != nil || z == nil {
		return err
	}
	n := int64(z.card())
	if count > n {
		count = n
	}
	if count == 0 {
		return nil // genericZpopCommand: nothing popped, no event
	}
	if max {
		z.removeIdx(int(n-count), int(n))
		c.notify(NotifyZSet, "zpopmax", c.argv[1])
	} else {
		z.removeIdx(0, int(count))
		c.notify(NotifyZSet, "zpopmin", c.argv[1])
	}
	c.dropIfEmpty(c.d, c.argv[1], z.card())
	return nil
}

func zpopminCommand(c *ctx) error { return zpopGeneric(c, false) }
func zpopmaxCommand(c *ctx) error { return zpopGeneric(c, true) }

// zsrc is one input of ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE: a sorted set,
// a set (every score 1), or nothing.
type zsrc struct {
	z      *zsetObj
	s      *setObj
	weight float64
}

func (s *zsrc) card() int {
	switch {
	case s.z != nil:
		return s.z.card()
	case s.s != nil:
		return s.s.card()
	}
	return 0
}

func (s *zsrc) each(fn func(m []byte, score float64) bool) {
	switch {
	case s.z != nil:
		if n := s.z.card(); n > 0 {
			var sc scratch // fn copies what it keeps
			s.z.walkRank(0, n-1, false, &sc, func(m []byte, score float64) bool {
				ok := fn(m, score)
				sc.reset()
				return ok
			})
		}
	case s.s != nil:
		s.s.each(func(m []byte) bool { return fn(m, 1) })
	}
}

func (s *zsrc) score(m []byte) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.score(m)
	case s.s != nil:
		if s.s.has(m) {
			return 1, true
		}
	}
	return 0, false
}

const (
	aggSum = iota
	aggMin
	aggMax
)

// aggregate is zunionInterAggregate: NaN sums become 0.
func aggregate(target *float64, v float64, agg int) {
	switch agg {
	case aggSum:
		*target += v
		if math.IsNaN(*target) {
			*target = 0
		}
	case aggMin:
		if v < *target {
			*target = v
		}
	case aggMax:
		if v > *target {
			*target = v
		}
	}
}

func weighted(w, s float64) float64 {
	v := w * s
	if math.IsNaN(v) {
		return 0 // inf × 0
	}
	return v
}

// zsetStore implements ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE dst numkeys key…
// [WEIGHTS w…] [AGGREGATE SUM|MIN|MAX].
func zsetStore(c *ctx, op int) error {
	if err := c.arity(4, true); err != nil {
		return err
	}
	n, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	if n < 1 || 3+n > int64(len(c.argv)) {
		return fmt.Errorf("numkeys: %w", ErrSyntax)
	}
	srcs := make([]zsrc, n)
	for j := range srcs {
		k := c.argv[3+j]
		srcs[j].weight = 1
		o, ok := c.d.lookup(k)
		if !ok {
			continue
		}
		switch o.kind {
		case KindZSet:
			srcs[j].z = o.zset()
		case KindSet:
			srcs[j].s = o.set()
		default:
			return ErrWrongType
		}
	}
	agg := aggSum
	for i := 3 + int(n); i < len(c.argv); i++ {
		a := c.argv[i]
		switch {
		case op != opDiff && eq(a, "weights") && i+int(n) < len(c.argv):
			for j := range srcs {
				w, err := ParseFloat(c.argv[i+1+j])
				if err != nil {
					return fmt.Errorf("weight value is not a float: %w", ErrNotFloat)
				}
				srcs[j].weight = w
			}
			i += int(n)
		case op != opDiff && eq(a, "aggregate") && i+1 < len(c.argv):
			switch b := c.argv[i+1]; {
			case eq(b, "sum"):
				agg = aggSum
			case eq(b, "min"):
				agg = aggMin
			case eq(b, "max"):
				agg = aggMax
			default:
				return ErrSyntax
			}
			i++
		default:
			return ErrSyntax
		}
	}
	type res struct {
		m []byte
		s float64
	}
	var out []res
	idx := map[string]int{}
	switch op {
	case opUnion, opInter:
		// Smallest input first, as Redis sorts them (a stable sort:
		// glibc's qsort is a merge sort), which fixes the order of the
		// floating-point aggregation.
		slices.SortStableFunc(srcs, func(a, b zsrc) int { return a.card() - b.card() })
		if op == opInter {
			if srcs[0].card() == 0 {
				break
			}
			srcs[0].each(func(m []byte, s float64) bool {
				score := weighted(srcs[0].weight, s)
				for j := 1; j < len(srcs); j++ {
					v, ok := srcs[j].score(m)
					if !ok {
						return true
					}
					aggregate(&score, weighted(srcs[j].weight, v), agg)
				}
				out = append(out, res{append([]byte(nil), m...), score})
				return true
			})
			break
		}
		for j := range srcs {
			srcs[j].each(func(m []byte, s float64) bool {
				v := weighted(srcs[j].weight, s)
				if at, ok := idx[string(m)]; ok {
					aggregate(&out[at].s, v, agg)
					return true
				}
				idx[string(m)] = len(out)
				out = append(out, res{append([]byte(nil), m...), v})
				return true
			})
		}
	case opDiff:
		srcs[0].each(func(m []byte, s float64) bool {
			for j := 1; j < len(srcs); j++ {
				if _, ok := srcs[j].score(m); ok {
					return true
				}
			}
			out = append(out, res{append([]byte(nil), m...), s})
			return true
		})
	}
	dst := c.argv[1]
	if len(out) == 0 {
		if c.d.remove(dst) {
			c.notify(NotifyGeneric, "del", dst)
		}
		return nil
	}
	maxLen := 0
	for _, r := range out {
		maxLen = max(maxLen, len(r.m))
	}
	// zsetConvertToListpackIfNeeded: listpack iff it fits.
	z := newZSet(len(out), maxLen, c.ec)
	tp := c.a.p.textPack()
	for _, r := range out {
		z.set(r.m, r.s, c.ec, tp)
	}
	c.d.storeNew(dst, &obj{kind: KindZSet, ptr: ptrOf(z)}) // setKey: overwrites, or adds ("new")
	c.notify(NotifyZSet, zsetStoreEvents[op], dst)
	return nil
}

var zsetStoreEvents = [...]string{opUnion: "zunionstore", opInter: "zinterstore", opDiff: "zdiffstore"}

func zunionstoreCommand(c *ctx) error { return zsetStore(c, opUnion) }
func zinterstoreCommand(c *ctx) error { return zsetStore(c, opInter) }
func zdiffstoreCommand(c *ctx) error  { return zsetStore(c, opDiff) }

// zrangestoreCommand: ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV]
// [LIMIT offset count].
func zrangestoreCommand(c *ctx) error {
	if err := c.arity(5, true); err != nil {
		return err
	}
	dst, src := c.argv[1], c.argv[2]
	var byScore, byLex, rev, limit bool
	offset, count := int64(0), int64(-1)
	for i := 5; i < len(c.argv); i++ {
		a := c.argv[i]
		switch {
		case eq(a, "byscore"):
			byScore = true
		case eq(a, "bylex"):
			byLex = true
		case eq(a, "rev"):
			rev = true
		case eq(a, "limit") && i+2 < len(c.argv):
			var err error
			if offset, err = parseInt(c.argv[i+1]); err != nil {
				return err
			}
			if count, err = parseInt(c.argv[i+2]); err != nil {
				return err
			}
			limit = true
			i += 2
		default:
			return ErrSyntax
		}
	}
	if byScore && byLex {
		return ErrSyntax
	}
	if limit && !byScore && !byLex {
		return fmt.Errorf("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX: %w", ErrSyntax)
	}
	minArg, maxArg := c.argv[3], c.argv[4]
	if rev && (byScore || byLex) {
		minArg, maxArg = maxArg, minArg
	}
	z, err := c.zsetFor(src)
	if err != nil {
		return err
	}
	type res struct {
		m []byte
		s float64
	}
	var out []res
	var sc scratch // collect copies each member: reset after it
	collect := func(m []byte, s float64) bool {
		out = append(out, res{append([]byte(nil), m...), s})
		sc.reset()
		return true
	}
	empty := &zsetObj{}
	zz := z
	if zz == nil {
		zz = empty
	}
	switch {
	case byScore:
		min, err1 := ParseScoreBound(minArg)
		max, err2 := ParseScoreBound(maxArg)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("min or max is not a float: %w", ErrNotFloat)
		}
		if offset >= 0 && count != 0 {
			zz.walkScore(min, max, rev, int(offset), int(count), &sc, collect)
		}
	case byLex:
		min, err1 := ParseLexBound(minArg)
		max, err2 := ParseLexBound(maxArg)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("min or max not valid string range item: %w", ErrSyntax)
		}
		if offset >= 0 && count != 0 {
			zz.walkLex(min, max, rev, int(offset), int(count), &sc, collect)
		}
	default:
		start, err := parseInt(minArg)
		if err != nil {
			return err
		}
		stop, err := parseInt(maxArg)
		if err != nil {
			return err
		}
		if s, e, ok := normRange64(start, stop, int64(zz.card())); ok {
			zz.walkRank(s, e, rev, &sc, collect)
		}
	}
	if len(out) == 0 {
		if c.d.remove(dst) {
			c.notify(NotifyGeneric, "del", dst)
		}
		return nil
	}
	maxLen := 0
	for _, r := range out {
		maxLen = max(maxLen, len(r.m))
	}
	nz := newZSet(len(out), maxLen, c.ec)
	tp := c.a.p.textPack()
	for _, r := range out {
		nz.set(r.m, r.s, c.ec, tp)
	}
	c.d.storeNew(dst, &obj{kind: KindZSet, ptr: ptrOf(nz)})
	c.notify(NotifyZSet, "zrangestore", dst)
	return nil
}

func normRange64(start, stop, n int64) (int, int, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return int(start), int(stop), true
}
