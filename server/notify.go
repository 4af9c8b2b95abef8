package server

import (
	"strconv"

	"github.com/vdr-project/vdr/projection"
)

// Keyspace notifications: the projection records the events of every
// command it applies (projection.OnEvents) and the server publishes them
// to local subscribers as a Redis replica does (src/notify.c
// notifyKeyspaceEvent): for an event of an enabled class,
// __keyspace@<db>__:<key> with the event name as message when K is set,
// and __keyevent@<db>__:<event> with the key as message when E is set,
// in that order. The hook runs on the applier's goroutine after the
// write is visible, so a subscriber that reads on an event sees the new
// value.

// keyspaceEvents is the projection's OnEvents hook. It also delivers the
// PUBLISH and SPUBLISH of the stream's MULTI units, in their place among
// the events (the link handler delivers the others itself).
func (s *Server) keyspaceEvents(evs []projection.Event) {
	ps := s.env.PubSub
	f := s.opts.Projection.NotifyKeyspaceEvents()
	subs := ps.HasSubscribers()
	var buf [128]byte
	for i := range evs {
		ev := &evs[i]
		if ev.Class == 0 {
			if ev.Event == "spublish" {
				s.SPublish(ev.Key, ev.Msg)
			} else {
				s.Publish(ev.Key, ev.Msg)
			}
			continue
		}
		if f&ev.Class == 0 || !subs {
			continue // the setting changed since the event was recorded
		}
		if f&projection.NotifyKeyspace != 0 {
			ch := append(buf[:0], "__keyspace@"...)
			ch = strconv.AppendInt(ch, int64(ev.DB), 10)
			ch = append(ch, "__:"...)
			ch = append(ch, ev.Key...)
			ps.Publish(ch, []byte(ev.Event))
		}
		if f&projection.NotifyKeyevent != 0 {
			ch := append(buf[:0], "__keyevent@"...)
			ch = strconv.AppendInt(ch, int64(ev.DB), 10)
			ch = append(ch, "__:"...)
			ch = append(ch, ev.Event...)
			ps.Publish(ch, ev.Key)
		}
	}
}
