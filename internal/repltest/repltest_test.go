package repltest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

func TestAttachAndStream(t *testing.T) {
	for _, disk := range []bool{false, true} {
		name := "diskless"
		if disk {
			name = "disk"
		}
		t.Run(name, func(t *testing.T) {
			srv := redistest.Start(t)
			srv.Do(t, "SET", "before", "1")
			l := Attach(t, srv.Addr(), Options{DiskRDB: disk})
			if !bytes.HasPrefix(l.RDB, []byte("REDIS")) || !bytes.Contains(l.RDB, []byte("before")) {
				t.Fatalf("RDB payload %q…", l.RDB[:min(len(l.RDB), 32)])
			}
			if len(l.ReplID) != 40 {
				t.Errorf("replid %q", l.ReplID)
			}
			srv.Do(t, "SET", "after", "2")
			var got []string
			for len(got) == 0 || got[len(got)-1] != "SET after 2" {
				argv, err := l.Next(10 * time.Second)
				if err != nil {
					t.Fatal(err)
				}
				parts := make([]string, len(argv))
				for i, a := range argv {
					parts[i] = string(a)
				}
				got = append(got, strings.Join(parts, " "))
			}
			if got[0] != "SELECT 0" {
				t.Errorf("first command %q, want SELECT 0", got[0])
			}
			// The primary keeps us: our ACKs arrive.
			redistest.WaitFor(t, 5*time.Second, "primary sees the replica", func() bool {
				return redistest.InfoField(srv.Addr(), "replication", "connected_slaves") == "1"
			})
		})
	}
}
