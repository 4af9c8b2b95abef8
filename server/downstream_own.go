package server

// A vdr with db or key-prefix filters holds part of the data; a replica
// served the primary's stream would get commands for keys it has no
// copy of, so by default such a vdr refuses PSYNC. With
// NodeOptions.DownstreamFiltered (--downstream-filtered) it serves its
// own data instead, as a primary of its own: an RDB of its (filtered)
// projection and the commands it applied, under a replication ID of its
// own and offsets that count its own stream. Its replicas can then
// PSYNC back to it, or to nothing else: the primary's ID means nothing
// for their data.
//
// The stream is re-encoded from the commands the link delivers (after
// the filter), under linkHandler.mu, so that a cut's offset and data
// agree: a SELECT before a command of another db, MULTI/EXEC around a
// unit, and a PING every ownPingEvery while replicas are attached (what
// the primary's PINGs are to a plain chain). A full sync of this vdr
// (new data) starts a new ID, so its replicas full-sync again; a partial
// resync or a failover upstream changes nothing for them.
//
// What the filter delivers is what it keeps (replica/filter.go): a
// command with any projected key goes whole, so a RENAME from an
// unprojected key into a projected one fails on the replica as it does
// in this vdr, and a DEL of a projected and an unprojected key deletes
// both where the other does not exist anyway.

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/vdr-project/vdr/internal/resp"
	"github.com/vdr-project/vdr/replica"
)

// ownPingEvery is how often the own stream carries a PING while
// replicas are attached (Redis's repl-ping-replica-period).
const ownPingEvery = 10 * time.Second

// ownStream is the state of the stream a filtered vdr serves; guarded
// by linkHandler.mu.
type ownStream struct {
	off int64 // offset of its last byte
	db  int   // db of the last SELECT written; -1: write one before the next command
	buf []byte
}

func newReplID() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ownStart starts a new history of the own stream (at the start, and
// after a full sync of this vdr). The caller holds linkHandler.mu.
func (d *downstreams) ownStart() {
	d.ownS.db = -1
	d.bl.TapStart(newReplID(), d.ownS.off, true)
}

// ownFeed appends the commands just applied to the own stream. The
// caller holds linkHandler.mu.
func (d *downstreams) ownFeed(cmds []replica.Command) {
	o := &d.ownS
	b := o.buf[:0]
	unit := len(cmds) > 0 && cmds[0].Unit
	if unit {
		if o.db != cmds[0].DB {
			b = resp.AppendArray(b, []string{"SELECT", strconv.Itoa(cmds[0].DB)})
			o.db = cmds[0].DB
		}
		b = append(b, respMulti...)
	}
	for _, c := range cmds {
		b = o.appendCmd(b, c.DB, c.Argv)
	}
	if unit {
		b = append(b, respExec...)
	}
	o.buf = b
	o.off += int64(len(b))
	d.bl.TapCommand(b, o.off)
}

// ownPingLoop writes a PING into the own stream while replicas are attached.
func (d *downstreams) ownPingLoop(done <-chan struct{}) {
	t := time.NewTicker(ownPingEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		d.mu.Lock()
		n := len(d.live)
		d.mu.Unlock()
		if n == 0 {
			continue
		}
		h := d.n.link
		h.mu.Lock()
		if h.firstSyncDone.Load() && h.loader == nil {
			d.ownS.off += int64(len(respPing))
			d.bl.TapCommand(respPing, d.ownS.off)
		}
		h.mu.Unlock()
	}
}

var (
	respMulti = []byte("*1\r\n$5\r\nMULTI\r\n")
	respExec  = []byte("*1\r\n$4\r\nEXEC\r\n")
	respPing  = []byte("*1\r\n$4\r\nPING\r\n")
)

// appendCmd appends argv (in db, with a SELECT first when the stream is
// in another db) as RESP.
func (o *ownStream) appendCmd(b []byte, db int, argv [][]byte) []byte {
	if db != o.db {
		b = resp.AppendArray(b, []string{"SELECT", strconv.Itoa(db)})
		o.db = db
	}
	return resp.AppendArray(b, argv)
}
