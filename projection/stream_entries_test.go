package projection

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEntryLogModel drives an entryLog and a sorted slice with the same
// random operations (appends, out-of-order inserts, deletes, front trims,
// range reads both ways) over thousands of entries, so that chunks fill,
// split and empty; every step both must agree and the log stay sane.
func TestEntryLogModel(t *testing.T) {
	seed := seedFromEnv(t, time.Now().UnixNano()%1_000_000)
	t.Logf("SEED=%d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	type ent struct {
		id StreamID
		fv []string
	}
	var model []ent
	l := newEntryLog()
	fields := func() []string {
		switch r.IntN(4) {
		case 0:
			return []string{"a", strconv.Itoa(r.IntN(100)), "b", strings.Repeat("x", r.IntN(300))}
		case 1:
			return []string{"other", strconv.Itoa(r.IntN(5))}
		}
		return []string{"a", strconv.Itoa(r.IntN(1000)), "b", ""}
	}
	bs := func(ss []string) [][]byte {
		out := make([][]byte, len(ss))
		for i, s := range ss {
			out[i] = []byte(s)
		}
		return out
	}
	find := func(id StreamID) int {
		i, _ := slices.BinarySearchFunc(model, id, func(e ent, id StreamID) int { return idCmp(e.id, id) })
		return i
	}
	next := StreamID{Ms: 1}
	maxChunks := 0
	randID := func() StreamID {
		if len(model) > 0 && r.IntN(3) > 0 {
			return model[r.IntN(len(model))].id
		}
		return StreamID{Ms: uint64(r.IntN(int(next.Ms) + 2)), Seq: uint64(r.IntN(3))}
	}
	steps := 8000
	if os.Getenv("VDR_LONG") != "" {
		steps = 200000
	}
	for step := 0; step < steps; step++ {
		switch op := r.IntN(60); {
		case op < 36:
			if r.IntN(2) == 0 {
				next.Seq++
			} else {
				next = StreamID{Ms: next.Ms + uint64(r.IntN(1<<20)), Seq: uint64(r.IntN(4))}
			}
			if n := len(model); n > 0 && !idLess(model[n-1].id, next) {
				next = StreamID{Ms: model[n-1].id.Ms + 1} // an out-of-order insert went past it
			}
			f := fields()
			l.add(next, bs(f))
			model = append(model, ent{next, f})
		case op < 39: // out of order, maybe replacing
			id := randID()
			f := fields()
			l.add(id, bs(f))
			i := find(id)
			if i < len(model) && model[i].id == id {
				model[i].fv = f
			} else {
				model = slices.Insert(model, i, ent{id, f})
			}
		case op < 48:
			id := randID()
			i := find(id)
			want := i < len(model) && model[i].id == id
			if got := l.del(id); got != want {
				t.Fatalf("step %d: del %v = %v, want %v", step, id, got, want)
			}
			if want {
				model = slices.Delete(model, i, i+1)
			}
			if l.has(id) {
				t.Fatalf("step %d: %v still there", step, id)
			}
		case op == 48 && len(model) > 1500:
			k := r.IntN(min(len(model), 300) + 1)
			l.dropFront(k)
			model = model[k:]
		case op == 49 && len(model) > 1500:
			id := model[r.IntN(len(model)/3)].id
			if r.IntN(4) == 0 {
				id = randID()
			}
			i := find(id)
			if got := l.dropBefore(id); got != i {
				t.Fatalf("step %d: dropBefore %v = %d, want %d", step, id, got, i)
			}
			model = model[i:]
		default:
			start, end := randID(), randID()
			if idLess(end, start) {
				start, end = end, start
			}
			var got, want []string
			render := func(id StreamID, fv []string) string { return FormatStreamID(id) + " " + strings.Join(fv, ",") }
			if r.IntN(2) == 0 {
				l.ascend(start, func(id StreamID, fv [][]byte) bool {
					if idLess(end, id) {
						return false
					}
					var s []string
					for _, x := range fv {
						s = append(s, string(x))
					}
					got = append(got, render(id, s))
					return true
				})
				for _, e := range model {
					if !idLess(e.id, start) && !idLess(end, e.id) {
						want = append(want, render(e.id, e.fv))
					}
				}
			} else {
				l.descend(end, func(id StreamID, fv [][]byte) bool {
					if idLess(id, start) {
						return false
					}
					var s []string
					for _, x := range fv {
						s = append(s, string(x))
					}
					got = append(got, render(id, s))
					return true
				})
				for i := len(model) - 1; i >= 0; i-- {
					if e := model[i]; !idLess(e.id, start) && !idLess(end, e.id) {
						want = append(want, render(e.id, e.fv))
					}
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("step %d: range %v..%v:\n got  %q\n want %q", step, start, end, got, want)
			}
		}
		maxChunks = max(maxChunks, l.t.Len())
		if l.Len() != len(model) {
			t.Fatalf("step %d: Len %d, model %d", step, l.Len(), len(model))
		}
		if step%500 == 0 {
			if err := l.sane(); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if c := l.copy(); c.sane() != nil || c.Len() != l.Len() {
				t.Fatalf("step %d: copy: %v", step, c.sane())
			}
		}
	}
	if err := l.sane(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries in %d chunks at the end, %d chunks at most", l.Len(), l.t.Len(), maxChunks)
	if maxChunks < 10 {
		t.Errorf("the run never spanned several chunks")
	}
}
