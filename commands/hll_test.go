package commands

import (
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/hll"
	"github.com/vdr-project/vdr/projection"
)

// TestPFCountDoesNotWaitForSnapshots: while a long reader holds the whole
// projection (a snapshot being written, a long script), a PFCOUNT that
// must write its cache answers at once and writes when the reader ends,
// off the event loop.
func TestPFCountDoesNotWaitForSnapshots(t *testing.T) {
	env := newTestEnv(t)
	if err := env.Proj.Apply(0, [][]byte{[]byte("PFADD"), []byte("h"), []byte("a"), []byte("b")}); err != nil {
		t.Fatal(err)
	}
	c := NewCtx(env, NewClient(env.NewClientID(), "127.0.0.1:1", "127.0.0.1:2"))
	holding, release, released := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(released)
		env.Proj.ViewAll(func(*projection.View) { close(holding); <-release })
	}()
	<-holding
	t0 := time.Now()
	Exec(c, [][]byte{[]byte("PFCOUNT"), []byte("h")})
	if took := time.Since(t0); took > 500*time.Millisecond {
		t.Errorf("PFCOUNT waited %v for the long reader", took)
	}
	if got := string(c.W.Bytes()); got != ":2\r\n" {
		t.Fatalf("PFCOUNT = %q", got)
	}
	cached := func() bool {
		valid := false
		env.Proj.View(0, [][]byte{[]byte("h")}, func(v *projection.View) {
			_, valid = hll.Cached(v.Get([]byte("h")).Bytes())
		})
		return valid
	}
	if cached() {
		t.Fatal("the cache was written under the long reader")
	}
	close(release)
	<-released
	deadline := time.Now().Add(5 * time.Second)
	for !cached() {
		if time.Now().After(deadline) {
			t.Fatal("the cache was not written after the long reader ended")
		}
		time.Sleep(time.Millisecond)
	}
}
