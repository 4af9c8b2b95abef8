package compat

import "testing"

// TestIdentity checks what each personality says it is, as each server
// does (HELLO, LOLWUT, the RDB version it writes, CLIENT LIST fields).
func TestIdentity(t *testing.T) {
	for _, c := range []struct {
		v                   Version
		number, server      string
		rdb                 int
		noAuthProto         bool
		lib, watch, netCnts bool
	}{
		{Redis70, "7.0.15", "redis", 10, false, false, false, false},
		{Redis72, "7.2.6", "redis", 11, true, true, false, false},
		{Redis74, "7.4.1", "redis", 12, true, true, true, false},
		{Valkey72, "7.2.7", "redis", 11, true, true, false, false},
		{Valkey80, "8.0.1", "valkey", 11, true, true, true, true},
	} {
		v := c.v
		if v.Number() != c.number || v.ServerName() != c.server || v.RDBVersion() != c.rdb || v.HelloNoAuthProto() != c.noAuthProto ||
			v.ClientLibInfo() != c.lib || v.ClientWatchField() != c.watch || v.ClientNetCounters() != c.netCnts {
			t.Errorf("%v: number %s server %s rdb %d noauth %v lib %v watch %v net %v", v, v.Number(), v.ServerName(),
				v.RDBVersion(), v.HelloNoAuthProto(), v.ClientLibInfo(), v.ClientWatchField(), v.ClientNetCounters())
		}
	}
}
