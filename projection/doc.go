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
package projection
