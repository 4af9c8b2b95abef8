package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vdr-project/vdr/commands"
)

// REPLICAOF and CONFIG REWRITE: how vdr follows a failover that Sentinel
// (or an operator) announces by pointing it at the new primary, as a Redis
// replica does.

var errNoReplication = errors.New("vdr serves a file here, not a primary's stream: REPLICAOF needs --primary")

// SetPrimary implements commands.Replicator with Options.SwitchPrimary.
func (s *Server) SetPrimary(host string, port int) (bool, error) {
	if s.opts.SwitchPrimary == nil {
		return false, errNoReplication
	}
	return s.opts.SwitchPrimary(host, port)
}

// ConfigRewrite implements commands.ConfigRewriter: the config file gets
// the primary vdr replicates now (Options.CurrentPrimary) and the
// settings CONFIG SET changed.
func (s *Server) ConfigRewrite() error {
	if s.opts.ConfigFile == "" {
		return errors.New("The server is running without a config file")
	}
	primary := ""
	if s.opts.CurrentPrimary != nil {
		primary = s.opts.CurrentPrimary()
	}
	return rewriteConfig(s.opts.ConfigFile, primary, s.env.ConfigSetChanges())
}

// switchPrimary is the node's Options.SwitchPrimary: the replica client
// dials host:port at once.
func (n *Node) switchPrimary(host string, port int) (bool, error) {
	c := n.client
	if c == nil {
		return false, errors.New("vdr is still starting; try again")
	}
	if commands.SameAddr(c.Primary(), host, port) {
		return true, nil
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	n.log.Info("REPLICAOF: switching to a new primary", "from", c.Primary(), "to", addr)
	c.SetPrimary(addr)
	return false, nil
}

// primaryDemoted is the node's Options.PrimaryDemoted: the link drops and
// (under Sentinel) asks the sentinels again, at once.
func (n *Node) primaryDemoted() {
	if c := n.client; c != nil {
		n.log.Warn("the primary answered READONLY: it was demoted; finding the primary again")
		c.Rediscover()
	}
}

// currentPrimary is the node's Options.CurrentPrimary.
func (n *Node) currentPrimary() string {
	if c := n.client; c != nil {
		return c.Target() // (a REPLICAOF just answered counts before the link moves)
	}
	return ""
}

// rewriteConfigPrimary replaces the primary in a redis.conf-style config
// file: a "replicaof host port" line gets the new host and port, a
// "primary" line the new host:port (inside its redis:// or rediss:// URL,
// keeping scheme and credentials). A file that names no primary (it came
// from a flag, the environment or Sentinel, which win over the file or
// rediscover it) is left as it is. The file is replaced atomically.
func rewriteConfigPrimary(path, primary string) error {
	if _, _, err := net.SplitHostPort(primary); err != nil {
		return fmt.Errorf("no primary to write: %q", primary)
	}
	return rewriteConfig(path, primary, nil)
}

// rewriteConfig is rewriteConfigPrimary (when primary is not "") that also
// writes settings (name, value): each replaces the line of its name (or
// alias), or is appended; every other line stays as it was.
func rewriteConfig(path, primary string, settings [][2]string) error {
	host, port, _ := net.SplitHostPort(primary)
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("Rewriting config file: %v", err)
	}
	lines := strings.Split(string(b), "\n")
	changed := false
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if j := settingIndex(settings, strings.ToLower(f[0])); j >= 0 {
			lines[i] = settings[j][0] + " " + configQuote(settings[j][1])
			settings = append(settings[:j:j], settings[j+1:]...)
			changed = true
			continue
		}
		if primary == "" {
			continue
		}
		switch strings.ToLower(f[0]) {
		case "replicaof", "slaveof":
			lines[i] = f[0] + " " + host + " " + port
			changed = true
		case "primary":
			v := strings.Trim(strings.Join(f[1:], " "), `"`)
			if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
				u.Host = primary
				v = u.String()
			} else {
				v = primary
			}
			lines[i] = f[0] + " " + v
			changed = true
		}
	}
	if len(settings) > 0 {
		if n := len(lines); n > 0 && lines[n-1] == "" {
			lines = lines[:n-1]
		}
		for _, kv := range settings {
			lines = append(lines, kv[0]+" "+configQuote(kv[1]))
		}
		lines = append(lines, "")
		changed = true
	}
	if !changed {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("Rewriting config file: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strings.Join(lines, "\n")); err != nil {
		tmp.Close()
		return fmt.Errorf("Rewriting config file: %v", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("Rewriting config file: %v", err)
	}
	if st, err := os.Stat(path); err == nil {
		os.Chmod(tmp.Name(), st.Mode())
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("Rewriting config file: %v", err)
	}
	return nil
}

// settingIndex is the index in settings of name or its alias, or -1.
func settingIndex(settings [][2]string, name string) int {
	alias := commands.ConfigAliases(name)
	for j, kv := range settings {
		if kv[0] == name || alias != "" && kv[0] == alias {
			return j
		}
	}
	return -1
}

// configQuote quotes a config value that is empty or has spaces, as the
// config file's reader unquotes it.
func configQuote(v string) string {
	if v == "" || strings.ContainsAny(v, " \t") {
		return `"` + v + `"`
	}
	return v
}
