package commands

import (
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/projection"
)

// TestHashFieldTTLReads checks the 7.4 field-TTL reads and that every
// hash read hides a field whose TTL has passed, with the replies of Redis
// 7.4.1's src/t_hash.c (no 7.4 server is available to compare with).
func TestHashFieldTTLReads(t *testing.T) {
	now := int64(1_000_000)
	p, err := projection.New(projection.Options{Now: func() int64 { return now }})
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Proj: p, PubSub: NewPubSub(), Config: Config{Databases: 16, ServeStaleData: true}, StartTime: time.Now(), RunID: strings.Repeat("a", 40)}
	env.Version = new(compat.Holder)
	env.Version.Store(compat.Redis74) // the personality that has these reads
	for _, cmd := range []string{
		"HSET h a 1 b 22 c 333", "HPEXPIREAT h 1001500 FIELDS 1 a", "HPEXPIREAT h 1000200 FIELDS 1 b",
		"HSET plain x 1", "SET s v",
	} {
		if err := p.Apply(0, argv(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	f := func(want string, cmd string) {
		t.Helper()
		c.W.Reset()
		Exec(c, argv(cmd))
		if got := string(c.W.Bytes()); got != want {
			t.Errorf("%q: got %q want %q", cmd, got, want)
		}
	}
	f("*4\r\n:2\r\n:1\r\n:-1\r\n:-2\r\n", "HTTL h FIELDS 4 a b c nosuch") // (ms+999-now)/1000
	f("*2\r\n:1500\r\n:200\r\n", "HPTTL h FIELDS 2 a b")
	f("*2\r\n:1002\r\n:1001\r\n", "HEXPIRETIME h FIELDS 2 a b") // rounded up, as Redis
	f("*3\r\n:1001500\r\n:1000200\r\n:-1\r\n", "HPEXPIRETIME h FIELDS 3 a b c")
	f("*2\r\n:-2\r\n:-2\r\n", "HTTL nokey FIELDS 2 a b")
	f("*1\r\n:-1\r\n", "HPTTL plain FIELDS 1 x")
	f("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "HTTL s FIELDS 1 a")
	f("-ERR Mandatory argument FIELDS is missing or not at the right position\r\n", "HTTL h FILDS 1 a")
	f("-ERR Number of fields must be a positive integer\r\n", "HTTL h FIELDS 0 a")
	f("-ERR Number of fields must be a positive integer\r\n", "HTTL h FIELDS x a")
	f("-ERR The `numfields` parameter must match the number of arguments\r\n", "HTTL h FIELDS 2 a")
	f("-ERR wrong number of arguments for 'httl' command\r\n", "HTTL h FIELDS 1")
	f("$10\r\nlistpackex\r\n", "OBJECT ENCODING h")

	now = 1_000_300 // b has passed
	f("*1\r\n:-2\r\n", "HTTL h FIELDS 1 b")
	f("$-1\r\n", "HGET h b")
	f("*2\r\n$1\r\n1\r\n$-1\r\n", "HMGET h a b")
	f(":0\r\n", "HEXISTS h b")
	f(":0\r\n", "HSTRLEN h b")
	f(":3\r\n", "HLEN h") // hashTypeLength(o, 0): expired fields count
	f("*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$3\r\n333\r\n", "HGETALL h")
	f("*2\r\n$1\r\na\r\n$1\r\nc\r\n", "HKEYS h")
	f("*2\r\n$1\r\n1\r\n$3\r\n333\r\n", "HVALS h")
	f("*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$3\r\n333\r\n", "HSCAN h 0")
	// HRANDFIELD on a 7.4 replica samples expired fields too
	// (hrandfieldWithCountCommand: hashTypeLength(hash, 0), and
	// hashTypeExpireIfNeeded deletes nothing on a replica).
	c.W.Reset()
	Exec(c, argv("HRANDFIELD h -200"))
	if got := string(c.W.Bytes()); !strings.HasPrefix(got, "*200\r\n") || !strings.Contains(got, "$1\r\nb\r\n") {
		t.Errorf("HRANDFIELD -200: %q", got)
	}
	now = 1_002_000 // every TTL has passed
	f("*2\r\n$1\r\nc\r\n$3\r\n333\r\n", "HGETALL h")
	if err := p.Apply(0, argv("HSET allgone a 1")); err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(0, argv("HPEXPIREAT allgone 1001000 FIELDS 1 a")); err != nil {
		t.Fatal(err)
	}
	f("$1\r\na\r\n", "HRANDFIELD allgone")
	f("*1\r\n$1\r\na\r\n", "HRANDFIELD allgone 5")
	f("*0\r\n", "HGETALL allgone")
	f(":1\r\n", "EXISTS allgone") // the key stays until the primary's HDEL
	// The rows exist for COMMAND, with 7.4's arity, flags and categories.
	c.W.Reset()
	Exec(c, argv("COMMAND INFO hpexpiretime"))
	if got := string(c.W.Bytes()); !strings.HasPrefix(got, "*1\r\n*10\r\n$12\r\nhpexpiretime\r\n:-5\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@hash\r\n+@fast\r\n") {
		t.Errorf("COMMAND INFO hpexpiretime: %q", got)
	}
	// Under 7.2 they are unknown commands, as a 7.2 replica answers.
	env.Version.Store(compat.Redis72)
	f("-ERR unknown command 'HTTL', with args beginning with: 'h' 'FIELDS' '1' 'a' \r\n", "HTTL h FIELDS 1 a")
}

func argv(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}
