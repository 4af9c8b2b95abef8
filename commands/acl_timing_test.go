package commands

import (
	"strconv"
	"testing"
)

// BenchmarkACLExec measures Exec of GET and MGET for the default user
// (unrestricted: the ACL step is one flag test), for a user with a key
// pattern (the command bit and every key checked), and for a user with
// two selectors whose first one denies (both selectors run).
func BenchmarkACLExec(b *testing.B) {
	env := newTestEnv(b)
	for i := 0; i < 10; i++ {
		env.Proj.Apply(0, [][]byte{[]byte("SET"), []byte("key:" + strconv.Itoa(i)), []byte("xxx")})
	}
	for _, u := range []string{"pat on nopass ~key:* +@read", "sel on nopass ~other:* +get (~key:* +@read)"} {
		if err := env.LoadUsers([]string{u}, ""); err != nil {
			b.Fatal(err)
		}
	}
	get := [][]byte{[]byte("GET"), []byte("key:7")}
	mget := [][]byte{[]byte("MGET")}
	for i := 0; i < 10; i++ {
		mget = append(mget, []byte("key:"+strconv.Itoa(i)))
	}
	for _, user := range []string{"default", "pat", "sel"} {
		for _, bc := range []struct {
			name string
			argv [][]byte
		}{{"GET", get}, {"MGET_10", mget}} {
			b.Run("user="+user+"/"+bc.name, func(b *testing.B) {
				c := NewCtx(env, NewClient(1, "a", "b"))
				if !c.authenticate([]byte(user), []byte("x"), []byte("AUTH")) {
					b.Fatal("AUTH refused")
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(bc.argv)))
				for i := 0; i < b.N; i++ {
					c.W.Reset()
					Exec(c, bc.argv)
				}
				if got := string(c.W.b); got[0] == '-' {
					b.Fatalf("%s: %q", user, got)
				}
			})
		}
	}
}
