package replica

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vdr-project/vdr/internal/redistest"
)

// TestSentinelFailover: the client finds the primary through three
// sentinels, then the primary is killed, the sentinels promote its
// replica, and the client follows and converges with nothing lost or
// applied twice.
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: a real failover")
	}
	common := []string{"--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"}
	primary := redistest.Start(t, common...)
	replicaSrv := redistest.Start(t, append(common, "--replicaof", "127.0.0.1", fmt.Sprint(primary.Port))...)
	redistest.WaitFor(t, 10*time.Second, "the replica linked", func() bool {
		return redistest.InfoField(replicaSrv.Addr(), "replication", "master_link_status") == "up"
	})
	var addrs []string
	for i := 0; i < 3; i++ {
		s := redistest.StartSentinel(t,
			fmt.Sprintf("sentinel monitor grp 127.0.0.1 %d 2", primary.Port),
			"sentinel down-after-milliseconds grp 500",
			"sentinel failover-timeout grp 3000",
			"sentinel parallel-syncs grp 1")
		addrs = append(addrs, s.Addr())
	}
	rec := newRecorder()
	c := realClient(t, Options{Sentinel: &SentinelOptions{Addrs: addrs, MasterName: "grp"}, Handler: rec, ReadTimeout: 3 * time.Second})
	rc := redis.NewClient(&redis.Options{Addr: primary.Addr(), Protocol: 2})
	defer rc.Close()
	incrs(t, rc, 50)
	converge(t, c, rec, primary.Addr(), "")
	if c.Addr() != primary.Addr() {
		t.Fatalf("connected to %s, want %s", c.Addr(), primary.Addr())
	}
	// Sentinels must know the replica and each other before a failover.
	redistest.WaitFor(t, 20*time.Second, "sentinels ready", func() bool {
		for _, a := range addrs {
			r, _ := redistest.Do(a, "SENTINEL", "master", "grp")
			if !strings.Contains(r, "num-other-sentinels\r\n$1\r\n2\r\n") || !strings.Contains(r, "num-slaves\r\n$1\r\n1\r\n") {
				return false
			}
		}
		return true
	})
	primary.Stop()
	redistest.WaitFor(t, 30*time.Second, "the replica promoted", func() bool {
		r, _ := redistest.Do(addrs[0], "SENTINEL", "get-master-addr-by-name", "grp")
		return strings.Contains(r, fmt.Sprint(replicaSrv.Port)) &&
			redistest.InfoField(replicaSrv.Addr(), "replication", "role") == "master"
	})
	rc2 := redis.NewClient(&redis.Options{Addr: replicaSrv.Addr(), Protocol: 2})
	defer rc2.Close()
	incrs(t, rc2, 50)
	converge(t, c, rec, replicaSrv.Addr(), "")
	if c.Addr() != replicaSrv.Addr() {
		t.Fatalf("connected to %s, want the new primary %s", c.Addr(), replicaSrv.Addr())
	}
	checkExact(t, rec, rc2, 100)
	t.Logf("stats after failover: %+v", c.Stats())
}

// TestSentinelAuth: discovery through a sentinel that requires a
// password; a wrong one is ErrAuth, and AnnounceIP reaches the primary.
func TestSentinelAuth(t *testing.T) {
	primary := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	s := redistest.StartSentinel(t, fmt.Sprintf("sentinel monitor grp 127.0.0.1 %d 1", primary.Port))
	s.Do(t, "ACL", "SETUSER", "default", "resetpass", ">sentpw")

	rec := newRecorder()
	c := realClient(t, Options{Sentinel: &SentinelOptions{Addrs: []string{s.Addr()}, MasterName: "grp", Password: "sentpw"},
		Handler: rec, AnnounceIP: "10.9.8.7", ListeningPort: 7777})
	rc := redis.NewClient(&redis.Options{Addr: primary.Addr(), Protocol: 2})
	defer rc.Close()
	incrs(t, rc, 5)
	converge(t, c, rec, primary.Addr(), "")
	redistest.WaitFor(t, 5*time.Second, "INFO lists the announced address", func() bool {
		return strings.HasPrefix(redistest.InfoField(primary.Addr(), "replication", "slave0"), "ip=10.9.8.7,port=7777,state=online")
	})

	bad := newRecorder()
	realClient(t, Options{Sentinel: &SentinelOptions{Addrs: []string{s.Addr()}, MasterName: "grp", Password: "wrong"}, Handler: bad})
	waitFor(t, 10*time.Second, "an error", func() bool {
		bad.mu.Lock()
		defer bad.mu.Unlock()
		return len(bad.errs) > 0
	})
	bad.mu.Lock()
	defer bad.mu.Unlock()
	if !errors.Is(bad.errs[0], ErrAuth) || !errors.Is(bad.errs[0], ErrNoPrimary) {
		t.Fatalf("error %v, want ErrNoPrimary wrapping ErrAuth", bad.errs[0])
	}
}
