package commands

import (
	"bufio"
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestParseStrtoul checks SCAN's cursor parsing against what strtoul(3)
// (parseScanCursorOrReply) accepts.
func TestParseStrtoul(t *testing.T) {
	f := func(in string, want uint64, ok bool) {
		t.Helper()
		got, gotOK := parseStrtoul([]byte(in))
		if got != want || gotOK != ok {
			t.Errorf("%q: got %d %v, want %d %v", in, got, gotOK, want, ok)
		}
	}
	f("0", 0, true)
	f("", 0, true)
	f("123", 123, true)
	f("+5", 5, true)
	f("-0", 0, true)
	f("-1", math.MaxUint64, true)
	f("-18446744073709551615", 1, true)
	f("18446744073709551615", math.MaxUint64, true)
	f("18446744073709551616", 0, false)
	f("-18446744073709551616", 0, false)
	f("-", 0, false)
	f("+", 0, false)
	f(" 1", 0, false)
	f("1 ", 0, false)
	f("0x1", 0, false)
	f("1.5", 0, false)
}

// TestElementScanCount runs SSCAN, HSCAN and ZSCAN with COUNT over big
// values through Exec: each step returns about COUNT elements and the
// whole scan returns every element.
func TestElementScanCount(t *testing.T) {
	env := newTestEnv(t)
	const n = 1000
	for _, k := range []string{"SADD s", "HSET h", "ZADD z"} {
		argv := [][]byte{}
		for _, a := range strings.Fields(k) {
			argv = append(argv, []byte(a))
		}
		for i := 0; i < n; i++ {
			m := []byte("m" + strconv.Itoa(i))
			switch k {
			case "HSET h":
				argv = append(argv, m, []byte("v"))
			case "ZADD z":
				argv = append(argv, []byte(strconv.Itoa(i)), m)
			default:
				argv = append(argv, m)
			}
		}
		if err := env.Proj.Apply(0, argv); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	for _, tc := range []struct{ cmd, key string }{{"SSCAN", "s"}, {"HSCAN", "h"}, {"ZSCAN", "z"}} {
		seen := map[string]bool{}
		cursor, steps := "0", 0
		for {
			c.W.Reset()
			Exec(c, [][]byte{[]byte(tc.cmd), []byte(tc.key), []byte(cursor), []byte("COUNT"), []byte("25")})
			next, items := parseScanReply(t, c.W.Bytes())
			per := 1
			if tc.cmd != "SSCAN" {
				per = 2
			}
			if len(items) > 25*per || len(items) == 0 {
				t.Fatalf("%s step %d: %d items for COUNT 25", tc.cmd, steps, len(items))
			}
			for i := 0; i < len(items); i += per {
				seen[items[i]] = true
			}
			steps++
			if cursor = next; cursor == "0" {
				break
			}
		}
		if len(seen) != n || steps != n/25 {
			t.Fatalf("%s: %d members in %d steps", tc.cmd, len(seen), steps)
		}
	}
}

// parseScanReply reads "*2 $cursor *n items…" (RESP2, bulk items).
func parseScanReply(t *testing.T, b []byte) (string, []string) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(b))
	line := func() string {
		s, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reply %q: %v", b, err)
		}
		return strings.TrimSuffix(s, "\r\n")
	}
	bulk := func() string {
		h := line()
		if h[0] != '$' {
			t.Fatalf("reply %q: bulk expected, got %q", b, h)
		}
		return line()
	}
	if h := line(); h != "*2" {
		t.Fatalf("reply %q", b)
	}
	cursor := bulk()
	h := line()
	n, err := strconv.Atoi(h[1:])
	if err != nil || h[0] != '*' {
		t.Fatalf("reply %q", b)
	}
	items := make([]string, n)
	for i := range items {
		items[i] = bulk()
	}
	return cursor, items
}
