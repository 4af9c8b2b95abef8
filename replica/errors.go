package replica

import "errors"

// Sentinel errors. Errors returned by the Client wrap one of these with
// context; test them with errors.Is.
var (
	// errPrimaryChanged ends a session dialled before SetPrimary.
	errPrimaryChanged = errors.New("replica: the primary changed (REPLICAOF)")
	// ErrProtocol reports bytes from the primary that break the RESP or
	// replication framing (a non-array in the command stream, a bad length,
	// an over-long line, an unknown reply). The link is dropped and
	// re-established.
	ErrProtocol = errors.New("replica: protocol error")
	// ErrTooLarge reports a length from the wire above a configured bound
	// (Options.MaxBulkBytes, Options.MaxMultibulkLen). Nothing is allocated
	// for it; the link is dropped.
	ErrTooLarge = errors.New("replica: length over limit")
	// ErrAuth reports that the primary (or a sentinel) refused AUTH, or
	// asked for it when no password is configured.
	ErrAuth = errors.New("replica: authentication failed")
	// ErrPrimaryNotReady reports -NOMASTERLINK or -LOADING in reply to PSYNC:
	// the primary can't serve a sync yet; the client retries after backoff.
	ErrPrimaryNotReady = errors.New("replica: primary not ready")
	// ErrPsyncRefused reports any other error reply to PSYNC.
	ErrPsyncRefused = errors.New("replica: PSYNC refused")
	// ErrNotPrimary reports that the server found through Sentinel
	// answered ROLE with something other than "master".
	ErrNotPrimary = errors.New("replica: server is not a primary")
	// ErrNoPrimary reports that no sentinel could name the primary.
	ErrNoPrimary = errors.New("replica: no sentinel knows the primary")
	// ErrEndMark reports a diskless transfer whose 40-byte end mark did not
	// follow the RDB: the payload is corrupt or the parser misread it.
	ErrEndMark = errors.New("replica: diskless end mark mismatch")
	// ErrTimeout reports that the primary sent nothing for
	// Options.ReadTimeout.
	ErrTimeout = errors.New("replica: read timeout")
	// ErrStop may be returned (or wrapped) by any Handler method: the
	// Client drops the link and Run returns the handler's error. A
	// FullSyncAbort is delivered first when it happens mid full sync.
	ErrStop = errors.New("replica: stopped by handler")
	// ErrFullResync may be returned (or wrapped) by Handler.Commands when
	// the handler applied part of a batch and cannot undo it: the client
	// forgets its (replid, offset) and asks for a full resync ("PSYNC ? -1").
	ErrFullResync = errors.New("replica: full resync required")
	// ErrStopped is returned by Start when the Client already ran.
	ErrStopped = errors.New("replica: client already started")
	// ErrInvalidOptions wraps every Options.Validate failure.
	ErrInvalidOptions = errors.New("replica: invalid options")
)
