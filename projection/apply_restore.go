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
// rdbparse.DecodeDump; modules and hashes with field TTLs are not
// mirrored (ErrUnsupported: the key is invalidated).
func restoreCommand(c *ctx) error {
	if err := c.arity(4, true); err != nil {
		return err
	}
	key := c.argv[1]
	ttl, err := parseInt(c.argv[2])
	if err != nil || ttl < 0 {
		return fmt.Errorf("Invalid TTL value, must be >= 0: %w", ErrSyntax)
	}
	var replace, absttl bool
	for i := 4; i < len(c.argv); i++ {
		switch a := c.argv[i]; {
		case eq(a, "replace"):
			replace = true
		case eq(a, "absttl"):
			absttl = true
		case (eq(a, "idletime") || eq(a, "freq")) && i+1 < len(c.argv):
			if _, err := parseInt(c.argv[i+1]); err != nil {
				return err
			}
			i++ // LRU/LFU hints: not tracked
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
	return nil
}
