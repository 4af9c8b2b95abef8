package funclib

import (
	"fmt"
	"strings"
)

// A small Lua 5.1 lexer: enough to find names, strings (decoded) and
// brackets; comments and whitespace are dropped.

type tokKind uint8

const (
	tkName   tokKind = iota + 1 // identifiers and keywords
	tkString                    // a string literal, decoded
	tkNumber
	tkSym // punctuation
)

type token struct {
	kind tokKind
	s    string
}

func (t token) is(sym string) bool {
	return (t.kind == tkSym || t.kind == tkName) && t.s == sym
}

// longBracket returns the level of a long bracket "[==[" at s[i:], or -1.
func longBracket(s string, i int) int {
	if i >= len(s) || s[i] != '[' {
		return -1
	}
	j := i + 1
	for j < len(s) && s[j] == '=' {
		j++
	}
	if j < len(s) && s[j] == '[' {
		return j - i - 1
	}
	return -1
}

// readLong reads a long string/comment body after its opening bracket at
// level lv starting at s[i] and returns the body and the index after it.
func readLong(s string, i, lv int) (string, int, error) {
	closer := "]" + strings.Repeat("=", lv) + "]"
	end := strings.Index(s[i:], closer)
	if end < 0 {
		return "", 0, fmt.Errorf("unterminated long bracket: %w", ErrUncertain)
	}
	body := s[i : i+end]
	// A newline right after the opening bracket is skipped (Lua 5.1).
	if strings.HasPrefix(body, "\r\n") {
		body = body[2:]
	} else if strings.HasPrefix(body, "\n") || strings.HasPrefix(body, "\r") {
		body = body[1:]
	}
	return body, i + end + len(closer), nil
}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			i++
		case strings.HasPrefix(s[i:], "--"):
			i += 2
			if lv := longBracket(s, i); lv >= 0 {
				_, next, err := readLong(s, i+lv+2, lv)
				if err != nil {
					return nil, err
				}
				i = next
				continue
			}
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, token{tkName, s[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] == '.' || s[j] == 'x' || s[j] == 'X' || s[j] >= '0' && s[j] <= '9' ||
				s[j] >= 'a' && s[j] <= 'f' || s[j] >= 'A' && s[j] <= 'F' ||
				(s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			out = append(out, token{tkNumber, s[i:j]})
			i = j
		case c == '"' || c == '\'':
			str, next, err := readQuoted(s, i)
			if err != nil {
				return nil, err
			}
			out = append(out, token{tkString, str})
			i = next
		case c == '[' && longBracket(s, i) >= 0:
			lv := longBracket(s, i)
			body, next, err := readLong(s, i+lv+2, lv)
			if err != nil {
				return nil, err
			}
			out = append(out, token{tkString, body})
			i = next
		default:
			n := 1
			for _, m := range []string{"...", "..", "==", "~=", "<=", ">="} {
				if strings.HasPrefix(s[i:], m) {
					n = len(m)
					break
				}
			}
			out = append(out, token{tkSym, s[i : i+n]})
			i += n
		}
	}
	return out, nil
}

// readQuoted decodes a quoted string at s[i] with Lua 5.1's escapes.
func readQuoted(s string, i int) (string, int, error) {
	q := s[i]
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == q:
			return b.String(), j + 1, nil
		case c == '\n':
			return "", 0, fmt.Errorf("unfinished string: %w", ErrUncertain)
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		j++
		if j >= len(s) {
			break
		}
		switch e := s[j]; e {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\\', '"', '\'', '\n':
			b.WriteByte(e)
		default:
			if e < '0' || e > '9' {
				return "", 0, fmt.Errorf("escape \\%c: %w", e, ErrUncertain)
			}
			n, k := 0, 0
			for ; k < 3 && j+k < len(s) && s[j+k] >= '0' && s[j+k] <= '9'; k++ {
				n = n*10 + int(s[j+k]-'0')
			}
			if n > 255 {
				return "", 0, fmt.Errorf("escape too large: %w", ErrUncertain)
			}
			b.WriteByte(byte(n))
			j += k - 1
		}
	}
	return "", 0, fmt.Errorf("unfinished string: %w", ErrUncertain)
}
