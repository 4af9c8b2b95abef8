package projection

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"
)

func ptrOf[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

// ---- string commands (src/t_string.c) ----

// setCommand: SET key value [NX|XX] [GET] [KEEPTTL|EX s|PX ms|EXAT s|PXAT ms].
func setCommand(c *ctx) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	var nx, xx, keepttl, hasExp bool
	var exp int64
	for i := 3; i < len(c.argv); i++ {
		a := c.argv[i]
		switch {
		case eq(a, "nx") && !xx:
			nx = true
		case eq(a, "xx") && !nx:
			xx = true
		case eq(a, "get"):
		case eq(a, "keepttl") && !hasExp:
			keepttl = true
		case (eq(a, "ex") || eq(a, "px") || eq(a, "exat") || eq(a, "pxat")) && !keepttl && !hasExp && i+1 < len(c.argv):
			v, err := parseInt(c.argv[i+1])
			if err != nil {
				return err
			}
			if v <= 0 {
				return fmt.Errorf("invalid expire time in 'set' command: %w", ErrSyntax)
			}
			unit := int64(1)
			if eq(a, "ex") || eq(a, "exat") {
				unit = 1000
			}
			if v > math.MaxInt64/unit {
				return fmt.Errorf("invalid expire time in 'set' command: %w", ErrSyntax)
			}
			v *= unit
			if eq(a, "ex") || eq(a, "px") {
				if v > math.MaxInt64-c.nowMs() {
					return fmt.Errorf("invalid expire time in 'set' command: %w", ErrSyntax)
				}
				v += c.nowMs()
			}
			exp, hasExp = v, true
			i++
		default:
			return ErrSyntax
		}
	}
	key := c.argv[1]
	if nx || xx || keepttl {
		old, exists := c.d.lookup(key)
		if (nx && exists) || (xx && !exists) {
			return nil
		}
		if keepttl && exists {
			exp = old.exp
		}
	}
	c.d.setString(key, c.argv[2], exp)
	c.notify(NotifyString, "set", key)
	if hasExp {
		c.notify(NotifyGeneric, "expire", key)
	}
	return nil
}

func setnxCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	if _, exists := c.d.lookup(c.argv[1]); !exists {
		c.d.setString(c.argv[1], c.argv[2], 0)
		c.notify(NotifyString, "set", c.argv[1])
	}
	return nil
}

func setexGeneric(c *ctx, unit int64) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	v, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	if v <= 0 || v > (math.MaxInt64-c.nowMs())/unit {
		return fmt.Errorf("invalid expire time: %w", ErrSyntax)
	}
	c.d.setString(c.argv[1], c.argv[3], c.nowMs()+v*unit)
	c.notify(NotifyString, "set", c.argv[1])
	c.notify(NotifyGeneric, "expire", c.argv[1])
	return nil
}

func setexCommand(c *ctx) error  { return setexGeneric(c, 1000) }
func psetexCommand(c *ctx) error { return setexGeneric(c, 1) }

func getsetCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	if _, _, err := c.typed(c.argv[1], KindString); err != nil {
		return err
	}
	c.d.setString(c.argv[1], c.argv[2], 0)
	c.notify(NotifyString, "set", c.argv[1])
	return nil
}

func msetCommand(c *ctx) error {
	if len(c.argv) < 3 || len(c.argv)%2 == 0 {
		return ErrSyntax
	}
	for i := 1; i < len(c.argv); i += 2 {
		c.d.setString(c.argv[i], c.argv[i+1], 0)
		c.notify(NotifyString, "set", c.argv[i])
	}
	return nil
}

func msetnxCommand(c *ctx) error {
	if len(c.argv) < 3 || len(c.argv)%2 == 0 {
		return ErrSyntax
	}
	for i := 1; i < len(c.argv); i += 2 {
		if _, exists := c.d.lookup(c.argv[i]); exists {
			return nil
		}
	}
	return msetCommand(c)
}

// boxed returns key's string as a growable raw value (converting an
// inline one), for in-place edits; Redis's dbUnshareStringValue makes it
// OBJ_ENCODING_RAW the same way.
func boxed(d *db, key []byte, o obj) *rawStr {
	if o.flags&flagBoxed != 0 {
		return (*rawStr)(o.ptr) // boxed strings are always encRaw
	}
	r := &rawStr{b: append([]byte(nil), o.bytes()...)}
	o.ptr, o.n, o.flags, o.enc = ptrOf(r), 0, o.flags&^flagCoded|flagBoxed, encRaw
	d.update(key, o)
	return r
}

const maxStringBytes = 512 << 20 // proto-max-bulk-len

func appendCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	key := c.argv[1]
	o, exists, err := c.typed(key, KindString)
	if err != nil {
		return err
	}
	if !exists {
		c.d.setString(key, c.argv[2], 0)
		c.notify(NotifyString, "append", key)
		return nil
	}
	if len(o.bytes())+len(c.argv[2]) > maxStringBytes {
		return fmt.Errorf("string exceeds maximum allowed size: %w", ErrOutOfRange)
	}
	r := boxed(c.d, key, o)
	r.b = append(r.b, c.argv[2]...)
	c.notify(NotifyString, "append", key)
	return nil
}

func setrangeCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	key, val := c.argv[1], c.argv[3]
	off, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	if off < 0 || off+int64(len(val)) > maxStringBytes {
		return fmt.Errorf("offset is out of range: %w", ErrOutOfRange)
	}
	o, exists, err := c.typed(key, KindString)
	if err != nil {
		return err
	}
	if len(val) == 0 {
		return nil
	}
	var r *rawStr
	if !exists {
		r = &rawStr{}
		c.d.store(key, obj{kind: KindString, enc: encRaw, flags: flagBoxed, ptr: ptrOf(r)})
	} else {
		r = boxed(c.d, key, o)
	}
	end := int(off) + len(val)
	if end > len(r.b) {
		r.b = append(r.b, make([]byte, end-len(r.b))...)
	}
	copy(r.b[off:], val)
	c.notify(NotifyString, "setrange", key)
	return nil
}

func incrGeneric(c *ctx, by int64) error {
	key := c.argv[1]
	o, exists, err := c.typed(key, KindString)
	if err != nil {
		return err
	}
	var cur int64
	if exists {
		v, ok := parseStrictInt(o.bytes())
		if !ok {
			return ErrNotInteger
		}
		cur = v
	}
	if (by < 0 && cur < 0 && by < math.MinInt64-cur) || (by > 0 && cur > 0 && by > math.MaxInt64-cur) {
		return ErrOverflow
	}
	var buf [24]byte
	nv := strconv.AppendInt(buf[:0], cur+by, 10)
	c.d.setString(key, nv, o.exp) // INCR keeps the TTL; result is int-encoded
	c.notify(NotifyString, "incrby", key)
	return nil
}

func incrCommand(c *ctx) error {
	if err := c.arity(2, false); err != nil {
		return err
	}
	return incrGeneric(c, 1)
}

func decrCommand(c *ctx) error {
	if err := c.arity(2, false); err != nil {
		return err
	}
	return incrGeneric(c, -1)
}

func incrbyCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	by, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	return incrGeneric(c, by)
}

func decrbyCommand(c *ctx) error {
	if err := c.arity(3, false); err != nil {
		return err
	}
	by, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	if by == math.MinInt64 {
		return fmt.Errorf("decrement would overflow: %w", ErrOverflow)
	}
	return incrGeneric(c, -by)
}
