package projection

import (
	"bytes"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/vdr-project/vdr/internal/hll"
)

// TestPFCountWrite: the cache write of a single-key PFCOUNT, its answers
// for missing, expired and wrong-type keys, and the next PFADD keeping
// the written count in the bytes beside the invalid bit.
func TestPFCountWrite(t *testing.T) {
	now := int64(1_000_000)
	p := newTestProjection(t, &now)
	mustApply(t, p, 0, "PFADD h a b c", "SET s notanhll", "LPUSH l x", "PFADD e x", "PEXPIREAT e 1000000")
	if n, ok, refreshed, err := p.PFCountWrite(0, []byte("h")); n != 3 || !ok || !refreshed || err != nil {
		t.Fatalf("PFCountWrite h = %d %v %v %v", n, ok, refreshed, err)
	}
	if _, _, refreshed, _ := p.PFCountWrite(0, []byte("h")); refreshed {
		t.Errorf("a valid cache was refreshed again")
	}
	get(p, 0, "h", func(x Value) {
		if c, valid := hll.Cached(x.Bytes()); c != 3 || !valid || x.PFCountNeedsWrite() {
			t.Errorf("cache after the write: %d %v", c, valid)
		}
	})
	mustApply(t, p, 0, "PFADD h d")
	get(p, 0, "h", func(x Value) {
		b := x.Bytes()
		if !bytes.Equal(b[8:16], []byte{3, 0, 0, 0, 0, 0, 0, 0x80}) || !x.PFCountNeedsWrite() {
			t.Errorf("header after PFADD: % x", b[8:16])
		}
	})
	if _, ok, _, err := p.PFCountWrite(0, []byte("e")); ok || err != nil {
		t.Errorf("expired key: %v %v", ok, err)
	}
	if _, ok, _, err := p.PFCountWrite(0, []byte("nokey")); ok || err != nil {
		t.Errorf("missing key: %v %v", ok, err)
	}
	if _, _, _, err := p.PFCountWrite(0, []byte("s")); !errors.Is(err, hll.ErrNotHLL) {
		t.Errorf("not an HLL: %v", err)
	}
	if _, _, _, err := p.PFCountWrite(0, []byte("l")); !errors.Is(err, ErrWrongType) {
		t.Errorf("a list: %v", err)
	}
	if _, _, _, err := p.PFCountWrite(99, []byte("h")); !errors.Is(err, ErrDBIndex) {
		t.Errorf("db 99: %v", err)
	}
}

// TestPFCountWriteConcurrent runs cache writes beside the applier, Views
// and ViewAll readers of the same value (run with -race): readers see the
// header either before or after the write, never half of it.
func TestPFCountWriteConcurrent(t *testing.T) {
	p := newTestProjection(t, nil)
	key := []byte("h")
	mustApply(t, p, 0, "PFADD h a")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	check := func(x Value) {
		if !x.Exists() {
			return
		}
		b := x.Bytes()
		c, valid := hll.Cached(b)
		if valid && c == 0 {
			t.Errorf("a valid cache of 0 after PFADD: % x", b[8:16])
		}
	}
	// loop runs fn on its own goroutine until stop closes.
	loop := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				fn()
			}
		}()
	}
	for i := 0; i < 2; i++ {
		loop(func() { p.View(0, [][]byte{key}, func(v *View) { check(v.Get(key)) }) })
		loop(func() {
			if _, _, _, err := p.PFCountWrite(0, key); err != nil {
				t.Error(err)
			}
			p.ViewAll(func(v *View) { check(v.Get(key)) })
		})
	}
	for i := 0; i < 2000; i++ {
		mustApply(t, p, 0, "PFADD h e"+strconv.Itoa(i))
	}
	close(stop)
	wg.Wait()
	n, _, _, err := p.PFCountWrite(0, key)
	if err != nil || n < 1900 || n > 2100 {
		t.Errorf("final count %d %v", n, err)
	}
}
