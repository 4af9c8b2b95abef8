package commands

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Serving replicas: SYNC, PSYNC and REPLCONF from a downstream replica (a
// redis-server with replicaof pointing here, or another vdr), as a Redis
// master answers them (syncCommand, replconfCommand in
// src/replication.c). The commands only check the request and record it;
// the front end then takes the connection out of its loop and serves the
// stream from its replication backlog (server/downstream.go), since a
// replica's link is a byte stream, not requests and replies.

// SyncRequest is a SYNC or PSYNC a client sent, with what it announced
// through REPLCONF before.
type SyncRequest struct {
	PSync         bool   // PSYNC (SYNC gets no +FULLRESYNC line)
	ReplID        string // PSYNC's replication ID ("?" forces a full sync)
	Offset        int64  // PSYNC's offset: the first byte the replica wants
	ListeningPort int    // REPLCONF listening-port
	IP            string // REPLCONF ip-address
	CapaEOF       bool   // REPLCONF capa eof
	CapaPsync2    bool   // REPLCONF capa psync2
}

// ReplicaServer is what a Host implements when it can serve replicas.
type ReplicaServer interface {
	// SyncRefusal returns the error reply for a SYNC or PSYNC that can't
	// be served now ("" when it can).
	SyncRefusal() string
}

// replconf is what REPLCONF recorded on a client (owned by its
// connection goroutine until the hand-over).
type replconf struct {
	port       int
	ip         string
	capaEOF    bool
	capaPsync2 bool
	sync       *SyncRequest // set by SYNC/PSYNC: the front end hands the connection over
}

// TakeSync returns the SYNC/PSYNC the client's last command asked for,
// once; nil when there is none.
func (cl *Client) TakeSync() *SyncRequest {
	if cl.repl == nil || cl.repl.sync == nil {
		return nil
	}
	r := cl.repl.sync
	cl.repl.sync = nil
	return r
}

// SetReplica marks the client as a replica being served (CLIENT LIST
// flags=S, CLIENT KILL TYPE replica).
func (cl *Client) SetReplica() { cl.replica.Store(true) }

// IsReplica reports whether the client is a replica being served.
func (cl *Client) IsReplica() bool { return cl.replica.Load() }

// replconfCommand: REPLCONF <option> <value> … (replconfCommand in
// src/replication.c). ACK and GETACK from a client that is not a replica
// get no reply, as there.
func replconfCommand(c *Ctx, args [][]byte) {
	if len(args)%2 == 0 {
		c.W.Error(errSyntax)
		return
	}
	if c.Client.repl == nil {
		c.Client.repl = &replconf{}
	}
	r := c.Client.repl
	for j := 1; j < len(args); j += 2 {
		v := args[j+1]
		switch {
		case equalFold(args[j], "listening-port"):
			p, ok := parseInt(v)
			if !ok || p < -1<<31 || p > 1<<31-1 {
				c.W.Error("ERR value is not an integer or out of range")
				return
			}
			r.port = int(p)
		case equalFold(args[j], "ip-address"):
			if len(v) >= 46 { // NET_HOST_STR_LEN
				c.W.Error("ERR REPLCONF ip-address provided by replica instance is too long: " + strconv.Itoa(len(v)) + " bytes")
				return
			}
			r.ip = string(v)
		case equalFold(args[j], "capa"):
			if equalFold(v, "eof") {
				r.capaEOF = true
			} else if equalFold(v, "psync2") {
				r.capaPsync2 = true
			}
		case equalFold(args[j], "ack"), equalFold(args[j], "getack"):
			return // no reply
		case equalFold(args[j], "rdb-only"):
			n, ok := parseInt(v)
			if !ok || n < 0 || n > 1 {
				c.W.Error("ERR value is out of range, must be positive")
				return
			}
			if n == 1 {
				c.W.Error("ERR vdr: REPLCONF rdb-only is not supported yet")
				return
			}
		default:
			c.W.Error("ERR Unrecognized REPLCONF option: " + string(args[j]))
			return
		}
	}
	c.W.OK()
}

// syncCommand: SYNC, and PSYNC <replid> <offset> (syncCommand in
// src/replication.c). On success nothing is written here: the front end
// answers +FULLRESYNC or +CONTINUE on the connection it takes over.
func syncCommand(c *Ctx, args [][]byte) {
	if c.Client.IsReplica() {
		return // "ignore SYNC if already slave": no reply
	}
	rs, ok := c.Env.Host.(ReplicaServer)
	if !ok {
		c.W.Error("ERR vdr: " + string(args[0]) + " is not supported here")
		return
	}
	psync := equalFold(args[0], "psync")
	if psync && len(args) > 3 {
		c.W.Error("ERR vdr: PSYNC FAILOVER is not supported: vdr replicates only")
		return
	}
	if msg := rs.SyncRefusal(); msg != "" {
		c.W.Error(msg)
		return
	}
	req := &SyncRequest{PSync: psync}
	if psync {
		off, ok := parseInt(args[2])
		if !ok {
			c.W.Error("ERR value is not an integer or out of range")
			return
		}
		req.ReplID, req.Offset = string(args[1]), off
	}
	if r := c.Client.repl; r != nil {
		req.ListeningPort, req.IP, req.CapaEOF, req.CapaPsync2 = r.port, r.ip, r.capaEOF, r.capaPsync2
	} else {
		c.Client.repl = &replconf{}
	}
	c.Client.repl.sync = req
}

// ReplicaLine is one replica served, as INFO replication's slaveN line
// shows it.
type ReplicaLine struct {
	ID     int64 // client ID (for the order)
	IP     string
	Port   int
	State  string // wait_bgsave, online
	Offset int64  // last ACKed offset
	Lag    int64  // seconds since the last ACK
	// Sent is the offset of the last byte written to it (/metrics).
	Sent int64
}

// ReplicaLines is what INFO replication shows of the replicas served and
// of the replication backlog.
type ReplicaLines struct {
	Replicas                                       []ReplicaLine
	ReplID, ReplID2                                string
	SecondOffset, BacklogFirstByte, BacklogHistlen int64
	BacklogSize                                    int64
	BacklogActive                                  bool
	SyncFull, SyncPartialOK, SyncPartialErr        int64
}

// ReplicaLister is what a Host implements to show the replicas it serves.
type ReplicaLister interface {
	ReplicaLines() ReplicaLines
}

// replicaLines returns the Host's replicas, sorted by client ID.
func (c *Ctx) replicaLines() (ReplicaLines, bool) {
	rl, ok := c.Env.Host.(ReplicaLister)
	if !ok {
		return ReplicaLines{}, false
	}
	l := rl.ReplicaLines()
	slices.SortFunc(l.Replicas, func(a, b ReplicaLine) int { return cmp.Compare(a.ID, b.ID) })
	return l, true
}

// addReplicaInfo adds connected_slaves and the slaveN lines
// (replicationGetSlaveName / genRedisInfoString in src/server.c).
func addReplicaInfo(l ReplicaLines, add func(string, any)) {
	add("connected_slaves", len(l.Replicas))
	for i, r := range l.Replicas {
		add("slave"+strconv.Itoa(i), fmt.Sprintf("ip=%s,port=%d,state=%s,offset=%d,lag=%d", r.IP, r.Port, r.State, r.Offset, r.Lag))
	}
}

// addBacklogInfo adds the replication IDs and the backlog's lines:
// vdr's own once it keeps a backlog for replicas, else those of a
// replica without one.
func addBacklogInfo(l ReplicaLines, st ReplState, add func(string, any)) {
	zero := strings.Repeat("0", 40)
	replID := st.MasterReplID
	if replID == "" {
		replID = zero
	}
	if !l.BacklogActive {
		add("master_replid", replID)
		add("master_replid2", zero)
		add("master_repl_offset", st.ApplyOffset)
		add("second_repl_offset", -1)
		add("repl_backlog_active", 0)
		add("repl_backlog_size", 1048576)
		add("repl_backlog_first_byte_offset", 0)
		add("repl_backlog_histlen", 0)
		return
	}
	if l.ReplID != "" {
		replID = l.ReplID
	}
	replID2 := l.ReplID2
	if replID2 == "" {
		replID2 = zero
	}
	add("master_replid", replID)
	add("master_replid2", replID2)
	add("master_repl_offset", st.ApplyOffset)
	add("second_repl_offset", l.SecondOffset)
	add("repl_backlog_active", 1)
	add("repl_backlog_size", l.BacklogSize)
	add("repl_backlog_first_byte_offset", l.BacklogFirstByte)
	add("repl_backlog_histlen", l.BacklogHistlen)
}
