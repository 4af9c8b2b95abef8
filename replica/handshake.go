package replica

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// link is one connection to the primary.
type link struct {
	c    *Client
	conn net.Conn
	br   *bufio.Reader
	rd   *reader

	wmu  sync.Mutex // guards writes (the ACK ticker and the reader both send)
	wbuf []byte
	// wantReplica: Sentinel named a replica (SentinelOptions.Role).
	wantReplica bool
}

// deadlineConn arms the read deadline before every Read, so any silence
// longer than timeout fails the read (Redis: repl-timeout).
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (d deadlineConn) Read(p []byte) (int, error) {
	if err := d.Conn.SetReadDeadline(time.Now().Add(d.timeout)); err != nil {
		return 0, err
	}
	n, err := d.Conn.Read(p)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("%w: nothing from the primary for %v: %v", ErrTimeout, d.timeout, err)
	}
	return n, err
}

func newLink(c *Client, conn net.Conn) *link {
	rd := newReader(deadlineConn{conn, c.opts.ReadTimeout}, &c.opts)
	rd.src.last = &c.lastRead
	rd.src.count = c.opts.ReadBytes
	return &link{c: c, conn: conn, br: rd.br, rd: rd}
}

// send writes one command.
func (l *link) send(args ...string) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.wbuf = appendCommand(l.wbuf[:0], args...)
	l.conn.SetWriteDeadline(time.Now().Add(l.c.opts.ReadTimeout))
	_, err := l.conn.Write(l.wbuf)
	return err
}

// sendAck sends REPLCONF ACK <off>. Never more than the applied offset is
// passed in (see stream).
func (l *link) sendAck(off int64) error {
	return l.send("REPLCONF", "ACK", strconv.FormatInt(off, 10))
}

// skipKeepalives drops the bare "\n" a primary sends while it prepares
// the RDB (and, before replying to PSYNC, to keep the link alive).
func (l *link) skipKeepalives() error {
	for {
		b, err := l.br.Peek(1)
		if err != nil {
			return unexpected(err)
		}
		if b[0] != '\n' {
			return nil
		}
		l.br.Discard(1)
		l.c.keepalives.Add(1)
	}
}

// auth sends AUTH [user] password when o has a password.
func (l *link) auth(o *Options) error {
	if o.Password == "" {
		return nil
	}
	args := []string{"AUTH", o.Password}
	if o.Username != "" {
		args = []string{"AUTH", o.Username, o.Password}
	}
	rep, err := l.call(args...)
	if err != nil {
		return fmt.Errorf("replica: AUTH: %w", err)
	}
	if s, ok := rep.(string); !ok || s != "OK" {
		return fmt.Errorf("%w: AUTH reply %v", ErrAuth, rep)
	}
	return nil
}

// call sends a command and reads its reply.
func (l *link) call(args ...string) (any, error) {
	if err := l.send(args...); err != nil {
		return nil, err
	}
	return l.rd.readReply()
}

// primaryConfig reads the named parameters with CONFIG GET and the
// primary's version from INFO server. An error reply (NOPERM, an unknown
// or renamed command) is logged and leaves the values out; only a broken
// link is an error.
func (l *link) primaryConfig(names []string) (map[string]string, string, error) {
	cfg := make(map[string]string, len(names))
	// Redis 7 takes several parameters at once; older primaries take one.
	rep, err := l.call(append([]string{"CONFIG", "GET"}, names...)...)
	if err != nil {
		return nil, "", fmt.Errorf("replica: CONFIG GET: %w", err)
	}
	if _, isErr := rep.(replyError); isErr && len(names) > 1 {
		for _, n := range names {
			r, err := l.call("CONFIG", "GET", n)
			if err != nil {
				return nil, "", fmt.Errorf("replica: CONFIG GET: %w", err)
			}
			if e, isErr := r.(replyError); isErr {
				rep = e
				break
			}
			addConfigPairs(cfg, r)
		}
	}
	if e, isErr := rep.(replyError); isErr {
		l.c.log.Warn("replica: cannot read the primary's configuration; using defaults", "err", string(e))
	} else {
		addConfigPairs(cfg, rep)
	}
	rep, err = l.call("INFO", "server")
	if err != nil {
		return nil, "", fmt.Errorf("replica: INFO: %w", err)
	}
	version, valkey := "", ""
	if b, ok := rep.([]byte); ok {
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
				version = v
			} else if v, ok := strings.CutPrefix(line, "valkey_version:"); ok {
				valkey = v
			}
		}
		if valkey != "" {
			version = "valkey-" + valkey
		}
	} else if e, isErr := rep.(replyError); isErr {
		l.c.log.Warn("replica: cannot read the primary's version", "err", string(e))
	}
	return cfg, version, nil
}

// addConfigPairs adds a CONFIG GET reply (name, value, name, value…).
func addConfigPairs(cfg map[string]string, rep any) {
	arr, ok := rep.([]any)
	if !ok {
		return
	}
	for i := 0; i+1 < len(arr); i += 2 {
		k, ok1 := arr[i].([]byte)
		v, ok2 := arr[i+1].([]byte)
		if ok1 && ok2 {
			cfg[strings.ToLower(string(k))] = string(v)
		}
	}
}

// psyncResult is the primary's answer to PSYNC.
type psyncResult struct {
	full   bool
	replID string // FULLRESYNC's id, or CONTINUE's new id ("" if unchanged)
	offset int64  // FULLRESYNC's offset
}

// handshake runs PING, AUTH, ROLE (Sentinel only), REPLCONF and PSYNC,
// like syncWithMaster in src/replication.c, but one command at a time.
func (l *link) handshake(replID string, off int64) (psyncResult, error) {
	o := &l.c.opts
	// PING: any '+' reply is fine; -NOAUTH (or the old "operation not
	// permitted") only means AUTH must come first.
	rep, err := l.call("PING")
	if err != nil {
		return psyncResult{}, fmt.Errorf("replica: PING: %w", err)
	}
	switch v := rep.(type) {
	case string:
	case replyError:
		if !strings.HasPrefix(string(v), "NOAUTH") && !strings.Contains(string(v), "operation not permitted") {
			return psyncResult{}, fmt.Errorf("replica: error reply to PING: %s", v)
		}
		if o.Password == "" {
			return psyncResult{}, fmt.Errorf("%w: the primary requires a password (%s) and none is configured", ErrAuth, v)
		}
	default:
		return psyncResult{}, fmt.Errorf("%w: unexpected reply to PING: %v", ErrProtocol, rep)
	}
	if err := l.auth(o); err != nil {
		return psyncResult{}, err
	}
	if ch, ok := o.Handler.(ConfigHandler); ok && len(o.PrimaryConfig) > 0 {
		cfg, version, err := l.primaryConfig(o.PrimaryConfig)
		if err != nil {
			return psyncResult{}, err
		}
		ch.PrimaryConfig(cfg, version)
	}
	if o.Sentinel != nil {
		if err := l.checkRole(); err != nil {
			return psyncResult{}, err
		}
	}
	port := o.ListeningPort
	if port == 0 {
		if a, ok := l.conn.LocalAddr().(*net.TCPAddr); ok {
			port = a.Port
		}
	}
	// Errors to REPLCONF are not fatal: Redis ignores them too (older
	// primaries don't know every option).
	if rep, err := l.call("REPLCONF", "listening-port", strconv.Itoa(port)); err != nil {
		return psyncResult{}, fmt.Errorf("replica: REPLCONF listening-port: %w", err)
	} else if e, ok := rep.(replyError); ok {
		l.c.log.Warn("replica: primary refused REPLCONF listening-port", "err", string(e))
	}
	if o.AnnounceIP != "" {
		if rep, err := l.call("REPLCONF", "ip-address", o.AnnounceIP); err != nil {
			return psyncResult{}, fmt.Errorf("replica: REPLCONF ip-address: %w", err)
		} else if e, ok := rep.(replyError); ok {
			l.c.log.Warn("replica: primary refused REPLCONF ip-address", "err", string(e))
		}
	}
	if rep, err := l.call("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return psyncResult{}, fmt.Errorf("replica: REPLCONF capa: %w", err)
	} else if e, ok := rep.(replyError); ok {
		l.c.log.Warn("replica: primary refused REPLCONF capa", "err", string(e))
	}

	if replID == "" {
		err = l.send("PSYNC", "?", "-1")
	} else {
		err = l.send("PSYNC", replID, strconv.FormatInt(off+1, 10))
	}
	if err != nil {
		return psyncResult{}, fmt.Errorf("replica: PSYNC: %w", err)
	}
	if err := l.skipKeepalives(); err != nil {
		return psyncResult{}, fmt.Errorf("replica: PSYNC reply: %w", err)
	}
	rep, err = l.rd.readReply()
	if err != nil {
		return psyncResult{}, fmt.Errorf("replica: PSYNC reply: %w", err)
	}
	return parsePsyncReply(rep)
}

// parsePsyncReply decodes "+FULLRESYNC <replid> <offset>", "+CONTINUE"
// and "+CONTINUE <replid>" (see slaveTryPartialResynchronization).
func parsePsyncReply(rep any) (psyncResult, error) {
	switch v := rep.(type) {
	case string:
		f := strings.Fields(v)
		switch {
		case len(f) == 3 && f[0] == "FULLRESYNC":
			off, err := strconv.ParseInt(f[2], 10, 64)
			if len(f[1]) != 40 || err != nil || off < 0 {
				return psyncResult{}, fmt.Errorf("%w: bad FULLRESYNC reply %q", ErrProtocol, v)
			}
			return psyncResult{full: true, replID: f[1], offset: off}, nil
		case len(f) == 1 && f[0] == "CONTINUE":
			return psyncResult{}, nil
		case len(f) == 2 && f[0] == "CONTINUE":
			if len(f[1]) != 40 {
				return psyncResult{}, fmt.Errorf("%w: bad CONTINUE reply %q", ErrProtocol, v)
			}
			return psyncResult{replID: f[1]}, nil
		}
		return psyncResult{}, fmt.Errorf("%w: unexpected reply to PSYNC %q", ErrProtocol, v)
	case replyError:
		if strings.HasPrefix(string(v), "NOMASTERLINK") || strings.HasPrefix(string(v), "LOADING") {
			return psyncResult{}, fmt.Errorf("%w: %s", ErrPrimaryNotReady, v)
		}
		if strings.HasPrefix(string(v), "NOAUTH") || strings.HasPrefix(string(v), "NOPERM") {
			return psyncResult{}, fmt.Errorf("%w: PSYNC: %s", ErrAuth, v)
		}
		return psyncResult{}, fmt.Errorf("%w: %s", ErrPsyncRefused, v)
	}
	return psyncResult{}, fmt.Errorf("%w: unexpected reply to PSYNC: %v", ErrProtocol, rep)
}

// checkRole asks ROLE and requires "master" ("slave" when Sentinel named a
// replica to replicate): a server Sentinel named may have changed role
// since.
func (l *link) checkRole() error {
	rep, err := l.call("ROLE")
	if err != nil {
		return fmt.Errorf("replica: ROLE: %w", err)
	}
	if e, ok := rep.(replyError); ok && strings.HasPrefix(string(e), "NOPERM") {
		// A replication-only ACL user may not run ROLE; PSYNC will tell.
		l.c.log.Warn("replica: cannot check ROLE of the primary Sentinel named", "err", string(e))
		return nil
	}
	arr, ok := rep.([]any)
	if !ok || len(arr) == 0 {
		return fmt.Errorf("%w: ROLE reply %v", ErrNotPrimary, rep)
	}
	want := "master"
	if l.wantReplica {
		want = "slave"
	}
	if role, _ := arr[0].([]byte); string(role) != want {
		return fmt.Errorf("%w: ROLE says %q, want %q", ErrNotPrimary, role, want)
	}
	return nil
}
