package script

import (
	"bytes"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// FuzzReplyToLua feeds arbitrary bytes to the RESP → Lua conversion (it
// must never panic), and every reply it reads back out through the
// Lua → RESP conversion, in each protocol pair: the output must be one
// well-formed reply, and for replies without RESP3-only or lossy parts
// (integers, bulk strings, arrays without nulls) the bytes must come back
// unchanged. The state's own parse (strings boxed from its slab, cut from
// one copy of the reply) must give the same replies as ReplyToLua, and
// the input may change afterwards without changing what was read.
func FuzzReplyToLua(f *testing.F) {
	for _, s := range []string{
		":1\r\n", "$3\r\nfoo\r\n", "$-1\r\n", "*-1\r\n", "+OK\r\n", "-ERR x\r\n",
		"*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n", "%1\r\n$1\r\nk\r\n:1\r\n", "~2\r\n$1\r\na\r\n$1\r\nb\r\n",
		"_\r\n", "#t\r\n", ",3.5\r\n", ",inf\r\n", "(123\r\n", "=7\r\ntxt:abc\r\n", "|1\r\n$1\r\na\r\n$1\r\nb\r\n:3\r\n",
		"*2\r\n$-1\r\n:1\r\n",
	} {
		f.Add([]byte(s))
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	st := newState(NewEngine(), true)
	defer st.L.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		v, rest, err := ReplyToLua(L, b)
		if err != nil || len(rest) != 0 {
			return
		}
		mine := append([]byte(nil), b...)
		p := replyParser{L: st.L, st: st, whole: mine}
		sv, _, err := p.parse(mine)
		if err != nil {
			t.Fatalf("%q: ReplyToLua reads it, the state's parse fails: %v", b, err)
		}
		for i := range mine {
			mine[i] = 'x'
		}
		// Maps and sets come out in gopher-lua's (Go map) order.
		unordered := bytes.ContainsAny(b, "%~")
		for _, e := range []Encoder{{2, 2}, {3, 3}} {
			if got, want := e.Append(nil, sv), e.Append(nil, v); unordered && len(got) != len(want) || !unordered && !bytes.Equal(got, want) {
				t.Fatalf("%+v: %q: state's parse gives %q, ReplyToLua %q", e, b, got, want)
			}
		}
		for _, e := range []Encoder{{2, 2}, {2, 3}, {3, 2}, {3, 3}} {
			out := e.Append(nil, v)
			if _, r, err := ReplyToLua(L, out); err != nil || len(r) != 0 {
				t.Fatalf("%+v: %q → %q: not one reply (%v, rest %q)", e, b, out, err, r)
			}
			if plain(b) && !bytes.Equal(out, b) {
				t.Fatalf("%+v: %q → %q", e, b, out)
			}
		}
	})
}

// plain reports whether b holds only integers, bulk strings and arrays of
// them (no nulls), which convert both ways unchanged.
func plain(b []byte) bool {
	var walk func(b []byte) ([]byte, bool)
	walk = func(b []byte) ([]byte, bool) {
		if len(b) == 0 {
			return nil, false
		}
		line, rest, ok := readLine(b[1:])
		if !ok {
			return nil, false
		}
		n := 0
		for _, c := range line {
			if c < '0' || c > '9' {
				return nil, false
			}
			n = n*10 + int(c-'0')
			if n > 1<<20 {
				return nil, false
			}
		}
		if len(line) == 0 || len(line) > 1 && line[0] == '0' {
			return nil, false
		}
		switch b[0] {
		case ':':
			return rest, true
		case '$':
			if len(rest) < n+2 || rest[n] != '\r' || rest[n+1] != '\n' {
				return nil, false
			}
			return rest[n+2:], true
		case '*':
			for i := 0; i < n; i++ {
				if rest, ok = walk(rest); !ok {
					return nil, false
				}
			}
			return rest, true
		}
		return nil, false
	}
	rest, ok := walk(b)
	return ok && len(rest) == 0
}
