package server

import (
	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/projection"
)

// What the front end does when the projection reports a change
// (projection.OnChange, the one "these keys changed" hook, as Redis's
// signalModifiedKey): clients blocked in XREAD BLOCK on a changed key are
// woken (a woken client re-runs its read, so waking one too many costs a
// lookup, never a wrong reply), and CLIENT TRACKING invalidates the keys
// once the write is visible, so an invalidated client that reads again
// sees the new value. The hook runs on the applier's goroutine; with no
// blocked client and no tracking it costs two atomic loads.

// tracking returns the tracking table when a write can matter to it; nil
// costs two atomic loads when nobody tracks.
func (s *Server) tracking() *commands.Tracking {
	if t := s.env.Tracking; t.Active() {
		return t
	}
	return nil
}

// changed is the projection's OnChange hook.
//
// Tracking: every changed key is invalidated, a flush (FLUSHALL, FLUSHDB,
// a full sync) invalidates everything (trackingInvalidateKeysOnFlush), and
// SWAPDB nothing (Redis 7.0's swapdbCommand signals no key). Redis
// invalidates only keys a command really changed; the applier reports the
// keys the command's row writes, so a command naming a key it left alone
// (DEL of a missing key next to an existing one) invalidates it here too:
// a client drops a cache entry it could have kept, never keeps a stale
// one. BCAST clients get each batch's keys when the link handler calls
// Broadcast, as Redis sends them once per event-loop iteration.
func (s *Server) changed(ch *projection.Change) {
	if s.Blocking() {
		if ch.Kind == projection.Modified {
			for _, k := range ch.Keys {
				s.SignalKey(ch.DB, k)
			}
		} else {
			s.SignalAll()
		}
	}
	if t := s.tracking(); t != nil {
		switch ch.Kind {
		case projection.Modified:
			for _, k := range ch.Keys {
				t.Invalidate(k)
			}
		case projection.FlushedDB, projection.FlushedAll:
			t.InvalidateAll()
		}
	}
}
