package projection

import "errors"

// Sentinel errors. Test with errors.Is; returned errors wrap these with
// context (command name, key, db).
var (
	// ErrNeedResync means the projection can no longer mirror the primary
	// exactly (an unknown or unsupported command under OnUnknown=Resync, or
	// a command that failed in a way the primary's could not have) and the
	// caller should start a new full sync.
	ErrNeedResync = errors.New("projection: need resync")
	// ErrUnsupported marks a command the projection cannot apply exactly.
	ErrUnsupported = errors.New("projection: unsupported command")
	// ErrSyntax is a malformed command (wrong arity, bad option).
	ErrSyntax = errors.New("projection: syntax error")
	// ErrWrongType is a command against a key holding another type.
	ErrWrongType = errors.New("projection: WRONGTYPE Operation against a key holding the wrong kind of value")
	// ErrNotInteger is a value that is not an integer or out of range.
	ErrNotInteger = errors.New("projection: value is not an integer or out of range")
	// ErrNotFloat is a value that is not a valid float.
	ErrNotFloat = errors.New("projection: value is not a valid float")
	// ErrOverflow is an increment or decrement that would overflow.
	ErrOverflow = errors.New("projection: increment or decrement would overflow")
	// ErrNoSuchKey is a command whose source key is missing where Redis
	// replies an error (RENAME, LSET).
	ErrNoSuchKey = errors.New("projection: no such key")
	// ErrOutOfRange is an index or offset out of range.
	ErrOutOfRange = errors.New("projection: index out of range")
	// ErrDBIndex is a database number outside 0..NumDBs()-1.
	ErrDBIndex = errors.New("projection: DB index is out of range")
	// ErrKeyNotLocked is reported by View.Err when a View was asked for a
	// key that was not named when the View was opened.
	ErrKeyNotLocked = errors.New("projection: key not locked by this view")
	// ErrNotImplemented marks a read feature that is not implemented yet.
	ErrNotImplemented = errors.New("projection: not implemented")
	// ErrLoadClosed is returned by a Loader after Commit or Abort.
	ErrLoadClosed = errors.New("projection: loader already committed or aborted")
)
