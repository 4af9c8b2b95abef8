package projection

import (
	"testing"
)

// FuzzApplySortGeo is FuzzApply seeded with SORT … STORE and the storing
// geo searches: arbitrary options, patterns and coordinates may fail but
// never panic, and every structure stays sane.
func FuzzApplySortGeo(f *testing.F) {
	for _, s := range []string{
		"RPUSH\x00l\x003\x001\x002\nSET\x00w_1\x00x\nHSET\x00h_2\x00f\x009\nSORT\x00l\x00BY\x00h_*->f\x00GET\x00#\x00GET\x00w_*\x00LIMIT\x000\x002\x00DESC\x00STORE\x00d",
		"SADD\x00s\x00b\x00a\nSORT\x00s\x00BY\x00nosort\x00ALPHA\x00STORE\x00s\nSORT\x00missing\x00STORE\x00s",
		"ZADD\x00z\x001\x00m\x002\x00n\nSORT\x00z\x00BY\x00nosort\x00LIMIT\x00-1\x00-1\x00STORE\x00z",
		"ZADD\x00g\x003479099956230698\x00a\x003479447370796909\x00b\nGEORADIUS\x00g\x0015\x0037\x00200\x00km\x00COUNT\x001\x00ANY\x00STOREDIST\x00d",
		"ZADD\x00g\x000\x00a\nGEOSEARCHSTORE\x00d\x00g\x00FROMMEMBER\x00a\x00BYBOX\x00inf\x001\x00mi\x00DESC\x00STOREDIST",
		"ZADD\x00g\x00-1\x00a\x001e300\x00b\nGEORADIUSBYMEMBER\x00g\x00b\x000\x00ft\x00STORE\x00g",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzFeed(t, Options{NumDBs: 4, Stripes: 16, Buckets: 16}, data) })
}
