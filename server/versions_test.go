package server

import (
	"testing"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/projection"
)

// asPrimary makes a projection fed by projection.Apply (the applyFeed
// differentials) behave as a replica of the server at primaryAddr does:
// that version's encodings; it returns the version, for Options.Compat.
// A Node learns both at its handshake (node_config.go); these tests have
// no handshake, so with another redis-server (VDR_REDIS_SERVER) they
// would otherwise answer as 7.0.
func asPrimary(tb testing.TB, proj *projection.Projection, primaryAddr string) compat.Version {
	tb.Helper()
	v, ok := compat.FromInfo(redistest.InfoField(primaryAddr, "server", "redis_version"),
		redistest.InfoField(primaryAddr, "server", "valkey_version"))
	if !ok {
		tb.Fatalf("no version in INFO server of %s", primaryAddr)
	}
	ec := proj.EncodingConfig()
	ec.FollowVersion(v)
	proj.SetEncodingConfig(ec)
	return v
}
