package script

import (
	"math"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// rand48 is Redis's redisLrand48/redisSrand48 (src/rand.c): the 48-bit
// linear congruential generator of drand48, x = a·x + c mod 2^48, one
// sequence for the whole process. Redis 7.0 never reseeds it between
// scripts (the "random numbers are random now" test of
// tests/unit/scripting.tcl); only math.randomseed does.
type rand48 struct {
	mu sync.Mutex
	x  uint64
}

const (
	rand48Init = 0x1234ABCD330E // X2 X1 X0
	rand48A    = 0x5DEECE66D
	rand48C    = 0xB
	rand48Mask = 1<<48 - 1
	lrand48Max = math.MaxInt32 // REDIS_LRAND48_MAX
)

func (r *rand48) next() int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.x == 0 {
		r.x = rand48Init
	}
	r.x = (rand48A*r.x + rand48C) & rand48Mask
	return int32(r.x >> 17)
}

func (r *rand48) seed(v int32) {
	r.mu.Lock()
	r.x = uint64(uint32(v))<<16 | 0x330E
	r.mu.Unlock()
}

// mathRandom is redis_math_random (Lua's math.random on rand48).
func (s *State) mathRandom(L *lua.LState) int {
	if s.run == nil {
		L.RaiseError("math.random can only be called inside a script invocation")
	}
	x := float64(s.eng.rand.next()%lrand48Max) / float64(lrand48Max)
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(x))
	case 1:
		u := int(L.CheckNumber(1))
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(x*float64(u)) + 1))
	case 2:
		l := int(L.CheckNumber(1))
		u := int(L.CheckNumber(2))
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(x*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (s *State) mathRandomseed(L *lua.LState) int {
	if s.run == nil {
		L.RaiseError("math.randomseed can only be called inside a script invocation")
	}
	s.eng.rand.seed(int32(int64(L.CheckNumber(1))))
	return 0
}
