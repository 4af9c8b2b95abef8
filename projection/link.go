package projection

// Link feeds a replication stream, command by command, into a Projection:
// it tracks SELECT, buffers MULTI…EXEC and applies the unit with
// ApplyBatch, and passes everything else to Apply. It copies what it
// buffers, so argv may be reused by the caller after Feed returns. A Link
// is used by one goroutine (the applier).
type Link struct {
	p     *Projection
	db    int
	multi bool
	queue []Command
}

// NewLink returns a Link starting in db 0 (after a full sync the primary
// always sends SELECT before the first command).
func (p *Projection) NewLink() *Link { return &Link{p: p} }

// DB returns the database the stream last selected.
func (l *Link) DB() int { return l.db }

// InMulti reports whether a MULTI is open (its commands are buffered).
func (l *Link) InMulti() bool { return l.multi }

// Reset forgets the selected db and any open MULTI (after a full sync).
func (l *Link) Reset() {
	l.db, l.multi, l.queue = 0, false, l.queue[:0]
}

// Feed handles one command from the link.
func (l *Link) Feed(argv [][]byte) error {
	if len(argv) == 0 {
		return nil
	}
	name := argv[0]
	switch {
	case eq(name, "select"):
		if len(argv) != 2 {
			return ErrSyntax
		}
		n, ok := parseStrictInt(argv[1])
		if !ok || n < 0 || n >= int64(l.p.NumDBs()) {
			return ErrDBIndex
		}
		l.db = int(n)
		return nil
	case eq(name, "multi"):
		if l.multi { // never nested on the link; apply what we have
			if err := l.flush(); err != nil {
				return err
			}
		}
		l.multi = true
		return nil
	case eq(name, "exec"):
		if !l.multi {
			return nil
		}
		return l.flush()
	}
	if l.multi {
		cp := make([][]byte, len(argv))
		for i, a := range argv {
			cp[i] = append([]byte(nil), a...)
		}
		l.queue = append(l.queue, Command{DB: l.db, Argv: cp})
		return nil
	}
	return l.p.Apply(l.db, argv)
}

func (l *Link) flush() error {
	q := l.queue
	l.multi, l.queue = false, l.queue[:0]
	if len(q) == 0 {
		return nil
	}
	err := l.p.ApplyBatch(q)
	clear(q)
	return err
}
