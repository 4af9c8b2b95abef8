package projection

import (
	"fmt"
	"math"
	"strconv"
)

// ---- hash commands (src/t_hash.c) ----

func (c *ctx) hashFor(key []byte, create bool) (*hashObj, error) {
	o, exists, err := c.typed(key, KindHash)
	if err != nil {
		return nil, err
	}
	if exists {
		return o.hash(), nil
	}
	if !create {
		return nil, nil
	}
	o = obj{kind: KindHash}
	c.d.storeNew(key, &o)
	return o.hash(), nil
}

// hsetCommand: HSET/HMSET key field value [field value …].
func hsetCommand(c *ctx) error {
	if len(c.argv) < 4 || len(c.argv)%2 != 0 {
		return ErrSyntax
	}
	h, err := c.hashFor(c.argv[1], true)
	if err != nil {
		return err
	}
	tp := c.a.p.textPack()
	h.reserve(c.argv[2:], c.ec, tp)
	for i := 2; i < len(c.argv); i += 2 {
		h.set(c.argv[i], c.argv[i+1], c.ec, tp)
	}
	c.notify(NotifyHash, "hset", c.argv[1])
	return nil
}

func hsetnxCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	h, err := c.hashFor(c.argv[1], true)
	if err != nil {
		return err
	}
	if !h.has(c.argv[2]) {
		h.set(c.argv[2], c.argv[3], c.ec, c.a.p.textPack())
		c.notify(NotifyHash, "hset", c.argv[1])
	}
	return nil
}

func hdelCommand(c *ctx) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	h, err := c.hashFor(c.argv[1], false)
	if err != nil || h == nil {
		return err
	}
	deleted := false
	for _, f := range c.argv[2:] {
		if h.del(f) {
			deleted = true
		}
	}
	if !deleted {
		return nil
	}
	c.notify(NotifyHash, "hdel", c.argv[1])
	c.dropIfEmpty(c.d, c.argv[1], h.count())
	return nil
}

func hincrbyCommand(c *ctx) error {
	if err := c.arity(4, false); err != nil {
		return err
	}
	by, err := parseInt(c.argv[3])
	if err != nil {
		return err
	}
	h, err := c.hashFor(c.argv[1], false)
	if err != nil {
		return err
	}
	var cur int64
	if h != nil {
		if v, ok := h.get(c.argv[2], nil); ok {
			x, ok := parseStrictInt(v)
			if !ok {
				return fmt.Errorf("hash value is not an integer: %w", ErrNotInteger)
			}
			cur = x
		}
	}
	if (by < 0 && cur < 0 && by < math.MinInt64-cur) || (by > 0 && cur > 0 && by > math.MaxInt64-cur) {
		return ErrOverflow
	}
	if h == nil {
		h, _ = c.hashFor(c.argv[1], true)
	}
	h.setKeepTTL(c.argv[2], strconv.AppendInt(nil, cur+by, 10), c.ec, c.a.p.textPack()) // HASH_SET_KEEP_TTL
	c.notify(NotifyHash, "hincrby", c.argv[1])
	return nil
}
