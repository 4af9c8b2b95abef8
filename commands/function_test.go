package commands

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/internal/repltest"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// syncLoader feeds a full sync's RDB, libraries included, to a Loader.
type syncLoader struct {
	rdbparse.NopHandler
	ld *projection.Loader
}

func (h syncLoader) Entry(e *rdbparse.Entry) error { return h.ld.Entry(e) }
func (h syncLoader) Function(code []byte) error    { return h.ld.Function(code) }

func lib(name, fn, extra string) string {
	return "#!lua name=" + name + "\nredis.register_function{function_name='" + fn +
		"', callback=function(keys, args) return 1 end" + extra + "}\n"
}

// TestFunctionListOverLink runs FUNCTION LOAD/DELETE/FLUSH/RESTORE on a
// real redis-server 7.0.15 primary, mirrors the link (RDB libraries, then
// the commands) into a projection, and compares vdr's FUNCTION LIST with
// a real replica's, byte for byte, library by library.
func TestFunctionListOverLink(t *testing.T) {
	srv := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	srv.Do(t, "FUNCTION", "LOAD", lib("inrdb", "from_rdb", ", flags={'no-writes'}, description='in the RDB'"))
	rep := redistest.Start(t, "--replicaof", "127.0.0.1", itoa(int64(srv.Port)))
	link := repltest.Attach(t, srv.Addr())
	p, err := projection.New(projection.Options{OnUnknown: projection.Resync})
	if err != nil {
		t.Fatal(err)
	}
	ld := p.BeginLoad(projection.LoadOptions{})
	if err := rdbparse.Parse(bytes.NewReader(link.RDB), syncLoader{ld: ld}, nil); err != nil {
		t.Fatal(err)
	}
	ld.Commit()

	steps := [][]string{
		{"FUNCTION", "LOAD", lib("a", "fa", "")},
		{"FUNCTION", "LOAD", lib("b", "fb", ", flags={'allow-stale','no-cluster'}")},
		{"FUNCTION", "LOAD", "REPLACE", lib("a", "fa2", ", description='replaced'")},
		{"FUNCTION", "DELETE", "b"},
	}
	for _, s := range steps {
		if r := srv.Do(t, s...); strings.HasPrefix(r, "-") {
			t.Fatalf("%v: %s", s[:2], r)
		}
	}
	dump := srv.Do(t, "FUNCTION", "DUMP") // raw reply: $<n>\r\n<payload>\r\n
	payload := dump[strings.IndexByte(dump, '\n')+1 : len(dump)-2]
	for _, s := range [][]string{
		{"FUNCTION", "FLUSH"},
		{"FUNCTION", "RESTORE", payload},
		{"FUNCTION", "LOAD", lib("c", "fc", "")},
		{"FUNCTION", "RESTORE", payload, "REPLACE"},
		{"SET", "marker", "1"},
	} {
		if r := srv.Do(t, s...); strings.HasPrefix(r, "-") {
			t.Fatalf("%v: %s", s[:2], r)
		}
	}
	db := 0
	for {
		argv, err := link.Next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if strings.EqualFold(string(argv[0]), "select") {
			db = int(argv[1][0] - '0')
			continue
		}
		if err := p.Apply(db, argv); err != nil {
			t.Fatalf("apply %q: %v", argv[0], err)
		}
		if string(argv[0]) == "SET" || string(argv[0]) == "set" {
			break
		}
	}
	redistest.WaitFor(t, 10*time.Second, "replica has the marker", func() bool {
		r, _ := redistest.Do(rep.Addr(), "GET", "marker")
		return r == "$1\r\n1\r\n"
	})
	libs, err := p.Libraries()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range libs {
		names = append(names, l.Name)
	}
	if strings.Join(names, " ") != "a c inrdb" {
		t.Errorf("libraries %v", names)
	}
	env := &Env{Proj: p, PubSub: NewPubSub(), Config: Config{Databases: 16, ServeStaleData: true}, StartTime: time.Now(), RunID: strings.Repeat("a", 40)}
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	vdr := func(args ...string) string {
		c.W.Reset()
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		Exec(c, argv)
		return string(c.W.Bytes())
	}
	for _, q := range [][]string{
		{"FUNCTION", "LIST", "LIBRARYNAME", "a"},
		{"FUNCTION", "LIST", "LIBRARYNAME", "c", "WITHCODE"},
		{"FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "INRDB"},
		{"FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"},
		{"FUNCTION", "LIST", "LIBRARYNAME"},
		{"FUNCTION", "LIST", "BOGUS"},
		{"FUNCTION", "LIST", "WITHCODE", "WITHCODE"},
	} {
		want := rep.Do(t, q...)
		if got := vdr(q...); got != want {
			t.Errorf("%v:\n vdr     %q\n replica %q", q, got, want)
		}
	}
	// The whole list: same libraries, in another order.
	want, got := rep.Do(t, "FUNCTION", "LIST"), vdr("FUNCTION", "LIST")
	if len(want) != len(got) || !strings.HasPrefix(got, "*3\r\n") {
		t.Errorf("FUNCTION LIST: vdr %q, replica %q", got, want)
	}
	// A library that registers its functions in a loop: vdr runs the
	// code, so they are listed.
	if err := p.Apply(0, [][]byte{[]byte("FUNCTION"), []byte("LOAD"),
		[]byte("#!lua name=dyn\nfor i = 1, 2 do redis.register_function('d' .. i, function() return i end) end")}); err != nil {
		t.Fatal(err)
	}
	want = "*1\r\n*6\r\n$12\r\nlibrary_name\r\n$3\r\ndyn\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n" +
		"*6\r\n$4\r\nname\r\n$2\r\nd1\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n" +
		"*6\r\n$4\r\nname\r\n$2\r\nd2\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n"
	if got := vdr("FUNCTION", "LIST", "LIBRARYNAME", "dyn"); got != want {
		t.Errorf("dynamic library: %q", got)
	}
	if got := vdr("FUNCTION", "LIST", "LIBRARYNAME", "a"); got != rep.Do(t, "FUNCTION", "LIST", "LIBRARYNAME", "a") {
		t.Errorf("LIBRARYNAME a with dyn present: %q", got)
	}
}

// TestFunctionApplyErrors: what the primary would refuse is an error
// here (handled by OnUnknown), never a panic.
func TestFunctionApplyErrors(t *testing.T) {
	p, err := projection.New(projection.Options{OnUnknown: projection.Resync})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(0, [][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte(lib("x", "fx", ""))}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"FUNCTION", "LOAD", lib("x", "fx", "")},      // exists, no REPLACE
		{"FUNCTION", "LOAD", "#!lua\nreturn 1"},       // no name
		{"FUNCTION", "LOAD", "#!js name=j\nreturn 1"}, // engine
		{"FUNCTION", "LOAD", "#!lua name=\"q\"\nx()"}, // quoted: not read
		{"FUNCTION", "FLUSH", "NOW"},
		{"FUNCTION", "RESTORE", "short"},
		{"FUNCTION", "RESTORE", "0123456789abc", "BOGUS"},
	} {
		argv := make([][]byte, len(bad))
		for i, a := range bad {
			argv[i] = []byte(a)
		}
		if err := p.Apply(0, argv); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// The quoted shebang left the set incomplete: FUNCTION LIST says so
	// until a FLUSH (or a full sync) makes it known again.
	if _, err := p.Libraries(); !errors.Is(err, projection.ErrFunctionsIncomplete) {
		t.Errorf("after an unread library: %v", err)
	}
	if err := p.Apply(0, [][]byte{[]byte("FUNCTION"), []byte("FLUSH"), []byte("SYNC")}); err != nil {
		t.Fatal(err)
	}
	if libs, err := p.Libraries(); err != nil || len(libs) != 0 {
		t.Errorf("after FLUSH: %v %v", libs, err)
	}
}
