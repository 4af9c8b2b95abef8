package projection

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// parseStrictInt parses b the way Redis's string2ll does: optional '-',
// decimal digits, no leading zeros (except "0"), no '+', no spaces, at
// most 20 bytes, within int64 (see src/util.c string2ll).
func parseStrictInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n > 20 {
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	i := 0
	neg := false
	if b[0] == '-' {
		neg = true
		i++
		if n == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// stringEncoding is what tryObjectEncoding (src/object.c) picks for a
// freshly set value.
func stringEncoding(v []byte) uint8 {
	if len(v) <= 20 {
		if _, ok := parseStrictInt(v); ok {
			return encInt
		}
	}
	if len(v) <= 44 { // OBJ_ENCODING_EMBSTR_SIZE_LIMIT
		return encEmbstr
	}
	return encRaw
}

// ParseFloat parses a score or float argument the way Redis's
// getDoubleFromObject does with strtod: "inf", "+inf", "-inf", "1.5e1",
// hex floats; no spaces, no NaN, no overflow to infinity.
func ParseFloat(b []byte) (float64, error) {
	if len(b) == 0 || b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r' || b[0] == '\v' || b[0] == '\f' {
		return 0, ErrNotFloat
	}
	s := string(b)
	if strings.ContainsRune(s, '_') {
		return 0, ErrNotFloat
	}
	low := strings.ToLower(s)
	if strings.HasPrefix(strings.TrimLeft(low, "+-"), "0x") && !strings.Contains(low, "p") {
		s += "p0" // strtod allows hex without an exponent; Go does not
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange && !math.IsInf(f, 0) && f != 0 {
			return f, nil // gradual underflow to a denormal: strtod accepts
		}
		return 0, ErrNotFloat
	}
	if math.IsNaN(f) {
		return 0, ErrNotFloat
	}
	return f, nil
}

// ParseScoreBound parses a ZRANGEBYSCORE bound: "1.5", "(1.5", "-inf",
// "+inf" (see src/t_zset.c zslParseRange).
func ParseScoreBound(b []byte) (ScoreBound, error) {
	if len(b) > 0 && b[0] == '(' {
		f, err := ParseFloat(b[1:])
		if err != nil {
			return ScoreBound{}, ErrNotFloat
		}
		return ScoreBound{Score: f, Exclusive: true}, nil
	}
	f, err := ParseFloat(b)
	if err != nil {
		return ScoreBound{}, ErrNotFloat
	}
	return ScoreBound{Score: f}, nil
}

// ParseLexBound parses a ZRANGEBYLEX bound: "[a", "(a", "-", "+" (see
// src/t_zset.c zslParseLexRangeItem). The Value aliases b.
func ParseLexBound(b []byte) (LexBound, error) {
	if len(b) == 0 {
		return LexBound{}, ErrSyntax
	}
	switch b[0] {
	case '+':
		if len(b) == 1 {
			return LexBound{Inf: 1}, nil
		}
	case '-':
		if len(b) == 1 {
			return LexBound{Inf: -1}, nil
		}
	case '(':
		return LexBound{Value: b[1:], Exclusive: true}, nil
	case '[':
		return LexBound{Value: b[1:]}, nil
	}
	return LexBound{}, ErrSyntax
}

// FormatScore formats a double the way Redis 7.0 replies a score:
// "%.17g", with "inf"/"-inf" (src/networking.c addReplyDouble).
func FormatScore(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	if math.IsInf(f, -1) {
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}
