package server

import (
	"strconv"

	"github.com/vdr-project/vdr/internal/compat"

	"github.com/vdr-project/vdr/projection"
)

// primaryConfigNames are the parameters the node reads from the primary
// (replica.Options.PrimaryConfig): the thresholds that decide a value's
// encoding, so that OBJECT ENCODING and the conversions the projection
// makes follow the primary's settings rather than the defaults. Redis 6
// knows the ziplist names only; 7 accepts both.
var primaryConfigNames = []string{
	"hash-max-listpack-entries", "hash-max-listpack-value",
	"hash-max-ziplist-entries", "hash-max-ziplist-value",
	"set-max-intset-entries", "set-max-listpack-entries", "set-max-listpack-value",
	"zset-max-listpack-entries", "zset-max-listpack-value",
	"zset-max-ziplist-entries", "zset-max-ziplist-value",
	"list-max-listpack-size", "list-max-ziplist-size",
	"hll-sparse-max-bytes",
}

// PrimaryConfig (replica.ConfigHandler) sets the projection's encoding
// thresholds from the primary's configuration, before the connection's
// full sync or stream is applied.
func (h *linkHandler) PrimaryConfig(cfg map[string]string, version string) {
	if v, err := compat.Parse(version); err == nil {
		if old := h.n.srv.env.Version.Load(); old != v {
			h.n.srv.env.Version.Store(v)
			h.n.log.Info("answering as the primary's version", "version", v.String(), "was", old.String())
		}
	}
	ec := encodingFromConfig(h.n.proj.EncodingConfig(), cfg, version)
	if ec != h.n.proj.EncodingConfig() {
		h.n.proj.SetEncodingConfig(ec)
		h.n.log.Info("encoding thresholds from the primary", "version", version,
			"hash-max-listpack-entries", ec.HashMaxListpackEntries, "zset-max-listpack-entries", ec.ZSetMaxListpackEntries,
			"set-max-intset-entries", ec.SetMaxIntsetEntries, "list-max-listpack-size", ec.ListMaxListpackSize)
	}
}

// encodingFromConfig returns ec with every threshold cfg holds, and the
// 7.2 encodings when version is 7.2 or later. Values that do not parse
// are ignored (the old value stays).
func encodingFromConfig(ec projection.EncodingConfig, cfg map[string]string, version string) projection.EncodingConfig {
	set := func(p *int, names ...string) {
		for _, n := range names {
			if v, ok := cfg[n]; ok {
				if x, err := strconv.Atoi(v); err == nil {
					*p = x
					return
				}
			}
		}
	}
	set(&ec.HashMaxListpackEntries, "hash-max-listpack-entries", "hash-max-ziplist-entries")
	set(&ec.HashMaxListpackValue, "hash-max-listpack-value", "hash-max-ziplist-value")
	set(&ec.SetMaxIntsetEntries, "set-max-intset-entries")
	set(&ec.SetMaxListpackEntries, "set-max-listpack-entries")
	set(&ec.SetMaxListpackValue, "set-max-listpack-value")
	set(&ec.ZSetMaxListpackEntries, "zset-max-listpack-entries", "zset-max-ziplist-entries")
	set(&ec.ZSetMaxListpackValue, "zset-max-listpack-value", "zset-max-ziplist-value")
	set(&ec.ListMaxListpackSize, "list-max-listpack-size", "list-max-ziplist-size")
	set(&ec.HLLSparseMaxBytes, "hll-sparse-max-bytes")
	if v, err := compat.Parse(version); err == nil {
		ec.FollowVersion(v)
	}
	return ec
}
