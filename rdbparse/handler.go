package rdbparse

// Handler receives everything a parse finds, in file order. Any method
// returning a non-nil error stops the parse; Parse returns that error
// unchanged (wrapped with the offset).
//
// Embed NopHandler to implement only the methods you need.
type Handler interface {
	// Header is called once, first.
	Header(h Header) error
	// Aux is called for each RDB_OPCODE_AUX field (redis-ver, repl-id, …).
	Aux(key, value []byte) error
	// ResizeDB is called for RDB_OPCODE_RESIZEDB: the size hints of the
	// current database.
	ResizeDB(db int, keys, expires uint64) error
	// SlotInfo is called for RDB_OPCODE_SLOT_INFO (cluster mode, Redis 7.4+).
	SlotInfo(slot, keys, expires uint64) error
	// ModuleAux is called for RDB_OPCODE_MODULE_AUX; the payload is skipped.
	ModuleAux(m Module, when int) error
	// Function is called for each function library (RDB_OPCODE_FUNCTION2, or
	// the pre-GA RDB_OPCODE_FUNCTION_PRE_GA, whose name and engine become
	// the code's "#!<engine> name=<name>" first line as Redis 7.0 makes
	// it), with the library's source code.
	Function(code []byte) error
	// Entry is called for each key, or each batch of a big key (see Entry).
	Entry(e *Entry) error
	// End is called after RDB_OPCODE_EOF and the checksum were read. crc is
	// the checksum stored in the file (0: checksum disabled, or a version
	// before 5 that has none).
	End(crc uint64) error
}

// NopHandler implements Handler by doing nothing. Embed it.
type NopHandler struct{}

func (NopHandler) Header(Header) error                   { return nil }
func (NopHandler) Aux(key, value []byte) error           { return nil }
func (NopHandler) ResizeDB(int, uint64, uint64) error    { return nil }
func (NopHandler) SlotInfo(uint64, uint64, uint64) error { return nil }
func (NopHandler) ModuleAux(Module, int) error           { return nil }
func (NopHandler) Function([]byte) error                 { return nil }
func (NopHandler) Entry(*Entry) error                    { return nil }
func (NopHandler) End(uint64) error                      { return nil }

// Options tunes a parse. The zero value means the defaults.
type Options struct {
	// BatchSize is the most elements one Entry call carries for a
	// collection (list elements, set members, hash fields, zset members,
	// stream entries). Default DefaultBatchSize.
	BatchSize int
	// MaxStringBytes bounds any single string read from the input (key,
	// value, listpack blob). Longer lengths are reported as ErrCorrupt
	// before anything is allocated. Default DefaultMaxStringBytes
	// (Redis's proto-max-bulk-len default, 512 MiB).
	MaxStringBytes int64
	// SkipChecksum disables verifying the CRC-64 at the end.
	SkipChecksum bool
}

// Defaults for Options.
const (
	DefaultBatchSize      = 512
	DefaultMaxStringBytes = 512 << 20
)

// The API the rest of vdr builds on (implemented in parse.go):
//
//	func Parse(r io.Reader, h Handler, opts *Options) error
//	func NewParser(r io.Reader, h Handler, opts *Options) *Parser
//	func (p *Parser) Parse() error
//	func (p *Parser) Offset() int64 // bytes consumed so far; safe to call from any goroutine
//	func (p *Parser) Keys() int64   // keys completed so far; safe to call from any goroutine
//	func DecodeDump(payload []byte, h Handler, opts *Options) (rdbVersion int, err error)
//
// When r is a *bufio.Reader, Parse uses it as is and consumes exactly the
// RDB's bytes, up to and including the 8-byte checksum (or the EOF opcode
// before version 5), so the caller can read whatever follows from the same
// bufio.Reader (the replica reads the diskless end mark and the command
// stream that way).
