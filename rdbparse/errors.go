package rdbparse

import "errors"

// Sentinel errors. Parse wraps them with the byte offset and what was
// being read; test with errors.Is.
var (
	// ErrTruncated means the input ended inside the RDB (the reader
	// returned io.EOF or io.ErrUnexpectedEOF before RDB_OPCODE_EOF and the
	// checksum). Redis reports this as a read error (rdbReportReadError).
	ErrTruncated = errors.New("rdbparse: truncated input")
	// ErrCorrupt means the bytes are not a valid RDB: a bad length, an
	// unknown type or encoding, an inconsistent ziplist, … (Redis's
	// rdbReportCorruptRDB).
	ErrCorrupt = errors.New("rdbparse: corrupt input")
	// ErrChecksum means the stored CRC-64 does not match the data. It also
	// matches ErrCorrupt.
	ErrChecksum error = checksumError{}
	// ErrUnsupportedVersion means the header names an RDB version this
	// parser does not know (REDIS above 13, VALKEY other than 080/081).
	ErrUnsupportedVersion = errors.New("rdbparse: unsupported RDB version")
	// ErrUnsupported means a valid but undecodable record: a pre-GA module
	// value (RDB_TYPE_MODULE_PRE_GA, which has no opcodes to skip by) or
	// Redis 8 key metadata (RDB_OPCODE_KEY_META).
	ErrUnsupported = errors.New("rdbparse: unsupported record")
)

type checksumError struct{}

func (checksumError) Error() string { return "rdbparse: checksum mismatch" }

// Is makes errors.Is(ErrChecksum, ErrCorrupt) true.
func (checksumError) Is(target error) bool { return target == ErrCorrupt }
