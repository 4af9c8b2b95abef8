package projection

import (
	"testing"

	"github.com/vdr-project/vdr/internal/compat"
	"github.com/vdr-project/vdr/internal/redistest"
)

// serverEncodings returns ec with the encoding rules of the redis-server
// the tests run against (VDR_REDIS_SERVER): a node takes them from its
// primary's version at the handshake; a test that builds a projection
// itself must do the same, or a 7.2+ server's listpack lists and sets
// compare as 7.0's quicklists and hashtables.
func serverEncodings(t testing.TB, ec EncodingConfig) EncodingConfig {
	t.Helper()
	if v, err := compat.Parse(redistest.Version(t).String()); err == nil {
		ec.FollowVersion(v)
	}
	return ec
}
