package projection

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vdr-project/vdr/internal/funclib"
	"github.com/vdr-project/vdr/rdbparse"
)

// Function libraries (Redis 7.0 functions, src/functions.c).
//
// A primary sends FUNCTION LOAD/DELETE/FLUSH/RESTORE verbatim on the link
// (replication-stream.md §2) and its RDB carries each library as
// RDB_OPCODE_FUNCTION2 (the code). A full sync replaces the libraries
// (a replica's emptyData flushes functions); FLUSHALL keeps them. The
// projection keeps name → code, plus what internal/funclib can tell of
// the functions without running Lua. A set of libraries is immutable
// once published: writers copy it, readers load one pointer.

// Library is one function library.
type Library struct {
	Name   string
	Engine string // "LUA", as FUNCTION LIST names the engine
	Code   string // the whole library as loaded, shebang included
	// Functions lists what the code registers, sorted by name, when
	// internal/funclib could tell statically; else FunctionsErr says why.
	// Shared: do not modify.
	Functions    []funclib.Function
	FunctionsErr error
}

// libraries is one published set.
type libraries struct {
	m map[string]*Library
	// incomplete is set when a library could not be mirrored (a shebang
	// funclib does not read): the set is then not the primary's.
	incomplete bool
}

// ErrFunctionsIncomplete is returned by Libraries when a library sent by
// the primary could not be mirrored since the last full sync or FLUSH.
var ErrFunctionsIncomplete = errors.New("projection: function libraries not all known")

// Libraries returns the function libraries sorted by name. The values are
// shared and immutable.
func (p *Projection) Libraries() ([]Library, error) {
	ls := p.cur.Load().fn.Load()
	if ls == nil {
		return nil, nil
	}
	if ls.incomplete {
		return nil, ErrFunctionsIncomplete
	}
	out := make([]Library, 0, len(ls.m))
	for _, l := range ls.m {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// newLibrary reads a library's code as functionsCreateWithLibraryCtx
// would: the shebang names it and its engine, which must be Lua.
func newLibrary(code string) (*Library, error) {
	m, err := funclib.ParseMeta(code)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(m.Engine, "lua") {
		return nil, fmt.Errorf("Engine '%s' not found: %w", m.Engine, ErrSyntax)
	}
	l := &Library{Name: m.Name, Engine: "LUA", Code: code}
	l.Functions, l.FunctionsErr = funclib.Functions(code)
	return l, nil
}

// clone copies a set for modification.
func (ls *libraries) clone() *libraries {
	n := &libraries{m: map[string]*Library{}}
	if ls != nil {
		for k, v := range ls.m {
			n.m[k] = v
		}
		n.incomplete = ls.incomplete
	}
	return n
}

// markIncomplete publishes the current set flagged incomplete.
func markIncomplete(ds *dataset) {
	n := ds.fn.Load().clone()
	n.incomplete = true
	ds.fn.Store(n)
}

// functionCommand: FUNCTION LOAD|DELETE|FLUSH|RESTORE from the link; the
// other subcommands change nothing.
func functionCommand(c *ctx) error {
	if len(c.argv) < 2 {
		return ErrSyntax
	}
	ds := c.ds
	switch sub := c.argv[1]; {
	case eq(sub, "load"):
		// FUNCTION LOAD [REPLACE] code (functionLoadCommand).
		replace, at := false, 2
		if len(c.argv) > 3 && eq(c.argv[2], "replace") {
			replace, at = true, 3
		}
		if at != len(c.argv)-1 {
			return ErrSyntax
		}
		l, err := newLibrary(string(c.argv[at]))
		if err != nil {
			if errors.Is(err, funclib.ErrUncertain) {
				markIncomplete(ds)
				return fmt.Errorf("FUNCTION LOAD: %v: %w", err, ErrUnsupported)
			}
			return err
		}
		cur := ds.fn.Load()
		if cur != nil && cur.m[l.Name] != nil && !replace {
			return fmt.Errorf("Library '%s' already exists: %w", l.Name, ErrSyntax)
		}
		n := cur.clone()
		n.m[l.Name] = l
		ds.fn.Store(n)
	case eq(sub, "delete"):
		if len(c.argv) != 3 {
			return ErrSyntax
		}
		cur := ds.fn.Load()
		name := string(c.argv[2])
		if cur == nil || cur.m[name] == nil {
			if cur != nil && cur.incomplete {
				return nil // possibly one of those not mirrored
			}
			return fmt.Errorf("Library not found: %w", ErrSyntax)
		}
		n := cur.clone()
		delete(n.m, name)
		ds.fn.Store(n)
	case eq(sub, "flush"):
		if len(c.argv) > 3 || len(c.argv) == 3 && !eq(c.argv[2], "async") && !eq(c.argv[2], "sync") {
			return ErrSyntax
		}
		ds.fn.Store(nil)
	case eq(sub, "restore"):
		return functionRestore(c)
	}
	return nil
}

// functionRestore: FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
// (functionRestoreCommand): every library of the payload is added; APPEND
// (the default) fails if one exists, REPLACE replaces it, FLUSH drops all
// first. All or nothing.
func functionRestore(c *ctx) error {
	if len(c.argv) < 3 || len(c.argv) > 4 {
		return ErrSyntax
	}
	policy := "append"
	if len(c.argv) == 4 {
		switch a := c.argv[3]; {
		case eq(a, "flush"), eq(a, "append"), eq(a, "replace"):
			policy = string(lower(a))
		default:
			return fmt.Errorf("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE: %w", ErrSyntax)
		}
	}
	codes, err := decodeFunctionDump(c.argv[2])
	if err != nil {
		return err
	}
	cur := c.ds.fn.Load()
	var n *libraries
	if policy == "flush" {
		n = (*libraries)(nil).clone()
	} else {
		n = cur.clone()
	}
	uncertain := false
	for _, code := range codes {
		l, err := newLibrary(code)
		if err != nil {
			if errors.Is(err, funclib.ErrUncertain) {
				uncertain = true
				continue
			}
			return err
		}
		if n.m[l.Name] != nil && policy == "append" {
			return fmt.Errorf("Library %s already exists: %w", l.Name, ErrSyntax)
		}
		n.m[l.Name] = l
	}
	if uncertain {
		n.incomplete = true
		c.ds.fn.Store(n)
		return fmt.Errorf("FUNCTION RESTORE: a library's metadata not read: %w", ErrUnsupported)
	}
	c.ds.fn.Store(n)
	return nil
}

// decodeFunctionDump reads a FUNCTION DUMP payload: RDB_OPCODE_FUNCTION2
// records, then the RDB version (2 bytes LE) and a CRC-64 (8 bytes LE)
// (src/functions.c functionDumpCommand). The records are parsed by
// rdbparse inside a synthetic RDB file, so that LZF-compressed code
// strings are handled by the one RDB string reader.
func decodeFunctionDump(payload []byte) ([]string, error) {
	if len(payload) < 10 {
		return nil, fmt.Errorf("payload version or checksum are wrong: %w", ErrSyntax)
	}
	body, foot := payload[:len(payload)-10], payload[len(payload)-10:]
	ver := binary.LittleEndian.Uint16(foot)
	if crc := binary.LittleEndian.Uint64(foot[2:]); crc != 0 && crc != rdbparse.CRC64(payload[:len(payload)-8]) {
		return nil, fmt.Errorf("payload version or checksum are wrong: %w", ErrSyntax)
	}
	if ver < 10 || ver > 13 {
		return nil, fmt.Errorf("payload version or checksum are wrong (version %d): %w", ver, ErrSyntax)
	}
	var file bytes.Buffer
	fmt.Fprintf(&file, "REDIS%04d", ver)
	file.Write(body)
	file.WriteByte(rdbparse.OpcodeEOF)
	file.Write(binary.LittleEndian.AppendUint64(nil, rdbparse.CRC64(file.Bytes())))
	h := &functionCollector{}
	if err := rdbparse.Parse(&file, h, nil); err != nil {
		return nil, fmt.Errorf("FUNCTION RESTORE payload: %v: %w", err, ErrSyntax)
	}
	if h.other {
		return nil, fmt.Errorf("given type is not a function: %w", ErrSyntax)
	}
	return h.codes, nil
}

type functionCollector struct {
	rdbparse.NopHandler
	codes []string
	other bool
}

func (h *functionCollector) Function(code []byte) error {
	h.codes = append(h.codes, string(code))
	return nil
}

func (h *functionCollector) Aux(key, value []byte) error   { h.other = true; return nil }
func (h *functionCollector) Entry(e *rdbparse.Entry) error { h.other = true; return nil }

// Function adds a library from the RDB of a full sync
// (RDB_OPCODE_FUNCTION2); the Handler of the sync passes it on.
func (ld *Loader) Function(code []byte) error {
	if ld.done {
		return ErrLoadClosed
	}
	l, err := newLibrary(string(code))
	if err != nil {
		if errors.Is(err, funclib.ErrUncertain) {
			markIncomplete(ld.ds)
			return nil
		}
		return fmt.Errorf("projection: load function library: %w", err)
	}
	n := ld.ds.fn.Load().clone()
	n.m[l.Name] = l
	ld.ds.fn.Store(n)
	return nil
}

// LibrariesToken returns a value that changes (by ==) whenever the set of
// function libraries changes, so a cache built from Libraries can tell it
// is current without calling Libraries.
func (p *Projection) LibrariesToken() any {
	return p.cur.Load().fn.Load()
}
