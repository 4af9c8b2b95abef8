package keyslot

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vdr-project/vdr/internal/redistest"
)

func TestCRC16Check(t *testing.T) {
	// The XMODEM check value: CRC of "123456789".
	require.Equal(t, uint16(0x31C3), CRC16([]byte("123456789")))
}

func TestTag(t *testing.T) {
	for _, c := range []struct{ key, tag string }{
		{"foo", "foo"},
		{"{user1000}.following", "user1000"},
		{"foo{}{bar}", "foo{}{bar}"},
		{"foo{{bar}}zap", "{bar"},
		{"foo{bar}{zap}", "bar"},
		{"{", "{"},
		{"a{b", "a{b"},
		{"", ""},
	} {
		require.Equal(t, c.tag, string(Tag([]byte(c.key))), c.key)
	}
}

// TestSlotsMatchRedis asks a real redis-server (cluster-enabled, as
// CLUSTER KEYSLOT needs) for the slots of keys of every shape.
func TestSlotsMatchRedis(t *testing.T) {
	srv := redistest.Start(t, "--cluster-enabled", "yes")
	keys := []string{"", "foo", "bar", "{", "}", "{}", "{}x", "x{}", "{a}", "a{b}c", "a{b", "foo{{bar}}zap", "\xff\x00{\x01}"}
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("key:%d", i), fmt.Sprintf("{tag%d}:%d", i%7, i))
	}
	for _, k := range keys {
		got, err := redistest.Do(srv.Addr(), "CLUSTER", "KEYSLOT", k)
		require.NoError(t, err)
		want, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(got), ":"))
		require.NoError(t, err, "%q: %q", k, got)
		require.Equal(t, want, OfString(k), "%q", k)
	}
}
