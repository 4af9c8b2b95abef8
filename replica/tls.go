package replica

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
)

// tlsConfig builds (once) the TLS configuration for the primary at addr.
// Certificates are verified against CAFile (or the system roots) unless
// InsecureSkipVerify is set, which is logged as a warning on every dial.
func (c *Client) tlsConfig(addr string) (*tls.Config, error) {
	c.tlsMu.Lock()
	base := c.tls
	if base == nil {
		cfg, err := baseTLSConfig(c.opts.TLS)
		if err != nil {
			c.tlsMu.Unlock()
			return nil, err
		}
		c.tls = cfg
		base = cfg
	}
	c.tlsMu.Unlock()
	return c.dialTLSConfig(base, c.opts.TLS, addr, "primary"), nil
}

// sentinelTLSConfig is tlsConfig for a sentinel (SentinelOptions.TLS).
func (c *Client) sentinelTLSConfig(addr string) (*tls.Config, error) {
	o := c.opts.Sentinel.TLS
	c.tlsMu.Lock()
	base := c.sentinelTLS
	if base == nil {
		cfg, err := baseTLSConfig(o)
		if err != nil {
			c.tlsMu.Unlock()
			return nil, err
		}
		c.sentinelTLS = cfg
		base = cfg
	}
	c.tlsMu.Unlock()
	return c.dialTLSConfig(base, o, addr, "sentinel"), nil
}

// baseTLSConfig loads the CA and the client certificate of o.
func baseTLSConfig(o *TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("replica: TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("replica: TLS CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("replica: TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	cfg.InsecureSkipVerify = o.InsecureSkipVerify
	return cfg, nil
}

// dialTLSConfig is base for one dial of addr: the server name to verify
// is o's, or the address's host.
func (c *Client) dialTLSConfig(base *tls.Config, o *TLSOptions, addr, what string) *tls.Config {
	cfg := base.Clone()
	cfg.ServerName = o.ServerName
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	if cfg.InsecureSkipVerify {
		c.log.Warn("replica: TLS certificate verification is disabled (InsecureSkipVerify)", what, addr)
	}
	return cfg
}
