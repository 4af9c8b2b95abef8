package commands

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Authentication failures leave the traces they leave in Redis: a count
// (errorstat WRONGPASS, total_error_replies, vdr_auth_failures_total), an
// ACL LOG entry (reason auth, as ACLAuthenticateUser adds it), and a
// warning in the log at most every authLogEvery with the number refused
// since the last one. The password compare takes the same time whatever
// the password (over SHA-256 digests, so not even its length shows).

// authLogEvery bounds how often failed AUTHs are logged.
const authLogEvery = 10 * time.Second

// authFailed records a refused AUTH of user.
func (c *Ctx) authFailed(user, cmdName []byte) {
	c.Env.Stats.AuthFailures.Add(1)
	context := "toplevel"
	if c.Client.inMulti {
		context = "multi"
	}
	c.Env.ACLLog.add(c, "auth", context, string(cmdName), string(user))
	c.Env.ACLLog.maybeLog(c.Env.Logger, c.Client.Addr, string(user))
}

// authenticate is ACLAuthenticateUser: on success the client runs as the
// user from now on; a refusal is logged with the command as the client
// named it (ACL LOG's object).
func (c *Ctx) authenticate(user, pass, cmdName []byte) bool {
	u := c.Env.Users.checkCredentials(user, pass)
	if u == nil {
		c.authFailed(user, cmdName)
		return false
	}
	c.Client.authenticated = true
	if u == c.Env.Users.defaultUser() {
		c.Client.user.Store(nil)
	} else {
		c.Client.user.Store(u)
	}
	return true
}

// ACLLog is ACL LOG: the latest denials, newest first (acllog-max-len
// 128), similar ones within a minute grouped into one entry with a count
// (ACLAddLogEntry in src/acl.c).
type ACLLog struct {
	mu      sync.Mutex
	entries []*aclLogEntry // newest first
	nextID  int64

	// Denials by reason, for INFO's acl_access_denied_* (the counters
	// addACLLogEntry bumps).
	denied [aclDeniedChannel + 1]atomic.Int64

	// The rate-limited log line.
	lastLog  time.Time
	unlogged int64
}

type aclLogEntry struct {
	count           int64
	reason, context string
	object, user    string
	id              int64
	created, ctime  time.Time // first and last occurrence
	clientInfo      string
}

const (
	aclLogMaxLen      = 128              // acllog-max-len default
	aclLogGroupWithin = 60 * time.Second // ACL_LOG_GROUPING_MAX_TIME_DELTA
)

func (l *ACLLog) add(c *Ctx, reason, context, object, user string) {
	for i, r := range aclLogReasons {
		if r == reason {
			l.denied[i].Add(1)
		}
	}
	info := string(c.Client.infoString(nil, c.Version()))
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.entries {
		if i == 10 {
			break // addACLLogEntry looks at the 10 newest only
		}
		if e.reason == reason && e.context == context && e.object == object && e.user == user && now.Sub(e.ctime) < aclLogGroupWithin {
			e.count++
			e.ctime, e.clientInfo = now, info
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = e
			return
		}
	}
	e := &aclLogEntry{count: 1, reason: reason, context: context, object: object, user: user,
		id: l.nextID, created: now, ctime: now, clientInfo: info}
	l.nextID++
	l.entries = append([]*aclLogEntry{e}, l.entries...)
	if len(l.entries) > aclLogMaxLen {
		l.entries = l.entries[:aclLogMaxLen]
	}
}

// maybeLog logs a failed AUTH unless one was logged less than
// authLogEvery ago; the next line says how many came meanwhile.
func (l *ACLLog) maybeLog(log *slog.Logger, addr, user string) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.lastLog) < authLogEvery {
		l.unlogged++
		l.mu.Unlock()
		return
	}
	more := l.unlogged
	l.lastLog, l.unlogged = now, 0
	l.mu.Unlock()
	if log == nil {
		log = slog.Default()
	}
	log.Warn("AUTH refused: wrong password or unknown user", "client", addr, "user", user, "refused_since_last_line", more)
}

// aclLogCommand: ACL LOG [count | RESET] (aclCommand's "log" branch).
func aclLogCommand(c *Ctx, args [][]byte) {
	l := &c.Env.ACLLog
	count := int64(10)
	if len(args) == 3 {
		if equalFold(args[2], "reset") {
			l.mu.Lock()
			l.entries = nil
			l.mu.Unlock()
			c.W.OK()
			return
		}
		n, ok := parseInt(args[2])
		if !ok {
			c.W.Error(errNotInteger)
			return
		}
		count = max(n, 0) // a negative count shows nothing, as in Redis
	} else if len(args) > 3 {
		c.W.Error("ERR Unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.")
		return
	}
	v := c.Version()
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := min(int(count), len(l.entries))
	c.W.Array(n)
	for _, e := range l.entries[:n] {
		fields := 7
		if v.AtLeastRedis(7, 2) {
			fields = 10
		}
		c.W.Map(fields)
		c.W.BulkString("count")
		c.W.Int(e.count)
		c.W.BulkString("reason")
		c.W.BulkString(e.reason)
		c.W.BulkString("context")
		c.W.BulkString(e.context)
		c.W.BulkString("object")
		c.W.BulkString(e.object)
		c.W.BulkString("username")
		c.W.BulkString(e.user)
		c.W.BulkString("age-seconds")
		c.W.Double(float64(now.Sub(e.ctime).Milliseconds()) / 1000)
		c.W.BulkString("client-info")
		c.W.BulkString(e.clientInfo)
		if fields == 10 {
			c.W.BulkString("entry-id")
			c.W.Int(e.id)
			c.W.BulkString("timestamp-created")
			c.W.Int(e.created.UnixMilli())
			c.W.BulkString("timestamp-last-updated")
			c.W.Int(e.ctime.UnixMilli())
		}
	}
}

// addInfo adds INFO stats' acl_access_denied_* fields.
func (l *ACLLog) addInfo(add func(string, any)) {
	add("acl_access_denied_auth", l.denied[aclDeniedAuth].Load())
	add("acl_access_denied_cmd", l.denied[aclDeniedCmd].Load())
	add("acl_access_denied_key", l.denied[aclDeniedKey].Load())
	add("acl_access_denied_channel", l.denied[aclDeniedChannel].Load())
}
