package projection

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdr-project/vdr/rdbparse"
)

// canonical returns every live key of p, db by db, with a description of
// its value that does not depend on encodings or element order.
func canonical(p *Projection) map[string]string {
	out := map[string]string{}
	p.ViewAll(func(v *View) {
		for db := 0; db < p.NumDBs(); db++ {
			v.Select(db)
			v.Keys(func(key []byte, x Value) bool {
				out[fmt.Sprintf("%d/%s", db, key)] = describe(x)
				return true
			})
		}
	})
	return out
}

func describe(x Value) string {
	var parts []string
	switch x.Kind() {
	case KindString:
		return fmt.Sprintf("string %q ttl %d", x.Bytes(), x.ExpireMs())
	case KindList:
		x.ListEach(false, func(_ int, e []byte) bool { parts = append(parts, string(e)); return true })
	case KindSet:
		x.SetEach(func(m []byte) bool { parts = append(parts, string(m)); return true })
		slices.Sort(parts)
	case KindZSet:
		x.ZEach(func(m []byte, s float64) bool { parts = append(parts, fmt.Sprint(string(m), s)); return true })
	case KindHash:
		x.HashEach(func(f, v []byte) bool { parts = append(parts, string(f)+"="+string(v)); return true })
		slices.Sort(parts)
	default:
		d, _ := x.Dump()
		parts = append(parts, fmt.Sprintf("%x", d))
	}
	return fmt.Sprintf("%s ttl %d %q", x.Type(), x.ExpireMs(), parts)
}

// snapshotRDB collects what a snapshot's sink gets into a whole RDB.
type snapshotRDB struct {
	mu      sync.Mutex
	s       *Snapshot
	body    []byte
	last    int
	resized map[int]bool
	calls   int
}

func (r *snapshotRDB) sink(db int, rec []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if db != r.last {
		k, e := r.s.DBSize(db)
		r.body = rdbparse.AppendSelectDB(r.body, db, !r.resized[db], uint64(k), uint64(e))
		r.resized[db], r.last = true, db
	}
	r.body = append(r.body, rec...)
}

func (r *snapshotRDB) file() []byte {
	var head bytes.Buffer
	w := rdbparse.NewWriter(&head)
	w.Flush()
	b := append(head.Bytes(), r.body...)
	b = append(b, rdbparse.OpcodeEOF)
	return append(b, 0, 0, 0, 0, 0, 0, 0, 0) // no checksum
}

// loadRDB builds a projection from an RDB file.
func loadRDB(t testing.TB, b []byte) *Projection {
	t.Helper()
	p := newTestProjection(t, nil)
	ld := p.BeginLoad(LoadOptions{})
	if err := rdbparse.Parse(bytes.NewReader(b), loadHandler{ld: ld}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ld.Commit(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSnapshotCopyOnWrite: a snapshot walked slowly while the applier
// writes every type, FLUSHDB, SWAPDB (alone and inside a unit), MOVE,
// COPY … DB and PFCOUNT's own write holds exactly the keyspace at the
// cut; the applier wrote part of it itself.
func TestSnapshotCopyOnWrite(t *testing.T) {
	p := newTestProjection(t, nil)
	for db := 0; db < 4; db++ {
		for i := range 3000 {
			switch i % 6 {
			case 0:
				mustApply(t, p, db, fmt.Sprintf("SET s%d v%d-%d", i, db, i))
			case 1:
				mustApply(t, p, db, fmt.Sprintf("RPUSH l%d a b %d", i, i))
			case 2:
				mustApply(t, p, db, fmt.Sprintf("SADD t%d x y %d", i, i))
			case 3:
				mustApply(t, p, db, fmt.Sprintf("ZADD z%d 1 a 2 %d", i, i))
			case 4:
				mustApply(t, p, db, fmt.Sprintf("HSET h%d f %d", i, i), fmt.Sprintf("PEXPIREAT h%d 99999999999999", i))
			case 5:
				mustApply(t, p, db, fmt.Sprintf("XADD x%d 1-%d f v", i, i+1))
			}
		}
	}
	mustApply(t, p, 0, "PFADD hll a b c")
	for round := range 3 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			r := &snapshotRDB{last: -1, resized: map[int]bool{}}
			s, err := p.BeginSnapshot(r.sink)
			if err != nil {
				t.Fatal(err)
			}
			r.s = s
			want := canonical(p) // no write since the cut
			if _, err := p.BeginSnapshot(r.sink); err != ErrSnapshotRunning {
				t.Fatalf("a second snapshot: %v", err)
			}

			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				rng := rand.New(rand.NewPCG(uint64(round), 1))
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					db := rng.IntN(4)
					i := rng.IntN(3000)
					var err error
					switch n % 12 {
					case 0:
						err = p.Apply(db, args(fmt.Sprintf("SET s%d new%d", i, n)))
					case 1:
						err = p.Apply(db, args(fmt.Sprintf("RPUSH l%d n%d", i, n)))
					case 2:
						err = p.Apply(db, args(fmt.Sprintf("DEL t%d z%d", i, i)))
					case 3:
						err = p.Apply(db, args(fmt.Sprintf("HSET h%d g %d", i, n)))
					case 4:
						err = p.Apply(db, args(fmt.Sprintf("MOVE s%d %d", i, (db+1)%4)))
					case 5:
						err = p.Apply(db, args(fmt.Sprintf("COPY l%d l%d DB %d REPLACE", i, i, (db+2)%4)))
					case 6:
						if n%60 != 6 {
							break
						}
						err = p.ApplyBatch([]Command{{DB: db, Argv: args("SWAPDB 1 2")}, {DB: 1, Argv: args(fmt.Sprintf("APPEND s%d x", i))},
							{DB: 2, Argv: args(fmt.Sprintf("ZADD z%d 5 q", i))}})
					case 7:
						if n%120 == 7 {
							err = p.Apply(3, args("FLUSHDB"))
						}
					case 8:
						err = p.Apply(db, args("SWAPDB 0 3"))
					case 9:
						err = p.ApplyBatch([]Command{{DB: db, Argv: args(fmt.Sprintf("RENAME x%d x%d", i, (i+6)%3000))},
							{DB: db, Argv: args(fmt.Sprintf("XADD x%d %d-1 g w", i, 10+n))}})
					case 10:
						err = p.Apply(0, args(fmt.Sprintf("PFADD hll e%d", n)))
						if err == nil {
							_, _, _, err = p.PFCountWrite(0, []byte("hll"))
						}
					case 11:
						err = p.Apply(db, args(fmt.Sprintf("SETRANGE s%d 2 zz", i)))
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
			err = s.Walk(func() bool { time.Sleep(time.Millisecond); return true })
			close(stop)
			<-done
			if err != nil {
				t.Fatal(err)
			}
			if p.cow.Load() != nil {
				t.Fatal("the snapshot is still hooked after its walk")
			}
			got := canonical(loadRDB(t, r.file()))
			if len(got) != len(want) {
				t.Errorf("snapshot has %d keys, the cut %d", len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("key %s: snapshot %s, at the cut %s", k, got[k], v)
				}
			}
			st := s.Stats()
			t.Logf("%d keys; the applier wrote %d keys (%d whole buckets, %d bytes) in %v; %d sink calls",
				len(want), st.Keys, st.Buckets, st.Bytes, st.ApplierTime, r.calls)
			if st.Keys == 0 {
				t.Error("the applier wrote no pre-image: the test did not race it with the walker")
			}
		})
	}
}

// TestSnapshotAbort: a snapshot closed midway stops its walk and unhooks.
func TestSnapshotAbort(t *testing.T) {
	p := newTestProjection(t, nil)
	for i := range 20000 {
		mustApply(t, p, 0, fmt.Sprintf("SET k%d %s", i, strings.Repeat("v", 40)))
	}
	s, err := p.BeginSnapshot(func(int, []byte) {})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.Walk(func() bool { n++; return n < 2 }); err != ErrSnapshotAborted {
		t.Fatalf("Walk after pace said stop: %v", err)
	}
	if p.cow.Load() != nil {
		t.Fatal("still hooked")
	}
	mustApply(t, p, 0, "SET k1 x")
	if _, err := p.BeginSnapshot(func(int, []byte) {}); err != nil {
		t.Fatal(err)
	}
}
