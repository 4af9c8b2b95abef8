// Package rdbparse is a streaming parser of Redis and Valkey RDB files and
// of DUMP/RESTORE payloads.
//
// It reads the RDB from an io.Reader (a file, or the replication socket
// during a full sync) and hands every record to a Handler as it goes: it
// never holds the whole file, and a collection of any size is delivered in
// batches of Options.BatchSize elements, so memory is bounded by a batch
// and the largest single string (Options.MaxStringBytes), not by the key.
//
// It does not load anything anywhere, does not expire keys, does not decode
// module values (they are skipped through their opcodes and reported by
// module name) and does not write RDB files.
//
// # Lifetime of what a Handler receives
//
// An *Entry and every []byte reachable from it (Key, String, Elems,
// Fields, ZMembers, Stream, Module), and the slices passed to Aux and
// Function, are valid only until the Handler method returns: the parser
// reuses the memory for the next call. Copy what you keep. (The same rule
// as redcon's Command.Args, made strict here for zero allocations per
// element.)
//
// # Reading exactly the RDB
//
// When the reader is a *bufio.Reader the parser uses it as is and consumes
// exactly the RDB's bytes: up to and including the 8-byte CRC-64 (or the
// EOF opcode for versions before 5). The replica reads the diskless end
// mark and the command stream from the same bufio.Reader afterwards.
//
// # File layout
//
//	+-------+---------+------------------------------+-----+-----------+
//	| magic | version | record ...                   | EOF | CRC-64    |
//	| REDIS | 4 ASCII | (opcode or object type byte) | 0xff| u64 LE    |
//	| VALKEY| 3 ASCII |                              |     | (v >= 5)  |
//	+-------+---------+------------------------------+-----+-----------+
//
// The magic decides what ambiguous bytes mean: type 22 is Redis 7.4 RC's
// HASH_METADATA_PRE_GA in REDIS files and Valkey's HASH_2 in VALKEY files;
// opcode 243 is Redis 8's KEY_META (unsupported: an error) or Valkey's
// SLOT_IMPORT (skipped). The CRC-64 is Jones, reflected, as src/crc64.c,
// over every byte before it; a stored 0 means "not computed".
//
// Records (opcodes, src/rdb.h):
//
//	0xff EOF                                  0xfa AUX        <string key><string value>
//	0xfe SELECTDB    <length db>              0xf9 FREQ       <u8 LFU counter>
//	0xfd EXPIRETIME  <i32 LE seconds>         0xf8 IDLE       <length seconds>
//	0xfc EXPIRETIME_MS <i64 LE ms>            0xf7 MODULE_AUX <length id><length 2><length when><module opcodes>
//	0xfb RESIZEDB    <length keys><length expires>
//	0xf6 FUNCTION_PRE_GA <string name><string engine><length has_desc>[<string desc>]<string code>
//	0xf5 FUNCTION2   <string code>            0xf4 SLOT_INFO  <length slot><length keys><length expires>
//	type byte        <string key><object>     (EXPIRETIME*, IDLE, FREQ apply to the next key)
//
// Lengths (the top two bits of the first byte):
//
//	00xxxxxx                      6-bit length
//	01xxxxxx xxxxxxxx             14-bit length, big-endian
//	10000000 <u32 BE>             32-bit length
//	10000001 <u64 BE>             64-bit length
//	11xxxxxx                      encoded string: 0 int8, 1 int16 LE, 2 int32 LE,
//	                              3 LZF <length clen><length ulen><clen bytes>
//
// A string is a length then that many bytes, or an encoded string.
//
// Objects (type bytes):
//
//	0  STRING             <string>
//	1  LIST, 2 SET        <length n> n × <string>
//	3  ZSET               <length n> n × (<string member><u8 len|253 nan|254 +inf|255 -inf><ASCII score>)
//	5  ZSET_2             <length n> n × (<string member><f64 LE score>)
//	4  HASH               <length n> n × (<string field><string value>)
//	7  MODULE_2           <length module id> <module opcodes ... 0>
//	9  HASH_ZIPMAP, 10 LIST_ZIPLIST, 11 SET_INTSET, 12 ZSET_ZIPLIST, 13 HASH_ZIPLIST,
//	16 HASH_LISTPACK, 17 ZSET_LISTPACK, 20 SET_LISTPACK
//	                      <string blob> (the in-memory encoding, below)
//	14 LIST_QUICKLIST     <length nodes> nodes × <string ziplist>
//	18 LIST_QUICKLIST_2   <length nodes> nodes × (<length 1 PLAIN|2 PACKED><string element|listpack>)
//	22 HASH_METADATA_PRE_GA <length n> n × (<length abs ms or 0><string field><string value>)
//	22 HASH_2 (Valkey)    <length n> n × (<string field><string value><i64 LE abs ms, -1 none>)
//	23 HASH_LISTPACK_EX_PRE_GA <string listpack of field,value,ttl (0 none)>
//	24 HASH_METADATA      <u64 LE min ms><length n> n × (<length ms-min+1 or 0><string field><string value>)
//	25 HASH_LISTPACK_EX   <u64 LE min ms><string listpack of field,value,ttl>
//	15,19,21,26 STREAM_LISTPACKS[_2,_3,_4]
//	   <length nodes> nodes × (<string 16-byte BE master ID><string listpack>)
//	   <length len><length last ms><length last seq>
//	   v2+: <first ms><first seq><max-deleted ms><max-deleted seq><entries added>
//	   <length groups> groups × (<string name><length ms><length seq> v2+:<length entries_read>
//	       <length pel> pel × (<16-byte BE ID><i64 LE delivery ms><length count>)
//	       <length consumers> × (<string name><i64 LE seen ms> v3+:<i64 LE active ms>
//	                             <length n> n × <16-byte BE ID>))
//	   v4: <length duration><length max><length producers> × (<string pid><length n>
//	       n × (<string iid><length ms><length seq>)) <length added><length duplicates>
//
// Module opcodes: 0 EOF, 1 SINT and 2 UINT <length>, 3 FLOAT <4 bytes>,
// 4 DOUBLE <8 bytes>, 5 STRING <string>. The module id's top 54 bits are
// the 9-character name (6 bits per character), the low 10 bits the
// encoding version.
//
// Packed blobs:
//
//	ziplist:  <u32 bytes><u32 tail><u16 count> entries <0xff>
//	          entry: <prevlen 1 byte | 0xfe u32><encoding><data>
//	listpack: <u32 bytes><u16 count> entries <0xff>
//	          entry: <encoding><data><backlen 1-5 bytes>
//	          0xxxxxxx 7-bit uint | 10xxxxxx 6-bit str len | 110xxxxx 13-bit int
//	          1110xxxx 12-bit str len | f0 32-bit str len | f1 i16 | f2 i24 | f3 i32 | f4 i64
//	intset:   <u32 width 2|4|8><u32 count> count × <int LE>
//	zipmap:   <u8 count|254 unknown> (<len><key><len><u8 free><value><free bytes>)... <0xff>
//	stream listpack: <count><deleted><n master fields><fields...><0>
//	          entries × (<flags><ms diff><seq diff>[<n><field,value...> | <values...> if SAMEFIELDS]<lp-count>)
//
// A DUMP payload is <type byte><object><u16 LE RDB version><u64 LE CRC-64>;
// DecodeDump reads it with the same object decoder.
//
// # Errors
//
// Truncated input gives ErrTruncated; invalid bytes give ErrCorrupt; a
// checksum mismatch gives ErrChecksum (which also matches ErrCorrupt); an
// unknown version gives ErrUnsupportedVersion. Each is wrapped with the
// byte offset and what was being read. Every length is checked against
// the input's limits before anything is allocated; no input panics.
//
// Empty collections are not delivered (Redis 7 drops them when loading);
// Parser.EmptyKeysSkipped counts them. Keys whose expiry has passed are
// delivered: expiring is the loader's business.
package rdbparse
