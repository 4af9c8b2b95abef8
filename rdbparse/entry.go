package rdbparse

// This file holds the parser's public data types: what a Handler receives.
// They are shared by replica (which parses the RDB straight off the socket)
// and projection (which loads entries and decodes RESTORE payloads), so
// fields may be added but not renamed or removed.

// Kind is the logical Redis type of a key, whatever its RDB encoding.
type Kind uint8

// The logical kinds. Module values are reported, never decoded.
const (
	KindString Kind = iota + 1
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
	KindModule
)

// String returns the name Redis's TYPE command uses ("string", "list", …);
// module values give "module".
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindList:
		return "list"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	case KindHash:
		return "hash"
	case KindStream:
		return "stream"
	case KindModule:
		return "module"
	}
	return "unknown"
}

// Entry is one key, or one batch of one key's elements.
//
// A string arrives in one call. A collection arrives in one or more calls:
// Batch counts them from 0 and Last is set on the key's final call, so a
// collection of any size needs only a batch's worth of memory (see
// Options.BatchSize). The header fields (DB, Key, Kind, RDBType, ExpireMs,
// Idle, Freq, Len) are the same in every batch of a key.
//
// Lifetime: an Entry and every []byte reachable from it are valid only until
// the Handler method returns. The parser reuses the memory for the next
// call; copy what you keep.
type Entry struct {
	DB      int    // database number (the last SELECTDB before the key)
	Key     []byte // the key name
	Kind    Kind   // logical type
	RDBType byte   // the RDB object type byte it was encoded with (a Type* constant)

	ExpireMs int64 // absolute Unix time in ms; -1 when the key has no expiry
	Idle     int64 // LRU idle time in seconds (RDB_OPCODE_IDLE); -1 when absent
	Freq     int   // LFU frequency counter 0–255 (RDB_OPCODE_FREQ); -1 when absent

	Batch int   // 0 for the first call about this key
	Last  bool  // true on the key's final call
	Len   int64 // number of elements when the encoding states it up front; -1 otherwise

	// Exactly one of these holds the value (or this batch of it), by Kind.
	String   []byte      // KindString: the whole value (integers rendered in decimal)
	Elems    [][]byte    // KindList (in order, head first) and KindSet
	Fields   []HashField // KindHash
	ZMembers []ZMember   // KindZSet (in the order stored; not necessarily sorted)
	Stream   *Stream     // KindStream
	Module   *Module     // KindModule
}

// HashField is one field of a hash.
type HashField struct {
	Field, Value []byte
	ExpireMs     int64 // absolute Unix ms of a per-field TTL (Redis 7.4+, Valkey 8.1+); -1 when none
}

// ZMember is one sorted-set member.
type ZMember struct {
	Member []byte
	Score  float64
}

// StreamID is a stream entry ID, ms-seq.
type StreamID struct{ Ms, Seq uint64 }

// StreamEntry is one live (not deleted) stream entry. Fields alternates
// field name and value, in the order stored; names may repeat.
type StreamEntry struct {
	ID     StreamID
	Fields [][]byte
}

// EntriesReadUnknown is the consumer group entries_read value meaning
// "unknown" (Redis writes 2^64−1, SCG_INVALID_ENTRIES_READ as unsigned).
const EntriesReadUnknown = ^uint64(0)

// Stream is one batch of a stream key. Entries come in batches; the
// metadata and consumer groups are set only on the key's Last call.
type Stream struct {
	Entries []StreamEntry // this batch's live entries, in ID order

	// Set on the Last call only.
	Length       uint64   // number of live entries, as stored
	LastID       StreamID // the stream's last generated ID
	FirstID      StreamID // v2+ (RDB_TYPE_STREAM_LISTPACKS_2); zero before
	MaxDeletedID StreamID // v2+; zero before
	EntriesAdded uint64   // v2+; zero before
	Groups       []StreamGroup
}

// StreamGroup is one consumer group with its pending entries list.
type StreamGroup struct {
	Name        []byte
	LastID      StreamID
	EntriesRead uint64 // v2+; EntriesReadUnknown when not known
	PEL         []StreamPending
	Consumers   []StreamConsumer
}

// StreamPending is one entry of a group's pending entries list.
type StreamPending struct {
	ID            StreamID
	DeliveryTime  int64 // Unix ms
	DeliveryCount uint64
	Consumer      []byte // name of the consumer owning it (from the consumers' PELs)
}

// StreamConsumer is one consumer of a group.
type StreamConsumer struct {
	Name       []byte
	SeenTime   int64      // Unix ms
	ActiveTime int64      // Unix ms (v3+, RDB_TYPE_STREAM_LISTPACKS_3); -1 before
	Pending    []StreamID // IDs this consumer owns in the group's PEL
}

// Module is a module value the parser skipped. The value's bytes are read
// and dropped through the module opcodes, so parsing continues in sync.
type Module struct {
	ID   uint64 // the 64-bit module type id
	Name string // the 9-character module type name decoded from ID
	Ver  int    // encoding version decoded from ID
}

// Header is what the file's first nine bytes say.
type Header struct {
	Magic   string // "REDIS" or "VALKEY"
	Version int    // RDB version (Valkey: 80, 81, …)
}
