package compat

import "testing"

func TestParse(t *testing.T) {
	f := func(in string, want Version) {
		t.Helper()
		got, err := Parse(in)
		if err != nil || got != want {
			t.Fatalf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	f("7.0", Redis70)
	f("7.2", Redis72)
	f("7.4.1", Redis74)
	f("valkey-7.2", Valkey72)
	f("Valkey-8.0", Valkey80)
	f("7.2.4", Version{Major: 7, Minor: 2, Patch: 4})
	f("6.2", Version{Major: 6, Minor: 2})
	for _, bad := range []string{"", "7", "7.x", "valkey-", "7.0.1.2", "-1.0"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestFromInfo(t *testing.T) {
	if v, ok := FromInfo("7.2.4", "8.0.1"); !ok || v != Valkey80 {
		t.Fatalf("valkey 8: %v %v", v, ok)
	}
	if v, ok := FromInfo("7.0.15", ""); !ok || v != Redis70 {
		t.Fatalf("redis 7.0: %v %v", v, ok)
	}
	if _, ok := FromInfo("", ""); ok {
		t.Fatal("empty accepted")
	}
}

func TestPredicates(t *testing.T) {
	for _, c := range []struct {
		v                     Version
		doubles, enc, hashTTL bool
	}{
		{Redis70, false, false, false},
		{Redis72, true, true, false},
		{Redis74, true, true, true},
		{Valkey72, true, true, false},
		{Valkey80, true, true, false},
	} {
		if c.v.Doubles72() != c.doubles || c.v.Encodings72() != c.enc || c.v.HashFieldTTL() != c.hashTTL {
			t.Errorf("%v: doubles %v enc %v hashTTL %v", c.v, c.v.Doubles72(), c.v.Encodings72(), c.v.HashFieldTTL())
		}
	}
}

func TestHolder(t *testing.T) {
	var h Holder
	if h.Load() != Default {
		t.Fatal("zero Holder is not Default")
	}
	h.Store(Valkey80)
	if h.Load() != Valkey80 {
		t.Fatal("Store lost")
	}
	var nilH *Holder
	if nilH.Load() != Default {
		t.Fatal("nil Holder is not Default")
	}
}

// TestReadPredicates pins which personality has each read behaviour, as
// the real servers answer (server's TestDifferentialVersions).
func TestReadPredicates(t *testing.T) {
	all := []Version{Redis70, Redis72, Redis74, Valkey72, Valkey80}
	f := func(name string, pred func(Version) bool, want ...bool) {
		t.Helper()
		for i, v := range all {
			if pred(v) != want[i] {
				t.Errorf("%s(%v) = %v", name, v, pred(v))
			}
		}
	}
	//                                                              7.0    7.2    7.4    vk7.2  vk8.0
	f("ZRankWithScore", Version.ZRankWithScore, false, true, true, true, true)
	f("StreamActiveTime", Version.StreamActiveTime, false, true, true, true, true)
	f("HelpSaysPrint", Version.HelpSaysPrint, false, true, true, true, true)
	f("LposRankRange", Version.LposRankRange, false, true, true, true, true)
	f("XReadUnbalancedNamed", Version.XReadUnbalancedNamed, false, true, true, true, true)
	f("BitArgsBeforeLookup", Version.BitArgsBeforeLookup, false, false, true, false, true)
	f("BitcountStartOnly", Version.BitcountStartOnly, false, false, false, false, true)
	f("XReadLastEntry", Version.XReadLastEntry, false, false, true, false, true)
	f("HScanNoValues", Version.HScanNoValues, false, false, true, false, true)
	f("ZScanNoScores", Version.ZScanNoScores, false, false, false, false, true)
	f("ZRangeSkiplistNegativeOffset", Version.ZRangeSkiplistNegativeOffset, false, false, true, false, true)
	f("ScanRejectsUnknownType", Version.ScanRejectsUnknownType, false, false, false, false, true)
	f("WaitTextWithoutRedis4", Version.WaitTextWithoutRedis4, false, false, false, false, true)
	f("ClientKillMaxAge", Version.ClientKillMaxAge, false, false, true, false, true)
	f("ClientTypePrimary", Version.ClientTypePrimary, false, false, false, false, true)
	f("ClientSetInfo", Version.ClientSetInfo, false, true, true, true, true)
	f("ClientNoTouch", Version.ClientNoTouch, false, true, true, true, true)
	f("ClientCapa", Version.ClientCapa, false, false, false, false, true)
	f("CapaRedirect", Version.CapaRedirect, false, false, false, false, true)
	f("ClientInfoWatch", Version.ClientInfoWatch, false, false, true, false, true)
	f("ClientInfoNetTotals", Version.ClientInfoNetTotals, false, false, false, false, true)
	f("HelpWithoutRedisName", Version.HelpWithoutRedisName, false, false, false, false, true)
}
