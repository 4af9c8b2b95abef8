package rdbparse

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vdr-project/vdr/internal/redistest"
)

// bigN is the size of the "big collection" keys (10^5 members).
const bigN = 100000

// fill writes keys covering every encoding Redis 7.0 writes, on both
// sides of every size threshold, into the server at c.
func fill(t *testing.T, ctx context.Context, c *redis.Client, rng *rand.Rand) {
	t.Helper()
	pipe := c.Pipeline()
	randBytes := func(n int) string {
		b := make([]byte, n)
		rng.Read(b)
		return string(b)
	}
	// Strings: int-encoded, raw, binary, LZF-compressible, > 64 KiB.
	for i, v := range []string{"0", "-1", "12", "127", "128", "-129", "32767", "-32768", "2147483647", "-2147483648",
		"2147483648", "9223372036854775807", "-9223372036854775808", "007", "1e3", "", "héllo", randBytes(40),
		strings.Repeat("a", 1000), strings.Repeat("xyz", 30000), randBytes(100 << 10)} {
		pipe.Set(ctx, fmt.Sprintf("str:%d", i), v, 0)
	}
	pipe.Set(ctx, "str:expiring", "v", time.Hour)
	pipe.Set(ctx, "str:expiring-ms", "v", 0)
	pipe.PExpireAt(ctx, "str:expiring-ms", time.UnixMilli(4102444800123))
	// Hashes: listpack up to 128 entries / 64-byte values, hashtable beyond.
	for _, n := range []int{1, 128, 129} {
		for i := 0; i < n; i++ {
			pipe.HSet(ctx, fmt.Sprintf("hash:n%d", n), fmt.Sprintf("f%d", i), i*1000003-500000)
		}
	}
	for _, l := range []int{64, 65} {
		pipe.HSet(ctx, fmt.Sprintf("hash:v%d", l), "f", strings.Repeat("v", l), "g", "1")
	}
	pipe.HSet(ctx, "hash:ints", "a", "-1", "b", "4294967296", "c", "-9223372036854775808", "d", "63", "e", "4095", "f", "-4096", "g", "8388607")
	// Sets: intset up to 512 integers (16/32/64-bit), hashtable beyond or with strings.
	for _, n := range []int{512, 513} {
		for i := 0; i < n; i++ {
			pipe.SAdd(ctx, fmt.Sprintf("set:n%d", n), i*7-100)
		}
	}
	pipe.SAdd(ctx, "set:i16", 1, -32768, 32767)
	pipe.SAdd(ctx, "set:i32", 1, 2147483647, -2147483648)
	pipe.SAdd(ctx, "set:i64", 1, "9223372036854775807", "-9223372036854775808")
	pipe.SAdd(ctx, "set:str", "a", "b", "c")
	// Sorted sets: listpack up to 128 members / 64-byte members, skiplist beyond.
	for _, n := range []int{1, 128, 129} {
		for i := 0; i < n; i++ {
			pipe.ZAdd(ctx, fmt.Sprintf("zset:n%d", n), redis.Z{Score: float64(i)*1.5 - 10, Member: fmt.Sprintf("m%d", i)})
		}
	}
	for _, l := range []int{64, 65} {
		pipe.ZAdd(ctx, fmt.Sprintf("zset:v%d", l), redis.Z{Score: 1, Member: strings.Repeat("m", l)})
	}
	for _, k := range []string{"zset:special", "zset:special-big"} {
		pipe.ZAdd(ctx, k, redis.Z{Score: math.Inf(1), Member: "inf"}, redis.Z{Score: math.Inf(-1), Member: "-inf"},
			redis.Z{Score: 0.1, Member: "tenth"}, redis.Z{Score: 1e300, Member: "big"}, redis.Z{Score: -5e-324, Member: "tiny"},
			redis.Z{Score: 3, Member: 12345})
	}
	pipe.ZAdd(ctx, "zset:special-big", redis.Z{Score: 1, Member: strings.Repeat("x", 100)})
	// Lists: small, several nodes, ints of every width, PLAIN nodes.
	for _, n := range []int{1, 200, 5000} {
		for i := 0; i < n; i++ {
			pipe.RPush(ctx, fmt.Sprintf("list:n%d", n), fmt.Sprintf("element-%d", i))
		}
	}
	pipe.RPush(ctx, "list:ints", 0, 127, 128, -1, 4095, -4096, 4096, 32767, -32769, 8388607, -8388609, 2147483647, "-9223372036854775808")
	if err := pipeExec(ctx, pipe); err != nil {
		t.Fatal(err)
	}
	// Big collections, 10^5 members each.
	for i := 0; i < bigN; i++ {
		pipe.RPush(ctx, "big:list", i)
		pipe.SAdd(ctx, "big:set", fmt.Sprintf("member:%d", i))
		pipe.HSet(ctx, "big:hash", fmt.Sprintf("field:%d", i), i)
		pipe.ZAdd(ctx, "big:zset", redis.Z{Score: float64(rng.Intn(1000)) / 7, Member: i})
		if i%5000 == 4999 {
			if err := pipeExec(ctx, pipe); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Streams: entries with and without the master fields, deletions,
	// groups with PELs and consumers.
	for i := 0; i < 300; i++ {
		args := &redis.XAddArgs{Stream: "stream:a", Values: []any{"name", fmt.Sprintf("n%d", i), "n", i}}
		if i%3 == 0 {
			args.Values = []any{"other", "x", "n", -i, "name", "dup"}
		}
		pipe.XAdd(ctx, args)
	}
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: "stream:empty", ID: "5-5", Values: []any{"a", "b"}})
	for i := 0; i < bigN; i++ {
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: "big:stream", Values: []any{"i", i}})
		if i%5000 == 4999 {
			if err := pipeExec(ctx, pipe); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pipeExec(ctx, pipe); err != nil {
		t.Fatal(err)
	}
	c.XDel(ctx, "stream:empty", "5-5")
	ids, err := c.XRangeN(ctx, "stream:a", "-", "+", 20).Result()
	if err != nil {
		t.Fatal(err)
	}
	c.XDel(ctx, "stream:a", ids[3].ID, ids[4].ID, ids[10].ID)
	c.XGroupCreate(ctx, "stream:a", "g1", "0")
	c.XGroupCreate(ctx, "stream:a", "g2", "$")
	c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "alice", Streams: []string{"stream:a", ">"}, Count: 5})
	c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "bob", Streams: []string{"stream:a", ">"}, Count: 3})
	c.XAck(ctx, "stream:a", "g1", ids[0].ID)
	c.XGroupCreateConsumer(ctx, "stream:a", "g2", "idle")
	// PLAIN quicklist nodes: elements over the packed threshold.
	if err := c.Do(ctx, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000").Err(); err != nil {
		t.Fatalf("DEBUG QUICKLIST-PACKED-THRESHOLD: %v", err)
	}
	c.RPush(ctx, "list:plain", "small", randBytes(70<<10), "small2", strings.Repeat("p", 2000))
	// 16 databases.
	for db := 0; db < 16; db++ {
		cdb := redis.NewClient(&redis.Options{Addr: c.Options().Addr, DB: db})
		cdb.Set(ctx, fmt.Sprintf("db:%d", db), db, 0)
		cdb.Close()
	}
}

func pipeExec(ctx context.Context, pipe redis.Pipeliner) error {
	cmds, err := pipe.Exec(ctx)
	if err != nil {
		for _, c := range cmds {
			if c.Err() != nil {
				return fmt.Errorf("%v: %w", c.Args(), c.Err())
			}
		}
	}
	return err
}

// saveAndParse SAVEs and parses the server's dump.rdb.
func saveAndParse(t *testing.T, ctx context.Context, s *redistest.Server, c *redis.Client, opts *Options) (*recorder, *Parser) {
	t.Helper()
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir, "dump.rdb")
	rec, p, rest, err := parseFile(t, path, opts)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	if rest != 0 {
		t.Fatalf("%d bytes after the RDB", rest)
	}
	return rec, p
}

// TestRedisGenerated has redis-server write every encoding, parses its
// dump.rdb and compares each key with what the server returns for it.
// It also decodes each key's DUMP payload.
func TestRedisGenerated(t *testing.T) {
	s := redistest.Start(t, "--enable-debug-command", "yes")
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	rng := rand.New(rand.NewSource(seed(t)))
	fill(t, ctx, c, rng)
	rec, p := saveAndParse(t, ctx, s, c, &Options{BatchSize: 1000})
	if p.plainNodes != 2 {
		t.Errorf("%d PLAIN quicklist nodes, want 2", p.plainNodes)
	}

	var total int64
	for db := 0; db < 16; db++ {
		cdb := redis.NewClient(&redis.Options{Addr: s.Addr(), DB: db})
		n, _ := cdb.DBSize(ctx).Result()
		total += n
		cdb.Close()
	}
	if int64(len(rec.keys)) != total {
		t.Fatalf("%d keys parsed, server has %d", len(rec.keys), total)
	}
	types := map[byte]int{}
	clients := map[int]*redis.Client{}
	for _, k := range rec.keys {
		types[k.RDBType]++
		cdb := clients[k.DB]
		if cdb == nil {
			cdb = redis.NewClient(&redis.Options{Addr: s.Addr(), DB: k.DB})
			defer cdb.Close()
			clients[k.DB] = cdb
		}
		compareWithServer(t, ctx, cdb, k)
		if k.DB == 0 {
			checkDump(t, ctx, cdb, k)
		}
	}
	// Every encoding Redis 7.0 writes must have been seen.
	for _, want := range []byte{TypeString, TypeSet, TypeHash, TypeZSet2, TypeSetIntset, TypeHashListpack,
		TypeZSetListpack, TypeListQuicklist2, TypeStreamListpacks2} {
		if types[want] == 0 {
			t.Errorf("no key of RDB type %d (%s) was written", want, TypeName(want, false))
		}
	}
	t.Logf("types seen: %v", types)
}

// compareWithServer checks one parsed key against the server's view.
func compareWithServer(t *testing.T, ctx context.Context, c *redis.Client, k *recKey) {
	t.Helper()
	key := string(k.Key)
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if typ != k.Kind.String() {
		t.Fatalf("%s: kind %s, server says %s", key, k.Kind, typ)
	}
	pexp, _ := c.Do(ctx, "PEXPIRETIME", key).Int64()
	if pexp != k.ExpireMs {
		t.Errorf("%s: expire %d, server says %d", key, k.ExpireMs, pexp)
	}
	enc, _ := c.ObjectEncoding(ctx, key).Result()
	if wantEnc := map[byte]string{TypeString: "", TypeSet: "hashtable", TypeHash: "hashtable", TypeZSet2: "skiplist",
		TypeSetIntset: "intset", TypeHashListpack: "listpack", TypeZSetListpack: "listpack",
		TypeListQuicklist2: "quicklist", TypeStreamListpacks2: "stream"}[k.RDBType]; wantEnc != "" && enc != wantEnc {
		t.Errorf("%s: RDB type %d but server encoding %s", key, k.RDBType, enc)
	}
	switch k.Kind {
	case KindString:
		v, _ := c.Get(ctx, key).Result()
		if v != string(k.Str) {
			t.Errorf("%s: value of %d bytes differs from the server's %d bytes", key, len(k.Str), len(v))
		}
	case KindList:
		v, _ := c.LRange(ctx, key, 0, -1).Result()
		if len(v) != len(k.Elems) {
			t.Fatalf("%s: %d elements, server has %d", key, len(k.Elems), len(v))
		}
		for i := range v {
			if v[i] != string(k.Elems[i]) {
				t.Fatalf("%s: element %d differs", key, i)
			}
		}
	case KindSet:
		v, _ := c.SMembers(ctx, key).Result()
		sort.Strings(v)
		got := sortedStrings(k.Elems)
		if strings.Join(v, "\x00") != strings.Join(got, "\x00") {
			t.Fatalf("%s: members differ (%d vs server %d)", key, len(got), len(v))
		}
	case KindHash:
		v, _ := c.HGetAll(ctx, key).Result()
		got := hashMap(k.Fields)
		if len(v) != len(got) {
			t.Fatalf("%s: %d fields, server has %d", key, len(got), len(v))
		}
		for f, val := range v {
			if string(got[f].Value) != val || got[f].ExpireMs != -1 {
				t.Fatalf("%s: field %q differs", key, f)
			}
		}
	case KindZSet:
		v, _ := c.ZRangeWithScores(ctx, key, 0, -1).Result()
		if len(v) != len(k.Z) {
			t.Fatalf("%s: %d members, server has %d", key, len(k.Z), len(v))
		}
		scores := map[string]float64{}
		for _, z := range k.Z {
			scores[string(z.Member)] = z.Score
		}
		for _, z := range v {
			if got, ok := scores[z.Member.(string)]; !ok || !sameFloat(got, z.Score) {
				t.Fatalf("%s: member %v score %v, parsed %v", key, z.Member, z.Score, got)
			}
		}
	case KindStream:
		compareStream(t, ctx, c, key, k.Stream)
	}
}

func compareStream(t *testing.T, ctx context.Context, c *redis.Client, key string, s *Stream) {
	t.Helper()
	v, _ := c.XRange(ctx, key, "-", "+").Result()
	if len(v) != len(s.Entries) {
		t.Fatalf("%s: %d entries, server has %d", key, len(s.Entries), len(v))
	}
	for i, m := range v {
		e := s.Entries[i]
		if id := fmt.Sprintf("%d-%d", e.ID.Ms, e.ID.Seq); id != m.ID {
			t.Fatalf("%s: entry %d ID %s, server %s", key, i, id, m.ID)
		}
		if len(e.Fields) != 2*len(m.Values) {
			t.Fatalf("%s: entry %s has %d fields, server %d", key, m.ID, len(e.Fields)/2, len(m.Values))
		}
		for j := 0; j < len(e.Fields); j += 2 {
			if fmt.Sprint(m.Values[string(e.Fields[j])]) != string(e.Fields[j+1]) {
				t.Fatalf("%s: entry %s field %q = %q, server %v", key, m.ID, e.Fields[j], e.Fields[j+1], m.Values[string(e.Fields[j])])
			}
		}
	}
	xlen, _ := c.XLen(ctx, key).Result()
	if uint64(xlen) != s.Length {
		t.Errorf("%s: length %d, server %d", key, s.Length, xlen)
	}
	info, err := c.XInfoStreamFull(ctx, key, 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	if id := fmt.Sprintf("%d-%d", s.LastID.Ms, s.LastID.Seq); id != info.LastGeneratedID {
		t.Errorf("%s: last ID %s, server %s", key, id, info.LastGeneratedID)
	}
	if id := fmt.Sprintf("%d-%d", s.MaxDeletedID.Ms, s.MaxDeletedID.Seq); id != info.MaxDeletedEntryID {
		t.Errorf("%s: max deleted ID %s, server %s", key, id, info.MaxDeletedEntryID)
	}
	if int64(s.EntriesAdded) != info.EntriesAdded {
		t.Errorf("%s: entries added %d, server %d", key, s.EntriesAdded, info.EntriesAdded)
	}
	if len(info.Groups) != len(s.Groups) {
		t.Fatalf("%s: %d groups, server %d", key, len(s.Groups), len(info.Groups))
	}
	for i, g := range info.Groups {
		pg := s.Groups[i]
		wantRead := int64(pg.EntriesRead)
		if pg.EntriesRead == EntriesReadUnknown {
			wantRead = 0 // XINFO shows nil, which go-redis reads as 0
		}
		if g.Name != string(pg.Name) || g.LastDeliveredID != fmt.Sprintf("%d-%d", pg.LastID.Ms, pg.LastID.Seq) ||
			g.EntriesRead != wantRead || len(g.Pending) != len(pg.PEL) || len(g.Consumers) != len(pg.Consumers) {
			t.Fatalf("%s: group %d %+v, server %+v", key, i, pg, g)
		}
		for j, pe := range g.Pending {
			ppe := pg.PEL[j]
			if pe.ID != fmt.Sprintf("%d-%d", ppe.ID.Ms, ppe.ID.Seq) || pe.Consumer != string(ppe.Consumer) ||
				pe.DeliveryCount != int64(ppe.DeliveryCount) || pe.DeliveryTime.UnixMilli() != ppe.DeliveryTime {
				t.Fatalf("%s: PEL entry %d %+v, server %+v", key, j, ppe, pe)
			}
		}
		for j, cons := range g.Consumers {
			pc := pg.Consumers[j]
			if cons.Name != string(pc.Name) || cons.SeenTime.UnixMilli() != pc.SeenTime || len(cons.Pending) != len(pc.Pending) {
				t.Fatalf("%s: consumer %d %+v, server %+v", key, j, pc, cons)
			}
		}
	}
}

// checkDump decodes the key's DUMP payload and compares it with the key
// as parsed from the RDB file.
func checkDump(t *testing.T, ctx context.Context, c *redis.Client, k *recKey) {
	t.Helper()
	payload, err := c.Dump(ctx, string(k.Key)).Result()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{batchSize: 100}
	ver, err := DecodeDump([]byte(payload), rec, &Options{BatchSize: 100})
	if err != nil {
		t.Fatalf("%s: DecodeDump: %v", k.Key, err)
	}
	if ver != 10 {
		t.Errorf("%s: DUMP version %d, want 10", k.Key, ver)
	}
	if len(rec.keys) != 1 {
		t.Fatalf("%s: DecodeDump delivered %d keys", k.Key, len(rec.keys))
	}
	d := rec.keys[0]
	if d.Key != nil || d.DB != 0 || d.ExpireMs != -1 || d.Idle != -1 || d.Freq != -1 {
		t.Errorf("%s: DecodeDump header %+v", k.Key, d)
	}
	want := *k
	want.Key, want.ExpireMs, want.Idle, want.Freq, want.Batches = nil, -1, -1, -1, d.Batches
	r1, r2 := &recorder{keys: []*recKey{&want}}, &recorder{keys: []*recKey{d}}
	if r1.dump() != r2.dump() {
		t.Errorf("%s: DUMP payload decodes differently from the RDB", k.Key)
	}
	// A flipped byte must give ErrChecksum, never a panic.
	bad := []byte(payload)
	bad[len(bad)/2] ^= 0x40
	if _, err := DecodeDump(bad, NopHandler{}, nil); err == nil {
		t.Errorf("%s: corrupted DUMP payload accepted", k.Key)
	}
}

// TestRedisEvictionPolicies checks the IDLE (LRU) and FREQ (LFU) opcodes
// against OBJECT IDLETIME / OBJECT FREQ.
func TestRedisEvictionPolicies(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu"} {
		t.Run(policy, func(t *testing.T) {
			s := redistest.Start(t, "--maxmemory-policy", policy, "--maxmemory", "1gb")
			ctx := context.Background()
			c := redis.NewClient(&redis.Options{Addr: s.Addr()})
			defer c.Close()
			for i := 0; i < 20; i++ {
				key := fmt.Sprintf("k%d", i)
				c.Set(ctx, key, i, 0)
				for j := 0; j < i*i; j++ { // hits raise the LFU counter
					c.Get(ctx, key)
				}
			}
			before := map[string]int64{}
			for i := 0; i < 20; i++ {
				key := fmt.Sprintf("k%d", i)
				if policy == "allkeys-lfu" {
					before[key], _ = c.ObjectFreq(ctx, key).Result()
				}
			}
			rec, _ := saveAndParse(t, ctx, s, c, nil)
			if len(rec.keys) != 20 {
				t.Fatalf("%d keys", len(rec.keys))
			}
			for _, k := range rec.keys {
				if policy == "allkeys-lfu" {
					if k.Idle != -1 || int64(k.Freq) != before[string(k.Key)] {
						t.Errorf("%s: freq %d idle %d, server freq %d", k.Key, k.Freq, k.Idle, before[string(k.Key)])
					}
					continue
				}
				idle, _ := c.ObjectIdleTime(ctx, string(k.Key)).Result()
				if k.Freq != -1 || k.Idle < 0 || math.Abs(float64(k.Idle)-idle.Seconds()) > 2 {
					t.Errorf("%s: idle %d freq %d, server idle %v", k.Key, k.Idle, k.Freq, idle)
				}
			}
		})
	}
}

// TestExpireSeconds parses a hand-built file with the seconds-based
// RDB_OPCODE_EXPIRETIME (0xfd), which no corpus file uses, and checks the
// CRC-64 known answer.
func TestExpireSeconds(t *testing.T) {
	if got := CRC64([]byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 check value %x", got)
	}
	var b bytes.Buffer
	b.WriteString("REDIS0009")
	b.Write([]byte{OpcodeAux, 9})
	b.WriteString("redis-ver")
	b.Write([]byte{5})
	b.WriteString("5.0.0")
	b.Write([]byte{OpcodeSelectDB, 3})
	b.Write([]byte{OpcodeExpireTime, 0x00, 0x94, 0x35, 0x77}) // 0x77359400 = 2000000000 s, little-endian
	b.Write([]byte{TypeString, 1, 'k', 1, 'v'})
	b.Write([]byte{OpcodeExpireTime})
	b.Write([]byte{0x80, 0x96, 0x98, 0x5f})              // 0x5f989680 = 1603835520 s
	b.Write([]byte{TypeString, 2, 'k', '2', 0xc0, 0xfe}) // int8 -2
	b.Write([]byte{TypeString, 2, 'k', '3', 1, 'x'})
	b.Write([]byte{OpcodeEOF})
	crc := CRC64(b.Bytes())
	for i := 0; i < 8; i++ {
		b.WriteByte(byte(crc >> (8 * i)))
	}
	rec := &recorder{}
	if err := Parse(bytes.NewReader(b.Bytes()), rec, nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) != 3 || rec.crc != crc {
		t.Fatalf("keys %d crc %x", len(rec.keys), rec.crc)
	}
	want := []struct {
		key, val string
		exp      int64
	}{
		{"k", "v", 2000000000000},
		{"k2", "-2", 1603835520000},
		{"k3", "x", -1},
	}
	for i, w := range want {
		k := rec.keys[i]
		if string(k.Key) != w.key || string(k.Str) != w.val || k.ExpireMs != w.exp || k.DB != 3 {
			t.Errorf("key %d: %q=%q exp %d db %d, want %+v", i, k.Key, k.Str, k.ExpireMs, k.DB, w)
		}
	}
	// Any flipped bit is a checksum error (or a corrupt/truncated file).
	data := b.Bytes()
	for i := 9; i < len(data); i++ {
		bad := append([]byte{}, data...)
		bad[i] ^= 0x01
		if err := Parse(bytes.NewReader(bad), NopHandler{}, nil); err == nil {
			t.Errorf("flip at %d accepted", i)
		}
	}
}
