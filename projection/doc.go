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
//	                                            └─ buckets[B]   table: open addressing of 16-byte slots (table.go)
//	                                                            (N a power of two; any B ≥ 1)
//
//	h = xxhash(key); bucket(key) = (h>>32 × B)>>32; stripe(bucket) = bucket & (N-1)
//	slot: home (bits 12–31 of h × slots)>>20, linear probing; any number of slots
//
// A slot and what it points at (table.go, rec.go):
//
//	slot (16 B)                        string record (pointer-free bytes, no alignment)
//	+---------+---------+-------+      +------+---------+--------+-----+-------+
//	| p       | tag     | lru   | ───► | head | klen    | exp    | key | value |
//	| 8 B     | 4 B     | 4 B   |      | 1–2+ | 0 or 1+ | 0 or 8 |     |       |
//	+---------+---------+-------+      +------+---------+--------+-----+-------+
//	  tag: 20 hash bits | key length (6 bits; 63: long, its length in the
//	  record or box) | packed-key bit | fold bit | box bit | Kind (3 bits)
//	  (fold without box: a packed collection record, crec.go)
//	  lru: a record's access time (a box's or folded struct's is its own)
//	                                   box (a collection, stream or in-place-edited string)
//	                               ──► +-----+-----+------------------------+
//	                                   | ptr | exp | key (inline up to 48 B) | ──► listObj, setObj, …
//	                                   +-----+-----+------------------------+
//	                                   32, 48 or 64 B (a longer key: a string beside a 32-byte box)
//	                                   folded collection (fold.go): no box
//	                               ──► +------------------------------+------------------+
//	                                   | listObj/setObj/zsetObj/hashObj | key (16/32/48 B) |
//	                                   +------------------------------+------------------+
//	                                   48, 64 or 80 B: a key of up to 48 bytes with no expire time
//
// Bytes per key, strings. A key of k bytes with a v-byte value and no
// expire time costs
//
//	slot share    16 B / table load: 19.7 B after a load (each table
//	              given the slots its keys need at 13/16, fitTables),
//	              20–30 B as writes grow them (by half, at 13/16)
//	record        head (1 B for a coded value of up to 127 bytes or an
//	              embstr or int of up to 31 with no expire time; else 2 B
//	              up to 1023, putRecHead) + k + v (at least
//	              8 B; a key of 63 bytes or more adds its length); nothing
//	              more in its table's arena (arena.go: where a load and a
//	              compaction put the records, back to back, at any byte);
//	              a record written since is an allocation of its own,
//	              rounded up to its size class (16-byte steps up to 256 B:
//	              6 B a key on average). Its access time is the slot's
//	              lru word, so it has no padding and no word of its own
//	expire time   +8 B in the record when the key has one
//	packed key    a key of under 63 bytes with an ASCII prefix that ends
//	              in 6 digits or more keeps them (up to 18) as one
//	              number: a mark byte (where the prefix ends, how many
//	              bytes follow, the top 4 bits) and the fewest bytes
//	              that hold the rest; leading zeros take nothing, the
//	              key's length says how many there are ("s:" and 12
//	              digits under 2^20: 5 bytes; keypack.go)
//	text packing  a value of 4 bytes or more (up to 4 KB) whose every byte
//	              is a hex digit, or in one base64 alphabet (A–Z a–z 0–9
//	              and -_ or +/), is stored as a codec byte and 4 or 6 bits
//	              a character: 1 + ⌈v/2⌉ or 1 + ⌈3v/4⌉ bytes (textpack.go;
//	              Options.PlainText turns it off). A read unpacks it, 8
//	              characters a step through a 12-bit table: ~40 ns for 72
//	              characters, straight into the reply for GET and MGET
//	compression   with Options.CompressValues N, a value over N bytes is
//	              stored as its length and one LZ4 block when that is
//	              shorter than the packed or plain value (compress.go);
//	              reads decompress a copy
//
// On the compare harness's strings (k = 14: "s:" and 12 digits, the
// number under 2^20, packed to 5; v uniform in 16–128, mean 72,
// alphanumeric, so packed to 1 + 54): 19.7 + (1 + 5 + 55 = 61) ≈ 81 B in
// an arena, against 84 with the digits two to a byte, 88 with a 2-byte
// head, the key's count byte and tables 72% full, 93 with the key as it
// is, 99 with the access time and padding in the record, ~184 B with the
// 40-byte slot and 24-byte obj before, and 124 B with the value plain.
// Measured (vdr serve --rdb of that dataset's 1M-key RDB, INFO
// used_memory after the load): 82.7 MB (mixed: 120.4), against 85.7
// (mixed: 123.4) with the digits two to a byte, 93.1 (mixed: 130.5) with
// tables of 1024 slots 72% full (whose 16 KiB arrays took 18 KiB with
// the allocator's header), a 2-byte head and the count byte, 98.0 with
// the key as it is and 103.4 with the access time in the record; the
// process's RSS adds about 17 MB of its own (an empty vdr: the files it
// maps, 12.2 MiB for an installed binary, 10.5 of them its text and
// read-only data; and the runtime). Redis 7.0 on the same keys spends ~170 B: a 24-byte
// dictEntry and an 8-byte bucket pointer, an sds key and a robj + sds
// value, each rounded to a jemalloc class.
//
// The binary's share depends on how its file sits in the page cache, not
// only on its size: a binary straight from the Go linker is cached in
// 2 MB folios, and a fault maps a whole one (smaps: FilePmdMapped), so
// it maps all 13.3 MiB of its text and read-only data, where a copy of
// the same file (written as an installer writes it) maps 10.5 MiB of
// them, in 4 KiB pages. The compare harness runs copies.
//
// What is left between these strings and their floor: the slots' 19.7 B
// a key (16-byte slots with a Go pointer; 12-byte slots at the same fill,
// a 4-byte offset into the table's arena, the tag and the access time,
// would take 4.9 B a key off) and the record's head and codec byte.
//
// Collections whose key has no expire time and is at most 48 bytes are
// folded (fold.go): the slot points at the collection's 32-byte struct,
// the key's bytes follow it, and the box is gone — 16 bytes a key less
// (48 B for a key of up to 16 bytes where a box and the struct took 64).
// A load folds every such key, and so do the writes that create one
// (LPUSH, HSET, SADD, ZADD…). Measured (vdr serve --rdb of each 1M-key
// dataset of the compare harness, INFO used_memory after the load):
// hashes 284 → 268 MB, lists 274 → 258, sorted sets 327 → 311, mixed
// 164 → 159.
//
// Packed collection records (crec.go). A list, set, sorted set or hash
// that a load (or RENAME, MOVE, COPY, RESTORE) stores whole, with no
// expire time and nothing but its pack (one list chunk; no set dense, no
// sorted-set tree, no hash dense or field TTLs), is one pointer-free
// allocation like a string's record:
//
//	slot.p ──► +-----+-----------+---------+------+
//	           | key | n<<3 | fl | plen    | pack |
//	           +-----+-----------+---------+------+
//	           k + 1–2 + 1–2 + plen in its table's arena (a key of 63
//	           bytes or more: its length first); the access time is in
//	           the slot, as a string record's
//
// The slot has tagFold without tagBox. Reads build a 32-byte view of the
// struct in the View (nothing allocated); a write first expands the key
// to a folded struct that owns a copy of its pack, so only keys written
// since the load pay for a struct. Per key of the compare harness (14-byte
// keys, packs of ~175–200 bytes) a record is 208 or 224 bytes where a
// folded key was 48 and its pack 176–208 more: 16–32 bytes less, and one
// cache miss less per read. The pack is built in the loader's own room
// and copied out once: packs allocated per key and freed would sit
// between the records in their size classes, and the heap could not give
// them back (RSS 373 MB for a 242 MB heap of 1M hashes, before the room).
// Measured (vdr serve --rdb of each 1M-key dataset, INFO used_memory and
// RSS after the load, against the folded layout): hashes 268 → 242 MB
// (RSS 294 → 267), lists 258 → 232 (RSS 284 → 259), sorted sets
// 281 → 255 (RSS 309 → 280), mixed 158 → 150 (RSS 180 → 172).
//
// Table arenas (arena.go). A load does not allocate records one by one:
// it builds each in a reused stage and the builder copies it to the end
// of its table's arena, 16 KiB chunks (a size class), the last one cut
// to its used bytes at Commit:
//
//	table.a ──► ar, more: [rec|rec|rec|…] [rec|rec|…] …   dead: bytes no slot points at
//
// so a record costs its bytes (rounded to 4 until the access time moved
// into the slot; now not rounded at all), not a size class: 6 B a
// key less on every harness dataset (strings 83.0 → 76.8 B a record,
// hashes 213.7 → 207.7, lists 203.7 → 197.7, sorted sets 226.3 → 220.3),
// and no transient copy (a sync's peak RSS stays where it was). A write
// that replaces or removes a record leaves its bytes dead; a table a
// quarter dead is compacted after the command into one arena of a size
// class or whole pages (arenaFit), with the records written since. The
// dataset's 16 dbs × 4096 tables cost 32 B each, two to a cache line (the
// arena is behind a pointer, the count and mask are 32 bits: at 40 B one
// table in four straddled two lines, and GET -P 16 lost about 4%), and a
// db that never had a key holds one shared set of empty tables: an empty
// vdr holds 0.13 MB of tables where it held 2.6.
//
// Other collections, streams and boxed strings: the slot share plus a box (32 B
// for keys up to 16 bytes, 48 up to 32, 64 up to 48; a 32-byte box and
// the key's own allocation beyond), plus the value's own structure — see
// the next section.
//
// Collections (hash.go, list.go, set.go, zset.go): their layouts and
// bytes per key are described with their types.
//
// What the garbage collector sees: slot arrays (one pointer per 16
// bytes), boxes and collections are scanned; string records are
// pointer-free, so marking one costs a bit, not a scan. INFO's
// used_memory is the heap the last collection found live; MEMORY USAGE
// applies the arithmetic above to one key (stats.go memUsage).
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
//	listObj  [pbuf 16 | more 8 | n 4 | lru 4] ──► [len|c elem len|c elem …]
//	hashObj  [pbuf 16 | x 8    | n 4 | lru 4] ──► [fid|len field, len|c value, …]
//	setObj   [pbuf 16 | d 8 | n 2 | enc 1 | lru 4] ──► [len member …]
//	zsetObj  [pbuf 16 | big 8  | n 4 | lru 4] ──► [len|c member, score, …]
//
// An element is a uvarint length and its bytes (pack.go); a list's
// element, a hash's value or a packed sorted set's member is an entry
// (epack.go, zpack.go) whose uvarint also
// says whether its bytes are the value text-packed (c): a value of one
// small alphabet (hex digits, base64) is stored at 4 or 6 bits a
// character when that saves 2 bytes or more. A hash field
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
// Packed (the harness's values are alphanumeric, 6 bits a character), a
// value of n ≥ 12 characters is one head byte (the codec and n, where a
// plain entry has its length) and ⌈3n/4⌉ bytes (8–11 stay plain, saving
// two bytes is not worth an unpack on every read): on average 16.6 bytes
// with its head instead of 21, so
//
//	type   vdr plain text              vdr packed
//	hash   32 + 10×(1+1+20)=220→224    32 + 10×(1+16.6)=198→208 = 240
//	       = 256
//	list   32 + 210→224 = 256          32 + 166→176 = 208
//	zset   32 + 10×(1+18+3.9)=229→240  32 + 10×(14.1+3.9)=212→224
//	       = 272                       = 256
//
// (a member of 10–26 characters, 18 on average, packs to 14 with its
// head: 10 and 11 stay plain; sizes as separate allocations, where a load
// puts the struct and the pack in one record of an arena, below). Until
// an entry's head held the codec, a coded value had a length byte and a
// codec byte: 17.4 bytes on average, ten more a hash or list of ten
// (heap after loading the harness's 1M-key RDBs: hashes 236 → 227 MB,
// lists 226 → 217, sorted sets 249 → 240, mixed 143 → 141). Members of
// equal score are kept in byte order, compared
// unpacked; a lookup (ZSCORE, ZRANK, ZREM) packs the member it is given
// once and compares stored forms, which are canonical.
//
// BenchmarkMemoryPerKeyByType (200,000 keys, table included, load
// average 0.5–0.8 on 2 cores): hashes 334 → 299 heap bytes a key, lists
// 324 → 289 (the same loaded from an RDB), sorted sets 342 → 311 (load
// average 0.5–0.7). The price is an unpack on
// read, about 15 ns a 20-character value (BenchmarkPackedReads, in
// process, load average 1.4: ten of them by LRANGE 207 → 380 ns, by
// HGETALL 263 → 408 ns; one by HGET 211 → 218 ns); Options.PlainText
// turns it off.
// Values built by Apply before the packs grew once took more: a 10-field
// HSET's pack doubled its way to 512 bytes (BenchmarkMemoryPerKeyByType:
// 562 → 359 heap bytes a hash key, table included).
package projection
