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
	o := c.opts.TLS
	c.tlsMu.Lock()
	base := c.tls
	if base == nil {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				c.tlsMu.Unlock()
				return nil, fmt.Errorf("replica: TLS CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				c.tlsMu.Unlock()
				return nil, fmt.Errorf("replica: TLS CA file %s holds no PEM certificate", o.CAFile)
			}
			cfg.RootCAs = pool
		}
		if o.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
			if err != nil {
				c.tlsMu.Unlock()
				return nil, fmt.Errorf("replica: TLS client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		cfg.InsecureSkipVerify = o.InsecureSkipVerify
		c.tls = cfg
		base = cfg
	}
	c.tlsMu.Unlock()
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
		c.log.Warn("replica: TLS certificate verification is disabled (InsecureSkipVerify)", "primary", addr)
	}
	return cfg, nil
}
