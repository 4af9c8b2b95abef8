package rdbparse

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vdr-project/vdr/internal/redistest"
)

// writeSample writes one key of every kind the Writer supports, in two
// databases, with an expiry far in the future.
func writeSample(t *testing.T, w *Writer) {
	t.Helper()
	w.Aux("repl-id", strings.Repeat("ab", 20))
	w.Aux("repl-offset", "12345")
	w.SelectDB(0, 5, 1)
	w.String([]byte("s"), []byte("hello"), -1)
	w.String([]byte("big"), bytes.Repeat([]byte("x"), 70000), 4102444800000)
	w.Begin(KindList, []byte("l"), 3, -1)
	for _, e := range []string{"a", "b", "c"} {
		w.Elem([]byte(e))
	}
	w.Begin(KindSet, []byte("set"), 2, -1)
	w.Elem([]byte("m1"))
	w.Elem([]byte("m2"))
	w.Begin(KindZSet, []byte("z"), 2, -1)
	w.Member([]byte("one"), 1.5)
	w.Member([]byte("inf"), -1/zero())
	w.SelectDB(3, 1, 0)
	w.Begin(KindHash, []byte("h"), 2, -1)
	w.Pair([]byte("f1"), []byte("v1"))
	w.Pair([]byte("f2"), []byte(""))
}

func zero() float64 { return 0 }

// TestWriterLoadsInRedis checks that redis-server itself loads what Writer
// writes, with the same values.
func TestWriterLoadsInRedis(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "snap.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f)
	writeSample(t, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s := redistest.Start(t, "--dir", dir, "--dbfilename", "snap.rdb")
	checks := []struct {
		args []string
		want string
	}{
		{[]string{"GET", "s"}, "$5\r\nhello\r\n"},
		{[]string{"STRLEN", "big"}, ":70000\r\n"},
		{[]string{"LRANGE", "l", "0", "-1"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{[]string{"SCARD", "set"}, ":2\r\n"},
		{[]string{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, "*4\r\n$3\r\ninf\r\n$4\r\n-inf\r\n$3\r\none\r\n$3\r\n1.5\r\n"},
		{[]string{"PEXPIRETIME", "big"}, ":4102444800000\r\n"},
		{[]string{"TTL", "s"}, ":-1\r\n"},
	}
	for _, c := range checks {
		if got := s.Do(t, c.args...); got != c.want {
			t.Errorf("%v = %q, want %q", c.args, got, c.want)
		}
	}
	if got := redistest.InfoField(s.Addr(), "keyspace", "db3"); !strings.HasPrefix(got, "keys=1,") {
		t.Errorf("db3 keyspace = %q", got)
	}
}

// TestWriterErrors checks the sticky misuse errors.
func TestWriterErrors(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Begin(KindList, []byte("l"), 2, -1)
	w.Elem([]byte("only one"))
	if err := w.Close(); err == nil {
		t.Fatal("missing element not reported")
	}
	b.Reset()
	w = NewWriter(&b)
	w.Member([]byte("m"), 1)
	if err := w.Close(); err == nil {
		t.Fatal("element without Begin not reported")
	}
}
