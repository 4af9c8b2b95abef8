package script

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Function libraries (Redis 7.0 functions, src/function_lua.c). A
// library's code runs once per state with only redis.register_function,
// redis.log and the version fields visible (luaEngineCreate's load
// globals); the callbacks it registers then run with the full sandbox,
// KEYS and ARGV passed as their two arguments.

// Function is one registered function.
type Function struct {
	Name        string
	Description string
	HasDesc     bool
	Flags       Flags
	Library     string
}

// Library is one loaded library.
type Library struct {
	Name      string
	Code      string     // as loaded, shebang included
	Functions []Function // sorted by name
	Err       error      // the code could not be loaded here (Redis's error text)
	proto     *lua.FunctionProto
}

// loadTimeout bounds running a library's code (LOAD_TIMEOUT_MS).
const loadTimeout = 500 * time.Millisecond

// LibCode is a library as the primary sent it.
type LibCode struct {
	Name string
	Code string
}

type libSet struct {
	token any
	list  []*Library // sorted by name
	fns   map[string]*Function
}

// libLoad collects what a library registers while its code runs.
type libLoad struct {
	lib *Library
	fns map[string]*lua.LFunction
	err string
}

// SetLibraries makes libs the loaded libraries unless token (an identity
// of the set, compared with ==) is the one already loaded. Libraries are
// compiled and run once here to learn their functions; libraries already
// known by their code are reused.
func (e *Engine) SetLibraries(token any, libs []LibCode) {
	if cur := e.libs.Load(); cur != nil && cur.token == token {
		return
	}
	old := map[string]*Library{}
	if cur := e.libs.Load(); cur != nil {
		for _, l := range cur.list {
			old[l.Code] = l
		}
	}
	set := &libSet{token: token, fns: map[string]*Function{}}
	var st *State
	for _, lc := range libs {
		l := old[lc.Code]
		if l == nil {
			if st == nil {
				st = newState(e, false)
				defer st.L.Close()
			}
			l = &Library{Name: lc.Name, Code: lc.Code}
			l.load(st)
		}
		set.list = append(set.list, l)
		for i := range l.Functions {
			f := &l.Functions[i]
			set.fns[f.Name] = f
		}
	}
	sort.Slice(set.list, func(i, j int) bool { return set.list[i].Name < set.list[j].Name })
	e.libs.Store(set)
}

// Libraries returns the loaded libraries sorted by name (shared; do not
// modify).
func (e *Engine) Libraries() []*Library {
	if s := e.libs.Load(); s != nil {
		return s.list
	}
	return nil
}

// LookupFunction returns the function named name, or nil.
func (e *Engine) LookupFunction(name string) *Function {
	if s := e.libs.Load(); s != nil {
		return s.fns[name]
	}
	return nil
}

// LookupFunctionBytes is LookupFunction of a command argument; it does
// not allocate.
func (e *Engine) LookupFunctionBytes(name []byte) *Function {
	if s := e.libs.Load(); s != nil {
		return s.fns[string(name)]
	}
	return nil
}

// load compiles and runs the library in st to learn its functions.
func (l *Library) load(st *State) {
	code := l.Code
	shebang := strings.IndexByte(code, '\n')
	if !strings.HasPrefix(code, "#!") || shebang < 0 {
		l.Err = fmt.Errorf("Missing library metadata")
		return
	}
	proto, err := compileChunk(code[shebang:], "user_function")
	if err != nil {
		l.Err = fmt.Errorf("Error compiling function: %v", err)
		return
	}
	l.proto = proto
	ld, err := st.runLibrary(l)
	if err != nil {
		l.Err = err
		return
	}
	l.Functions = ld.lib.Functions
	sort.Slice(l.Functions, func(i, j int) bool { return l.Functions[i].Name < l.Functions[j].Name })
}

// runLibrary runs a library's code in st with the load globals and
// returns the callbacks it registered.
func (st *State) runLibrary(l *Library) (*libLoad, error) {
	L := st.L
	ld := &libLoad{lib: &Library{Name: l.Name}, fns: map[string]*lua.LFunction{}}
	st.loading = ld
	st.proxyMT.RawSetString("__index", st.loadG)
	defer func() {
		st.loading = nil
		st.proxyMT.RawSetString("__index", st.g)
	}()
	// The primary accepted the code within FUNCTION LOAD's 500 ms
	// (luaEngineLoadHook); a library still running after that is refused.
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()
	fn := L.NewFunctionFromProto(l.proto)
	fn.Env = st.proxy
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		if ctx.Err() != nil {
			L.SetTop(0)
			return nil, fmt.Errorf("FUNCTION LOAD timeout")
		}
		obj := errObject(err)
		msg := ""
		if t, ok := obj.(*lua.LTable); ok {
			if s, ok := t.RawGetString("err").(lua.LString); ok {
				msg = string(s)
			}
		} else {
			msg = "ERR " + lua.LVAsString(obj)
		}
		L.SetTop(0)
		return nil, fmt.Errorf("Error registering functions: %s", msg)
	}
	return ld, nil
}

// registerFunction is luaRegisterFunction.
func (st *State) registerFunction(L *lua.LState) int {
	ld := st.loading
	if ld == nil {
		raiseError(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	var f Function
	var cb *lua.LFunction
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			raiseError(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var errMsg string
		t.ForEach(func(k, v lua.LValue) {
			if errMsg != "" {
				return
			}
			if k.Type() != lua.LTString && k.Type() != lua.LTNumber {
				errMsg = "named argument key given to redis.register_function is not a string"
				return
			}
			switch strings.ToLower(lua.LVAsString(k)) {
			case "function_name":
				if v.Type() != lua.LTString && v.Type() != lua.LTNumber {
					errMsg = "function_name argument given to redis.register_function must be a string"
					return
				}
				f.Name = lua.LVAsString(v)
			case "description":
				if v.Type() != lua.LTString && v.Type() != lua.LTNumber {
					errMsg = "description argument given to redis.register_function must be a string"
					return
				}
				f.Description, f.HasDesc = lua.LVAsString(v), true
			case "callback":
				fn, ok := v.(*lua.LFunction)
				if !ok {
					errMsg = "callback argument given to redis.register_function must be a function"
					return
				}
				cb = fn
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					errMsg = "flags argument to redis.register_function must be a table representing function flags"
					return
				}
				for i := 1; ; i++ {
					fv := ft.RawGetInt(i)
					if fv == lua.LNil {
						break
					}
					found := false
					if fv.Type() == lua.LTString || fv.Type() == lua.LTNumber {
						for _, fn := range flagNames {
							if strings.EqualFold(fn.name, lua.LVAsString(fv)) {
								f.Flags |= fn.f
								found = true
							}
						}
					}
					if !found {
						errMsg = "unknown flag given"
						return
					}
				}
			default:
				errMsg = "unknown argument given to redis.register_function"
			}
		})
		if errMsg != "" {
			raiseError(L, errMsg)
		}
		if f.Name == "" {
			raiseError(L, "redis.register_function must get a function name argument")
		}
		if cb == nil {
			raiseError(L, "redis.register_function must get a callback argument")
		}
	case 2:
		if v := L.Get(1); v.Type() != lua.LTString && v.Type() != lua.LTNumber {
			raiseError(L, "first argument to redis.register_function must be a string")
		}
		f.Name = L.ToString(1)
		fn, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			raiseError(L, "second argument to redis.register_function must be a function")
		}
		cb = fn
	default:
		raiseError(L, "wrong number of arguments to redis.register_function")
	}
	if !validName(f.Name) {
		raiseError(L, "Function names can only contain letters, numbers, or underscores(_) and must be at least one character long")
	}
	if _, dup := ld.fns[f.Name]; dup {
		raiseError(L, "Function already exists in the library")
	}
	f.Library = ld.lib.Name
	ld.fns[f.Name] = cb
	ld.lib.Functions = append(ld.lib.Functions, f)
	return 0
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ensureLibs loads the engine's current libraries into a function state.
func (st *State) ensureLibs(set *libSet) {
	if st.libs == set {
		return
	}
	clear(st.fcalls)
	for _, l := range set.list {
		if l.Err != nil || l.proto == nil {
			continue
		}
		ld, err := st.runLibrary(l)
		if err != nil {
			continue
		}
		direct := !setsGlobals(l.proto)
		for name, fn := range ld.fns {
			if direct && fn.Proto != nil {
				fn.Env = st.g // see setsGlobals; only now that the code has loaded
			}
			st.fcalls[name] = fn
		}
	}
	st.libs = set
}

// Call runs function f with KEYS and ARGV as its arguments and appends
// its reply to dst (luaEngineCall). The tables are new at each call: a
// library's callbacks may keep them (in the library's locals).
func (e *Engine) Call(dst []byte, f *Function, r *Run, keys, args [][]byte) []byte {
	set := e.libs.Load()
	st := e.getState(false)
	r.Name = f.Name
	st.ensureLibs(set)
	fn := st.fcalls[f.Name]
	if fn == nil {
		e.putState(st)
		return appendError(dst, "-ERR Function not found")
	}
	st.begin(r)
	all := joinArgs(keys, args)
	kt, off := st.strTable(keys, all, 0)
	at, _ := st.strTable(args, all, off)
	st.L.Push(kt)
	st.L.Push(at)
	defer st.finish()
	return st.call(dst, r, fn, 2)
}
