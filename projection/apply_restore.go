package projection

import (
	"fmt"

	"github.com/vdr-project/vdr/rdbparse"
)

// restoreHandler feeds a decoded DUMP payload into a scratch Loader under
// the RESTORE key.
type restoreHandler struct {
	rdbparse.NopHandler
	ld  *Loader
	key []byte
}

func (h *restoreHandler) Entry(e *rdbparse.Entry) error {
	cp := *e
	cp.DB, cp.Key, cp.ExpireMs = 0, h.key, -1
	return h.ld.Entry(&cp)
}

// restoreCommand: RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s]
// [FREQ f] (src/cluster.c restoreCommand). The payload is decoded with
// rdbparse.DecodeDump (RDB versions up to 12, so 7.0–7.4 payloads);
// modules are not mirrored (ErrUnsupported: the key is invalidated).
// Hashes with field TTLs keep them.
func restoreCommand(c *ctx) error {
	if err := c.arity(4, true); err != nil {
		return err
	}
	key := c.argv[1]
	ttl, err := parseInt(c.argv[2])
	if err != nil || ttl < 0 {
		return fmt.Errorf("Invalid TTL value, must be >= 0: %w", ErrSyntax)
	}
	var replace, absttl, haveIdle, freq bool
	idle := int64(0)
	for i := 4; i < len(c.argv); i++ {
		switch a := c.argv[i]; {
		case eq(a, "replace"):
			replace = true
		case eq(a, "absttl"):
			absttl = true
		case eq(a, "idletime") && i+1 < len(c.argv) && !freq:
			// IDLETIME and FREQ exclude each other. IDLETIME sets the
			// access time (OBJECT IDLETIME); FREQ is checked and dropped
			// (no LFU counters: vdr reports a non-LFU policy).
			n, err := parseInt(c.argv[i+1])
			if err != nil {
				return err
			}
			if n < 0 {
				return fmt.Errorf("Invalid IDLETIME value, must be >= 0: %w", ErrSyntax)
			}
			idle, haveIdle = n, true
			i++
		case eq(a, "freq") && i+1 < len(c.argv) && !haveIdle:
			n, err := parseInt(c.argv[i+1])
			if err != nil {
				return err
			}
			if n < 0 || n > 255 {
				return fmt.Errorf("Invalid FREQ value, must be >= 0 and <= 255: %w", ErrSyntax)
			}
			freq = true
			i++
		default:
			return ErrSyntax
		}
	}
	if _, exists := c.d.lookup(key); exists && !replace {
		return fmt.Errorf("BUSYKEY Target key name already exists: %w", ErrSyntax)
	}
	scratch := newDB(1, 1)
	ld := &Loader{p: c.a.p, ds: &dataset{dbs: []*db{scratch}}, ec: c.ec}
	if _, err := rdbparse.DecodeDump(c.argv[3], &restoreHandler{ld: ld, key: key}, nil); err != nil {
		return fmt.Errorf("DUMP payload version or checksum are wrong (%v): %w", err, ErrSyntax)
	}
	o, ok := scratch.lookup(key)
	if ld.skip || !ok {
		return ErrUnsupported
	}
	switch {
	case ttl == 0:
		o.exp = 0
	case absttl:
		o.exp = ttl
	default:
		o.exp = c.nowMs() + ttl
	}
	c.d.remove(key)
	storeMoved(c.d, key, o)
	if o, ok := c.d.lookup(key); ok { // storeMoved may have repacked a string
		now := c.a.p.lruNow()
		o.touch(now - uint32(min(max(idle, 0), int64(now)-1)))
	}
	// A replica keeps an already expired TTL (checkAlreadyExpired is
	// false): the key is added ("new", as REPLACE deletes first) and
	// restored.
	c.notify(NotifyGeneric, "restore", key)
	return nil
}
