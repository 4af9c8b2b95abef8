package rdbparse

// RDB object types and opcodes, named after src/rdb.h.
//
// When adding a type, update: the Type* constants below, kindOf (the
// logical Kind), typeName (the encoding name cmd/vdr prints), the switch in
// readObject (object.go), DecodeDump's type check (dump.go), the package
// doc's type table (doc.go) and the corpus tests (corpus_test.go).
const (
	TypeString              = 0  // RDB_TYPE_STRING
	TypeList                = 1  // RDB_TYPE_LIST (linked list)
	TypeSet                 = 2  // RDB_TYPE_SET (hashtable)
	TypeZSet                = 3  // RDB_TYPE_ZSET (scores as ASCII)
	TypeHash                = 4  // RDB_TYPE_HASH (hashtable)
	TypeZSet2               = 5  // RDB_TYPE_ZSET_2 (scores as binary doubles)
	TypeModulePreGA         = 6  // RDB_TYPE_MODULE_PRE_GA (4.0 RCs; cannot be skipped)
	TypeModule2             = 7  // RDB_TYPE_MODULE_2
	TypeHashZipmap          = 9  // RDB_TYPE_HASH_ZIPMAP
	TypeListZiplist         = 10 // RDB_TYPE_LIST_ZIPLIST
	TypeSetIntset           = 11 // RDB_TYPE_SET_INTSET
	TypeZSetZiplist         = 12 // RDB_TYPE_ZSET_ZIPLIST
	TypeHashZiplist         = 13 // RDB_TYPE_HASH_ZIPLIST
	TypeListQuicklist       = 14 // RDB_TYPE_LIST_QUICKLIST
	TypeStreamListpacks     = 15 // RDB_TYPE_STREAM_LISTPACKS
	TypeHashListpack        = 16 // RDB_TYPE_HASH_LISTPACK
	TypeZSetListpack        = 17 // RDB_TYPE_ZSET_LISTPACK
	TypeListQuicklist2      = 18 // RDB_TYPE_LIST_QUICKLIST_2
	TypeStreamListpacks2    = 19 // RDB_TYPE_STREAM_LISTPACKS_2
	TypeSetListpack         = 20 // RDB_TYPE_SET_LISTPACK
	TypeStreamListpacks3    = 21 // RDB_TYPE_STREAM_LISTPACKS_3
	TypeHashMetadataPreGA   = 22 // RDB_TYPE_HASH_METADATA_PRE_GA (Redis 7.4 RC, "REDIS" magic)
	TypeHash2               = 22 // RDB_TYPE_HASH_2 (Valkey 8.1+, "VALKEY" magic): same byte, other format
	TypeHashListpackExPreGA = 23 // RDB_TYPE_HASH_LISTPACK_EX_PRE_GA (Redis 7.4 RC)
	TypeHashMetadata        = 24 // RDB_TYPE_HASH_METADATA (Redis 7.4+)
	TypeHashListpackEx      = 25 // RDB_TYPE_HASH_LISTPACK_EX (Redis 7.4+)
	TypeStreamListpacks4    = 26 // RDB_TYPE_STREAM_LISTPACKS_4 (RDB 13, IDMP)
)

// RDB opcodes: a byte in the position of an object type that is not a key.
const (
	OpcodeKeyMeta      = 243 // RDB_OPCODE_KEY_META (Redis 8, "REDIS" magic): not decodable, reported as an error
	OpcodeSlotImport   = 243 // RDB_OPCODE_SLOT_IMPORT (Valkey, "VALKEY" magic): same byte, other meaning
	OpcodeSlotInfo     = 244 // RDB_OPCODE_SLOT_INFO
	OpcodeFunction2    = 245 // RDB_OPCODE_FUNCTION2
	OpcodeFunctionPre  = 246 // RDB_OPCODE_FUNCTION_PRE_GA (7.0 RC1/RC2)
	OpcodeModuleAux    = 247 // RDB_OPCODE_MODULE_AUX
	OpcodeIdle         = 248 // RDB_OPCODE_IDLE
	OpcodeFreq         = 249 // RDB_OPCODE_FREQ
	OpcodeAux          = 250 // RDB_OPCODE_AUX
	OpcodeResizeDB     = 251 // RDB_OPCODE_RESIZEDB
	OpcodeExpireTimeMs = 252 // RDB_OPCODE_EXPIRETIME_MS
	OpcodeExpireTime   = 253 // RDB_OPCODE_EXPIRETIME (seconds)
	OpcodeSelectDB     = 254 // RDB_OPCODE_SELECTDB
	OpcodeEOF          = 255 // RDB_OPCODE_EOF

	// Redis Enterprise opcodes that open-source files never hold but
	// Enterprise files do (see librdb's __RDB_OPCODE_*); each carries one
	// length and is skipped.
	opcodeEntRAMLRU  = 107 // __RDB_OPCODE_RAM_LRU
	opcodeEntSlotNum = 121 // __RDB_OPCODE_SLOT_NUM
)

// Length encodings (the top two bits of a length's first byte), after
// RDB_6BITLEN … RDB_ENCVAL in src/rdb.h.
const (
	len6Bit  = 0    // RDB_6BITLEN
	len14Bit = 1    // RDB_14BITLEN
	len32Bit = 0x80 // RDB_32BITLEN
	len64Bit = 0x81 // RDB_64BITLEN
	lenEnc   = 3    // RDB_ENCVAL
)

// Special string encodings (RDB_ENCVAL followed by these in the low 6 bits).
const (
	encInt8  = 0 // RDB_ENC_INT8
	encInt16 = 1 // RDB_ENC_INT16
	encInt32 = 2 // RDB_ENC_INT32
	encLZF   = 3 // RDB_ENC_LZF
)

// Module value opcodes (RDB_MODULE_OPCODE_*): how a MODULE_2 value or a
// MODULE_AUX payload is annotated so that it can be skipped without the
// module.
const (
	moduleOpcodeEOF    = 0 // RDB_MODULE_OPCODE_EOF
	moduleOpcodeSInt   = 1 // RDB_MODULE_OPCODE_SINT
	moduleOpcodeUInt   = 2 // RDB_MODULE_OPCODE_UINT
	moduleOpcodeFloat  = 3 // RDB_MODULE_OPCODE_FLOAT
	moduleOpcodeDouble = 4 // RDB_MODULE_OPCODE_DOUBLE
	moduleOpcodeString = 5 // RDB_MODULE_OPCODE_STRING
)

// Quicklist v2 node containers (QUICKLIST_NODE_CONTAINER_*).
const (
	quicklistNodePlain  = 1 // QUICKLIST_NODE_CONTAINER_PLAIN
	quicklistNodePacked = 2 // QUICKLIST_NODE_CONTAINER_PACKED
)

// Stream listpack entry flags (STREAM_ITEM_FLAG_*).
const (
	streamItemFlagDeleted    = 1 << 0 // STREAM_ITEM_FLAG_DELETED
	streamItemFlagSameFields = 1 << 1 // STREAM_ITEM_FLAG_SAMEFIELDS
)

// Supported versions.
const (
	minRedisVersion  = 1
	maxRedisVersion  = 13 // RDB_VERSION of Redis 8.6-dev (STREAM_LISTPACKS_4)
	minValkeyVersion = 80
	maxValkeyVersion = 81
)

// kindOf maps an object type byte to its logical kind; ok is false for
// bytes that are not object types.
func kindOf(t byte) (Kind, bool) {
	switch t {
	case TypeString:
		return KindString, true
	case TypeList, TypeListZiplist, TypeListQuicklist, TypeListQuicklist2:
		return KindList, true
	case TypeSet, TypeSetIntset, TypeSetListpack:
		return KindSet, true
	case TypeZSet, TypeZSet2, TypeZSetZiplist, TypeZSetListpack:
		return KindZSet, true
	case TypeHash, TypeHashZipmap, TypeHashZiplist, TypeHashListpack,
		TypeHashMetadataPreGA, TypeHashListpackExPreGA, TypeHashMetadata, TypeHashListpackEx:
		return KindHash, true
	case TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3, TypeStreamListpacks4:
		return KindStream, true
	case TypeModulePreGA, TypeModule2:
		return KindModule, true
	}
	return 0, false
}

// TypeName returns a short name of an RDB object type byte's encoding, as
// the vdr rdb command prints it ("listpack", "quicklist2", …). valkey
// selects the meaning of type 22.
func TypeName(t byte, valkey bool) string {
	switch t {
	case TypeString:
		return "string"
	case TypeList:
		return "linkedlist"
	case TypeSet, TypeHash:
		return "hashtable"
	case TypeZSet:
		return "skiplist"
	case TypeZSet2:
		return "skiplist2"
	case TypeModulePreGA:
		return "module-pre-ga"
	case TypeModule2:
		return "module2"
	case TypeHashZipmap:
		return "zipmap"
	case TypeListZiplist, TypeZSetZiplist, TypeHashZiplist:
		return "ziplist"
	case TypeSetIntset:
		return "intset"
	case TypeListQuicklist:
		return "quicklist"
	case TypeListQuicklist2:
		return "quicklist2"
	case TypeHashListpack, TypeZSetListpack, TypeSetListpack:
		return "listpack"
	case TypeStreamListpacks:
		return "stream-listpacks"
	case TypeStreamListpacks2:
		return "stream-listpacks2"
	case TypeStreamListpacks3:
		return "stream-listpacks3"
	case TypeStreamListpacks4:
		return "stream-listpacks4"
	case 22:
		if valkey {
			return "hash2"
		}
		return "hash-metadata-pre-ga"
	case TypeHashListpackExPreGA:
		return "listpack-ex-pre-ga"
	case TypeHashMetadata:
		return "hash-metadata"
	case TypeHashListpackEx:
		return "listpack-ex"
	}
	return "unknown"
}
