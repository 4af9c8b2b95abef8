package script

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Boxing Lua strings. A gopher-lua value is a Go interface, and turning
// an LString into one allocates its 16-byte header, once per string: for
// a script of three GETs, six of its fifteen allocations were these
// headers (three KEYS, three replies). str takes the headers from a slab
// of LStrings instead and makes the interface point into it, as the
// runtime's own conversion points into the header it allocates. A slab
// element is written once, before any interface points to it, and never
// again (append only), which is the immutability the runtime assumes of
// a boxed value.
//
// A value kept past its run keeps its slab, and so the other strings of
// the slab, alive: a function state (whose library's locals may keep
// values from call to call) starts a new slab at each run, so a kept
// value pins only strings of its own run; an EVAL state, whose scripts
// can keep nothing (globals are read-only), goes on filling its slab.

// Slabs hold 32 string headers (16 bytes each) in an EVAL state, 8 in a
// function state, which starts one at each run.
const (
	evalSlabLen = 32
	funcSlabLen = 8
)

// eface is the layout of an interface value with methods (runtime.iface):
// its itab and its data pointer.
type eface struct {
	tab  unsafe.Pointer
	data unsafe.Pointer
}

// lstringTab is the itab of LString as an LValue.
var lstringTab = func() unsafe.Pointer {
	var v lua.LValue = lua.LString("x")
	return (*eface)(unsafe.Pointer(&v)).tab
}()

// str returns s as a Lua value, its header taken from the state's slab.
func (st *State) str(s string) lua.LValue {
	if len(s) == 0 {
		return lua.LString("") // the runtime boxes "" without allocating
	}
	if len(st.slab) == cap(st.slab) {
		n := evalSlabLen
		if !st.evalMode {
			n = funcSlabLen
		}
		st.slab = make([]lua.LString, 0, n)
	}
	st.slab = append(st.slab, lua.LString(s))
	var v lua.LValue
	e := (*eface)(unsafe.Pointer(&v))
	e.tab = lstringTab
	e.data = unsafe.Pointer(&st.slab[len(st.slab)-1])
	return v
}
