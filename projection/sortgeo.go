package projection

// SORT and the geo searches, computed once for both sides: the applier
// runs them for SORT … STORE, GEORADIUS[BYMEMBER] … STORE|STOREDIST and
// GEOSEARCHSTORE (which a 7.0 primary propagates verbatim, so a replica
// recomputes them from its own data), and commands/ runs them for the
// reads (SORT_RO, GEOSEARCH, GEORADIUS_RO, GEORADIUSBYMEMBER_RO) through
// View.Sort and View.GeoSearch. See src/sort.c sortCommandGeneric and
// src/geo.c georadiusGeneric.

import (
	"bytes"
	"math"
	"sort"
	"strconv"

	"github.com/vdr-project/vdr/internal/geo"
	"github.com/vdr-project/vdr/internal/pqsort"
)

// ReplyError is a command failure Redis answers with an error reply. Msg
// is the reply's text without the leading '-' ("ERR syntax error"); Err
// is the sentinel it stands for (ErrSyntax, ErrWrongType, ErrNotFloat,
// ErrNotInteger), for errors.Is.
type ReplyError struct {
	Msg string
	Err error
}

func (e *ReplyError) Error() string { return "projection: " + e.Msg }
func (e *ReplyError) Unwrap() error { return e.Err }

func replyErr(sentinel error, msg string) error { return &ReplyError{Msg: msg, Err: sentinel} }

var (
	errReplySyntax   = replyErr(ErrSyntax, "ERR syntax error")
	errReplyWrong    = replyErr(ErrWrongType, "WRONGTYPE Operation against a key holding the wrong kind of value")
	errReplyNotInt   = replyErr(ErrNotInteger, "ERR value is not an integer or out of range")
	errReplyNotFloat = replyErr(ErrNotFloat, "ERR value is not a valid float")
)

// ---- SORT (src/sort.c) ----

// SortResult is what SORT computed: the reply's elements in order (with
// GET patterns, one per pattern per sorted element; a nil element is a
// GET that found nothing), and the STORE destination (nil without STORE).
type SortResult struct {
	Elems [][]byte
	Store []byte
}

// SortNeedsDB reports whether a SORT's BY or GET patterns read keys other
// than the one sorted (a pattern with '*'), so the whole database must be
// locked (readers: ViewDB; the applier: scopeDB).
func SortNeedsDB(argv [][]byte) bool {
	for i := 2; i+1 < len(argv); i++ {
		if (eq(argv[i], "by") || eq(argv[i], "get")) && bytes.IndexByte(argv[i+1], '*') >= 0 {
			return true
		}
	}
	return false
}

// Sort runs SORT (readonly false; with STORE it only computes, the View
// writes nothing) or SORT_RO (readonly true) on the View's database. The
// View must hold the sorted key, and the whole database when SortNeedsDB.
// Errors are *ReplyError with Redis's reply text.
func (v *View) Sort(argv [][]byte, readonly bool) (*SortResult, error) {
	return sortGeneric(argv, readonly, v.Get)
}

// sortGeneric is sortCommandGeneric. get looks keys up (the View's Get
// for reads; the raw entry, expired or not, for the applier).
func sortGeneric(argv [][]byte, readonly bool, get func(key []byte) Value) (*SortResult, error) {
	if len(argv) < 2 {
		return nil, errReplySyntax
	}
	var (
		desc, alpha, dontsort bool
		limitStart            int64
		limitCount            int64 = -1
		sortby, storekey      []byte
		gets                  [][]byte
	)
	for j := 2; j < len(argv); j++ {
		left := len(argv) - j - 1
		a := argv[j]
		switch {
		case eq(a, "asc"):
			desc = false
		case eq(a, "desc"):
			desc = true
		case eq(a, "alpha"):
			alpha = true
		case eq(a, "limit") && left >= 2:
			s, ok1 := parseStrictInt(argv[j+1])
			c, ok2 := parseStrictInt(argv[j+2])
			if !ok1 || !ok2 {
				return nil, errReplyNotInt
			}
			limitStart, limitCount = s, c
			j += 2
		case !readonly && eq(a, "store") && left >= 1:
			storekey = argv[j+1]
			j++
		case eq(a, "by") && left >= 1:
			sortby = argv[j+1]
			// A BY pattern without '*' is constant: nothing to sort by.
			dontsort = bytes.IndexByte(sortby, '*') < 0
			j++
		case eq(a, "get") && left >= 1:
			gets = append(gets, argv[j+1])
			j++
		default:
			return nil, errReplySyntax
		}
	}
	src := get(argv[1])
	kind := src.Kind()
	if src.Exists() && kind != KindList && kind != KindSet && kind != KindZSet {
		return nil, errReplyWrong
	}
	if !src.Exists() {
		kind = KindList // an empty list
	}
	// A set has no order of its own: sorting it "by nothing" into a key
	// would store the primary's hash order, so Redis sorts it anyway.
	if dontsort && kind == KindSet && storekey != nil {
		dontsort, alpha, sortby = false, true, nil
	}
	vectorlen := int64(src.Len())
	start := min(max(limitStart, 0), vectorlen)
	limitCount = min(max(limitCount, -1), vectorlen)
	end := vectorlen - 1
	if limitCount >= 0 {
		end = start + limitCount - 1
	}
	if start >= vectorlen {
		start, end = vectorlen-1, vectorlen-2
	}
	if end >= vectorlen {
		end = vectorlen - 1
	}

	var vec []sortObj
	switch {
	case (kind == KindList || kind == KindZSet) && dontsort:
		// Native order, LIMIT applied while loading.
		if end >= start {
			n := int(end - start + 1)
			load := func(_ int, e []byte) bool { vec = append(vec, sortObj{obj: e}); return len(vec) < n }
			if kind == KindList {
				if desc {
					// From index len-start-1 towards the head.
					var all [][]byte
					src.ListRange(int(vectorlen-start-int64(n)), int(vectorlen-start-1), func(_ int, e []byte) bool {
						all = append(all, e)
						return true
					})
					for k := len(all) - 1; k >= 0; k-- {
						vec = append(vec, sortObj{obj: all[k]})
					}
				} else {
					src.ListRange(int(start), int(end), load)
				}
			} else {
				src.ZRangeByRank(int(start), int(end), desc, func(m []byte, _ float64) bool { return load(0, m) })
			}
			end -= start
			start = 0
		}
	case kind == KindList:
		src.ListEach(false, func(_ int, e []byte) bool { vec = append(vec, sortObj{obj: e}); return true })
	case kind == KindSet:
		src.SetEach(func(m []byte) bool { vec = append(vec, sortObj{obj: m}); return true })
		if src.Encoding() == "intset" {
			// Redis walks an intset in ascending order: the order BY
			// nosort returns and ALPHA BY keeps for ties. (A hashtable's
			// order is the primary's hash order, which vdr cannot know.)
			sort.Slice(vec, func(a, b int) bool {
				x, _ := parseStrictInt(vec[a].obj)
				y, _ := parseStrictInt(vec[b].obj)
				return x < y
			})
		}
	case kind == KindZSet:
		src.ZEach(func(m []byte, _ float64) bool { vec = append(vec, sortObj{obj: m}); return true })
	}

	convErr := false
	if !dontsort {
		for j := range vec {
			byval := vec[j].obj
			if sortby != nil {
				b, ok := lookupByPattern(get, sortby, vec[j].obj)
				if !ok {
					continue
				}
				byval = b
			}
			if alpha {
				if sortby != nil {
					vec[j].cmp = nonNil(byval)
				}
				continue
			}
			f, ok := sortStrtod(byval)
			if !ok {
				convErr = true
			}
			vec[j].score = f
		}
		sv := &sortVec{v: vec, alpha: alpha, byPattern: sortby != nil, desc: desc, coll: storekey == nil}
		if sortby != nil && (start != 0 || end != int64(len(vec))-1) {
			// Redis's own partial quicksort of the LIMIT places.
			pqsort.Sort(sv, int(start), int(end))
		} else {
			// glibc's qsort, which Redis calls here, is a merge sort: stable.
			sort.SliceStable(vec, func(a, b int) bool { return sv.Cmp(a, b) < 0 })
		}
	}
	if convErr {
		return nil, replyErr(ErrNotFloat, "ERR One or more scores can't be converted into double")
	}
	res := &SortResult{Store: storekey}
	for j := start; j <= end && j < int64(len(vec)); j++ {
		if len(gets) == 0 {
			res.Elems = append(res.Elems, nonNil(vec[j].obj))
			continue
		}
		for _, pat := range gets {
			val, ok := lookupByPattern(get, pat, vec[j].obj)
			if !ok {
				val = nil
			} else {
				val = nonNil(val)
			}
			res.Elems = append(res.Elems, val)
		}
	}
	return res, nil
}

// sortObj is redisSortObject: an element and what it sorts by.
type sortObj struct {
	obj   []byte
	score float64
	cmp   []byte // ALPHA BY: the looked-up value; nil when missing
}

// sortVec is the vector SORT sorts, compared as sortCompare does.
type sortVec struct {
	v                      []sortObj
	alpha, byPattern, desc bool
	// coll: ALPHA compares as strcoll does (no STORE); with STORE, Redis
	// compares the bytes (compareStringObjects).
	coll bool
}

func (s *sortVec) Len() int      { return len(s.v) }
func (s *sortVec) Swap(i, j int) { s.v[i], s.v[j] = s.v[j], s.v[i] }
func (s *sortVec) Cmp(i, j int) int {
	x, y := &s.v[i], &s.v[j]
	var c int
	switch {
	case !s.alpha:
		if x.score > y.score {
			c = 1
		} else if x.score < y.score {
			c = -1
		} else {
			// Equal scores: by the elements, so the result is deterministic.
			c = bytes.Compare(x.obj, y.obj)
		}
	case s.byPattern:
		switch {
		case x.cmp == nil && y.cmp == nil:
			c = 0
		case x.cmp == nil:
			c = -1
		case y.cmp == nil:
			c = 1
		default:
			c = s.compare(x.cmp, y.cmp)
		}
	default:
		c = s.compare(x.obj, y.obj)
	}
	if s.desc {
		return -c
	}
	return c
}

// compare is ALPHA's comparison of two strings: sortCompare calls
// strcoll without STORE (collateStringObjects), memcmp with it.
func (s *sortVec) compare(a, b []byte) int {
	if s.coll {
		return strcollC(a, b)
	}
	return bytes.Compare(a, b)
}

// strcollC is strcoll(3) in the C locale (and C.UTF-8, where glibc
// collates by code point, which is byte order for UTF-8): strcmp of the
// two as C strings, so each ends at its first NUL byte and strings that
// differ only after it are equal. vdr assumes that locale; a Redis
// started under another LC_COLLATE orders ALPHA by that locale's rules.
func strcollC(a, b []byte) int {
	if i := bytes.IndexByte(a, 0); i >= 0 {
		a = a[:i]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return bytes.Compare(a, b)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// lookupByPattern is src/sort.c lookupKeyByPattern: "#" is the element
// itself; otherwise the first '*' is replaced by the element, and a
// "->field" after it reads that hash field instead of a string. A pattern
// without '*' finds nothing.
func lookupByPattern(get func([]byte) Value, pattern, subst []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return subst, true
	}
	p := bytes.IndexByte(pattern, '*')
	if p < 0 {
		return nil, false
	}
	var field []byte
	post := pattern[p+1:]
	if f := bytes.Index(post, []byte("->")); f >= 0 && f+2 < len(post) {
		field = post[f+2:]
		post = post[:f]
	}
	key := make([]byte, 0, p+len(subst)+len(post))
	key = append(append(append(key, pattern[:p]...), subst...), post...)
	x := get(key)
	if !x.Exists() {
		return nil, false
	}
	if field != nil {
		if x.Kind() != KindHash {
			return nil, false
		}
		return x.HashGet(field)
	}
	if x.Kind() != KindString {
		return nil, false
	}
	return x.Bytes(), true
}

// sortStrtod converts a SORT weight as Redis does with strtod: the C
// string ends at the first NUL, leading white space is skipped, the whole
// rest must be a number, and NaN or a result out of range (overflow or
// underflow) is an error. An empty string is 0.
func sortStrtod(b []byte) (float64, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return 0, true
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	f, err := ParseFloat(b[i:])
	if err != nil {
		return 0, false
	}
	if f != 0 && math.Abs(f) < 0x1p-1022 {
		return 0, false // a subnormal result: glibc sets ERANGE
	}
	return f, true
}

// ---- geo searches (src/geo.c georadiusGeneric) ----

// georadiusGeneric variants (src/geo.c RADIUS_*).
const (
	radiusCoords   = 1 << iota // RADIUS_COORDS: around a longitude, latitude
	radiusMember               // RADIUS_MEMBER: around a member
	radiusNoStore              // RADIUS_NOSTORE: no STORE/STOREDIST (the _RO forms)
	geoSearchFlag              // GEOSEARCH: FROMMEMBER/FROMLONLAT, BYRADIUS/BYBOX
	geoSearchStore             // GEOSEARCHSTORE: STOREDIST flag, destination first
)

// geoVariant returns the flags and the source key's index of a geo search
// command, false for another command.
func geoVariant(name []byte) (flags, srcIdx int, ok bool) {
	switch {
	case eq(name, "georadius"):
		return radiusCoords, 1, true
	case eq(name, "georadiusbymember"):
		return radiusMember, 1, true
	case eq(name, "georadius_ro"):
		return radiusCoords | radiusNoStore, 1, true
	case eq(name, "georadiusbymember_ro"):
		return radiusMember | radiusNoStore, 1, true
	case eq(name, "geosearch"):
		return geoSearchFlag, 1, true
	case eq(name, "geosearchstore"):
		return geoSearchFlag | geoSearchStore, 2, true
	}
	return 0, 0, false
}

// GeoResult is what a geo search found.
type GeoResult struct {
	// Points in reply order, already cut to COUNT, with Dist in the
	// requested unit. Members alias the View: valid inside its callback.
	Points                        []geo.Point
	WithDist, WithHash, WithCoord bool
	// Store is the STORE/STOREDIST (or GEOSEARCHSTORE) destination, nil
	// for a plain search; StoreDist stores distances instead of hashes.
	Store     []byte
	StoreDist bool
}

// GeoSearch runs GEOSEARCH, GEORADIUS_RO, GEORADIUSBYMEMBER_RO (or the
// write forms, computing only) as argv[0] names, on the View's database;
// the View must hold the source key (argv[1], argv[2] for
// GEOSEARCHSTORE). Errors are *ReplyError with Redis's reply text.
func (v *View) GeoSearch(argv [][]byte) (*GeoResult, error) {
	return geoSearchGeneric(argv, v.Get)
}

func geoSearchGeneric(argv [][]byte, get func([]byte) Value) (*GeoResult, error) {
	flags, srcIdx, ok := geoVariant(argv[0])
	if !ok || len(argv) <= srcIdx {
		return nil, errReplySyntax
	}
	src := get(argv[srcIdx])
	if src.Exists() && src.Kind() != KindZSet {
		return nil, errReplyWrong
	}
	res := &GeoResult{}
	var shape geo.Shape
	baseArgs := 0
	switch {
	case flags&radiusCoords != 0:
		baseArgs = 6
		if len(argv) < baseArgs {
			return nil, errReplySyntax
		}
		if err := geoLonLat(argv[2:4], &shape); err != nil {
			return nil, err
		}
		if err := geoDistance(argv[4:6], &shape); err != nil {
			return nil, err
		}
	case flags&radiusMember != 0 && !src.Exists():
		baseArgs = 5 // parse the options anyway: the reply depends on STORE
	case flags&radiusMember != 0:
		baseArgs = 5
		if len(argv) < baseArgs {
			return nil, errReplySyntax
		}
		if !geoFromMember(src, argv[2], &shape) {
			return nil, replyErr(ErrNoSuchKey, "ERR could not decode requested zset member")
		}
		if err := geoDistance(argv[3:5], &shape); err != nil {
			return nil, err
		}
	default: // GEOSEARCH, GEOSEARCHSTORE
		baseArgs = 2
		if flags&geoSearchStore != 0 {
			baseArgs = 3
			res.Store = argv[1]
		}
	}
	var withdist, withhash, withcoord, frommember, fromloc, byradius, bybox, anyOpt bool
	order := 0 // 0 none, 1 ASC, 2 DESC
	var count int64
	for i := baseArgs; i < len(argv); i++ {
		a := argv[i]
		left := len(argv) - i - 1 // arguments after this one
		switch {
		case eq(a, "withdist"):
			withdist = true
		case eq(a, "withhash"):
			withhash = true
		case eq(a, "withcoord"):
			withcoord = true
		case eq(a, "any"):
			anyOpt = true
		case eq(a, "asc"):
			order = 1
		case eq(a, "desc"):
			order = 2
		case eq(a, "count") && left >= 1:
			n, ok := parseStrictInt(argv[i+1])
			if !ok {
				return nil, errReplyNotInt
			}
			if n <= 0 {
				return nil, replyErr(ErrSyntax, "ERR COUNT must be > 0")
			}
			count = n
			i++
		case eq(a, "store") && left >= 1 && flags&(radiusNoStore|geoSearchFlag) == 0:
			res.Store, res.StoreDist = argv[i+1], false
			i++
		case eq(a, "storedist") && left >= 1 && flags&(radiusNoStore|geoSearchFlag) == 0:
			res.Store, res.StoreDist = argv[i+1], true
			i++
		case eq(a, "storedist") && flags&geoSearchFlag != 0 && flags&geoSearchStore != 0:
			res.StoreDist = true
		case eq(a, "frommember") && left >= 1 && flags&geoSearchFlag != 0 && !fromloc:
			if src.Exists() && !geoFromMember(src, argv[i+1], &shape) {
				return nil, replyErr(ErrNoSuchKey, "ERR could not decode requested zset member")
			}
			frommember = true
			i++
		case eq(a, "fromlonlat") && left >= 2 && flags&geoSearchFlag != 0 && !frommember:
			if err := geoLonLat(argv[i+1:i+3], &shape); err != nil {
				return nil, err
			}
			fromloc = true
			i += 2
		case eq(a, "byradius") && left >= 2 && flags&geoSearchFlag != 0 && !bybox:
			if err := geoDistance(argv[i+1:i+3], &shape); err != nil {
				return nil, err
			}
			shape.Box = false
			byradius = true
			i += 2
		case eq(a, "bybox") && left >= 3 && flags&geoSearchFlag != 0 && !byradius:
			if err := geoBox(argv[i+1:i+4], &shape); err != nil {
				return nil, err
			}
			shape.Box = true
			bybox = true
			i += 3
		default:
			return nil, errReplySyntax
		}
	}
	if res.Store != nil && (withdist || withhash || withcoord) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		return nil, replyErr(ErrSyntax, "ERR "+what+" is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
	}
	if flags&geoSearchFlag != 0 && !(frommember || fromloc) {
		return nil, replyErr(ErrSyntax, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for "+string(argv[0]))
	}
	if flags&geoSearchFlag != 0 && !(byradius || bybox) {
		return nil, replyErr(ErrSyntax, "ERR exactly one of BYRADIUS and BYBOX can be specified for "+string(argv[0]))
	}
	if anyOpt && count == 0 {
		return nil, replyErr(ErrSyntax, "ERR the ANY argument requires COUNT argument")
	}
	res.WithDist, res.WithHash, res.WithCoord = withdist, withhash, withcoord
	if !src.Exists() {
		return res, nil
	}
	if count != 0 && order == 0 && !anyOpt {
		order = 1 // the closest COUNT, so sorted
	}
	limit := 0
	if anyOpt {
		limit = int(min(count, math.MaxInt32))
	}
	pts := geo.Search(&shape, func(lo, hi float64, fn func([]byte, float64) bool) {
		src.ZRangeByScore(ScoreBound{Score: lo}, ScoreBound{Score: hi, Exclusive: true}, false, 0, -1, fn)
	}, limit)
	if order != 0 {
		geo.Sort(pts, order == 2, int(min(count, math.MaxInt32)))
	}
	if count != 0 && int64(len(pts)) > count {
		pts = pts[:count]
	}
	for i := range pts {
		pts[i].Dist /= shape.Conversion
	}
	res.Points = pts
	return res, nil
}

// geoFromMember centres shape on a member's position (longLatFromMember).
func geoFromMember(z Value, member []byte, shape *geo.Shape) bool {
	s, ok := z.ZScore(member)
	if !ok {
		return false
	}
	lon, lat, ok := geo.DecodeScore(s)
	if !ok {
		return false
	}
	shape.Lon, shape.Lat = lon, lat
	return true
}

// geoLonLat is extractLongLatOrReply.
func geoLonLat(args [][]byte, shape *geo.Shape) error {
	lon, err1 := ParseFloat(args[0])
	if err1 != nil {
		return errReplyNotFloat
	}
	lat, err2 := ParseFloat(args[1])
	if err2 != nil {
		return errReplyNotFloat
	}
	if !geo.ValidLonLat(lon, lat) {
		return replyErr(ErrSyntax, "ERR invalid longitude,latitude pair "+cFloat(lon)+","+cFloat(lat))
	}
	shape.Lon, shape.Lat = lon, lat
	return nil
}

// cFloat formats f as C's printf "%f" does ("inf", "-inf" for infinities).
func cFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// geoUnit is extractUnitOrReply.
func geoUnit(u []byte, shape *geo.Shape) error {
	conv, ok := geo.UnitToMeters(u)
	if !ok {
		return replyErr(ErrSyntax, "ERR unsupported unit provided. please use M, KM, FT, MI")
	}
	shape.Conversion = conv
	return nil
}

// geoDistance is extractDistanceOrReply: radius unit.
func geoDistance(args [][]byte, shape *geo.Shape) error {
	d, err := ParseFloat(args[0])
	if err != nil {
		return replyErr(ErrNotFloat, "ERR need numeric radius")
	}
	if d < 0 {
		return replyErr(ErrSyntax, "ERR radius cannot be negative")
	}
	shape.Radius = d
	return geoUnit(args[1], shape)
}

// geoBox is extractBoxOrReply: width height unit.
func geoBox(args [][]byte, shape *geo.Shape) error {
	w, err := ParseFloat(args[0])
	if err != nil {
		return replyErr(ErrNotFloat, "ERR need numeric width")
	}
	h, err := ParseFloat(args[1])
	if err != nil {
		return replyErr(ErrNotFloat, "ERR need numeric height")
	}
	if h < 0 || w < 0 {
		return replyErr(ErrSyntax, "ERR height or width cannot be negative")
	}
	shape.Width, shape.Height = w, h
	return geoUnit(args[2], shape)
}
