package replica

import (
	"fmt"
	"strconv"
)

// stream applies the command stream: it reads commands, keeps the SELECT
// state, groups MULTI/EXEC units, hands batches to the Handler and
// advances the applied offset only after the Handler returned nil.
//
// Offsets: readOff is the replication offset of the last byte consumed;
// pendOff/pendDB is the position after the last consumed command that is
// not inside an open MULTI; it becomes the applied position (appliedOff,
// appliedDB) once every command before it was delivered successfully.
type stream struct {
	rd     *reader
	h      Handler
	filter *filter
	max    int // Options.MaxBatch

	db      int   // database of the next command (read side)
	readOff int64 // offset of the last byte consumed

	pendOff int64
	pendDB  int

	appliedOff int64
	appliedDB  int

	batch []Command
	txn   []Command
	inTxn bool

	failed error // set when Commands failed: nothing more is delivered

	// applied is called after every advance of appliedOff (the Client
	// publishes it for Offset() and the ACK loop).
	applied func(off int64, db int)
	// ack sends REPLCONF ACK off (in reply to REPLCONF GETACK).
	ack func(off int64) error
	// received is called with readOff after each command (PrimaryOffset).
	received func(off int64)
	// raw, when set (tests), sees every command as decoded, with the
	// offsets of its first and last byte.
	raw func(argv [][]byte, first, last int64)
	// tap, when set (Options.Tap), gets every consumed command's bytes.
	tap    Tap
	tapBuf []byte
}

func newStream(rd *reader, h Handler, f *filter, maxBatch int, off int64, db int) *stream {
	return &stream{rd: rd, h: h, filter: f, max: maxBatch, db: db, readOff: off,
		pendOff: off, pendDB: db, appliedOff: off, appliedDB: db}
}

// run reads and applies commands until an error (a read error, a protocol
// error or a handler error). Complete commands read before a read error
// are still delivered.
func (s *stream) run() error {
	// About to read the socket (and maybe block): deliver what we have.
	// The arena is rotated, not reset, since a command may be half read.
	s.rd.src.before = func() error {
		if err := s.flush(false); err != nil {
			return err
		}
		if !s.inTxn {
			s.rd.rotate()
		}
		return nil
	}
	defer func() { s.rd.src.before = nil }()
	for {
		if !s.inTxn && len(s.batch) == 0 {
			s.rd.reset()
		}
		first := s.readOff + 1
		argv, n, err := s.rd.readCommand()
		if err != nil {
			// Deliver the complete commands read so far (outside an open
			// unit, which is never applied in part).
			if ferr := s.flush(false); ferr != nil {
				return ferr
			}
			return err
		}
		s.readOff += n
		if s.received != nil {
			s.received(s.readOff)
		}
		if s.raw != nil && argv != nil {
			s.raw(argv, first, s.readOff)
		}
		if s.tap != nil && !s.tap.TapBytes() {
			s.tap.TapCommand(nil, s.readOff)
		} else if s.tap != nil {
			s.tapBuf = appendArray(s.tapBuf[:0], argv)
			s.tap.TapCommand(s.tapBuf, s.readOff)
			if cap(s.tapBuf) > 1<<20 {
				s.tapBuf = nil // one big value does not pin its buffer
			}
		}
		if err := s.handle(argv); err != nil {
			return err
		}
	}
}

// handle processes one consumed command.
func (s *stream) handle(argv [][]byte) error {
	if len(argv) == 0 { // "*0": consumed, nothing to do
		if !s.inTxn {
			s.pendOff, s.pendDB = s.readOff, s.db
		}
		return nil
	}
	name := argv[0]
	if s.inTxn {
		switch {
		case eqLower(name, "exec"):
			if err := s.flush(false); err != nil {
				return err
			}
			s.inTxn = false
			if len(s.txn) > 0 {
				if err := s.h.Commands(s.txn); err != nil {
					return fmt.Errorf("replica: handler Commands (MULTI/EXEC unit ending at offset %d): %w", s.readOff, err)
				}
				clear(s.txn)
				s.txn = s.txn[:0]
			}
			s.pendOff, s.pendDB = s.readOff, s.db
			s.setApplied()
		case eqLower(name, "multi"):
			return fmt.Errorf("%w: nested MULTI at offset %d", ErrProtocol, s.readOff)
		case eqLower(name, "select"):
			return s.selectDB(argv)
		case eqLower(name, "ping"), eqLower(name, "replconf"):
			// Never sent inside a unit; nothing to apply.
		default:
			if s.filter.keepCommand(s.db, argv) {
				s.txn = append(s.txn, Command{DB: s.db, Argv: argv, Offset: s.readOff, Unit: true})
			}
		}
		return nil
	}
	switch {
	case eqLower(name, "multi"):
		s.inTxn = true
		return nil // pendOff stays before MULTI until EXEC
	case eqLower(name, "select"):
		if err := s.selectDB(argv); err != nil {
			return err
		}
	case eqLower(name, "ping"):
		// ping keeps the link alive; a handler may want to see it.
		if ph, ok := s.h.(PingHandler); ok {
			if err := s.flush(false); err != nil {
				return err
			}
			if err := ph.Ping(s.db, argv); err != nil {
				return fmt.Errorf("replica: handler Ping at offset %d: %w", s.readOff, err)
			}
		}
	case eqLower(name, "exec"):
		// a stray EXEC has nothing to commit.
	case eqLower(name, "replconf"):
		if len(argv) >= 2 && eqLower(argv[1], "getack") {
			// Like Redis, reply with the offset before the GETACK itself
			// (replconfCommand runs before commandProcessed advances
			// reploff); first apply everything read so far.
			if err := s.flush(false); err != nil {
				return err
			}
			if s.ack != nil {
				if err := s.ack(s.appliedOff); err != nil {
					return err
				}
			}
		}
	default:
		if s.filter.keepCommand(s.db, argv) {
			s.batch = append(s.batch, Command{DB: s.db, Argv: argv, Offset: s.readOff})
		}
	}
	s.pendOff, s.pendDB = s.readOff, s.db
	if len(s.batch) >= s.max {
		return s.flush(true)
	}
	return nil
}

// selectDB handles SELECT <db>.
func (s *stream) selectDB(argv [][]byte) error {
	if len(argv) != 2 {
		return fmt.Errorf("%w: SELECT with %d arguments at offset %d", ErrProtocol, len(argv)-1, s.readOff)
	}
	db, err := strconv.Atoi(string(argv[1]))
	if err != nil || db < 0 || db > 1<<20 {
		return fmt.Errorf("%w: SELECT %s at offset %d", ErrProtocol, quote(argv[1]), s.readOff)
	}
	s.db = db
	return nil
}

// flush delivers the pending batch (outside a unit) and advances the
// applied position; with reset, the arena is reused from here on.
func (s *stream) flush(reset bool) error {
	if s.failed != nil {
		return s.failed // never retry a batch the handler refused
	}
	if len(s.batch) > 0 {
		if err := s.h.Commands(s.batch); err != nil {
			s.failed = fmt.Errorf("replica: handler Commands (batch ending at offset %d): %w", s.batch[len(s.batch)-1].Offset, err)
			return s.failed
		}
		clear(s.batch)
		s.batch = s.batch[:0]
	}
	s.setApplied()
	if reset && !s.inTxn {
		s.rd.reset()
	}
	return nil
}

func (s *stream) setApplied() {
	if s.pendOff == s.appliedOff && s.pendDB == s.appliedDB {
		return
	}
	s.appliedOff, s.appliedDB = s.pendOff, s.pendDB
	if s.applied != nil {
		s.applied(s.appliedOff, s.appliedDB)
	}
}

// eqLower reports whether b equals lower (an ASCII lower-case word) with
// ASCII case folding, without allocating.
func eqLower(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
