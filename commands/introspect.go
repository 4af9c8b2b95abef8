package commands

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/projection"
)

// COMMAND, CONFIG GET and INFO: generated from the command table and the
// server's state (src/server.c commandCommand/genRedisInfoString,
// src/config.c configGetCommand).

// ---- COMMAND ----

func writeStatusSet(w *Writer, ss []string) {
	w.Set(len(ss))
	for _, s := range ss {
		w.Status(s)
	}
}

func writeKeySpec(w *Writer, ks *KeySpec) {
	n := 3
	if ks.Notes != "" {
		n = 4
	}
	w.Map(n)
	if ks.Notes != "" {
		w.BulkString("notes")
		w.BulkString(ks.Notes)
	}
	w.BulkString("flags")
	writeStatusSet(w, ks.Flags)
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	switch ks.BS {
	case bsIndex:
		w.BulkString("index")
		w.BulkString("spec")
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(ks.BSIndex))
	case bsKeyword:
		w.BulkString("keyword")
		w.BulkString("spec")
		w.Map(2)
		w.BulkString("keyword")
		w.BulkString(ks.BSKeyword)
		w.BulkString("startfrom")
		w.Int(int64(ks.BSStartFrom))
	default:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	}
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	switch ks.FK {
	case fkRange:
		w.BulkString("range")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("lastkey")
		w.Int(int64(ks.LastKey))
		w.BulkString("keystep")
		w.Int(int64(ks.KeyStep))
		w.BulkString("limit")
		w.Int(int64(ks.Limit))
	case fkKeynum:
		w.BulkString("keynum")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("keynumidx")
		w.Int(int64(ks.KeyNumIdx))
		w.BulkString("firstkey")
		w.Int(int64(ks.FirstKey))
		w.BulkString("keystep")
		w.Int(int64(ks.KeyStep))
	default:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	}
}

// writeCommandInfo is addReplyCommandInfo (7.0).
func writeCommandInfo(w *Writer, cmd *Command) {
	if cmd == nil {
		w.Null()
		return
	}
	w.Array(10)
	w.BulkString(cmd.Name)
	w.Int(int64(cmd.Arity))
	flags := cmd.Flags
	if cmd.movableKeys() {
		flags |= CmdMovablekeys
	}
	var fl []string
	for i, name := range flagNames {
		if flags&(1<<i) != 0 {
			fl = append(fl, name)
		}
	}
	writeStatusSet(w, fl)
	w.Int(int64(cmd.First))
	w.Int(int64(cmd.Last))
	w.Int(int64(cmd.Step))
	writeStatusSet(w, cmd.ACL)
	w.Set(len(cmd.Tips))
	for _, t := range cmd.Tips {
		w.BulkString(t)
	}
	w.Set(len(cmd.KeySpecs))
	for i := range cmd.KeySpecs {
		writeKeySpec(w, &cmd.KeySpecs[i])
	}
	// addReplyCommandSubCommands: an empty set, else an array.
	if len(cmd.Subcommands) == 0 {
		w.Set(0)
		return
	}
	w.Array(len(cmd.Subcommands))
	for _, sub := range cmd.Subcommands {
		writeCommandInfo(w, sub)
	}
}

func commandCommand(c *Ctx, args [][]byte) {
	all := c.commands().all
	c.W.Array(len(all))
	for _, cmd := range all {
		writeCommandInfo(c.W, cmd)
	}
}

func commandCountCommand(c *Ctx, args [][]byte) { c.W.Int(int64(len(c.commands().all))) }

func commandInfoCommand(c *Ctx, args [][]byte) {
	if len(args) == 2 {
		commandCommand(c, args)
		return
	}
	c.W.Array(len(args) - 2)
	for _, name := range args[2:] {
		writeCommandInfo(c.W, c.commands().find(strings.ToLower(string(name))))
	}
}

// writeCommandDoc is addReplyCommandDocs without the "arguments" field.
func writeCommandDoc(w *Writer, cmd *Command) {
	d := &cmd.Doc
	n := 0
	for _, f := range []string{d.Summary, d.Since, d.Group, d.Complexity} {
		if f != "" {
			n++
		}
	}
	if len(d.DocFlags) > 0 {
		n++
	}
	if d.DeprecatedSince != "" {
		n++
	}
	if d.ReplacedBy != "" {
		n++
	}
	if len(d.History) > 0 {
		n++
	}
	if d.ArgsJSON != "" {
		n++
	}
	if len(cmd.Subcommands) > 0 {
		n++
	}
	w.Map(n)
	for _, kv := range [...][2]string{{"summary", d.Summary}, {"since", d.Since}, {"group", d.Group}, {"complexity", d.Complexity}} {
		if kv[1] != "" {
			w.BulkString(kv[0])
			w.BulkString(kv[1])
		}
	}
	if len(d.DocFlags) > 0 {
		w.BulkString("doc_flags")
		writeStatusSet(w, d.DocFlags)
	}
	if d.DeprecatedSince != "" {
		w.BulkString("deprecated_since")
		w.BulkString(d.DeprecatedSince)
	}
	if d.ReplacedBy != "" {
		w.BulkString("replaced_by")
		w.BulkString(d.ReplacedBy)
	}
	if len(d.History) > 0 {
		w.BulkString("history")
		w.Set(len(d.History))
		for _, h := range d.History {
			w.Array(2)
			w.BulkString(h[0])
			w.BulkString(h[1])
		}
	}
	if d.ArgsJSON != "" {
		w.BulkString("arguments")
		dec := json.NewDecoder(strings.NewReader(d.ArgsJSON))
		dec.UseNumber()
		if err := writeDocArgs(w, dec, ""); err != nil {
			// The JSON is generated; a failure here is a programming error.
			panic("commands: bad ArgsJSON for " + cmd.Name + ": " + err.Error())
		}
	}
	if len(cmd.Subcommands) > 0 {
		w.BulkString("subcommands")
		w.Map(len(cmd.Subcommands))
		for _, sub := range cmd.Subcommands {
			w.BulkString(sub.Name)
			writeCommandDoc(w, sub)
		}
	}
}

func commandDocsCommand(c *Ctx, args [][]byte) {
	var cmds []*Command
	if len(args) == 2 {
		cmds = c.commands().all
	} else {
		for _, name := range args[2:] {
			if cmd := c.commands().find(strings.ToLower(string(name))); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.W.Map(len(cmds))
	for _, cmd := range cmds {
		c.W.BulkString(cmd.Name)
		writeCommandDoc(c.W, cmd)
	}
}

func commandListCommand(c *Ctx, args [][]byte) {
	var filter func(cmd *Command) bool
	if len(args) == 5 && equalFold(args[2], "filterby") {
		val := string(args[4])
		switch {
		case equalFold(args[3], "module"):
			filter = func(*Command) bool { return false }
		case equalFold(args[3], "aclcat"):
			filter = func(cmd *Command) bool {
				for _, a := range cmd.ACL {
					if strings.EqualFold(a[1:], val) {
						return true
					}
				}
				return false
			}
		case equalFold(args[3], "pattern"):
			filter = func(cmd *Command) bool { return StringMatch([]byte(val), []byte(cmd.Name), true) }
		default:
			c.W.Error(errSyntax)
			return
		}
	} else if len(args) != 2 {
		c.W.Error(errSyntax)
		return
	}
	var names []string
	for _, cmd := range c.commands().all {
		if filter == nil || filter(cmd) {
			names = append(names, cmd.Name)
		}
		for _, sub := range cmd.Subcommands {
			if filter == nil || filter(sub) {
				names = append(names, sub.Name)
			}
		}
	}
	c.W.BulkStrings(names)
}

// commandKeys returns the key positions of argv for cmd from its key
// specs (getKeysUsingKeySpecs); ok is false for invalid arguments.
func commandKeys(cmd *Command, argv [][]byte) (pos []int, ok bool) {
	return commandKeyRefs(cmd, argv, nil)
}

// commandKeyRefs is commandKeys that also appends to specs, when not
// nil, the index of the key spec that found each key.
func commandKeyRefs(cmd *Command, argv [][]byte, specs *[]int) (pos []int, ok bool) {
	argc := len(argv)
	for si, ks := range cmd.KeySpecs {
		var first int
		switch ks.BS {
		case bsIndex:
			first = ks.BSIndex
		case bsKeyword:
			start, end, step := ks.BSStartFrom, argc-1, 1
			if start < 0 {
				start, end, step = argc+start, 0, -1
			}
			found := -1
			for i := start; i >= 0 && i < argc && (step > 0 && i <= end || step < 0 && i >= end); i += step {
				if strings.EqualFold(string(argv[i]), ks.BSKeyword) {
					found = i
					break
				}
			}
			if found < 0 {
				continue
			}
			first = found + 1
		default:
			continue
		}
		var last, step int
		switch ks.FK {
		case fkRange:
			switch {
			case ks.LastKey >= 0:
				last = first + ks.LastKey
			case ks.Limit == 0:
				last = argc + ks.LastKey
			default:
				last = first + ((argc-first)/ks.Limit + ks.LastKey)
			}
			step = ks.KeyStep
		case fkKeynum:
			if first+ks.KeyNumIdx >= argc {
				return nil, false
			}
			n, good := parseInt(argv[first+ks.KeyNumIdx])
			if !good || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += ks.FirstKey
			last = first + int(n) - 1
			step = ks.KeyStep
		default:
			continue
		}
		if step < 1 {
			step = 1
		}
		for i := first; i <= last; i += step {
			if i >= argc || i < first {
				if cmd.Arity < 0 {
					continue
				}
				return nil, false
			}
			pos = append(pos, i)
			if specs != nil {
				*specs = append(*specs, si)
			}
		}
	}
	return pos, true
}

func commandGetkeysCommand(c *Ctx, args [][]byte)         { commandGetkeys(c, args, false) }
func commandGetkeysandflagsCommand(c *Ctx, args [][]byte) { commandGetkeys(c, args, true) }

// variableKeyFlags returns the key flags of the commands whose key spec
// says variable_flags, from their arguments as their getkeys_proc does
// (setGetKeys and bitfieldGetKeys in src/db.c), or nil.
func variableKeyFlags(cmd *Command, argv [][]byte) []string {
	switch cmd.Name {
	case "set":
		for _, a := range argv[3:] {
			if equalFold(a, "get") {
				return []string{"RW", "access", "update"}
			}
		}
		return []string{"OW", "update"}
	case "bitfield":
		for i := 2; i < len(argv); i++ {
			rem := len(argv) - i - 1
			switch {
			case equalFold(argv[i], "get") && rem >= 2:
				i += 2
			case (equalFold(argv[i], "set") || equalFold(argv[i], "incrby")) && rem >= 3:
				return []string{"RW", "access", "update"}
			case equalFold(argv[i], "overflow") && rem >= 1:
				i++
			default:
				return []string{"RW", "access", "update"} // a syntax error: assume a write
			}
		}
		return []string{"RO", "access"}
	}
	return nil
}

// commandGetkeys is getKeysSubcommandImpl (src/server.c): the keys, and
// with withFlags each with the flags of the key spec that found it.
func commandGetkeys(c *Ctx, args [][]byte, withFlags bool) {
	argv := args[2:]
	cmd, _ := c.lookupCommand(argv)
	switch {
	case cmd == nil:
		c.W.Error("ERR Invalid command specified")
		return
	case len(cmd.KeySpecs) == 0:
		c.W.Error("ERR The command has no key arguments")
		return
	case !cmd.arityOK(len(argv)):
		c.W.Error("ERR Invalid number of arguments specified for command")
		return
	}
	var specs []int
	pos, ok := commandKeyRefs(cmd, argv, &specs)
	if !ok || len(pos) == 0 {
		if cmd.Flags&CmdNoMandatoryKeys != 0 {
			c.W.Array(0)
			return
		}
		c.W.Error("ERR Invalid arguments specified for command")
		return
	}
	c.W.Array(len(pos))
	for j, p := range pos {
		if !withFlags {
			c.W.Bulk(argv[p])
			continue
		}
		c.W.Array(2)
		c.W.Bulk(argv[p])
		flags := cmd.KeySpecs[specs[j]].Flags
		if vf := variableKeyFlags(cmd, argv); vf != nil {
			flags = vf
		}
		c.W.Set(len(flags))
		for _, f := range flags {
			c.W.Status(f)
		}
	}
}

// writeDocArgs renders one JSON value of an "arguments" list as
// addReplyCommandArgList does: objects are maps (in key order), arrays
// are arrays, "flags" is a set of status strings, numbers are integers.
func writeDocArgs(w *Writer, dec *json.Decoder, key string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			at := w.Defer()
			n := 0
			for dec.More() {
				if key == "flags" {
					s, err := dec.Token()
					if err != nil {
						return err
					}
					w.Status(fmt.Sprint(s))
				} else if err := writeDocArgs(w, dec, ""); err != nil {
					return err
				}
				n++
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			if key == "flags" {
				w.SetSet(at, n)
			} else {
				w.SetArray(at, n)
			}
		case '{':
			at := w.Defer()
			n := 0
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				ks := fmt.Sprint(k)
				w.BulkString(ks)
				if err := writeDocArgs(w, dec, ks); err != nil {
					return err
				}
				n++
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			w.SetMap(at, n)
		}
	case json.Number:
		v, err := t.Int64()
		if err != nil {
			return err
		}
		w.Int(v)
	case string:
		w.BulkString(t)
	case bool:
		w.Bool01(t)
	default:
		w.Null()
	}
	return nil
}

// ---- CONFIG GET ----

// configValues returns every configuration parameter with the values this
// server actually runs with.
func (c *Ctx) configValues() map[string]string {
	cfg := &c.Env.Config
	defaults := configDefaultsOf[versionIndex(c.Version())]
	m := make(map[string]string, len(defaults)+8)
	for k, v := range defaults {
		m[k] = v
	}
	wd, _ := os.Getwd()
	st := c.replState()
	set := map[string]string{
		"port":              strconv.Itoa(cfg.Port),
		"bind":              cfg.Bind,
		"dir":               wd,
		"logfile":           "",
		"daemonize":         "no",
		"pidfile":           "",
		"aclfile":           c.Env.Users.File,
		"databases":         strconv.Itoa(cfg.Databases),
		"unixsocket":        cfg.UnixSocket,
		"replica-priority":  "0",
		"slave-priority":    "0",
		"replica-read-only": "yes",
		"slave-read-only":   "yes",
		"save":              "",
		"appendonly":        "no",
	}
	if cfg.ProtoMaxBulkLen > 0 {
		set["proto-max-bulk-len"] = strconv.FormatInt(cfg.ProtoMaxBulkLen, 10)
	}
	if st.MasterHost != "" {
		set["replicaof"] = st.MasterHost + " " + strconv.Itoa(st.MasterPort)
		set["slaveof"] = set["replicaof"]
	} else {
		set["replicaof"], set["slaveof"] = "", ""
	}
	if c.Env.Proj != nil {
		ec := c.Env.Proj.EncodingConfig()
		set["set-max-intset-entries"] = strconv.Itoa(ec.SetMaxIntsetEntries)
		set["zset-max-listpack-entries"] = strconv.Itoa(ec.ZSetMaxListpackEntries)
		set["zset-max-ziplist-entries"] = set["zset-max-listpack-entries"]
		set["zset-max-listpack-value"] = strconv.Itoa(ec.ZSetMaxListpackValue)
		set["zset-max-ziplist-value"] = set["zset-max-listpack-value"]
		set["list-max-listpack-size"] = strconv.Itoa(ec.ListMaxListpackSize)
		set["list-max-ziplist-size"] = set["list-max-listpack-size"]
	}
	runtimeConfigValues(c.Env, set)
	for k, v := range cfg.ExtraConfigOptions {
		set[k] = v
	}
	for k, v := range set {
		m[k] = v
	}
	return m
}

func configGetCommand(c *Ctx, args [][]byte) {
	all := c.configValues()
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	matched := map[string]bool{}
	var out []string
	for _, p := range args[2:] {
		pat := []byte(strings.ToLower(string(p)))
		for _, name := range names {
			if !matched[name] && StringMatch(pat, []byte(name), true) {
				matched[name] = true
				out = append(out, name)
			}
		}
	}
	c.W.Map(len(out))
	for _, name := range out {
		c.W.BulkString(name)
		c.W.BulkString(all[name])
	}
}

// ---- INFO ----

var infoDefaultSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}

func infoCommand(c *Ctx, args [][]byte) {
	want := map[string]bool{}
	everything := false
	if len(args) == 1 {
		for _, s := range infoDefaultSections {
			want[s] = true
		}
	}
	for _, a := range args[1:] {
		s := strings.ToLower(string(a))
		switch s {
		case "all", "everything":
			everything = true
			for _, s := range infoDefaultSections {
				want[s] = true
			}
			want["commandstats"] = true
			want["latencystats"] = true
		case "default":
			for _, s := range infoDefaultSections {
				want[s] = true
			}
		default:
			want[s] = true
		}
	}
	_ = everything
	var b strings.Builder
	layout := &infoLayoutOf[versionIndex(c.Version())]
	section := func(name string, body func(add func(string, any))) {
		if !want[strings.ToLower(name)] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + name + "\r\n")
		writeInfoSection(&b, layout, strings.ToLower(name), body)
	}
	env := c.Env
	now := time.Now()
	uptime := int64(now.Sub(env.StartTime) / time.Second)
	v := c.Version()
	section("Server", func(add func(string, any)) {
		add("redis_version", v.RedisVersion())
		if v.Valkey {
			add("server_name", "valkey")
			add("valkey_version", strings.TrimPrefix(v.String(), "valkey-"))
			add("server_mode", serverMode(c))
		}
		add("redis_git_sha1", "00000000")
		add("redis_git_dirty", 0)
		add("redis_build_id", "0")
		add("redis_mode", serverMode(c))
		add("os", runtime.GOOS+" "+runtime.GOARCH)
		add("arch_bits", 64)
		add("monotonic_clock", "POSIX clock_gettime")
		add("multiplexing_api", "epoll")
		add("atomicvar_api", "c11-builtin")
		add("gcc_version", "0.0.0")
		add("process_id", os.Getpid())
		add("process_supervised", "no")
		add("run_id", env.RunID)
		add("tcp_port", env.Config.Port)
		add("server_time_usec", now.UnixMicro())
		add("uptime_in_seconds", uptime)
		add("uptime_in_days", uptime/86400)
		add("hz", 10)
		add("configured_hz", 10)
		add("lru_clock", (now.Unix())&(1<<24-1))
		exe, _ := os.Executable()
		add("executable", exe)
		add("config_file", env.Config.ConfigFile)
		add("io_threads_active", 0)
		add("listener0", infoListener(env.Config.Bind, env.Config.Port))
		add("vdr_version", env.Config.VdrVersion)
	})
	var clients []*Client
	if env.Host != nil {
		clients = env.Host.Clients()
	}
	masterLink := 0 // the link to the primary is a client too (server.clients)
	if ml, ok := env.Repl.(MasterLink); ok && ml.MasterClient() != nil {
		masterLink = 1
	}
	section("Clients", func(add func(string, any)) {
		add("connected_clients", len(clients)+masterLink)
		add("cluster_connections", 0)
		add("maxclients", env.MaxClients())
		add("client_recent_max_input_buffer", 0)
		add("client_recent_max_output_buffer", 0)
		var blocked int64
		if env.Blocking != nil {
			blocked = env.Blocking.n.Load()
		}
		add("blocked_clients", blocked)
		add("tracking_clients", env.Tracking.Clients())
		add("clients_in_timeout_table", 0)
	})
	section("Memory", func(add func(string, any)) {
		// The same figures as MEMORY STATS (memory_stats.go): used_memory
		// is the Go heap's live bytes, used_memory_rss the process's
		// resident set, and the ratios follow from them as in Redis.
		f := c.memoryFigures()
		ms := &f.ms
		used, rss := f.total, processRSS(ms)
		active, resident := int64(ms.HeapInuse), int64(ms.Sys-ms.HeapReleased)
		ratio2 := func(a, b int64) string { return strconv.FormatFloat(ratio(a, b), 'f', 2, 64) }
		add("used_memory", used)
		add("used_memory_human", humanBytes(uint64(used)))
		add("used_memory_rss", rss)
		add("used_memory_rss_human", humanBytes(uint64(rss)))
		add("used_memory_peak", f.peak)
		add("used_memory_peak_human", humanBytes(uint64(f.peak)))
		add("used_memory_peak_perc", ratio2(used*100, f.peak)+"%")
		add("used_memory_overhead", f.overheadTotal)
		add("used_memory_startup", f.startup)
		add("used_memory_dataset", max(used-f.overheadTotal, 0))
		add("used_memory_dataset_perc", ratio2(max(used-f.overheadTotal, 0)*100, max(used-f.startup, 1))+"%")
		add("allocator_allocated", used)
		add("allocator_active", active)
		add("allocator_resident", resident)
		add("allocator_frag_ratio", ratio2(active, used))
		add("allocator_frag_bytes", active-used)
		add("allocator_rss_ratio", ratio2(resident, active))
		add("allocator_rss_bytes", resident-active)
		add("rss_overhead_ratio", ratio2(rss, resident))
		add("rss_overhead_bytes", rss-resident)
		add("mem_fragmentation_ratio", ratio2(rss, used))
		add("mem_fragmentation_bytes", rss-used)
		tsm := totalSystemMemory()
		add("total_system_memory", tsm)
		add("total_system_memory_human", humanBytes(uint64(tsm)))
		c.syncLibraries()
		nFuncs, libs := 0, env.Scripts().Libraries()
		for _, l := range libs {
			nFuncs += len(l.Functions)
		}
		add("number_of_cached_scripts", env.Scripts().Len())
		add("number_of_functions", nFuncs)
		add("number_of_libraries", len(libs))
		add("maxmemory", 0)
		add("maxmemory_human", "0B")
		add("maxmemory_policy", "noeviction")
		add("mem_allocator", "go")
	})
	st := c.replState()
	section("Persistence", func(add func(string, any)) {
		loading := 0
		if !st.FirstSyncDone {
			loading = 1
		}
		add("loading", loading)
		add("async_loading", 0)
		add("current_cow_peak", 0)
		add("current_cow_size", 0)
		pi := env.PersistenceInfo() // persist.go
		add("rdb_changes_since_last_save", pi.ChangesSinceLastSave)
		add("rdb_bgsave_in_progress", b2i(pi.BgsaveInProgress))
		add("rdb_last_save_time", pi.LastSaveUnix)
		add("rdb_last_bgsave_status", map[bool]string{true: "ok", false: "err"}[pi.LastBgsaveOK])
		add("aof_enabled", 0)
		add("aof_rewrite_in_progress", 0)
	})
	section("Stats", func(add func(string, any)) {
		add("total_connections_received", env.Stats.ConnectionsReceived.Load())
		add("total_commands_processed", env.Stats.CommandsProcessed.Load())
		o := env.observer()
		add("instantaneous_ops_per_sec", o.inst.get(instCommand))
		replIn, replOut := env.Stats.NetReplInputBytes.Load(), env.Stats.NetReplOutputBytes.Load()
		add("total_net_input_bytes", env.Stats.NetInputBytes.Load()+replIn)
		add("total_net_output_bytes", env.Stats.NetOutputBytes.Load()+replOut)
		add("total_net_repl_input_bytes", replIn)
		add("total_net_repl_output_bytes", replOut)
		add("instantaneous_input_kbps", kbps(o.inst.get(instNetInput)))
		add("instantaneous_output_kbps", kbps(o.inst.get(instNetOutput)))
		add("instantaneous_input_repl_kbps", kbps(o.inst.get(instNetReplInput)))
		add("instantaneous_output_repl_kbps", kbps(o.inst.get(instNetReplOutput)))
		add("rejected_connections", env.Stats.RejectedConns.Load())
		add("expired_keys", 0)
		add("evicted_keys", 0)
		add("keyspace_hits", env.Stats.KeyspaceHits.Load())
		add("keyspace_misses", env.Stats.KeyspaceMisses.Load())
		if env.PubSub != nil {
			env.PubSub.mu.RLock()
			add("pubsub_channels", len(env.PubSub.channels))
			add("pubsub_patterns", len(env.PubSub.patterns))
			add("pubsubshard_channels", len(env.PubSub.shard))
			env.PubSub.mu.RUnlock()
		}
		tkeys, titems, tprefixes := env.Tracking.Totals()
		add("tracking_total_keys", tkeys)
		add("tracking_total_items", titems)
		add("tracking_total_prefixes", tprefixes)
		add("total_error_replies", env.Stats.ErrorReplies.Load())
		env.ACLLog.addInfo(add) // acl_access_denied_* (acl_check.go)
	})
	section("Replication", func(add func(string, any)) {
		add("role", "slave")
		add("master_host", st.MasterHost)
		add("master_port", st.MasterPort)
		if st.LinkUp {
			add("master_link_status", "up")
		} else {
			add("master_link_status", "down")
		}
		lastIO := int64(-1)
		if !st.LastIO.IsZero() {
			lastIO = int64(now.Sub(st.LastIO) / time.Second)
		}
		add("master_last_io_seconds_ago", lastIO)
		sync := 0
		if st.SyncInProgress {
			sync = 1
		}
		add("master_sync_in_progress", sync)
		add("slave_read_repl_offset", st.ReadOffset)
		add("slave_repl_offset", st.ApplyOffset)
		if st.SyncInProgress {
			add("master_sync_total_bytes", st.SyncTotalBytes)
			add("master_sync_read_bytes", st.SyncReadBytes)
			left := st.SyncTotalBytes - st.SyncReadBytes
			add("master_sync_left_bytes", left)
			perc := 0.0
			if st.SyncTotalBytes > 0 {
				perc = float64(st.SyncReadBytes) * 100 / float64(st.SyncTotalBytes)
			}
			add("master_sync_perc", strconv.FormatFloat(perc, 'f', 2, 64))
			add("master_sync_last_io_seconds_ago", st.SyncLastIOSecond)
		}
		if !st.LinkUp {
			down := int64(-1)
			if !st.LinkDownSince.IsZero() {
				down = int64(now.Sub(st.LinkDownSince) / time.Second)
			}
			add("master_link_down_since_seconds", down)
		}
		// What vdr announces (REPLCONF, the sentinels read it from INFO):
		// 0, never to be promoted.
		add("slave_priority", 0)
		add("slave_read_only", 1)
		announced := 1
		if !env.Config.ReplicaAnnounced {
			announced = 0
		}
		add("replica_announced", announced)
		rl, _ := c.replicaLines()
		addReplicaInfo(rl, add)
		add("master_failover_state", "no-failover")
		addBacklogInfo(rl, st, add)
		for _, sh := range st.Shards {
			add(sh[0], sh[1])
		}
	})
	section("CPU", func(add func(string, any)) { infoCPU(add) })
	section("Modules", func(add func(string, any)) {})
	section("Commandstats", func(add func(string, any)) { infoCommandstats(env, add) })
	section("Errorstats", func(add func(string, any)) { infoErrorstats(env, add) })
	section("Latencystats", func(add func(string, any)) { infoLatencystats(env, add) })
	section("Cluster", func(add func(string, any)) { add("cluster_enabled", b2i(env.Config.ClusterMode)) })
	section("Keyspace", func(add func(string, any)) {
		if env.Proj == nil {
			return
		}
		// A replica runs no active expiry, so avg_ttl stays 0 as on Redis.
		// Inside EXEC (all read locks held) Stats is not called: its own
		// mutex is not ordered against the stripe locks, so only the
		// lock-free key counts are reported there.
		var dbs []projection.DBStats
		if c.tx == nil {
			dbs = env.Proj.Stats().DBs
		} else {
			for db := 0; db < env.Proj.NumDBs(); db++ {
				n, _ := env.Proj.DBSize(db)
				dbs = append(dbs, projection.DBStats{Keys: n})
			}
		}
		for db, st := range dbs {
			if st.Keys == 0 {
				continue
			}
			add("db"+strconv.Itoa(db), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", st.Keys, st.Expires))
		}
	})
	c.W.Verbatim(b.String(), "txt")
}

// writeInfoSection writes the fields body adds in the order of the
// personality's INFO (layout): the fields that version has, computed ones
// with their value and the others with a fresh replica's (infoDefaults);
// a computed field no version has (vdr_version, master_sync_left_bytes
// while syncing) stays after the field computed before it, and a field of
// other versions only is left out.
func writeInfoSection(b *strings.Builder, layout *infoLayout, section string, body func(add func(string, any))) {
	type kv struct {
		k string
		v any
	}
	var computed map[string]any
	after := map[string][]kv{} // anchor field -> the extras after it
	anchor := ""
	body(func(k string, v any) {
		switch {
		case layout.has[k]:
			if computed == nil {
				computed = map[string]any{}
			}
			computed[k] = v
			anchor = k
		case !infoAnyVersion[k] || infoConditional[k]:
			after[anchor] = append(after[anchor], kv{k, v})
		}
	})
	write := func(list []kv) {
		for _, e := range list {
			fmt.Fprintf(b, "%s:%v\r\n", e.k, e.v)
		}
	}
	write(after[""])
	for _, k := range layout.sections[section] {
		if v, ok := computed[k]; ok {
			fmt.Fprintf(b, "%s:%v\r\n", k, v)
		} else {
			fmt.Fprintf(b, "%s:%s\r\n", k, infoDefaults[k])
		}
		write(after[k])
	}
}

// infoConditional are fields Redis 7.0 shows only sometimes (the link
// down) that a later version always shows: kept when computed.
var infoConditional = map[string]bool{"master_link_down_since_seconds": true}

// infoListener is INFO's listener0 (Redis 7.2+): the TCP listener's bind
// addresses and port.
func infoListener(bind string, port int) string {
	var sb strings.Builder
	sb.WriteString("name=tcp")
	for _, a := range strings.Fields(bind) {
		sb.WriteString(",bind=" + a)
	}
	sb.WriteString(",port=" + strconv.Itoa(port))
	return sb.String()
}

func humanBytes(n uint64) string {
	f := float64(n)
	switch {
	case f < 1024:
		return strconv.FormatUint(n, 10) + "B"
	case f < 1<<20:
		return strconv.FormatFloat(f/1024, 'f', 2, 64) + "K"
	case f < 1<<30:
		return strconv.FormatFloat(f/(1<<20), 'f', 2, 64) + "M"
	}
	return strconv.FormatFloat(f/(1<<30), 'f', 2, 64) + "G"
}
