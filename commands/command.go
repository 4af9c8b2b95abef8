package commands

// CmdFlag is a set of Redis command flags (CMD_* in src/server.h). The
// COMMAND INFO reply lists them in this declaration order, which is the
// order of addReplyCommandFlags in src/server.c.
type CmdFlag uint32

// The command flags, named after Redis's CMD_* constants.
const (
	CmdWrite           CmdFlag = 1 << iota // CMD_WRITE: may modify the keyspace
	CmdReadonly                            // CMD_READONLY: reads keys only
	CmdDenyoom                             // CMD_DENYOOM: may grow memory
	CmdModule                              // CMD_MODULE: implemented by a module
	CmdAdmin                               // CMD_ADMIN: administrative
	CmdPubsub                              // CMD_PUBSUB: pub/sub related
	CmdNoscript                            // CMD_NOSCRIPT: not allowed in scripts
	CmdBlocking                            // CMD_BLOCKING: may block the client
	CmdLoading                             // CMD_LOADING: allowed while loading the dataset
	CmdStale                               // CMD_STALE: allowed while the master link is down and serve-stale-data is off
	CmdSkipMonitor                         // CMD_SKIP_MONITOR
	CmdSkipSlowlog                         // CMD_SKIP_SLOWLOG
	CmdAsking                              // CMD_ASKING
	CmdFast                                // CMD_FAST: O(1) or O(log N)
	CmdNoAuth                              // CMD_NO_AUTH: allowed before AUTH
	CmdMayReplicate                        // CMD_MAY_REPLICATE
	CmdNoMandatoryKeys                     // CMD_NO_MANDATORY_KEYS
	CmdNoAsyncLoading                      // CMD_NO_ASYNC_LOADING
	CmdNoMulti                             // CMD_NO_MULTI: not allowed inside MULTI
	CmdMovablekeys                         // CMD_MOVABLE_KEYS: computed from key specs, never in the table
	CmdAllowBusy                           // CMD_ALLOW_BUSY
)

// flagNames are the COMMAND INFO names of the flags, by bit position.
var flagNames = [...]string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
	"blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
	"fast", "no_auth", "may_replicate", "no_mandatory_keys", "no_async_loading",
	"no_multi", "movablekeys", "allow_busy",
}

// Begin-search and find-keys kinds of a key spec (KSPEC_BS_* and
// KSPEC_FK_* in src/server.h).
const (
	bsUnknown uint8 = iota // KSPEC_BS_UNKNOWN
	bsIndex                // KSPEC_BS_INDEX
	bsKeyword              // KSPEC_BS_KEYWORD
)

const (
	fkUnknown uint8 = iota // KSPEC_FK_UNKNOWN
	fkRange                // KSPEC_FK_RANGE
	fkKeynum               // KSPEC_FK_KEYNUM
)

// KeySpec is one key specification of a command, as COMMAND INFO reports
// it (see src/commands/*.json "key_specs").
type KeySpec struct {
	Flags       []string
	Notes       string
	BS          uint8 // bsIndex, bsKeyword or bsUnknown
	BSIndex     int
	BSKeyword   string
	BSStartFrom int
	FK          uint8 // fkRange, fkKeynum or fkUnknown
	LastKey     int   // fkRange
	KeyStep     int   // fkRange and fkKeynum
	Limit       int   // fkRange
	KeyNumIdx   int   // fkKeynum
	FirstKey    int   // fkKeynum
}

// CommandDoc is what COMMAND DOCS reports for a command.
type CommandDoc struct {
	Summary         string
	Since           string
	Group           string
	Complexity      string
	DocFlags        []string
	DeprecatedSince string
	ReplacedBy      string
	History         [][2]string
	// ArgsJSON is the "arguments" reply as JSON whose key order is Redis's
	// reply order (see writeDocArgs).
	ArgsJSON string
}

// HandlerFunc runs one command. args[0] is the command name as the client
// sent it. The arity has already been checked. args and every slice in it
// are valid only until the handler returns.
type HandlerFunc func(c *Ctx, args [][]byte)

// Command is one row of the command table.
type Command struct {
	Name        string // lower case; "parent|sub" for a subcommand
	Arity       int    // Redis rule: N means exactly N, -N means at least N (name included)
	Flags       CmdFlag
	First       int // first key position (legacy range)
	Last        int // last key position; negative counts from the end
	Step        int
	ACL         []string
	Tips        []string
	KeySpecs    []KeySpec
	Doc         CommandDoc
	Subcommands []*Command

	// Handler serves the command; nil for write commands (answered by the
	// single READONLY path, or forwarded) and for containers.
	Handler HandlerFunc

	in     versionSet // the personalities whose table has this row
	parent *Command
	subs   map[string]*Command
	stats  *cmdStats // set for every row at init
	// noTouch: its lookups leave access times alone (see lookupNoTouch).
	noTouch bool
	// script: EVAL*, FCALL*: flags depend on the script (scripting.go).
	script bool
}

// FullName is "name" or "parent|sub" (Redis's fullname).
func (cmd *Command) FullName() string { return cmd.Name }

// IsWrite reports whether the command has the write flag.
func (cmd *Command) IsWrite() bool { return cmd.Flags&CmdWrite != 0 }

// arityOK applies Redis's arity rule (see commandCheckArity in src/server.c).
func (cmd *Command) arityOK(argc int) bool {
	if cmd.Arity > 0 {
		return argc == cmd.Arity
	}
	return argc >= -cmd.Arity
}

// movableKeys reports whether the key positions cannot be told from
// First/Last/Step alone (populateCommandMovableKeys in src/server.c).
func (cmd *Command) movableKeys() bool {
	for _, ks := range cmd.KeySpecs {
		if ks.BS != bsIndex || ks.FK != fkRange {
			return true
		}
	}
	return false
}
