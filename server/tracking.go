package server

import (
	"github.com/vdr-project/vdr/commands"
	"github.com/vdr-project/vdr/replica"
)

// Client-side caching: the keys the stream writes are handed to the
// commands' tracking table once applied (so an invalidated client that
// reads again sees the new value), as a Redis replica's signalModifiedKey
// does for the commands its primary sends.

// tracking returns the tracking table when a write can matter to it; nil
// costs two atomic loads when nobody tracks.
func (s *Server) tracking() *commands.Tracking {
	if t := s.env.Tracking; t.Active() {
		return t
	}
	return nil
}

// invalidateTracked passes the keys an applied batch wrote to the
// tracking table, in command order: every key a write command's key specs
// name for writing (RENAME and MOVE both keys' names, COPY the
// destination), and a flush for FLUSHALL and FLUSHDB
// (trackingInvalidateKeysOnFlush). SWAPDB invalidates nothing: Redis 7.0's
// swapdbCommand only touches WATCHed keys (the flush in db.c is for
// diskless loading's swapMainDbWithTempDb). Then BCAST clients get the
// batch's keys, as Redis sends them once per event-loop iteration.
//
// Redis invalidates only keys a command really changed; the stream
// carries commands as the primary ran them, so a command naming a key it
// left alone (DEL of a missing key next to an existing one) invalidates
// it here too: a client drops a cache entry it could have kept, never
// keeps a stale one.
func (h *linkHandler) invalidateTracked(t *commands.Tracking, cmds []replica.Command) {
	var keys [][]byte
	v := h.n.srv.env.Version.Load()
	for _, c := range cmds {
		if len(c.Argv) == 0 {
			continue
		}
		if isFlush(c.Argv[0]) {
			t.InvalidateAll()
			continue
		}
		var ok bool
		keys, ok = commands.WrittenKeys(v, c.Argv, keys[:0])
		if !ok {
			continue
		}
		for _, k := range keys {
			t.Invalidate(k)
		}
	}
	t.Broadcast()
}

func isFlush(name []byte) bool {
	switch len(name) {
	case 7, 8:
	default:
		return false
	}
	var buf [8]byte
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	switch string(buf[:len(name)]) {
	case "flushall", "flushdb":
		return true
	}
	return false
}
