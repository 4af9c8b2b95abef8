package replica

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// sentinelConn is a plain RESP connection to one sentinel.
type sentinelConn struct {
	conn net.Conn
	rd   *reader
	buf  []byte
}

func (c *Client) dialSentinel(ctx context.Context, addr string) (*sentinelConn, error) {
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if c.opts.Sentinel.TLS != nil {
		cfg, err := c.sentinelTLSConfig(addr)
		if err != nil {
			conn.Close()
			return nil, err
		}
		if conn, err = c.tlsHandshake(ctx, conn, cfg, "sentinel "+addr); err != nil {
			return nil, err
		}
	}
	sc := &sentinelConn{conn: conn, rd: newReader(conn, &c.opts)}
	if so := c.opts.Sentinel; so.Password != "" {
		args := []string{"AUTH", so.Password}
		if so.Username != "" {
			args = []string{"AUTH", so.Username, so.Password}
		}
		rep, err := sc.call(c.opts.DialTimeout, args...)
		if err != nil {
			conn.Close()
			return nil, err
		}
		if s, ok := rep.(string); !ok || s != "OK" {
			conn.Close()
			return nil, fmt.Errorf("%w: sentinel %s: AUTH reply %v", ErrAuth, addr, rep)
		}
	}
	return sc, nil
}

func (sc *sentinelConn) call(timeout time.Duration, args ...string) (any, error) {
	sc.conn.SetDeadline(time.Now().Add(timeout))
	sc.buf = appendCommand(sc.buf[:0], args...)
	if _, err := sc.conn.Write(sc.buf); err != nil {
		return nil, err
	}
	return sc.rd.readReply()
}

// discoverPrimary asks each sentinel in turn for the primary's address
// (SENTINEL get-master-addr-by-name), like Sentinel-aware clients do; with
// Role "replica", for the healthiest replica it lists (SENTINEL REPLICAS),
// then replica is true. Addresses go through HostMap.
func (c *Client) discoverPrimary(ctx context.Context) (addr string, replica bool, err error) {
	so := c.opts.Sentinel
	var errs []error
	for _, sa := range so.Addrs {
		sc, err := c.dialSentinel(ctx, sa)
		if err != nil {
			errs = append(errs, fmt.Errorf("sentinel %s: %w", sa, err))
			continue
		}
		if so.Role == "replica" {
			if addr, ok := c.pickReplica(sc, sa); ok {
				sc.conn.Close()
				return addr, true, nil
			}
		}
		rep, err := sc.call(c.opts.DialTimeout, "SENTINEL", "get-master-addr-by-name", so.MasterName)
		sc.conn.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("sentinel %s: %w", sa, err))
			continue
		}
		arr, ok := rep.([]any)
		if !ok || len(arr) != 2 {
			errs = append(errs, fmt.Errorf("sentinel %s: no primary for %q: %v", sa, so.MasterName, rep))
			continue
		}
		host, _ := arr[0].([]byte)
		port, _ := arr[1].([]byte)
		if len(host) == 0 || len(port) == 0 {
			errs = append(errs, fmt.Errorf("sentinel %s: bad address reply %v", sa, rep))
			continue
		}
		return so.mapHost(string(host), string(port)), false, nil
	}
	return "", false, fmt.Errorf("%w %q: %w", ErrNoPrimary, so.MasterName, errors.Join(errs...))
}

// pickReplica returns the replica of the group a sentinel reports
// healthy (flags exactly "slave": not down, not disconnected; its link to
// the primary "ok") that is furthest along (slave-repl-offset). ok is
// false when there is none, and the caller falls back to the primary.
func (c *Client) pickReplica(sc *sentinelConn, sentinel string) (string, bool) {
	rep, err := sc.call(c.opts.DialTimeout, "SENTINEL", "replicas", c.opts.Sentinel.MasterName)
	if err != nil {
		c.log.Warn("replica: SENTINEL REPLICAS failed", "sentinel", sentinel, "err", err)
		return "", false
	}
	list, _ := rep.([]any)
	best, bestOff := "", int64(-1)
	for _, r := range list {
		fields, _ := r.([]any)
		m := map[string]string{}
		for i := 0; i+1 < len(fields); i += 2 {
			k, _ := fields[i].([]byte)
			v, _ := fields[i+1].([]byte)
			m[string(k)] = string(v)
		}
		if m["flags"] != "slave" || m["master-link-status"] != "ok" || m["ip"] == "" || m["port"] == "" {
			continue
		}
		var off int64
		fmt.Sscan(m["slave-repl-offset"], &off)
		if off > bestOff {
			best, bestOff = c.opts.Sentinel.mapHost(m["ip"], m["port"]), off
		}
	}
	if best == "" {
		c.log.Warn("replica: no healthy replica listed; replicating the primary", "sentinel", sentinel)
	}
	return best, best != ""
}

// watchSentinels subscribes to +switch-master on one sentinel at a time
// and drops the link when our group's primary changes, so the next
// session rediscovers it. It runs until ctx ends.
func (c *Client) watchSentinels(ctx context.Context) {
	so := c.opts.Sentinel
	delay := c.opts.BackoffInitial
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			return
		}
		addr := so.Addrs[i%len(so.Addrs)]
		err := c.watchOne(ctx, addr)
		if ctx.Err() != nil {
			return
		}
		c.log.Debug("replica: sentinel subscription lost", "sentinel", addr, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, c.opts.BackoffMax)
	}
}

func (c *Client) watchOne(ctx context.Context, addr string) error {
	sc, err := c.dialSentinel(ctx, addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { sc.conn.Close() })
	defer stop()
	defer sc.conn.Close()
	rep, err := sc.call(c.opts.DialTimeout, "SUBSCRIBE", "+switch-master")
	if err != nil {
		return err
	}
	if arr, ok := rep.([]any); !ok || len(arr) != 3 {
		return fmt.Errorf("%w: SUBSCRIBE reply %v", ErrProtocol, rep)
	}
	sc.conn.SetDeadline(time.Time{})
	for {
		rep, err := sc.rd.readReply()
		if err != nil {
			return err
		}
		// ["message", "+switch-master", "<name> <oldip> <oldport> <newip> <newport>"]
		arr, ok := rep.([]any)
		if !ok || len(arr) != 3 {
			continue
		}
		payload, _ := arr[2].([]byte)
		f := strings.Fields(string(payload))
		if len(f) == 5 && f[0] == c.opts.Sentinel.MasterName {
			next := c.opts.Sentinel.mapHost(f[3], f[4])
			c.log.Info("replica: sentinel announced a new primary", "group", f[0], "old", net.JoinHostPort(f[1], f[2]), "new", next)
			if c.Addr() != next { // already there when rediscovery won the race
				c.dropLink()
			}
		}
	}
}
