package commands

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/projection"
)

// CONFIG SET (src/config.c configSetCommand): the parameters vdr can
// change at run time are the rows of configParams, each with its name,
// alias, parser and getter. A CONFIG SET of several pairs is all or
// nothing, as in Redis 7: every value is parsed first, and only when all
// are valid are they applied. A name Redis knows but vdr cannot change
// while running (port, dir, maxmemory…) answers Redis's error for an
// immutable parameter; any other name, its error for an unknown one.

// configParam is one run-time setting.
type configParam struct {
	name, alias string
	sensitive   bool // its value is redacted in the slow log (SENSITIVE_CONFIG)
	// parse checks value and returns what applies it, or Redis's error
	// text (after "CONFIG SET failed (possibly related to argument …) - ").
	parse func(env *Env, value string) (apply func(), err string)
	// get is the current value as CONFIG GET shows it.
	get func(env *Env) string
}

var configParams []*configParam

// configParamByName indexes configParams by name and alias.
var configParamByName = map[string]*configParam{}

func init() {
	configParams = []*configParam{
		{name: "notify-keyspace-events", parse: parseNotifyKeyspaceEvents, get: notifyKeyspaceEventsValue},
		{name: "slowlog-log-slower-than",
			parse: intParam(-1, 1<<63-1, func(e *Env, v int64) { e.observer().slowlogSlower.Store(v) }),
			get:   func(e *Env) string { return strconv.FormatInt(e.observer().slowlogSlower.Load(), 10) }},
		{name: "slowlog-max-len",
			parse: intParam(0, 1<<63-1, func(e *Env, v int64) { e.observer().slowlogMaxLen.Store(v) }),
			get:   func(e *Env) string { return strconv.FormatInt(e.observer().slowlogMaxLen.Load(), 10) }},
		{name: "latency-monitor-threshold",
			parse: intParam(0, 1<<63-1, func(e *Env, v int64) { e.observer().latThreshold.Store(v) }),
			get:   func(e *Env) string { return strconv.FormatInt(e.observer().latThreshold.Load(), 10) }},
		{name: "latency-tracking",
			parse: boolParam(func(e *Env, v bool) { e.observer().latTracking.Store(v) }),
			get:   func(e *Env) string { return yesNo(e.observer().latTracking.Load()) }},
		{name: "latency-tracking-info-percentiles", parse: parsePercentiles,
			get: func(e *Env) string {
				var ss []string
				for _, p := range *e.observer().percentiles.Load() {
					ss = append(ss, formatPercentile(p))
				}
				return strings.Join(ss, " ")
			}},
		{name: "replica-serve-stale-data", alias: "slave-serve-stale-data",
			parse: boolParam(func(e *Env, v bool) {
				st := int32(2)
				if v {
					st = 1
				}
				e.observer().serveStale.Store(st)
			}),
			get: func(e *Env) string { return yesNo(e.serveStaleData()) }},
		{name: "requirepass", sensitive: true,
			parse: func(e *Env, v string) (func(), string) {
				return func() {
					e.observer().requirePass.Store(&v)
					e.Users.SetRequirePass(v) // the default user's password, as updateRequirePass
				}, ""
			},
			get: func(e *Env) string { return e.RequirePass() }},
		{name: "maxclients",
			parse: intParam(1, 1<<32-1, func(e *Env, v int64) { e.observer().maxClients.Store(v) }),
			get:   func(e *Env) string { return strconv.Itoa(e.MaxClients()) }},
		{name: "timeout",
			parse: intParam(0, 1<<31-1, func(e *Env, v int64) { e.observer().idleTimeout.Store(int64(time.Duration(v) * time.Second)) }),
			get:   func(e *Env) string { return strconv.FormatInt(int64(e.IdleTimeout()/time.Second), 10) }},
		{name: "busy-reply-threshold", alias: "lua-time-limit",
			parse: intParam(0, 1<<63-1, func(e *Env, v int64) {
				// 0 (Redis: BUSY at once) keeps vdr's default stop, 5 s:
				// vdr stops a script at the limit rather than answering BUSY.
				e.Scripts().SetTimeLimit(time.Duration(min(v, int64(1<<63-1)/int64(time.Millisecond))) * time.Millisecond)
			}),
			get: func(e *Env) string { return strconv.FormatInt(e.Scripts().TimeLimitNow().Milliseconds(), 10) }},
		{name: "tracking-table-max-keys",
			parse: intParam(0, 1<<63-1, func(e *Env, v int64) {
				if t := e.Tracking; t != nil {
					t.mu.Lock()
					t.maxKeys = int(v)
					t.mu.Unlock()
				}
			}),
			get: func(e *Env) string {
				if t := e.Tracking; t != nil {
					t.mu.Lock()
					defer t.mu.Unlock()
					return strconv.Itoa(t.maxKeys)
				}
				return strconv.Itoa(DefaultTrackingTableMaxKeys)
			}},
	}
	for _, p := range configParams {
		configParamByName[p.name] = p
		if p.alias != "" {
			configParamByName[p.alias] = p
		}
	}
}

// RequirePass is requirepass as CONFIG GET shows it: as set by CONFIG
// SET, else as configured (the default user's password is ACL's).
func (e *Env) RequirePass() string {
	if p := e.observer().requirePass.Load(); p != nil {
		return *p
	}
	return e.Config.RequirePass
}

// MaxClients is maxclients: as set by CONFIG SET, else as configured.
func (e *Env) MaxClients() int {
	if n := e.observer().maxClients.Load(); n > 0 {
		return int(n)
	}
	return e.Config.MaxClients
}

// IdleTimeout is timeout: as set by CONFIG SET, else as configured.
func (e *Env) IdleTimeout() time.Duration {
	if d := e.observer().idleTimeout.Load(); d >= 0 {
		return time.Duration(d)
	}
	return e.Config.IdleTimeout
}

// findConfigParam returns the run-time setting named name (any case).
func findConfigParam(name string) *configParam {
	return configParamByName[strings.ToLower(name)]
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// intParam parses an integer in [lo, hi] as Redis's numeric configs do
// (string2ll, then numericBoundaryCheck).
func intParam(lo, hi int64, set func(*Env, int64)) func(*Env, string) (func(), string) {
	return func(env *Env, value string) (func(), string) {
		v, ok := parseInt([]byte(value))
		if !ok {
			return nil, "argument couldn't be parsed into an integer"
		}
		if v < lo || v > hi {
			return nil, "argument must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10) + " inclusive"
		}
		return func() { set(env, v) }, ""
	}
}

// boolParam parses yes/no in any case (yesnotoi).
func boolParam(set func(*Env, bool)) func(*Env, string) (func(), string) {
	return func(env *Env, value string) (func(), string) {
		var v bool
		switch strings.ToLower(value) {
		case "yes":
			v = true
		case "no":
		default:
			return nil, "argument must be 'yes' or 'no'"
		}
		return func() { set(env, v) }, ""
	}
}

// parsePercentiles is setConfigLatencyTrackingInfoPercentilesOutputOption:
// doubles in [0, 100]; "" is the empty list.
func parsePercentiles(env *Env, value string) (func(), string) {
	ps := []float64{}
	var fs []string
	if value != "" {
		fs = strings.Split(value, " ")
	}
	for _, f := range fs {
		p, ok := parseStrictDouble(f)
		if !ok {
			return nil, "Invalid latency-tracking-info-percentiles parameters"
		}
		if p > 100 || p < 0 {
			return nil, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
		}
		ps = append(ps, p)
	}
	return func() { env.observer().percentiles.Store(&ps) }, ""
}

// parseStrictDouble is string2d: a whole string that strtod accepts, not
// NaN, no leading space.
func parseStrictDouble(s string) (float64, bool) {
	if s == "" || s[0] == ' ' {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != v || strings.ContainsRune(s, '_') {
		return 0, false
	}
	return v, true
}

func parseNotifyKeyspaceEvents(env *Env, value string) (func(), string) {
	f, ok := projection.ParseNotifyFlags(value)
	if !ok {
		return nil, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	}
	if env.Proj == nil {
		return func() {}, ""
	}
	return func() { env.Proj.SetNotifyKeyspaceEvents(f) }, ""
}

// notifyKeyspaceEventsValue is CONFIG GET notify-keyspace-events: the
// current classes in Redis's canonical form (keyspaceEventsFlagsToString).
func notifyKeyspaceEventsValue(env *Env) string {
	if env.Proj == nil {
		return ""
	}
	return env.Proj.NotifyKeyspaceEvents().String()
}

// serveStaleData is replica-serve-stale-data: as set by CONFIG SET, else
// as configured.
func (e *Env) serveStaleData() bool {
	switch e.observer().serveStale.Load() {
	case 1:
		return true
	case 2:
		return false
	}
	return e.Config.ServeStaleData
}

// configSetCommand: CONFIG SET parameter value [parameter value …].
func configSetCommand(c *Ctx, args [][]byte) {
	if len(args)%2 == 1 {
		c.W.Error(errSyntax)
		return
	}
	n := (len(args) - 2) / 2
	params := make([]*configParam, n)
	// First the names, as Redis: the first bad one (unknown, immutable
	// or a duplicate) decides the error.
	var known map[string]string
	for i := 0; i < n; i++ {
		name := string(args[2+2*i])
		p := findConfigParam(name)
		if p == nil {
			if known == nil {
				known = c.configValues()
			}
			if _, ok := known[strings.ToLower(name)]; !ok {
				c.W.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'")
				return
			}
			c.W.Error("ERR CONFIG SET failed (possibly related to argument '" + name + "') - can't set immutable config")
			return
		}
		for _, q := range params[:i] {
			if q == p {
				c.W.Error("ERR CONFIG SET failed (possibly related to argument '" + name + "') - duplicate parameter")
				return
			}
		}
		params[i] = p
	}
	applies := make([]func(), n)
	for i, p := range params {
		apply, msg := p.parse(c.Env, string(args[3+2*i]))
		if msg != "" {
			c.W.Error("ERR CONFIG SET failed (possibly related to argument '" + p.name + "') - " + msg)
			return
		}
		applies[i] = apply
	}
	for _, apply := range applies {
		apply()
	}
	o := c.Env.observer()
	o.setMu.Lock()
	if o.setByCommand == nil {
		o.setByCommand = map[string]bool{}
	}
	for _, p := range params {
		o.setByCommand[p.name] = true
	}
	o.setMu.Unlock()
	c.W.OK()
}

// SetConfig sets one run-time setting (CONFIG SET's names) as the
// server starts, from vdr's own configuration.
func (e *Env) SetConfig(name, value string) error {
	if err := CheckConfig(name, value); err != nil {
		return err
	}
	apply, _ := findConfigParam(name).parse(e, value)
	apply()
	return nil
}

// CheckConfig reports whether value is valid for the run-time setting
// name, with CONFIG SET's error text when not.
func CheckConfig(name, value string) error {
	p := findConfigParam(name)
	if p == nil {
		return errors.New("not a run-time setting")
	}
	if _, msg := p.parse(&Env{}, value); msg != "" { // parse only reads env in what it returns
		return errors.New(msg)
	}
	return nil
}

// ConfigSetChanges returns the settings CONFIG SET changed since the
// server started, with their current values, sorted by name: what CONFIG
// REWRITE writes into the config file.
func (e *Env) ConfigSetChanges() [][2]string {
	o := e.observer()
	o.setMu.Lock()
	defer o.setMu.Unlock()
	var out [][2]string
	for _, p := range configParams {
		if o.setByCommand[p.name] {
			out = append(out, [2]string{p.name, p.get(e)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// ConfigAliases returns the other name of a run-time setting
// (slave-serve-stale-data for replica-serve-stale-data), or "".
func ConfigAliases(name string) string {
	if p := findConfigParam(name); p != nil {
		if p.name == name {
			return p.alias
		}
		return p.name
	}
	return ""
}

// runtimeConfigValues are the values of the run-time settings, by name
// and alias, for CONFIG GET.
func runtimeConfigValues(env *Env, into map[string]string) {
	for _, p := range configParams {
		v := p.get(env)
		into[p.name] = v
		if p.alias != "" {
			into[p.alias] = v
		}
	}
}
