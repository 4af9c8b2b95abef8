// Package funclib reads what a Redis 7 function library declares without
// running it: the shebang line ("#!lua name=mylib", see
// functionExtractLibMetaData in src/functions.c) and, for Lua, the
// functions it registers with redis.register_function (src/function_lua.c).
//
// Redis learns a library's functions by running its code. The projection
// uses this package to mirror libraries without running Lua (the commands
// run the code in internal/script for FUNCTION LIST and FCALL), so
// Functions recognises only the plain, static forms
//
//	redis.register_function('name', callback)
//	redis.register_function{function_name='name', callback=f,
//	                        flags={'no-writes'}, description='text'}
//	redis.register_function({...})
//
// written as top-level statements with literal strings, and reports
// ErrUncertain for anything else (a call inside a block or a helper
// function, a computed name, an alias of redis or of register_function,
// load/loadstring/_G…), so a caller never states what it does not know.
// It does not check the rest of the code: the primary already ran it.
package funclib

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

var (
	// ErrMetadata is a shebang line Redis rejects.
	ErrMetadata = errors.New("funclib: invalid library metadata")
	// ErrUncertain means the code registers functions in a way this
	// package does not follow statically.
	ErrUncertain = errors.New("funclib: functions not statically known")
)

// Meta is what a library's first line declares.
type Meta struct {
	Engine string // as written after "#!" ("lua"); Redis matches it case-insensitively
	Name   string // the library name (name=…)
}

// ParseMeta reads the shebang line as functionExtractLibMetaData does. A
// quoted argument (which sdssplitargs would unquote) is reported as
// ErrUncertain rather than guessed.
func ParseMeta(code string) (Meta, error) {
	if !strings.HasPrefix(code, "#!") {
		return Meta{}, fmt.Errorf("Missing library metadata: %w", ErrMetadata)
	}
	nl := strings.IndexByte(code, '\n')
	if nl < 0 {
		return Meta{}, fmt.Errorf("Invalid library metadata: %w", ErrMetadata)
	}
	line := code[:nl]
	if strings.ContainsAny(line, "\"'\\") {
		return Meta{}, fmt.Errorf("quoted shebang arguments: %w", ErrUncertain)
	}
	parts := strings.FieldsFunc(line, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\v' || r == '\f'
	})
	if len(parts) == 0 {
		return Meta{}, fmt.Errorf("Invalid library metadata: %w", ErrMetadata)
	}
	m := Meta{Engine: parts[0][2:]}
	seen := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(p[:5], "name=") {
			if seen {
				return Meta{}, fmt.Errorf("Invalid metadata value, name argument was given multiple times: %w", ErrMetadata)
			}
			m.Name, seen = p[5:], true
			continue
		}
		return Meta{}, fmt.Errorf("Invalid metadata value given: %s: %w", p, ErrMetadata)
	}
	if !seen {
		return Meta{}, fmt.Errorf("Library name was not given: %w", ErrMetadata)
	}
	return m, nil
}

// Function is one registered function.
type Function struct {
	Name        string
	Description string // valid when HasDesc
	HasDesc     bool
	Flags       []string // in scripts_flags_def order (src/script.c)
}

// flagOrder is scripts_flags_def: the order FUNCTION LIST lists flags in.
var flagOrder = []string{"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}

// dynamic are names through which code could reach register_function (or
// build code) without writing "redis.register_function" literally.
var dynamic = map[string]bool{
	"load": true, "loadstring": true, "dofile": true, "loadfile": true, "_G": true,
	"getfenv": true, "setfenv": true, "rawget": true, "rawset": true, "setmetatable": true,
	"getmetatable": true, "require": true, "pcall": true, "xpcall": true,
}

// Functions returns the functions a Lua library registers, sorted by
// name, or ErrUncertain. code is the whole library (shebang included).
func Functions(code string) ([]Function, error) {
	if i := strings.IndexByte(code, '\n'); i >= 0 && strings.HasPrefix(code, "#!") {
		code = code[i+1:]
	}
	toks, err := lex(code)
	if err != nil {
		return nil, err
	}
	var out []Function
	block, nest := 0, 0 // function/do/if/repeat blocks; ( { [ nesting
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tkName && dynamic[t.s]:
			return nil, fmt.Errorf("%q used: %w", t.s, ErrUncertain)
		case t.kind == tkString && strings.Contains(t.s, "register_function"):
			return nil, fmt.Errorf("register_function named in a string: %w", ErrUncertain)
		case t.kind == tkName && t.s == "redis" && i+2 < len(toks) && toks[i+1].is(".") && toks[i+2].is("register_function"):
			if block != 0 || nest != 0 || (i > 0 && !stmtStart(toks[i-1])) {
				return nil, fmt.Errorf("register_function inside a block or expression: %w", ErrUncertain)
			}
			f, next, err := registerCall(toks, i+3)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
			// The callback may open blocks; account for them normally.
			for j := i + 3; j < next; j++ {
				block, nest = depth(toks[j], block, nest)
			}
			i = next - 1
			continue
		case t.kind == tkName && t.s == "register_function",
			t.kind == tkName && t.s == "redis" && !(i+2 < len(toks) && toks[i+1].is(".") && toks[i+2].kind == tkName):
			return nil, fmt.Errorf("%s used other than as redis.<name>: %w", t.s, ErrUncertain)
		}
		block, nest = depth(t, block, nest)
		if block < 0 || nest < 0 {
			return nil, fmt.Errorf("unbalanced blocks: %w", ErrUncertain)
		}
	}
	if len(out) == 0 {
		// Redis refuses a library registering nothing ("No functions
		// registered"); the primary would not have accepted it.
		return nil, fmt.Errorf("no functions registered: %w", ErrUncertain)
	}
	seen := map[string]bool{}
	for _, f := range out {
		if seen[f.Name] {
			return nil, fmt.Errorf("function %s registered twice: %w", f.Name, ErrUncertain)
		}
		seen[f.Name] = true
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// stmtStart reports whether the token before "redis" ends what precedes,
// so that the call is a statement of its own, not part of an expression
// ("local f = redis.register_function", "x or redis.…").
func stmtStart(t token) bool {
	switch t.kind {
	case tkName:
		switch t.s {
		case "and", "or", "not", "return", "local", "in", "until", "while", "if", "elseif", "for":
			return false
		}
		return true
	case tkString, tkNumber:
		return true
	}
	return t.is(";") || t.is(")") || t.is("}") || t.is("]")
}

func depth(t token, block, nest int) (int, int) {
	switch {
	case t.kind == tkName:
		switch t.s {
		case "function", "do", "if", "repeat":
			block++
		case "end", "until":
			block--
		}
	case t.is("(") || t.is("{") || t.is("["):
		nest++
	case t.is(")") || t.is("}") || t.is("]"):
		nest--
	}
	return block, nest
}

// registerCall reads the arguments of redis.register_function starting at
// toks[i] (the token after the name) and returns the function and the
// index after the call.
func registerCall(toks []token, i int) (Function, int, error) {
	var f Function
	at := func(j int) token {
		if j < len(toks) {
			return toks[j]
		}
		return token{}
	}
	switch {
	case at(i).is("(") && at(i+1).kind == tkString && at(i+2).is(","):
		f.Name = at(i + 1).s
		end, err := skipBalanced(toks, i) // the whole (…)
		if err != nil {
			return f, 0, err
		}
		if err := checkName(f.Name); err != nil {
			return f, 0, err
		}
		return f, end, nil
	case at(i).is("{"):
		return namedArgs(toks, i, false)
	case at(i).is("(") && at(i+1).is("{"):
		f, end, err := namedArgs(toks, i+1, true)
		if err != nil {
			return f, 0, err
		}
		if !at(end).is(")") {
			return f, 0, fmt.Errorf("register_function({…} …): %w", ErrUncertain)
		}
		return f, end + 1, nil
	}
	return f, 0, fmt.Errorf("register_function called with computed arguments: %w", ErrUncertain)
}

// namedArgs reads {function_name='x', callback=…, flags={…},
// description='…'} starting at the "{" toks[i].
func namedArgs(toks []token, i int, _ bool) (Function, int, error) {
	var f Function
	hasName, hasCallback := false, false
	j := i + 1
	for j < len(toks) && !toks[j].is("}") {
		if toks[j].kind != tkName || j+1 >= len(toks) || !toks[j+1].is("=") {
			return f, 0, fmt.Errorf("register_function table with a non-literal key: %w", ErrUncertain)
		}
		key := strings.ToLower(toks[j].s)
		j += 2
		switch key {
		case "function_name", "description":
			if j >= len(toks) || toks[j].kind != tkString || (j+1 < len(toks) && !(toks[j+1].is(",") || toks[j+1].is(";") || toks[j+1].is("}"))) {
				return f, 0, fmt.Errorf("register_function %s is not a literal string: %w", key, ErrUncertain)
			}
			if key == "function_name" {
				f.Name, hasName = toks[j].s, true
			} else {
				f.Description, f.HasDesc = toks[j].s, true
			}
			j++
		case "flags":
			if j >= len(toks) || !toks[j].is("{") {
				return f, 0, fmt.Errorf("register_function flags is not a literal table: %w", ErrUncertain)
			}
			var set uint
			j++
			for j < len(toks) && !toks[j].is("}") {
				if toks[j].kind != tkString {
					return f, 0, fmt.Errorf("register_function flag is not a literal string: %w", ErrUncertain)
				}
				k := -1
				for n, name := range flagOrder {
					if name == toks[j].s {
						k = n
					}
				}
				if k < 0 {
					return f, 0, fmt.Errorf("unknown flag %q: %w", toks[j].s, ErrUncertain)
				}
				set |= 1 << k
				j++
				if j < len(toks) && (toks[j].is(",") || toks[j].is(";")) {
					j++
				}
			}
			if j >= len(toks) {
				return f, 0, fmt.Errorf("unterminated flags: %w", ErrUncertain)
			}
			j++ // "}"
			for n, name := range flagOrder {
				if set&(1<<n) != 0 {
					f.Flags = append(f.Flags, name)
				}
			}
		case "callback":
			end, err := skipValue(toks, j)
			if err != nil {
				return f, 0, err
			}
			j, hasCallback = end, true
		default:
			return f, 0, fmt.Errorf("register_function argument %q: %w", key, ErrUncertain)
		}
		if j < len(toks) && (toks[j].is(",") || toks[j].is(";")) {
			j++
		}
	}
	if j >= len(toks) || !hasName || !hasCallback {
		return f, 0, fmt.Errorf("register_function table incomplete: %w", ErrUncertain)
	}
	if err := checkName(f.Name); err != nil {
		return f, 0, err
	}
	return f, j + 1, nil
}

// skipValue skips one table field value starting at toks[j]: up to the
// next "," ";" or "}" at the same nesting and block depth.
func skipValue(toks []token, j int) (int, error) {
	block, nest := 0, 0
	for ; j < len(toks); j++ {
		t := toks[j]
		if block == 0 && nest == 0 && (t.is(",") || t.is(";") || t.is("}")) {
			return j, nil
		}
		block, nest = depth(t, block, nest)
		if nest < 0 || block < 0 {
			return 0, fmt.Errorf("unbalanced callback: %w", ErrUncertain)
		}
	}
	return 0, fmt.Errorf("unterminated callback: %w", ErrUncertain)
}

// skipBalanced returns the index after the bracket group opening at
// toks[i].
func skipBalanced(toks []token, i int) (int, error) {
	block, nest := 0, 0
	for j := i; j < len(toks); j++ {
		block, nest = depth(toks[j], block, nest)
		if nest == 0 {
			if block != 0 {
				return 0, fmt.Errorf("unbalanced call: %w", ErrUncertain)
			}
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated call: %w", ErrUncertain)
}

// checkName applies functionsVerifyName: letters, digits and underscores.
func checkName(s string) error {
	if s == "" {
		return fmt.Errorf("empty function name: %w", ErrUncertain)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("function name %q: %w", s, ErrUncertain)
		}
	}
	return nil
}
