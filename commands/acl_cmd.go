package commands

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/vdr-project/vdr/internal/compat"
)

// The ACL command (aclCommand in src/acl.c) and the loading of users from
// the configuration (user directives, --user) and from aclfile.

func aclWhoamiCommand(c *Ctx, args [][]byte) { c.W.BulkString(c.aclUser().name) }

func aclUsersCommand(c *Ctx, args [][]byte) {
	us := c.Env.Users.sorted()
	c.W.Array(len(us))
	for _, u := range us {
		c.W.BulkString(u.name)
	}
}

func aclListCommand(c *Ctx, args [][]byte) {
	us := c.Env.Users.sorted()
	c.W.Array(len(us))
	for _, u := range us {
		c.W.BulkString("user " + u.name + " " + u.perms.Load().describe(c.Version()))
	}
}

func aclSetuserCommand(c *Ctx, args [][]byte) {
	name := string(args[2])
	if hasSpaces(name) {
		c.W.Error("ERR Usernames can't contain spaces or null characters")
		return
	}
	rules := make([]string, len(args)-3)
	for i, a := range args[3:] {
		rules[i] = string(a)
	}
	u, old, errText := c.Env.Users.setUser(c.commands(), name, rules)
	if errText != "" {
		// addReplyErrorSdsSafe: newlines become spaces.
		c.W.Error("ERR " + strings.NewReplacer("\r", " ", "\n", " ").Replace(errText))
		return
	}
	if old != nil {
		c.killPubsubClientsIfNeeded(u, old, u.perms.Load())
	}
	c.W.OK()
}

func aclDeluserCommand(c *Ctx, args [][]byte) {
	for _, a := range args[2:] {
		if string(a) == "default" {
			c.W.Error("ERR The 'default' user cannot be removed")
			return
		}
	}
	a := &c.Env.Users
	var gone []*aclUser
	a.mu.Lock()
	a.initLocked()
	for _, n := range args[2:] {
		if u := a.users[string(n)]; u != nil {
			delete(a.users, string(n))
			u.deleted.Store(true)
			gone = append(gone, u)
		}
	}
	a.mu.Unlock()
	for _, u := range gone {
		c.killClientsOf(u)
	}
	c.W.Int(int64(len(gone)))
}

// writeSelector is aclAddReplySelectorDescription.
func writeSelector(w *Writer, v compat.Version, s *aclSelector) {
	w.BulkString("commands")
	w.BulkString(s.describeCommands(v))
	w.BulkString("keys")
	w.BulkString(s.keysString())
	w.BulkString("channels")
	w.BulkString(s.channelsString())
}

func aclGetuserCommand(c *Ctx, args [][]byte) {
	u := c.Env.Users.lookup(string(args[2]))
	if u == nil {
		c.W.Null()
		return
	}
	p := u.perms.Load()
	t := c.Version()
	w := c.W
	w.Map(6)
	w.BulkString("flags")
	var flags []string
	for i, n := range userFlagNames {
		if p.flagsOf(t)&(1<<i) != 0 {
			flags = append(flags, n)
		}
	}
	w.Set(len(flags))
	for _, f := range flags {
		w.BulkString(f)
	}
	w.BulkString("passwords")
	w.BulkStrings(p.passwords)
	writeSelector(w, t, p.selectors[0])
	w.BulkString("selectors")
	w.Array(len(p.selectors) - 1)
	for _, s := range p.selectors[1:] {
		w.Map(3)
		writeSelector(w, t, s)
	}
}

func aclCatCommand(c *Ctx, args [][]byte) {
	if len(args) == 2 {
		c.W.BulkStrings(aclCategories)
		return
	}
	if len(args) > 3 {
		subcommandSyntaxError(c, args)
		return
	}
	cat := string(args[2])
	if !aclCategoryValid(cat) {
		c.W.Error("ERR Unknown category '" + string(trunc([]byte(cat), 128)) + "'")
		return
	}
	var names []string
	for _, cmd := range c.commands().all {
		if cmdInCategory(cmd, cat) {
			names = append(names, cmd.Name)
		}
		for _, sub := range cmd.Subcommands {
			if cmdInCategory(sub, cat) {
				names = append(names, sub.Name)
			}
		}
	}
	c.W.BulkStrings(names)
}

const genpassMaxBits = 4096

func aclGenpassCommand(c *Ctx, args [][]byte) {
	bits := int64(256)
	if len(args) > 3 {
		subcommandSyntaxError(c, args)
		return
	}
	if len(args) == 3 {
		n, ok := c.intArg(args[2])
		if !ok {
			return
		}
		bits = n
	}
	if bits <= 0 || bits > genpassMaxBits {
		c.W.Error(fmt.Sprintf("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to %d", genpassMaxBits))
		return
	}
	chars := (bits + 3) / 4
	buf := make([]byte, (chars+1)/2)
	if _, err := rand.Read(buf); err != nil {
		c.W.Error("ERR " + err.Error())
		return
	}
	c.W.BulkString(hex.EncodeToString(buf)[:chars])
}

func aclDryrunCommand(c *Ctx, args [][]byte) {
	u := c.Env.Users.lookup(string(args[2]))
	if u == nil {
		c.W.Error("ERR User '" + string(args[2]) + "' not found")
		return
	}
	argv := args[3:]
	cmd, _ := c.lookupCommand(argv)
	if cmd == nil {
		c.W.Error("ERR Command '" + string(argv[0]) + "' not found")
		return
	}
	if !cmd.arityOK(len(argv)) {
		c.W.Error("ERR wrong number of arguments for '" + cmd.Name + "' command")
		return
	}
	res, idx := u.perms.Load().check(cmd, argv)
	if res != aclOK && c.Version().AtLeastRedis(7, 2) {
		c.W.BulkString(aclErrorMessage72(res, u.name, cmd, argv[idx], true))
		return
	}
	switch res {
	case aclOK:
		c.W.OK()
	case aclDeniedCmd:
		c.W.BulkString("This user has no permissions to run the '" + cmd.Name + "' command")
	case aclDeniedKey:
		c.W.BulkString("This user has no permissions to access the '" + string(argv[idx]) + "' key")
	default:
		c.W.BulkString("This user has no permissions to access the '" + string(argv[idx]) + "' channel")
	}
}

const errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

// noACLFile answers ACL LOAD/SAVE without aclfile (Valkey 8 drops the
// server's name from the text).
func noACLFile(c *Ctx) {
	if c.Version().HelpWithoutRedisName() {
		c.W.Error(strings.ReplaceAll(errNoACLFile, "Redis ", ""))
		return
	}
	c.W.Error(errNoACLFile)
}

func aclLoadCommand(c *Ctx, args [][]byte) {
	if c.Env.Users.File == "" {
		noACLFile(c)
		return
	}
	removed, errText := c.Env.Users.loadFile(c.commands())
	if errText != "" {
		c.W.Error("ERR " + errText)
		return
	}
	for _, u := range removed {
		c.killClientsOf(u)
	}
	c.W.OK()
}

func aclSaveCommand(c *Ctx, args [][]byte) {
	if c.Env.Users.File == "" {
		noACLFile(c)
		return
	}
	if err := c.Env.Users.saveFile(c.Version()); err != nil {
		if c.Env.Logger != nil {
			c.Env.Logger.Warn("ACL SAVE failed", "err", err)
		}
		c.W.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.W.OK()
}

// saveFile is ACLSaveToFile: every user as a "user" line, written to a
// temporary file renamed over aclfile.
func (a *ACLUsers) saveFile(v compat.Version) error {
	var b strings.Builder
	for _, u := range a.sorted() {
		b.WriteString("user " + u.name + " " + u.perms.Load().describe(v) + "\n")
	}
	tmp := a.File + ".tmp-" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, a.File); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// parseUsers builds users from "user" lines (ACLLoadFromFile): every
// error is collected, the file named in each; nothing is applied when
// there is one. Without a default user line the default user is reset
// to its initial rules.
func parseUsers(t *cmdTable, file string, lines []string) (map[string]*aclPerms, string) {
	users := map[string]*aclPerms{}
	var errs strings.Builder
	for i, line := range lines {
		n := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		var nonEmpty []string
		for _, a := range argv {
			if a != "" {
				nonEmpty = append(nonEmpty, a)
			}
		}
		argv = nonEmpty
		if len(argv) < 2 || argv[0] != "user" {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", file, n)
			continue
		}
		if hasSpaces(argv[1]) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", file, n, argv[1])
			continue
		}
		if _, dup := users[argv[1]]; dup {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", argv[1], n)
			continue
		}
		p := newPerms()
		users[argv[1]] = p
		merged, bad := mergeSelectorArgs(argv[2:])
		if bad >= 0 {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", file, n)
		}
		syntaxErr := false
		for _, op := range merged {
			op = strings.Trim(op, "\t\r\n")
			if err := p.apply(t, op); err != nil {
				if err == errRuleUnknown {
					fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", file, n, op, err)
				} else if !syntaxErr {
					fmt.Fprintf(&errs, "%s:%d: %s. ", file, n, err)
					syntaxErr = true
				}
			}
		}
		p.seal()
	}
	if errs.Len() > 0 {
		return nil, errs.String()
	}
	return users, ""
}

// replaceAll installs users in place of every user but default, whose
// rules it takes from users["default"] (or the initial rules). It
// returns the users that were replaced, whose clients must go.
func (a *ACLUsers) replaceAll(t *cmdTable, users map[string]*aclPerms) (removed []*aclUser) {
	def := a.defaultUser()
	a.mu.Lock()
	defer a.mu.Unlock()
	for name, u := range a.users {
		if name != "default" {
			u.deleted.Store(true)
			removed = append(removed, u)
		}
	}
	a.users = map[string]*aclUser{"default": def}
	for name, p := range users {
		if name == "default" {
			continue
		}
		u := &aclUser{name: name}
		u.perms.Store(p)
		a.users[name] = u
	}
	if p, ok := users["default"]; ok {
		def.perms.Store(p)
	} else {
		def.perms.Store(defaultPerms(t))
	}
	return removed
}

// loadFile is ACL LOAD.
func (a *ACLUsers) loadFile(t *cmdTable) ([]*aclUser, string) {
	data, err := os.ReadFile(a.File)
	if err != nil {
		return nil, fmt.Sprintf("Error loading ACLs, opening file '%s': %s", a.File, errnoText(err))
	}
	users, errText := parseUsers(t, a.File, strings.Split(string(data), "\n"))
	if errText != "" {
		return nil, errText + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	}
	return a.replaceAll(t, users), ""
}

// errnoText is strerror's text for an os error.
func errnoText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		s := pe.Err.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// LoadUsers sets the users up at start (ACLLoadUsersAtStartup): the
// "user" directives (each "name rule…"), or aclfile, never both. A
// default user given here replaces requirepass's, as in Redis.
func (e *Env) LoadUsers(directives []string, aclFile string) error {
	t := tableOf(e.Version.Load())
	if aclFile != "" && len(directives) > 0 {
		return fmt.Errorf("commands: users defined in the configuration and an ACL file (aclfile) at the same time; define either an ACL file or user directives, not both")
	}
	e.Users.defaultUser()
	if aclFile != "" {
		e.Users.File = aclFile
		if _, errText := e.Users.loadFile(t); errText != "" {
			return fmt.Errorf("commands: ACL errors: %s", errText)
		}
		return nil
	}
	seen := map[string]bool{}
	for _, d := range directives {
		f := strings.Fields(d)
		if len(f) == 0 {
			return fmt.Errorf("commands: empty user directive")
		}
		if seen[f[0]] {
			return fmt.Errorf("commands: user %q: Duplicate user found. A user can only be defined once in config files", f[0])
		}
		seen[f[0]] = true
		if hasSpaces(f[0]) {
			return fmt.Errorf("commands: user %q: Usernames can't contain spaces or null characters", f[0])
		}
		rules := f[1:]
		if f[0] == "default" {
			rules = append([]string{"reset"}, rules...) // ACLLoadConfiguredUsers
		}
		if _, _, errText := e.Users.setUser(t, f[0], rules); errText != "" {
			return fmt.Errorf("commands: user %q: %s", f[0], errText)
		}
	}
	return nil
}

func init() {
	for name, h := range map[string]HandlerFunc{
		"acl|users":   aclUsersCommand,
		"acl|list":    aclListCommand,
		"acl|setuser": aclSetuserCommand,
		"acl|deluser": aclDeluserCommand,
		"acl|getuser": aclGetuserCommand,
		"acl|cat":     aclCatCommand,
		"acl|genpass": aclGenpassCommand,
		"acl|dryrun":  aclDryrunCommand,
		"acl|load":    aclLoadCommand,
		"acl|save":    aclSaveCommand,
		"acl|help":    func(c *Ctx, args [][]byte) { writeHelp(c, "acl") },
	} {
		dataHandlers[name] = h
	}
	// aclCommand's help in src/acl.c of 7.0.
	helpTexts["acl"] = []string{
		"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
		"HELP",
		"    Prints this help.",
	}
}
