package commands

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/vdr-project/vdr/internal/fpconv"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Sorted set commands (src/t_zset.c): ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK
// ZCOUNT ZLEXCOUNT ZRANGE and its BYSCORE/BYLEX/REV forms, ZRANDMEMBER,
// ZUNION ZINTER ZDIFF ZINTERCARD ZSCAN.

func zcardCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		c.W.Int(int64(x.Len()))
	})
}

func zscoreCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Null()
			return
		}
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		s, ok := x.ZScore(args[2])
		if !ok {
			c.W.Null()
			return
		}
		c.W.Double(s)
	})
}

func zmscoreCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		c.W.Array(len(args) - 2)
		for _, m := range args[2:] {
			if s, ok := x.ZScore(m); ok {
				c.W.Double(s)
			} else {
				c.W.Null()
			}
		}
	})
}

// zrankGeneric is zrankGenericCommand (src/t_zset.c), with Redis 7.2's
// WITHSCORE (the 7.0 table's arity refuses it before this runs).
func zrankGeneric(c *Ctx, args [][]byte, reverse bool) {
	// ZRANK key member [WITHSCORE] (7.2's zrankGenericCommand): more than
	// four arguments is an arity error, a fourth other than WITHSCORE a
	// syntax error; with it, a missing member or key is a null array.
	withScore := false
	if len(args) > 3 {
		if len(args) > 4 || !c.Version().ZRankWithScore() {
			c.W.Error("ERR wrong number of arguments for '" + strings.ToLower(string(args[0])) + "' command")
			return
		}
		if !equalFold(args[3], "withscore") {
			c.W.Error(errSyntax)
			return
		}
		withScore = true
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		var r int
		var s float64
		ok := x.Exists()
		if ok && !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		if ok {
			r, s, ok = x.ZRank(args[2], reverse)
		}
		if !ok {
			if withScore {
				c.W.NullArray()
			} else {
				c.W.Null()
			}
			return
		}
		if withScore {
			c.W.Array(2)
			c.W.Int(int64(r))
			c.W.Double(s)
			return
		}
		c.W.Int(int64(r))
	})
}

func zrankCommand(c *Ctx, args [][]byte)    { zrankGeneric(c, args, false) }
func zrevrankCommand(c *Ctx, args [][]byte) { zrankGeneric(c, args, true) }

// strtod parses like C's strtod as zslParseRange uses it: leading
// whitespace allowed, the whole rest must be consumed, NaN rejected.
func strtod(b []byte) (float64, bool) {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	if len(b) == 0 {
		// strtod converts nothing and leaves eptr on the NUL: Redis
		// accepts the empty string as 0.
		return 0, true
	}
	b = b[i:]
	if len(b) == 0 {
		return 0, false
	}
	s := string(b)
	ls := strings.ToLower(s)
	switch strings.TrimLeft(ls, "+-") {
	case "inf", "infinity":
		if ls[0] == '-' {
			return negInf, true
		}
		if strings.Count(ls, "+")+strings.Count(ls, "-") > 1 {
			return 0, false
		}
		return posInf, true
	case "nan":
		return 0, false
	}
	if strings.ContainsAny(s, "_pPxX") && !strings.Contains(ls, "0x") {
		return 0, false
	}
	if strings.Contains(s, "_") {
		return 0, false
	}
	if strings.Contains(ls, "0x") && !strings.Contains(ls, "p") {
		// C accepts hex floats without an exponent; Go needs "p0".
		s += "p0"
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, true
		}
		return 0, false
	}
	if math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// parseScoreBound is one end of zslParseRange.
func parseScoreBound(b []byte) (projection.ScoreBound, bool) {
	var sb projection.ScoreBound
	if len(b) > 0 && b[0] == '(' {
		sb.Exclusive = true
		b = b[1:]
	}
	v, ok := strtod(b)
	sb.Score = v
	return sb, ok
}

func parseScoreRange(min, max []byte) (lo, hi projection.ScoreBound, ok bool) {
	lo, ok1 := parseScoreBound(min)
	hi, ok2 := parseScoreBound(max)
	return lo, hi, ok1 && ok2
}

// parseLexBound is one end of zslParseLexRange.
func parseLexBound(b []byte) (projection.LexBound, bool) {
	if len(b) == 0 {
		return projection.LexBound{}, false
	}
	switch b[0] {
	case '+':
		if len(b) != 1 {
			return projection.LexBound{}, false
		}
		return projection.LexBound{Inf: 1}, true
	case '-':
		if len(b) != 1 {
			return projection.LexBound{}, false
		}
		return projection.LexBound{Inf: -1}, true
	case '(':
		return projection.LexBound{Value: b[1:], Exclusive: true}, true
	case '[':
		return projection.LexBound{Value: b[1:]}, true
	}
	return projection.LexBound{}, false
}

func parseLexRange(min, max []byte) (lo, hi projection.LexBound, ok bool) {
	lo, ok1 := parseLexBound(min)
	hi, ok2 := parseLexBound(max)
	return lo, hi, ok1 && ok2
}

// emptyScoreRange mirrors zslIsInRange's quick rejection of a range
// that cannot hold anything.
func emptyScoreRange(lo, hi projection.ScoreBound) bool {
	return lo.Score > hi.Score || (lo.Score == hi.Score && (lo.Exclusive || hi.Exclusive))
}

// zrangeNegativeOffset is a BYSCORE/BYLEX range with a negative LIMIT
// offset on a skiplist as Redis 7.4 and Valkey 8.0 answer it: their
// zslNthInRange/zslNthInLexRange take the negative offset as counted from
// the last member ≤ max (forward), or a reverse range's offset -k as the
// (k-1)th member from the first ≥ min; then members are emitted from there
// while in range, up to limit (< 0: all). countLE is the number of members
// ≤ max, countLT of those below min; inMin/inMax test one member.
func zrangeNegativeOffset(x projection.Value, offset, limit int64, reverse bool, countLE, countLT int,
	inMin, inMax func(m []byte, s float64) bool, emit func(m []byte, s float64) bool) {
	at := func(r int) (m []byte, s float64) {
		x.ZRangeByRank(r, r, false, func(mm []byte, ss float64) bool { m, s = mm, ss; return false })
		return m, s
	}
	length := x.Len()
	if !reverse {
		k := -offset
		if int64(countLE) < k {
			return
		}
		first, last := countLE-int(k), countLE-1
		if m, s := at(first); !inMin(m, s) {
			return
		}
		if limit >= 0 && int64(last-first+1) > limit {
			last = first + int(limit) - 1
		}
		if last >= first {
			x.ZRangeByRank(first, last, false, emit)
		}
		return
	}
	n := -offset - 1
	if int64(countLT)+n >= int64(length) {
		return
	}
	top, bottom := countLT+int(n), countLT
	if m, s := at(top); !inMax(m, s) {
		return
	}
	if limit >= 0 && int64(top-bottom+1) > limit {
		bottom = top - int(limit) + 1
	}
	if top >= bottom {
		x.ZRangeByRank(length-1-top, length-1-bottom, true, emit)
	}
}

// lexGte and lexLte test a member against one end of a lex range
// (zslLexValueGteMin, zslLexValueLteMax).
func lexGte(m []byte, b projection.LexBound) bool {
	switch b.Inf {
	case -1:
		return true
	case 1:
		return false
	}
	c := bytes.Compare(m, b.Value)
	return c > 0 || c == 0 && !b.Exclusive
}

func lexLte(m []byte, b projection.LexBound) bool {
	switch b.Inf {
	case -1:
		return false
	case 1:
		return true
	}
	c := bytes.Compare(m, b.Value)
	return c < 0 || c == 0 && !b.Exclusive
}

func zcountCommand(c *Ctx, args [][]byte) {
	lo, hi, ok := parseScoreRange(args[2], args[3])
	if !ok {
		c.W.Error(errMinMaxFloat)
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		if emptyScoreRange(lo, hi) {
			c.W.Int(0)
			return
		}
		c.W.Int(int64(x.ZCount(lo, hi)))
	})
}

// emptyLexRange mirrors zslLexValueGteMin/LteMax quick rejection.
func emptyLexRange(lo, hi projection.LexBound) bool {
	if lo.Inf == 1 || hi.Inf == -1 {
		return true
	}
	if lo.Inf == -1 || hi.Inf == 1 {
		return false
	}
	cmp := bytes.Compare(lo.Value, hi.Value)
	return cmp > 0 || (cmp == 0 && (lo.Exclusive || hi.Exclusive))
}

func zlexcountCommand(c *Ctx, args [][]byte) {
	lo, hi, ok := parseLexRange(args[2], args[3])
	if !ok {
		c.W.Error(errMinMaxLex)
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		if emptyLexRange(lo, hi) {
			c.W.Int(0)
			return
		}
		c.W.Int(int64(x.ZLexCount(lo, hi)))
	})
}

type zrangeType uint8

const (
	zrangeAuto zrangeType = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

type zrangeDir uint8

const (
	dirAuto zrangeDir = iota
	dirForward
	dirReverse
)

// zrangeGeneric follows zrangeGenericCommand (7.0) step by step.
func zrangeGeneric(c *Ctx, args [][]byte, rtype zrangeType, dir zrangeDir) {
	key := args[1]
	minIdx, maxIdx := 2, 3
	withScores := false
	var offset, limit int64 = 0, -1
	limitGiven := false
	for j := 4; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case equalFold(args[j], "withscores"):
			withScores = true
		case equalFold(args[j], "limit") && left >= 2:
			var ok bool
			if offset, ok = c.intArg(args[j+1]); !ok {
				return
			}
			if limit, ok = c.intArg(args[j+2]); !ok {
				return
			}
			limitGiven = true
			j += 2
		case dir == dirAuto && equalFold(args[j], "rev"):
			dir = dirReverse
		case rtype == zrangeAuto && equalFold(args[j], "bylex"):
			rtype = zrangeLex
		case rtype == zrangeAuto && equalFold(args[j], "byscore"):
			rtype = zrangeScore
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	if dir == dirAuto {
		dir = dirForward
	}
	if rtype == zrangeAuto {
		rtype = zrangeRank
	}
	if limitGiven && limit != -1 && rtype == zrangeRank {
		c.W.Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && rtype == zrangeLex {
		c.W.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	reverse := dir == dirReverse
	if reverse && (rtype == zrangeScore || rtype == zrangeLex) {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var slo, shi projection.ScoreBound
	var llo, lhi projection.LexBound
	switch rtype {
	case zrangeRank:
		var ok bool
		if start, ok = c.intArg(args[minIdx]); !ok {
			return
		}
		if end, ok = c.intArg(args[maxIdx]); !ok {
			return
		}
	case zrangeScore:
		var ok bool
		if slo, shi, ok = parseScoreRange(args[minIdx], args[maxIdx]); !ok {
			c.W.Error(errMinMaxFloat)
			return
		}
	case zrangeLex:
		var ok bool
		if llo, lhi, ok = parseLexRange(args[minIdx], args[maxIdx]); !ok {
			c.W.Error(errMinMaxLex)
			return
		}
	}
	c.read1(key, func(v *projection.View) {
		x := c.lookup(v, key)
		if !x.Exists() {
			c.W.Array(0)
			return
		}
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		at := c.W.Defer()
		n := 0
		emit := func(m []byte, s float64) bool {
			if withScores && c.W.Resp > 2 {
				c.W.Array(2)
			}
			c.W.Bulk(m)
			if withScores {
				c.W.Double(s)
			}
			n++
			return true
		}
		switch rtype {
		case zrangeRank:
			x.ZRangeByRank(clampIndex(start), clampIndex(end), reverse, emit)
		case zrangeScore:
			if offset < 0 && !emptyScoreRange(slo, shi) && c.Version().ZRangeSkiplistNegativeOffset() && x.Encoding() == "skiplist" {
				ninf := projection.ScoreBound{Score: math.Inf(-1)}
				below := x.ZCount(ninf, projection.ScoreBound{Score: slo.Score, Exclusive: !slo.Exclusive})
				zrangeNegativeOffset(x, offset, limit, reverse, x.ZCount(ninf, shi), below,
					func(_ []byte, s float64) bool { return s > slo.Score || s == slo.Score && !slo.Exclusive },
					func(_ []byte, s float64) bool { return s < shi.Score || s == shi.Score && !shi.Exclusive }, emit)
				break
			}
			if offset < 0 || (offset > 0 && offset >= int64(x.Len())) || emptyScoreRange(slo, shi) {
				break
			}
			x.ZRangeByScore(slo, shi, reverse, clampIndex(offset), clampIndex(limit), emit)
		case zrangeLex:
			if offset < 0 && !emptyLexRange(llo, lhi) && c.Version().ZRangeSkiplistNegativeOffset() && x.Encoding() == "skiplist" {
				below := 0
				switch {
				case llo.Inf == 1:
					below = x.Len()
				case llo.Inf == 0:
					below = x.ZLexCount(projection.LexBound{Inf: -1}, projection.LexBound{Value: llo.Value, Exclusive: !llo.Exclusive})
				}
				zrangeNegativeOffset(x, offset, limit, reverse, x.ZLexCount(projection.LexBound{Inf: -1}, lhi), below,
					func(m []byte, _ float64) bool { return lexGte(m, llo) },
					func(m []byte, _ float64) bool { return lexLte(m, lhi) }, emit)
				break
			}
			if offset < 0 || (offset > 0 && offset >= int64(x.Len())) || emptyLexRange(llo, lhi) {
				break
			}
			x.ZRangeByLex(llo, lhi, reverse, clampIndex(offset), clampIndex(limit), emit)
		}
		if withScores && c.W.Resp == 2 {
			c.W.SetArray(at, 2*n)
		} else {
			c.W.SetArray(at, n)
		}
	})
}

func zrangeCommand(c *Ctx, args [][]byte) { zrangeGeneric(c, args, zrangeAuto, dirAuto) }
func zrevrangeCommand(c *Ctx, args [][]byte) {
	zrangeGeneric(c, args, zrangeRank, dirReverse)
}
func zrangebyscoreCommand(c *Ctx, args [][]byte) {
	zrangeGeneric(c, args, zrangeScore, dirForward)
}
func zrevrangebyscoreCommand(c *Ctx, args [][]byte) {
	zrangeGeneric(c, args, zrangeScore, dirReverse)
}
func zrangebylexCommand(c *Ctx, args [][]byte) { zrangeGeneric(c, args, zrangeLex, dirForward) }
func zrevrangebylexCommand(c *Ctx, args [][]byte) {
	zrangeGeneric(c, args, zrangeLex, dirReverse)
}

func zrandmemberCommand(c *Ctx, args [][]byte) {
	if len(args) >= 3 {
		l, ok := rangeArg(c, args[2], -math.MaxInt64, math.MaxInt64, "")
		if !ok {
			return
		}
		withScores := false
		if len(args) > 4 || (len(args) == 4 && !equalFold(args[3], "withscores")) {
			c.W.Error(errSyntax)
			return
		} else if len(args) == 4 {
			withScores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.W.Error("ERR value is out of range")
				return
			}
		}
		c.read1(args[1], func(v *projection.View) {
			x := c.lookup(v, args[1])
			if !x.Exists() {
				c.W.Array(0)
				return
			}
			if !c.checkType(x, rdbparse.KindZSet) {
				return
			}
			if l == 0 {
				c.W.Array(0)
				return
			}
			n := l
			if n < 0 {
				n = -n
			} else if n > int64(x.Len()) {
				n = int64(x.Len())
			}
			if withScores && c.W.Resp == 2 {
				c.W.Array(int(2 * n))
			} else {
				c.W.Array(int(n))
			}
			x.ZRandom(nil, clampIndex(l), func(m []byte, s float64) {
				if withScores && c.W.Resp > 2 {
					c.W.Array(2)
				}
				c.W.Bulk(m)
				if withScores {
					c.W.Double(s)
				}
			})
		})
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Null()
			return
		}
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		x.ZRandom(nil, 1, func(m []byte, _ float64) { c.W.Bulk(m) })
	})
}

// ---- ZUNION ZINTER ZDIFF ZINTERCARD ----

type zsetOp uint8

const (
	opUnion zsetOp = iota
	opInter
	opDiff
)

type aggregate uint8

const (
	aggrSum aggregate = iota
	aggrMin
	aggrMax
)

type zsrc struct {
	x      projection.Value
	weight float64
}

func (s *zsrc) card() int { return s.x.Len() }

// score returns member's score in src (sets give 1.0).
func (s *zsrc) score(m []byte) (float64, bool) {
	switch s.x.Kind() {
	case rdbparse.KindZSet:
		return s.x.ZScore(m)
	case rdbparse.KindSet:
		if s.x.SetContains(m) {
			return 1, true
		}
	default:
		// only sets and sorted sets get here (zsetInputs checked the type).
	}
	return 0, false
}

func (s *zsrc) each(fn func(m []byte, score float64) bool) {
	switch s.x.Kind() {
	case rdbparse.KindZSet:
		s.x.ZEach(fn)
	case rdbparse.KindSet:
		s.x.SetEach(func(m []byte) bool { return fn(m, 1) })
	default:
		// only sets and sorted sets get here (zsetInputs checked the type).
	}
}

func aggr(a aggregate, target *float64, val float64) {
	switch a {
	case aggrSum:
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case aggrMin:
		if val < *target {
			*target = val
		}
	case aggrMax:
		if val > *target {
			*target = val
		}
	}
}

type zres struct {
	m []byte
	s float64
}

// zsetAlgebra follows zunionInterDiffGenericCommand (7.0) for the reply
// forms (no STORE): numkeys at args[1].
func zsetAlgebra(c *Ctx, args [][]byte, op zsetOp, cardOnly bool) {
	setnum, ok := c.intArg(args[1])
	if !ok {
		return
	}
	if setnum < 1 {
		c.W.Error("ERR at least 1 input key is needed for '" + c.cmd.Name + "' command")
		return
	}
	if setnum > int64(len(args)-2) {
		c.W.Error(errSyntax)
		return
	}
	keys := args[2 : 2+setnum]
	c.read(keys, func(v *projection.View) {
		src := make([]zsrc, setnum)
		for i, k := range keys {
			x := c.lookup(v, k)
			if x.Exists() && x.Kind() != rdbparse.KindZSet && x.Kind() != rdbparse.KindSet {
				c.W.Error(errWrongType)
				return
			}
			src[i] = zsrc{x: x, weight: 1}
		}
		agg := aggrSum
		withScores := false
		var limit int64
		j := 2 + int(setnum)
		for rem := len(args) - j; rem > 0; rem = len(args) - j {
			switch {
			case op != opDiff && !cardOnly && rem >= int(setnum)+1 && equalFold(args[j], "weights"):
				j++
				for i := range src {
					w, ok := getDouble(args[j])
					if !ok {
						c.W.Error("ERR weight value is not a float")
						return
					}
					src[i].weight = w
					j++
				}
			case op != opDiff && !cardOnly && rem >= 2 && equalFold(args[j], "aggregate"):
				j++
				switch {
				case equalFold(args[j], "sum"):
					agg = aggrSum
				case equalFold(args[j], "min"):
					agg = aggrMin
				case equalFold(args[j], "max"):
					agg = aggrMax
				default:
					c.W.Error(errSyntax)
					return
				}
				j++
			case rem >= 1 && !cardOnly && equalFold(args[j], "withscores"):
				j++
				withScores = true
			case cardOnly && rem >= 2 && equalFold(args[j], "limit"):
				j++
				if limit, ok = rangeArg(c, args[j], 0, math.MaxInt64, "LIMIT can't be negative"); !ok {
					return
				}
				j++
			default:
				c.W.Error(errSyntax)
				return
			}
		}
		if op != opDiff {
			sort.SliceStable(src, func(a, b int) bool { return src[a].card() < src[b].card() })
		}
		var res []zres
		switch op {
		case opInter:
			if src[0].card() == 0 {
				if cardOnly {
					c.W.Int(0)
					return
				}
				break
			}
			count := int64(0)
			src[0].each(func(m []byte, s float64) bool {
				score := src[0].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				for i := 1; i < len(src); i++ {
					s2, ok := src[i].score(m)
					if !ok {
						return true
					}
					val := src[i].weight * s2
					if math.IsNaN(val) {
						val = 0
					}
					aggr(agg, &score, val)
				}
				if cardOnly {
					count++
					return limit == 0 || count < limit
				}
				res = append(res, zres{append([]byte(nil), m...), score})
				return true
			})
			if cardOnly {
				c.W.Int(count)
				return
			}
		case opUnion:
			idx := map[string]int{}
			for i := range src {
				src[i].each(func(m []byte, s float64) bool {
					score := src[i].weight * s
					if math.IsNaN(score) {
						score = 0
					}
					if at, ok := idx[string(m)]; ok {
						aggr(agg, &res[at].s, score)
					} else {
						idx[string(m)] = len(res)
						res = append(res, zres{append([]byte(nil), m...), score})
					}
					return true
				})
			}
		case opDiff:
			src[0].each(func(m []byte, s float64) bool {
				for i := 1; i < len(src); i++ {
					if _, ok := src[i].score(m); ok {
						return true
					}
				}
				res = append(res, zres{append([]byte(nil), m...), s})
				return true
			})
		}
		sort.Slice(res, func(a, b int) bool {
			if res[a].s != res[b].s {
				return res[a].s < res[b].s
			}
			return bytes.Compare(res[a].m, res[b].m) < 0
		})
		if withScores && c.W.Resp == 2 {
			c.W.Array(2 * len(res))
		} else {
			c.W.Array(len(res))
		}
		for _, r := range res {
			if withScores && c.W.Resp > 2 {
				c.W.Array(2)
			}
			c.W.Bulk(r.m)
			if withScores {
				c.W.Double(r.s)
			}
		}
	})
}

// getDouble mirrors getDoubleFromObject: no leading space, whole string.
func getDouble(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || (b[0] >= '\t' && b[0] <= '\r') {
		return 0, false
	}
	return strtod(b)
}

func zunionCommand(c *Ctx, args [][]byte)     { zsetAlgebra(c, args, opUnion, false) }
func zinterCommand(c *Ctx, args [][]byte)     { zsetAlgebra(c, args, opInter, false) }
func zdiffCommand(c *Ctx, args [][]byte)      { zsetAlgebra(c, args, opDiff, false) }
func zintercardCommand(c *Ctx, args [][]byte) { zsetAlgebra(c, args, opInter, true) }

// ---- ZSCAN ----

// d2string formats a score as listpack-encoded zsets store it (d2string
// in src/util.c, called by zzlInsertAt): integers within ±2^62 (double2ll)
// as integers; otherwise "%.17g" in 7.0, Grisu2's digits in 7.2+
// (fpconv.AppendD2String).
func d2string(b []byte, d float64, doubles72 bool) []byte {
	if doubles72 {
		return fpconv.AppendD2String(b, d)
	}
	switch {
	case math.IsNaN(d):
		return append(b, "nan"...)
	case math.IsInf(d, 1):
		return append(b, "inf"...)
	case math.IsInf(d, -1):
		return append(b, "-inf"...)
	case d == 0:
		if math.Signbit(d) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	const half = float64(math.MaxInt64 / 2) // double2ll's bound, 2^62
	if d >= -half && d <= half {
		if ll := int64(d); float64(ll) == d {
			return strconv.AppendInt(b, ll, 10)
		}
	}
	return strconv.AppendFloat(b, d, 'g', 17, 64)
}

func zscanCommand(c *Ctx, args [][]byte) {
	elementScan(c, args, rdbparse.KindZSet, func(x projection.Value, cursor uint64, o *scanOpts) ([][]byte, uint64) {
		var items [][]byte
		// A listpack holds each score as the primary's d2string wrote it
		// (zzlInsertAt), and 7.2 changed d2string to Grisu2's digits; a
		// skiplist's scores are printed by ld2string "%.17Lg" in every
		// version (scanCallback in src/db.c), which AppendDouble matches.
		listpack, doubles72 := x.Encoding() == "listpack", c.Version().Doubles72()
		next := x.ZScan(cursor, int(o.count), func(m []byte, s float64) {
			if o.match(m) {
				if o.noValues {
					items = append(items, m)
				} else if listpack {
					items = append(items, m, d2string(nil, s, doubles72))
				} else {
					items = append(items, m, AppendDouble(nil, s))
				}
			}
		})
		return items, next
	})
}
