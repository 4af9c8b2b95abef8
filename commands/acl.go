package commands

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vdr-project/vdr/internal/compat"
)

// ACL users, as Redis 7.0 keeps them (src/acl.c): each user has flags
// (on/off, nopass, [skip-]sanitize-payload), SHA-256 password hashes and
// a list of selectors, the first of which is the root selector (the
// rules outside parentheses). A selector holds the commands it allows
// (one bit per command or subcommand of the table, plus the reserved
// "future commands" bit that only +@all sets), the first arguments
// allowed for otherwise blocked commands (+select|0), key patterns with
// read/write permissions and channel patterns.
//
// Users are copy-on-write: ACL SETUSER builds new permissions and swaps
// them into the user, so a command being checked on another connection
// reads one consistent set without a lock. The hot path for a client of
// an unrestricted user (the default user, +@all ~* &*) is one atomic load
// and one flag test (aclPerms.unrestricted).

// ACL check results (ACL_OK, ACL_DENIED_* in src/server.h): the order
// matters, the most relevant denial across selectors is the highest.
const (
	aclOK = iota
	aclDeniedCmd
	aclDeniedKey
	aclDeniedAuth
	aclDeniedChannel
)

// aclCategories is ACLCommandCategories, in its order (ACL CAT, and the
// order ACL LIST's category rules are tried in).
var aclCategories = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
	"connection", "transaction", "scripting"}

func aclCategoryValid(name string) bool {
	for _, c := range aclCategories {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// Key pattern permissions (ACL_READ_PERMISSION, ACL_WRITE_PERMISSION).
const (
	keyPermRead  = 1 << iota // %R~
	keyPermWrite             // %W~
	keyPermAll   = keyPermRead | keyPermWrite
)

type keyPattern struct {
	pattern string
	perm    int
	glob    []byte // pattern, for StringMatch without a conversion per check
}

func (p keyPattern) String() string {
	switch p.perm {
	case keyPermRead:
		return "%R~" + p.pattern
	case keyPermWrite:
		return "%W~" + p.pattern
	}
	return "~" + p.pattern
}

// aclSelector is one selector. bits holds the command bits that differ
// from future (the reserved bit): a command's bit is bits[name] when
// present, else future.
type aclSelector struct {
	root                              bool
	allKeys, allChannels, allCommands bool
	future                            bool
	bits                              map[string]bool
	firstArgs                         map[string][]string
	keys                              []keyPattern
	channels                          []string
	// rules are the command rules in the order they were given, each
	// replacing an earlier one for the same command (Redis 7.2's
	// command_rules, which its ACL LIST shows as they are).
	rules []string
}

// updateRules is 7.2's ACLUpdateCommandRules: rule (lower-cased) drops an
// earlier rule for the same command or category, or for a subcommand of
// the command, then comes last.
func (s *aclSelector) updateRules(rule string, allow bool) {
	rule = strings.ToLower(rule)
	kept := s.rules[:0:0]
	for _, r := range s.rules {
		name := r[1:]
		if name == rule || strings.HasPrefix(name, rule+"|") {
			continue
		}
		kept = append(kept, r)
	}
	if allow {
		rule = "+" + rule
	} else {
		rule = "-" + rule
	}
	s.rules = append(kept, rule)
}

func (s *aclSelector) bit(name string) bool {
	if v, ok := s.bits[name]; ok {
		return v
	}
	return s.future
}

// setBit is ACLSetSelectorCommandBit: clearing a bit clears allcommands.
func (s *aclSelector) setBit(name string, v bool) {
	if v == s.future {
		delete(s.bits, name)
	} else {
		if s.bits == nil {
			s.bits = map[string]bool{}
		}
		s.bits[name] = v
	}
	if !v {
		s.allCommands = false
	}
}

// changePerm is ACLChangeSelectorPerm: a container's subcommands follow it.
func (s *aclSelector) changePerm(cmd *Command, allow bool) {
	s.setBit(cmd.Name, allow)
	delete(s.firstArgs, cmd.Name)
	for _, sub := range cmd.Subcommands {
		s.setBit(sub.Name, allow)
	}
}

func cmdInCategory(cmd *Command, cat string) bool {
	for _, c := range cmd.ACL {
		if len(c) == len(cat)+1 && strings.EqualFold(c[1:], cat) {
			return true
		}
	}
	return false
}

// setCategory is ACLSetSelectorCommandBitsForCategory over table t.
func (s *aclSelector) setCategory(t *cmdTable, cat string, v bool) {
	for _, cmd := range t.all {
		if cmdInCategory(cmd, cat) {
			s.changePerm(cmd, v)
		}
		for _, sub := range cmd.Subcommands {
			if cmdInCategory(sub, cat) {
				s.changePerm(sub, v)
			}
		}
	}
}

func (s *aclSelector) clone() *aclSelector {
	d := *s
	d.bits = make(map[string]bool, len(s.bits))
	for k, v := range s.bits {
		d.bits[k] = v
	}
	if s.firstArgs != nil {
		d.firstArgs = make(map[string][]string, len(s.firstArgs))
		for k, v := range s.firstArgs {
			d.firstArgs[k] = append([]string(nil), v...)
		}
	}
	d.keys = append([]keyPattern(nil), s.keys...)
	d.channels = append([]string(nil), s.channels...)
	d.rules = append([]string(nil), s.rules...)
	return &d
}

// aclRuleError is the errno ACLSetUser sets, as the text
// ACLSetUserStringError gives for it.
type aclRuleError string

const (
	errRuleSyntax      aclRuleError = "Syntax error"
	errRuleUnknown     aclRuleError = "Unknown command or category name in ACL"
	errRuleKeysAll     aclRuleError = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	errRuleChannelsAll aclRuleError = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	errRuleNoPass      aclRuleError = "The password you are trying to remove from the user does not exist"
	errRuleBadHash     aclRuleError = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	errRuleFirstArg    aclRuleError = "Allowing first-arg of a subcommand is not supported"
)

func (e aclRuleError) Error() string { return string(e) }

// hasSpaces is ACLStringHasSpaces: isspace or NUL.
func hasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0:
			return true
		}
	}
	return false
}

// lookupACLCommand finds "name" or "parent|sub" in t (ACLLookupCommand).
func (t *cmdTable) lookupACLCommand(name string) *Command {
	name = strings.ToLower(name)
	parent, sub, isSub := strings.Cut(name, "|")
	cmd := t.byName[parent]
	if cmd == nil || !isSub {
		return cmd
	}
	if cmd.subs == nil {
		return nil
	}
	return cmd.subs[sub]
}

// apply is ACLSetSelector.
func (s *aclSelector) apply(t *cmdTable, op string) error {
	switch {
	case strings.EqualFold(op, "allkeys") || op == "~*":
		s.allKeys, s.keys = true, nil
	case strings.EqualFold(op, "resetkeys"):
		s.allKeys, s.keys = false, nil
	case strings.EqualFold(op, "allchannels") || op == "&*":
		s.allChannels, s.channels = true, nil
	case strings.EqualFold(op, "resetchannels"):
		s.allChannels, s.channels = false, nil
	case strings.EqualFold(op, "allcommands") || strings.EqualFold(op, "+@all"):
		s.bits, s.future, s.allCommands, s.firstArgs, s.rules = nil, true, true, nil, nil
	case strings.EqualFold(op, "nocommands") || strings.EqualFold(op, "-@all"):
		s.bits, s.future, s.allCommands, s.firstArgs, s.rules = nil, false, false, nil, nil
	case op[0] == '~' || op[0] == '%':
		if s.allKeys {
			return errRuleKeysAll
		}
		perm, off := keyPermAll, 1
		if op[0] == '%' {
			perm = 0
			for ; off < len(op); off++ {
				ch := op[off]
				if (ch == 'R' || ch == 'r') && perm&keyPermRead == 0 {
					perm |= keyPermRead
				} else if (ch == 'W' || ch == 'w') && perm&keyPermWrite == 0 {
					perm |= keyPermWrite
				} else if ch == '~' {
					off++
					break
				} else {
					return errRuleSyntax
				}
			}
			if perm == 0 {
				return errRuleSyntax // 7.0.15 would keep a pattern it cannot print
			}
		}
		pat := op[off:]
		if hasSpaces(pat) {
			return errRuleSyntax
		}
		found := false
		for i := range s.keys {
			// listSearchKey compares the patterns only; flags merge.
			if s.keys[i].pattern == pat {
				s.keys[i].perm |= perm
				found = true
				break
			}
		}
		if !found {
			s.keys = append(s.keys, keyPattern{pat, perm, []byte(pat)})
		}
		s.allKeys = false
	case op[0] == '&':
		if s.allChannels {
			return errRuleChannelsAll
		}
		pat := op[1:]
		if hasSpaces(pat) {
			return errRuleSyntax
		}
		found := false
		for _, c := range s.channels {
			if c == pat {
				found = true
				break
			}
		}
		if !found {
			s.channels = append(s.channels, pat)
		}
		s.allChannels = false
	case op[0] == '+' && (len(op) < 2 || op[1] != '@'):
		name := op[1:]
		i := strings.LastIndexByte(name, '|')
		if i < 0 {
			cmd := t.lookupACLCommand(name)
			if cmd == nil {
				return errRuleUnknown
			}
			s.changePerm(cmd, true)
			s.updateRules(cmd.Name, true)
			return nil
		}
		cmd := t.lookupACLCommand(name[:i])
		if cmd == nil {
			return errRuleUnknown
		}
		if cmd.parent != nil {
			return errRuleFirstArg
		}
		if i == len(name)-1 {
			return errRuleSyntax
		}
		if cmd.subs != nil {
			sub := t.lookupACLCommand(name)
			if sub == nil {
				return errRuleUnknown
			}
			s.changePerm(sub, true)
			s.updateRules(name, true)
			return nil
		}
		s.updateRules(name, true)
		arg := name[i+1:]
		for _, a := range s.firstArgs[cmd.Name] {
			if strings.EqualFold(a, arg) {
				return nil
			}
		}
		if s.firstArgs == nil {
			s.firstArgs = map[string][]string{}
		}
		s.firstArgs[cmd.Name] = append(s.firstArgs[cmd.Name], arg)
	case op[0] == '-' && (len(op) < 2 || op[1] != '@'):
		cmd := t.lookupACLCommand(op[1:])
		if cmd == nil {
			return errRuleUnknown
		}
		s.changePerm(cmd, false)
		s.updateRules(cmd.Name, false)
	case (op[0] == '+' || op[0] == '-') && op[1] == '@':
		if !aclCategoryValid(op[2:]) {
			return errRuleUnknown
		}
		s.setCategory(t, op[2:], op[0] == '+')
		s.updateRules(op[1:], op[0] == '+')
	default:
		return errRuleSyntax
	}
	return nil
}

// User flags, in the order ACL LIST and GETUSER show them (ACLUserFlags).
const (
	userOn = 1 << iota
	userOff
	userNoPass
	userSkipSanitize
	userSanitize
)

var userFlagNames = []string{"on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload"}

// aclPerms is one version of a user's rules; never changed once
// published (copy, change, swap).
type aclPerms struct {
	flags     int
	passwords []string       // SHA-256 hex
	selectors []*aclSelector // root first
	// unrestricted: the root selector allows every command, key and
	// channel, so the checks can be skipped.
	unrestricted bool
}

func (p *aclPerms) clone() *aclPerms {
	d := &aclPerms{flags: p.flags, passwords: append([]string(nil), p.passwords...)}
	for _, s := range p.selectors {
		d.selectors = append(d.selectors, s.clone())
	}
	return d
}

func (p *aclPerms) seal() *aclPerms {
	r := p.selectors[0]
	p.unrestricted = r.allCommands && r.allKeys && r.allChannels
	return p
}

func newPerms() *aclPerms {
	return &aclPerms{flags: userOff, selectors: []*aclSelector{{root: true}}}
}

// hashPassword is ACLHashPassword.
func hashPassword(p string) string {
	h := sha256.Sum256([]byte(p))
	return hex.EncodeToString(h[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if (h[i] < 'a' || h[i] > 'f') && (h[i] < '0' || h[i] > '9') {
			return false
		}
	}
	return true
}

// ruleHash is the password hash a >pass, <pass, #hash or !hash rule names.
func ruleHash(op string) (string, error) {
	if op[0] == '>' || op[0] == '<' {
		return hashPassword(op[1:]), nil
	}
	if !validHash(op[1:]) {
		return "", errRuleBadHash
	}
	return op[1:], nil
}

// apply is ACLSetUser.
func (p *aclPerms) apply(t *cmdTable, op string) error {
	if op == "" {
		return nil
	}
	switch {
	case strings.EqualFold(op, "on"):
		p.flags = p.flags&^userOff | userOn
	case strings.EqualFold(op, "off"):
		p.flags = p.flags&^userOn | userOff
	case strings.EqualFold(op, "skip-sanitize-payload"):
		p.flags = p.flags&^userSanitize | userSkipSanitize
	case strings.EqualFold(op, "sanitize-payload"):
		p.flags = p.flags&^userSkipSanitize | userSanitize
	case strings.EqualFold(op, "nopass"):
		p.flags |= userNoPass
		p.passwords = nil
	case strings.EqualFold(op, "resetpass"):
		p.flags &^= userNoPass
		p.passwords = nil
	case op[0] == '>' || op[0] == '#':
		h, err := ruleHash(op)
		if err != nil {
			return err
		}
		found := false
		for _, x := range p.passwords {
			found = found || x == h
		}
		if !found {
			p.passwords = append(p.passwords, h)
		}
		p.flags &^= userNoPass
	case op[0] == '<' || op[0] == '!':
		h, err := ruleHash(op)
		if err != nil {
			return err
		}
		for i, x := range p.passwords {
			if x == h {
				p.passwords = append(p.passwords[:i:i], p.passwords[i+1:]...)
				return nil
			}
		}
		return errRuleNoPass
	case op[0] == '(' && op[len(op)-1] == ')':
		s := &aclSelector{}
		for _, o := range splitArgs(op[1 : len(op)-1]) {
			if err := s.apply(t, o); err != nil {
				return err
			}
		}
		p.selectors = append(p.selectors, s)
	case strings.EqualFold(op, "clearselectors"):
		p.selectors = p.selectors[:1]
	case strings.EqualFold(op, "reset"):
		for _, o := range []string{"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload", "clearselectors", "-@all"} {
			_ = p.apply(t, o)
		}
	default:
		return p.selectors[0].apply(t, op)
	}
	return nil
}

// splitArgs splits a selector's body on spaces (sdssplitargs without
// quotes: a rule never holds spaces).
func splitArgs(s string) []string { return strings.Fields(s) }

// mergeSelectorArgs is ACLMergeSelectorArguments: a selector may be
// spread over several arguments; bad is the index of an unclosed one.
func mergeSelectorArgs(args []string) (merged []string, bad int) {
	open := -1
	var sel string
	for j, op := range args {
		if open < 0 && op != "" && op[0] == '(' && op[len(op)-1] != ')' {
			sel, open = op, j
			continue
		}
		if open >= 0 {
			sel += " " + op
			if op != "" && op[len(op)-1] == ')' {
				open = -1
				merged = append(merged, sel)
			}
			continue
		}
		merged = append(merged, op)
	}
	if open >= 0 {
		return nil, open
	}
	return merged, -1
}

// aclUser is a user's identity; its rules are swapped in whole.
type aclUser struct {
	name    string
	perms   atomic.Pointer[aclPerms]
	deleted atomic.Bool
}

// ACLUsers is the set of users (Redis's Users rax plus DefaultUser). The
// zero value holds the default user only (nopass, every command, key and
// channel); requirepass gives it a password (SetRequirePass).
type ACLUsers struct {
	mu    sync.Mutex
	users map[string]*aclUser
	def   atomic.Pointer[aclUser]
	// File is aclfile: ACL LOAD and ACL SAVE use it; "" answers Redis's
	// error for an instance without one.
	File string
}

func defaultPerms(t *cmdTable) *aclPerms {
	p := newPerms()
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		_ = p.apply(t, op)
	}
	return p.seal()
}

// defaultUser returns the default user, creating it on first use.
func (a *ACLUsers) defaultUser() *aclUser {
	if u := a.def.Load(); u != nil {
		return u
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.initLocked()
	return a.def.Load()
}

func (a *ACLUsers) initLocked() {
	if a.users != nil {
		return
	}
	u := &aclUser{name: "default"}
	u.perms.Store(defaultPerms(tables[0]))
	a.users = map[string]*aclUser{"default": u}
	a.def.Store(u)
}

// lookup returns the user named name, or nil.
func (a *ACLUsers) lookup(name string) *aclUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.initLocked()
	return a.users[name]
}

// sorted returns the users by name (the order of Redis's rax).
func (a *ACLUsers) sorted() []*aclUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.initLocked()
	out := make([]*aclUser, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// SetRequirePass gives the default user pass as its only password, or
// nopass when pass is "" (ACLUpdateDefaultUserPassword); CONFIG SET
// requirepass calls it too.
func (a *ACLUsers) SetRequirePass(pass string) {
	u := a.defaultUser()
	a.mu.Lock()
	defer a.mu.Unlock()
	p := u.perms.Load().clone()
	_ = p.apply(tables[0], "resetpass")
	if pass != "" {
		_ = p.apply(tables[0], ">"+pass)
	} else {
		_ = p.apply(tables[0], "nopass")
	}
	u.perms.Store(p.seal())
}

// setUser is ACLStringSetUser: every rule is applied to a copy, which
// replaces the user's rules only when all of them are valid. It returns
// the user, its rules before (nil for a new user), or Redis's error text.
func (a *ACLUsers) setUser(t *cmdTable, name string, rules []string) (u *aclUser, old *aclPerms, errText string) {
	merged, bad := mergeSelectorArgs(rules)
	if bad >= 0 {
		return nil, nil, "Unmatched parenthesis in acl selector starting at '" + rules[bad] + "'."
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.initLocked()
	u = a.users[name]
	var p *aclPerms
	if u != nil {
		old = u.perms.Load()
		p = old.clone()
	} else {
		p = newPerms()
	}
	for _, op := range merged {
		if err := p.apply(t, op); err != nil {
			return nil, nil, "Error in ACL SETUSER modifier '" + op + "': " + err.Error()
		}
	}
	if u == nil {
		u = &aclUser{name: name}
		a.users[name] = u
	}
	u.perms.Store(p.seal())
	return u, old, ""
}

// checkCredentials is ACLCheckUserCredentials: the user, or nil when the
// name is unknown, the user is off or no password matches. Every
// password is compared, in constant time.
func (a *ACLUsers) checkCredentials(name, pass []byte) *aclUser {
	u := a.lookup(string(name))
	if u == nil {
		return nil
	}
	p := u.perms.Load()
	if p.flags&userOff != 0 {
		return nil
	}
	if p.flags&userNoPass != 0 {
		return u
	}
	sum := sha256.Sum256(pass)
	got := []byte(hex.EncodeToString(sum[:]))
	ok := 0
	for _, h := range p.passwords {
		ok |= subtle.ConstantTimeCompare(got, []byte(h))
	}
	if ok == 1 {
		return u
	}
	return nil
}

// ---- describing users (ACL LIST, GETUSER, SAVE) ----

// countCategory is ACLCountCategoryBitsForSelector.
func (s *aclSelector) countCategory(t *cmdTable, cat string) (on, off int) {
	count := func(cmd *Command) {
		if cmdInCategory(cmd, cat) {
			if s.bit(cmd.Name) {
				on++
			} else {
				off++
			}
		}
	}
	for _, cmd := range t.all {
		count(cmd)
		for _, sub := range cmd.Subcommands {
			count(sub)
		}
	}
	return on, off
}

// describeCommands is ACLDescribeSelectorCommandRules: +@all or -@all,
// then the categories that fit best, then single commands for the rest.
// Redis emits the single commands in its command dict's order, which is
// seeded at random per process; vdr emits them in table order.
func (s *aclSelector) describeCommands(v compat.Version) string {
	t := tableOf(v)
	if v.AtLeastRedis(7, 2) {
		// 7.2+: the rules as given (ACLDescribeSelectorCommandRules).
		all := "-@all"
		if s.future {
			all = "+@all"
		}
		return strings.Join(append([]string{all}, s.rules...), " ")
	}
	var b strings.Builder
	fake := &aclSelector{}
	additive := !s.future
	if additive {
		b.WriteString("-@all ")
	} else {
		b.WriteString("+@all ")
		fake.future = true
	}
	temp := &aclSelector{future: s.future, bits: s.bits}
	temp = temp.clone()
	applied := make([]bool, len(aclCategories))
	for {
		best, mindiff, maxsame := -1, int(^uint(0)>>1), 0
		for j, cat := range aclCategories {
			if applied[j] {
				continue
			}
			on, off := temp.countCategory(t, cat)
			diff, same := off, on
			if !additive {
				diff, same = on, off
			}
			if same > diff && (diff < mindiff || diff == mindiff && same > maxsame) {
				best, mindiff, maxsame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		cat := aclCategories[best]
		fake.setCategory(t, cat, additive)
		temp.setCategory(t, cat, !additive)
		if additive {
			b.WriteString("+@")
		} else {
			b.WriteString("-@")
		}
		b.WriteString(cat)
		b.WriteByte(' ')
		applied[best] = true
	}
	single := func(cmd *Command) {
		ub := s.bit(cmd.Name)
		if ub != fake.bit(cmd.Name) {
			if ub {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
			b.WriteString(cmd.Name)
			b.WriteByte(' ')
			fake.changePerm(cmd, ub)
		}
	}
	for _, cmd := range t.all {
		single(cmd)
		for _, sub := range cmd.Subcommands {
			single(sub)
		}
		if !s.bit(cmd.Name) {
			for _, a := range s.firstArgs[cmd.Name] {
				b.WriteString("+" + cmd.Name + "|" + a + " ")
			}
		}
	}
	out := b.String()
	return out[:len(out)-1]
}

func (s *aclSelector) keysString() string {
	if s.allKeys {
		return "~*"
	}
	parts := make([]string, len(s.keys))
	for i, k := range s.keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, " ")
}

func (s *aclSelector) channelsString() string {
	if s.allChannels {
		return "&*"
	}
	parts := make([]string, len(s.channels))
	for i, c := range s.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}

// describe is ACLDescribeSelector.
func (s *aclSelector) describe(v compat.Version) string {
	var b strings.Builder
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range s.keys {
			b.WriteString(k.String())
			b.WriteByte(' ')
		}
	}
	if s.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(s.describeCommands(v))
	return b.String()
}

// describe is ACLDescribeUser: the rules that recreate the user.
// flagsOf is the user's flags as personality v shows them: a 7.2+ user is
// created with sanitize-payload, a 7.0 one with neither flag.
func (p *aclPerms) flagsOf(v compat.Version) int {
	if p.flags&(userSanitize|userSkipSanitize) == 0 && v.AtLeastRedis(7, 2) {
		return p.flags | userSanitize
	}
	return p.flags
}

func (p *aclPerms) describe(v compat.Version) string {
	var b strings.Builder
	flags := p.flagsOf(v)
	for i, n := range userFlagNames {
		if flags&(1<<i) != 0 {
			b.WriteString(n)
			b.WriteByte(' ')
		}
	}
	for _, h := range p.passwords {
		b.WriteString("#" + h + " ")
	}
	for _, s := range p.selectors {
		if s.root {
			b.WriteString(s.describe(v))
		} else {
			b.WriteString(" (" + s.describe(v) + ")")
		}
	}
	return b.String()
}
