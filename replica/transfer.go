package replica

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/vdr-project/vdr/rdbparse"
)

// eofMarkLen is the length of the diskless end mark (RDB_EOF_MARK_SIZE).
const eofMarkLen = 40 // RDB_EOF_MARK_SIZE

// syncHandler is what the RDB parser calls: the user's Handler with
// entries outside the filter dropped, and repl-stream-db remembered (the
// database the stream continues in, see rdbPopulateSaveInfo).
type syncHandler struct {
	Handler
	filter   *filter
	streamDB int
}

func (s *syncHandler) Entry(e *rdbparse.Entry) error {
	if !s.filter.keepEntry(e.DB, e.Key) {
		return nil
	}
	return s.Handler.Entry(e)
}

func (s *syncHandler) Aux(key, value []byte) error {
	if string(key) == "repl-stream-db" {
		if db, err := strconv.Atoi(string(value)); err == nil && db >= 0 {
			s.streamDB = db
		}
	}
	return s.Handler.Aux(key, value)
}

// transfer receives the RDB payload after +FULLRESYNC, parsing it off the
// socket as it arrives (see readSyncBulkPayload in src/replication.c):
//
//	[\n]* $<len>\r\n <len bytes of RDB>                  disk-based
//	[\n]* $EOF:<40 bytes mark>\r\n <RDB> <the same mark>  diskless
//
// It returns the database the command stream starts in.
func (l *link) transfer(replID string, off int64) (db int, err error) {
	c := l.c
	if err := l.skipKeepalives(); err != nil {
		return 0, fmt.Errorf("replica: waiting for the RDB: %w", err)
	}
	line, _, err := l.rd.readLine()
	if err != nil {
		return 0, fmt.Errorf("replica: RDB header line: %w", err)
	}
	if len(line) == 0 || line[0] != '$' {
		if len(line) > 0 && line[0] == '-' {
			return 0, fmt.Errorf("%w: primary aborted the transfer: %s", ErrProtocol, quote(line[1:]))
		}
		return 0, fmt.Errorf("%w: expected the RDB bulk header, got %s", ErrProtocol, quote(line))
	}
	var mark []byte
	total := int64(-1)
	if rest, ok := bytes.CutPrefix(line[1:], []byte("EOF:")); ok {
		if len(rest) != eofMarkLen {
			return 0, fmt.Errorf("%w: diskless end mark of %d bytes", ErrProtocol, len(rest))
		}
		mark = bytes.Clone(rest)
	} else {
		n, ok := parseInt(line[1:])
		if !ok || n < 0 {
			return 0, fmt.Errorf("%w: invalid RDB length %s", ErrProtocol, quote(line))
		}
		total = n
	}

	c.setState(StateLoading, nil)
	start := time.Now()
	c.progressTotal.Store(total)
	c.progressStart.Store(start.UnixNano())
	if err := c.h.FullSyncBegin(replID, off); err != nil {
		return 0, fmt.Errorf("replica: handler FullSyncBegin: %w", err)
	}
	sh := &syncHandler{Handler: c.h, filter: c.filter}
	abort := func(err error) (int, error) {
		c.progress.Store(nil)
		c.h.FullSyncAbort(err)
		return 0, err
	}
	var p *rdbparse.Parser
	if mark != nil {
		// The parser consumes exactly the RDB from l.br, so the mark is
		// what follows, wherever the reads split it.
		p = rdbparse.NewParser(l.br, sh, &c.opts.RDB)
		c.progress.Store(p)
		if err := p.Parse(); err != nil {
			return abort(fmt.Errorf("replica: loading the diskless RDB: %w", err))
		}
		got := make([]byte, eofMarkLen)
		if _, err := io.ReadFull(l.br, got); err != nil {
			return abort(fmt.Errorf("replica: reading the diskless end mark: %w", unexpected(err)))
		}
		if !bytes.Equal(got, mark) {
			return abort(fmt.Errorf("%w: after %d RDB bytes got %s", ErrEndMark, p.Offset(), quote(got)))
		}
	} else {
		// A limited reader keeps a confused parse from eating the stream.
		lr := io.LimitReader(l.br, total)
		p = rdbparse.NewParser(bufio.NewReaderSize(lr, 64<<10), sh, &c.opts.RDB)
		c.progress.Store(p)
		if err := p.Parse(); err != nil {
			return abort(fmt.Errorf("replica: loading the RDB (%d bytes announced): %w", total, err))
		}
		if p.Offset() != total {
			return abort(fmt.Errorf("%w: RDB ended after %d of the %d bytes announced", ErrProtocol, p.Offset(), total))
		}
	}
	if err := c.h.FullSyncEnd(replID, off); err != nil {
		return abort(fmt.Errorf("replica: handler FullSyncEnd: %w", err))
	}
	c.lastSyncBytes.Store(p.Offset())
	c.lastSyncKeys.Store(p.Keys())
	c.lastSyncDur.Store(int64(time.Since(start)))
	c.fullSyncs.Add(1)
	c.progress.Store(nil)
	return sh.streamDB, nil
}
