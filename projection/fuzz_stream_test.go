package projection

import (
	"bytes"
	"testing"
)

// FuzzApplyStreams is FuzzApply seeded with stream commands in the forms a
// primary propagates: nothing may panic and every stream must stay sane.
func FuzzApplyStreams(f *testing.F) {
	for _, s := range []string{
		"XADD\x00s\x001-1\x00a\x001\nXADD\x00s\x00MAXLEN\x00=\x001\x002-0\x00b\x002\nXTRIM\x00s\x00MINID\x00=\x003-0",
		"XADD\x00s\x005-0\x00f\x00v\nXGROUP\x00CREATE\x00s\x00g\x000\nXCLAIM\x00s\x00g\x00c\x000\x005-0\x00TIME\x001\x00RETRYCOUNT\x002\x00FORCE\x00JUSTID\x00LASTID\x005-0\nXDEL\x00s\x005-0\nXCLAIM\x00s\x00g\x00d\x000\x005-0",
		"XGROUP\x00CREATE\x00t\x00g\x00$\x00MKSTREAM\x00ENTRIESREAD\x00-1\nXGROUP\x00CREATECONSUMER\x00t\x00g\x00c\nXSETID\x00t\x009-9\x00ENTRIESADDED\x003\x00MAXDELETEDID\x001-0\nXGROUP\x00SETID\x00t\x00g\x00$\nXGROUP\x00DELCONSUMER\x00t\x00g\x00c\nCOPY\x00t\x00u\nRENAME\x00u\x00v",
		"XADD\x00s\x00NOMKSTREAM\x001-*\x00a\x00b\nXACK\x00s\x00g\x001-0\x002-0\nXGROUP\x00DESTROY\x00s\x00g",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzFeed(t, Options{NumDBs: 4, Stripes: 16, Buckets: 16}, data)
		// Every stream survives DUMP and RESTORE.
		for db := 0; db < 4; db++ {
			for k, pk := range snapshotDB(p, db) {
				if pk.kind != KindStream {
					continue
				}
				var payload []byte
				get(p, db, k, func(x Value) { payload, _ = x.Dump() })
				if err := p.Apply(db, [][]byte{[]byte("RESTORE"), []byte(k + ":copy"), []byte("0"), payload}); err != nil {
					t.Fatalf("RESTORE of %q: %v", k, err)
				}
				if got := snapshotDB(p, db)[k+":copy"].vals; string(bytes.Join(toBytes(got), []byte{0})) != string(bytes.Join(toBytes(pk.vals), []byte{0})) {
					t.Fatalf("%q after DUMP/RESTORE:\n %q\n %q", k, pk.vals, got)
				}
			}
		}
	})
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}
