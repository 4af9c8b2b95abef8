// Package projection holds vdr's in-memory copy of a Redis primary's
// keyspace for the five core types (string, list, set, sorted set, hash)
// and applies the primary's replication stream to it.
//
// What it does:
//
//   - Apply / ApplyBatch execute the write commands a Redis 7.x primary
//     propagates (see docs/replication-stream.md §4 in the shared material beside the repository) with the
//     exact semantics of a Redis replica: nothing expires on its own, reads
//     hide keys whose absolute expire time has passed, and a MULTI…EXEC unit
//     becomes visible to readers all at once.
//
//   - BeginLoad builds a fresh copy from a full sync (rdbparse entries) while
//     the old one keeps serving, and Commit swaps it in atomically.
//
//   - View, ViewDB, ViewAll and Scan give the commands package typed,
//     zero-copy, concurrency-safe read access (see api.go).
//
//   - Link turns the raw command stream into Apply/ApplyBatch calls
//     (tracking SELECT, buffering MULTI…EXEC).
//
//   - OnChange reports the keys each applied command changed (change.go);
//     OnEvents reports the keyspace events Redis's notifyKeyspaceEvent
//     would raise for it, in Redis's order, for the classes set with
//     SetNotifyKeyspaceEvents (notify.go). Publishing them is the
//     caller's job.
//
// What it does not do: it knows nothing of RESP, sockets, reply formatting
// or argument parsing of read commands. Commands a 7.x primary never
// sends (it rewrites them) and unknown commands are counted as
// unsupported and handled by the Options.OnUnknown policy (their keys are
// invalidated, or ErrNeedResync is returned). Bit and HyperLogLog
// commands are applied byte for byte on strings (the HLL format is
// internal/hll's); SORT … STORE and geo searches with STORE are recomputed
// from the projection's own data; streams and hash field TTLs are
// projected types; RESTORE takes payloads of every type.
//
// Layout in memory:
//
//	Projection ──atomic.Pointer──► dataset ──► db[0..NumDBs-1]
//	                                            │
//	                                            ├─ stripes[N]   sync.RWMutex (N = lock stripes)
//	                                            └─ buckets[B]   table: open addressing of 40-byte slots (table.go)
//	                                                            (N a power of two; any B ≥ 1)
//
//	h = xxhash(key); bucket(key) = (h>>32 × B)>>32; stripe(bucket) = bucket & (N-1)
//	slot: home (uint32(h) & mask), linear probing; holds uint32(h), key pointer and length, obj
//
// Readers holding several requests (a pipeline, MGET) prefetch their keys'
// slots, then their keys and values, before running the first
// (Projection.PrefetchKeys), so the cache misses overlap.
//
// A key's bucket never changes, so SCAN cursors are bucket numbers: a scan
// visits buckets in order and returns each bucket whole under its stripe's
// read lock, hence every key present for the whole scan is returned exactly
// once, whatever is written meanwhile. Lock order: see LOCKING.md.
//
// Collections in memory (#17). A list, set, sorted set or hash is a
// 32-byte struct (a Go size class) whose pack is held in a 16-byte pbuf
// (pointer, length, capacity) instead of a 24-byte slice header; what
// only big or unusual values need (a list's second chunk, a big set's or
// hash's dense, a sorted set's B-tree, field TTLs) hangs off one pointer,
// nil for the small ones. While Redis would keep the value as a listpack
// or intset it is that struct and one pack, pointer-free bytes the GC
// does not scan:
//
//	listObj  [pbuf 16 | more 8 | n 4 | lru 4] ──► [len elem len elem …]
//	hashObj  [pbuf 16 | x 8    | n 4 | lru 4] ──► [fid|len field, len value, …]
//	setObj   [pbuf 16 | d 8 | n 2 | enc 1 | lru 4] ──► [len member …]
//	zsetObj  [pbuf 16 | big 8  | n 4 | lru 4] ──► [len member, score, …]
//
// An element is a uvarint length and its bytes (pack.go). A hash field
// whose name is interned (intern.go: 2–32 bytes, a process-wide table of
// 4096 names) is one uvarint, its number; a score is a uvarint m·8+k for
// m/10^k (k ≤ 6, checked to give back the same bits) or a tag and the 8
// raw bytes (zset.go). A write of several elements (HSET, RPUSH, SADD,
// ZADD) grows the pack once to the byte, and a load sizes it exactly (a
// hash or sorted set as an RDB saves it is built in one pass, with no
// search per element: loadFields, loadSorted), so a pack is its size
// rounded up to a size class. Reading a packed score costs a uvarint and
// a division (about 7 ns a member) where an 8-byte float cost a load.
//
// Per key of the compare harness's single-type datasets (10 elements;
// values 8–32 bytes, mean 20; members 10–26, mean 18), value side only
// (the table slot and the key are the key table's, above):
//
//	type   vdr before          vdr now                     Redis 7.0 value side
//	hash   48 + pack 280→288   32 + 10×(1+1+20)=220→224    robj 16 + listpack 307→320
//	       = 336               = 256                       = 336
//	list   80 + pack 210→224   32 + 210→224 = 256          robj 16 + quicklist 48 +
//	       = 304                                           node 32 + listpack 227→256 = 352
//	set    48 + 190→192 = 240  32 + 190→192 = 224          hashtable: robj 16 + dict 64 +
//	                                                       buckets 128 + 10×(24+24) ≈ 690
//	zset   64 + 10×27→288      32 + 10×(19+3.9)→240        robj 16 + listpack 297→320
//	       = 352               = 272                       = 336
//
// (n→m: n bytes in a Go size class or jemalloc bin of m.) A hash's values
// and a list's elements are the payload itself: 200 of the 256 bytes.
// Values built by Apply before the packs grew once took more: a 10-field
// HSET's pack doubled its way to 512 bytes (BenchmarkMemoryPerKeyByType:
// 562 → 359 heap bytes a hash key, table included).
package projection
