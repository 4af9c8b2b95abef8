package commands

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Client-side caching (CLIENT TRACKING), as a Redis 7.0 replica serves it
// (see src/tracking.c and the CLIENT TRACKING/CACHING/GETREDIR/
// TRACKINGINFO parts of src/networking.c).
//
// Default mode: the keys of every read-only command a tracking client
// runs are remembered in one table, key name → client IDs. The table is
// global across databases, as Redis's (keys are tracked by name). When
// the replication stream writes a key (Tracking.Invalidate, called by the
// server after the write is applied), every client in its set gets one
// invalidation and the key is forgotten. As in Redis the IDs are dropped
// lazily: a client that turns tracking off or disconnects leaves its IDs
// in the table until their keys are written (or evicted by
// tracking-table-max-keys); nothing is sent to it then. This keeps
// tracking_total_keys/items equal to a real replica's and makes a
// disconnect O(1).
//
// BCAST mode: a client subscribes to key prefixes ("" = every key).
// Written keys matching a prefix are collected and sent when the server
// ends a batch of the stream (Tracking.Broadcast), one message per prefix
// holding the keys in byte order — Redis does the same once per event-loop
// iteration (trackingBroadcastInvalidationMessages in beforeSleep).
//
// Delivery (sendTrackingMessage): RESP3 clients get a push
// `>2 invalidate <keys>`; with REDIRECT the message goes to the target
// client instead, as a push if it speaks RESP3 or as a pub/sub message on
// __redis__:invalidate if it is a RESP2 subscriber; a redirect to a
// client that went away sets broken_redirect and sends the tracking
// client a `tracking-redir-broken` push (RESP3) each time. A flush
// (FLUSHALL, FLUSHDB, a full sync; not SWAPDB) sends a null instead of keys
// to every tracking client.
//
// A read remembers its keys before the read runs, not after as Redis's
// call() does: here the stream is applied concurrently, and remembering
// after would lose an invalidation written between the read and the
// remembering (the client would keep a stale value). Remembering first
// can only add an invalidation for a value the client already has fresh.

// Tracking flags of a client (CLIENT_TRACKING_* in src/server.h).
const (
	trackOn          uint32 = 1 << iota // CLIENT_TRACKING
	trackBrokenRedir                    // CLIENT_TRACKING_BROKEN_REDIR
	trackBcast                          // CLIENT_TRACKING_BCAST
	trackOptin                          // CLIENT_TRACKING_OPTIN
	trackOptout                         // CLIENT_TRACKING_OPTOUT
	trackCaching                        // CLIENT_TRACKING_CACHING
	trackNoloop                         // CLIENT_TRACKING_NOLOOP
)

// trackingChannel is where RESP2 redirect targets get invalidations
// (TrackingChannelName).
const trackingChannel = "__redis__:invalidate"

// DefaultTrackingTableMaxKeys is tracking-table-max-keys' default.
const DefaultTrackingTableMaxKeys = 1000000

// clientTracking is a client's tracking state. flags is read lock-free
// (the per-command check, CLIENT LIST); the other fields are guarded by
// Tracking.mu.
type clientTracking struct {
	flags    atomic.Uint32
	redirID  atomic.Int64 // client_tracking_redirection: 0 none
	gone     atomic.Bool  // the connection closed (lookupClientByID fails)
	redirect *Client      // the client redirID named when tracking was enabled
	prefixes []string     // BCAST prefixes, sorted (client_tracking_prefixes)
}

// bcastState is one prefix of the prefix table: its clients and the keys
// written since the last broadcast.
type bcastState struct {
	clients map[*Client]struct{}
	keys    map[string]struct{}
}

// Tracking is the server-wide table of tracked keys and BCAST prefixes.
// Safe for concurrent use: readers remember keys on their connections'
// goroutines while the applier invalidates.
type Tracking struct {
	nClients atomic.Int64 // tracking_clients
	nKeys    atomic.Int64 // len(keys), for the lock-free Active check
	pending  atomic.Bool  // a BCAST prefix has keys to broadcast

	mu       sync.Mutex
	maxKeys  int                           // tracking-table-max-keys; 0: no limit
	keys     map[string]map[int64]struct{} // TrackingTable
	items    int64                         // TrackingTableTotalItems
	clients  map[int64]*Client             // tracking clients by ID
	prefixes map[string]*bcastState        // PrefixTable
}

// NewTracking returns an empty table that holds at most maxKeys keys
// (tracking-table-max-keys; 0: no limit).
func NewTracking(maxKeys int) *Tracking {
	return &Tracking{
		maxKeys:  maxKeys,
		keys:     map[string]map[int64]struct{}{},
		clients:  map[int64]*Client{},
		prefixes: map[string]*bcastState{},
	}
}

// Active reports whether a write can matter to tracking: some client
// tracks, or the table still holds keys to drop. The server checks it
// before computing a command's written keys.
func (t *Tracking) Active() bool {
	return t != nil && (t.nClients.Load() > 0 || t.nKeys.Load() > 0)
}

// Clients is INFO's tracking_clients.
func (t *Tracking) Clients() int64 {
	if t == nil {
		return 0
	}
	return t.nClients.Load()
}

// Totals returns INFO's tracking_total_keys, tracking_total_items and
// tracking_total_prefixes.
func (t *Tracking) Totals() (keys, items, prefixes int64) {
	if t == nil {
		return 0, 0, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(len(t.keys)), t.items, int64(len(t.prefixes))
}

// Invalidate handles a key written by the stream: clients that read it
// get an invalidation and forget it; BCAST prefixes matching it collect
// it for the next Broadcast. Call it after the write is visible to reads.
func (t *Tracking) Invalidate(key []byte) {
	if !t.Active() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.invalidateLocked(key, true)
}

// InvalidateAll handles a flush (FLUSHALL, FLUSHDB, a full sync):
// every tracking client gets a null invalidation and the table is emptied
// (trackingInvalidateKeysOnFlush).
func (t *Tracking) InvalidateAll() {
	if !t.Active() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]int64, 0, len(t.clients))
	for id := range t.clients {
		ids = append(ids, id)
	}
	// Redis walks its clients list, which is in connection order.
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		cl := t.clients[id]
		null := "$-1\r\n" // shared.null[resp] of the tracking client
		if cl.protocol() == 3 {
			null = "_\r\n"
		}
		t.sendLocked(cl, []byte(null))
	}
	t.keys = map[string]map[int64]struct{}{}
	t.items = 0
	t.nKeys.Store(0)
}

// Broadcast sends the keys BCAST prefixes collected since the last call,
// one message per prefix (in prefix order) with its keys in byte order.
// The server calls it at the end of each batch of the stream.
func (t *Tracking) Broadcast() {
	if t == nil || !t.pending.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending.Store(false)
	names := make([]string, 0, len(t.prefixes))
	for p, bs := range t.prefixes {
		if len(bs.keys) > 0 {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		bs := t.prefixes[p]
		keys := make([]string, 0, len(bs.keys))
		for k := range bs.keys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b := strconv.AppendInt([]byte{'*'}, int64(len(keys)), 10)
		b = append(b, '\r', '\n')
		for _, k := range keys {
			b = appendBulk(b, k)
		}
		// NOLOOP would drop the keys the client wrote itself; on a
		// replica every write comes from the primary, so all get them.
		for cl := range bs.clients {
			t.sendLocked(cl, b)
		}
		bs.keys = map[string]struct{}{}
	}
}

func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// invalidateLocked is trackingInvalidateKey: bcast false when the key is
// evicted from the table rather than written.
func (t *Tracking) invalidateLocked(key []byte, bcast bool) {
	if bcast && len(t.prefixes) > 0 {
		for p, bs := range t.prefixes {
			if bytes.HasPrefix(key, []byte(p)) {
				bs.keys[string(key)] = struct{}{}
				t.pending.Store(true)
			}
		}
	}
	ids, ok := t.keys[string(key)]
	if !ok {
		return
	}
	var msg []byte
	for id := range ids {
		target := t.clients[id]
		// Clients gone, no longer tracking, or switched to BCAST since
		// they read the key get nothing.
		if target == nil || target.trk.flags.Load()&trackBcast != 0 {
			continue
		}
		if msg == nil {
			msg = appendBulk([]byte("*1\r\n"), string(key))
		}
		t.sendLocked(target, msg)
	}
	t.items -= int64(len(ids))
	delete(t.keys, string(key))
	t.nKeys.Store(int64(len(t.keys)))
}

// sendLocked delivers one invalidation payload (a RESP array of keys, or
// a null) for tracking client cl (sendTrackingMessage).
func (t *Tracking) sendLocked(cl *Client, payload []byte) {
	target := cl
	redirected := false
	if id := cl.trk.redirID.Load(); id != 0 {
		r := cl.trk.redirect
		if r == nil || r.trk.gone.Load() {
			cl.trk.flags.Or(trackBrokenRedir)
			if cl.protocol() == 3 {
				b := []byte(">2\r\n$21\r\ntracking-redir-broken\r\n:")
				b = strconv.AppendInt(b, id, 10)
				push(cl, append(b, '\r', '\n'))
			}
			return
		}
		target, redirected = r, true
	}
	var b []byte
	switch {
	case target.protocol() == 3:
		b = append([]byte(">2\r\n$10\r\ninvalidate\r\n"), payload...)
	case redirected && target.subscribedLocked():
		b = append([]byte("*3\r\n$7\r\nmessage\r\n$20\r\n"+trackingChannel+"\r\n"), payload...)
	default:
		// RESP2 without a subscriber to redirect to: nothing can carry it.
		return
	}
	push(target, b)
}

func push(cl *Client, b []byte) {
	if cl.Push != nil {
		cl.Push(b)
	}
}

// remember adds the keys at pos of args for client id
// (trackingRememberKeys), then evicts keys over the limit.
func (t *Tracking) remember(id int64, args [][]byte, pos []int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range pos {
		k := args[p]
		ids := t.keys[string(k)]
		if ids == nil {
			ids = map[int64]struct{}{}
			t.keys[string(k)] = ids
		}
		if _, ok := ids[id]; !ok {
			ids[id] = struct{}{}
			t.items++
		}
	}
	t.limitLocked()
	t.nKeys.Store(int64(len(t.keys)))
}

// limitLocked evicts keys while the table holds more than maxKeys, each
// with invalidations to its clients as if it were written
// (trackingLimitUsedSlots; Redis picks them by a random walk, here by
// map order, which is as arbitrary).
func (t *Tracking) limitLocked() {
	if t.maxKeys <= 0 || len(t.keys) <= t.maxKeys {
		return
	}
	for k := range t.keys {
		if len(t.keys) <= t.maxKeys {
			return
		}
		t.invalidateLocked([]byte(k), false)
	}
}

// trackRead remembers the keys of a read-only command for a tracking
// client in default mode (see call()).
func (c *Ctx) trackRead(cmd *Command, args [][]byte) {
	cl := c.Client
	f := cl.trk.flags.Load()
	if f&trackOn == 0 || f&trackBcast != 0 || c.Env.Tracking == nil {
		return
	}
	// Shard channels are keys for COMMAND's sake only.
	if cmd.Flags&CmdPubsub != 0 {
		return
	}
	if caching := f&trackCaching != 0; f&trackOptin != 0 && !caching || f&trackOptout != 0 && caching {
		return
	}
	pos, ok := commandKeys(cmd, args)
	if !ok || len(pos) == 0 {
		return
	}
	c.Env.Tracking.remember(cl.ID, args, pos)
}

// endCommandTracking clears CLIENT CACHING's one-command flag after any command
// but CLIENT's own, outside MULTI (as resetClient does).
func (c *Ctx) endCommandTracking(args [][]byte) {
	cl := c.Client
	if cl.trk.flags.Load()&trackCaching == 0 || cl.inMulti {
		return
	}
	if len(args) > 0 && equalFold(args[0], "client") {
		// Any CLIENT subcommand keeps it (its proc is clientCommand);
		// an unknown one has no command at all and does not.
		if cmd, _ := c.lookupCommand(args); cmd != nil {
			return
		}
	}
	cl.trk.flags.And(^trackCaching)
}

// disableLocked turns tracking off for cl (disableTracking).
func (t *Tracking) disableLocked(cl *Client) {
	f := cl.trk.flags.Load()
	if f&trackBcast != 0 {
		for _, p := range cl.trk.prefixes {
			if bs := t.prefixes[p]; bs != nil {
				delete(bs.clients, cl)
				if len(bs.clients) == 0 {
					delete(t.prefixes, p)
				}
			}
		}
		cl.trk.prefixes = nil
	}
	if f&trackOn != 0 {
		delete(t.clients, cl.ID)
		t.nClients.Add(-1)
		cl.trk.flags.Store(0)
	}
}

// trackingClose drops the client from tracking when its connection goes
// away; clients redirecting to it see a broken redirect from now on.
func (c *Ctx) trackingClose() {
	cl := c.Client
	cl.trk.gone.Store(true)
	if t := c.Env.Tracking; t != nil && cl.trk.flags.Load()&trackOn != 0 {
		t.mu.Lock()
		t.disableLocked(cl)
		t.mu.Unlock()
	}
}

// trackingReset is RESET's part: tracking off.
func (c *Ctx) trackingReset() {
	if t := c.Env.Tracking; t != nil && c.Client.trk.flags.Load()&trackOn != 0 {
		t.mu.Lock()
		t.disableLocked(c.Client)
		t.mu.Unlock()
	}
}

// lookupClient finds a connected client by ID (lookupClientByID).
func (c *Ctx) lookupClient(id int64) *Client {
	if id == c.Client.ID {
		return c.Client
	}
	if c.Env.Host == nil {
		return nil
	}
	for _, cl := range c.Env.Host.Clients() {
		if cl.ID == id && !cl.trk.gone.Load() {
			return cl
		}
	}
	return nil
}

// prefixesOverlap is stringCheckPrefix: one is a prefix of the other.
func prefixesOverlap(a, b string) bool {
	n := min(len(a), len(b))
	return a[:n] == b[:n]
}

// cString is what C's %s prints of a Redis string: up to its first NUL.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func clientTrackingCommand(c *Ctx, args [][]byte) {
	t := c.Env.Tracking
	if t == nil {
		// A front end without a tracking table (an embedding that set
		// none) has no CLIENT TRACKING at all.
		subcommandSyntaxError(c, args)
		return
	}
	var redir int64
	var target *Client
	var options uint32
	var prefixes []string
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case equalFold(args[j], "redirect") && more > 0:
			j++
			if redir != 0 {
				c.W.Error("ERR A client can only redirect to a single other client")
				return
			}
			v, ok := c.intArg(args[j])
			if !ok {
				return
			}
			redir = v
			// The target must exist now, even if it may go away later.
			if target = c.lookupClient(redir); target == nil {
				c.W.Error("ERR The client ID you want redirect to does not exist")
				return
			}
		case equalFold(args[j], "bcast"):
			options |= trackBcast
		case equalFold(args[j], "optin"):
			options |= trackOptin
		case equalFold(args[j], "optout"):
			options |= trackOptout
		case equalFold(args[j], "noloop"):
			options |= trackNoloop
		case equalFold(args[j], "prefix") && more > 0:
			j++
			prefixes = append(prefixes, string(args[j]))
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	cl := c.Client
	switch {
	case equalFold(args[2], "on"):
	case equalFold(args[2], "off"):
		t.mu.Lock()
		t.disableLocked(cl)
		t.mu.Unlock()
		c.W.OK()
		return
	default:
		c.W.Error(errSyntax)
		return
	}
	cur := cl.trk.flags.Load()
	switch {
	case options&trackBcast == 0 && len(prefixes) > 0:
		c.W.Error("ERR PREFIX option requires BCAST mode to be enabled")
		return
	case cur&trackOn != 0 && (cur&trackBcast != 0) != (options&trackBcast != 0):
		c.W.Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	case options&trackBcast != 0 && options&(trackOptin|trackOptout) != 0:
		c.W.Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
		return
	case options&trackOptin != 0 && options&trackOptout != 0:
		c.W.Error("ERR You can't specify both OPTIN mode and OPTOUT mode")
		return
	case options&trackOptin != 0 && cur&trackOptout != 0 || options&trackOptout != 0 && cur&trackOptin != 0:
		c.W.Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if options&trackBcast != 0 && !c.checkPrefixCollisions(prefixes) {
		return
	}
	c.enableTrackingLocked(redir, target, options, prefixes)
	c.W.OK()
}

// checkPrefixCollisions is checkPrefixCollisionsOrReply, including its
// quirk: an overlap among the given prefixes found after the first one
// replies the error and still reports success (it returns the index), so
// Redis 7.0 then enables tracking and replies +OK as well.
func (c *Ctx) checkPrefixCollisions(prefixes []string) bool {
	for i, p := range prefixes {
		for _, have := range c.Client.trk.prefixes {
			if prefixesOverlap(have, p) {
				c.W.Error("ERR Prefix '" + cString(p) + "' overlaps with an existing prefix '" + cString(have) + "'. Prefixes for a single client must not overlap.")
				return false
			}
		}
		for _, q := range prefixes[i+1:] {
			if prefixesOverlap(p, q) {
				c.W.Error("ERR Prefix '" + cString(p) + "' overlaps with another provided prefix '" + cString(q) + "'. Prefixes for a single client must not overlap.")
				return i != 0
			}
		}
	}
	return true
}

// enableTrackingLocked is enableTracking.
func (c *Ctx) enableTrackingLocked(redir int64, target *Client, options uint32, prefixes []string) {
	t, cl := c.Env.Tracking, c.Client
	f := cl.trk.flags.Load()
	if f&trackOn == 0 {
		t.nClients.Add(1)
		t.clients[cl.ID] = cl
	}
	f |= trackOn
	f &^= trackBrokenRedir | trackBcast | trackOptin | trackOptout | trackNoloop
	cl.trk.redirID.Store(redir)
	cl.trk.redirect = target
	if options&trackBcast != 0 {
		f |= trackBcast
		if len(prefixes) == 0 {
			t.addPrefixLocked(cl, "")
		}
		for _, p := range prefixes {
			t.addPrefixLocked(cl, p)
		}
	}
	f |= options & (trackOptin | trackOptout | trackNoloop)
	cl.trk.flags.Store(f)
}

// addPrefixLocked is enableBcastTrackingForPrefix.
func (t *Tracking) addPrefixLocked(cl *Client, p string) {
	bs := t.prefixes[p]
	if bs == nil {
		bs = &bcastState{clients: map[*Client]struct{}{}, keys: map[string]struct{}{}}
		t.prefixes[p] = bs
	}
	if _, ok := bs.clients[cl]; ok {
		return
	}
	bs.clients[cl] = struct{}{}
	i := sort.SearchStrings(cl.trk.prefixes, p)
	if i < len(cl.trk.prefixes) && cl.trk.prefixes[i] == p {
		return
	}
	cl.trk.prefixes = append(cl.trk.prefixes, "")
	copy(cl.trk.prefixes[i+1:], cl.trk.prefixes[i:])
	cl.trk.prefixes[i] = p
}

func clientCachingCommand(c *Ctx, args [][]byte) {
	cl := c.Client
	f := cl.trk.flags.Load()
	if f&trackOn == 0 {
		c.W.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case equalFold(args[2], "yes"):
		if f&trackOptin == 0 {
			c.W.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case equalFold(args[2], "no"):
		if f&trackOptout == 0 {
			c.W.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.W.Error(errSyntax)
		return
	}
	cl.trk.flags.Or(trackCaching)
	c.W.OK()
}

func clientGetredirCommand(c *Ctx, args [][]byte) {
	cl := c.Client
	if cl.trk.flags.Load()&trackOn == 0 {
		c.W.Int(-1)
		return
	}
	c.W.Int(cl.trk.redirID.Load())
}

func clientTrackinginfoCommand(c *Ctx, args [][]byte) {
	cl := c.Client
	var prefixes []string
	if t := c.Env.Tracking; t != nil {
		t.mu.Lock()
		prefixes = append(prefixes, cl.trk.prefixes...)
		t.mu.Unlock()
	}
	f := cl.trk.flags.Load()
	flags := []string{"off"}
	if f&trackOn != 0 {
		flags[0] = "on"
	}
	if f&trackBcast != 0 {
		flags = append(flags, "bcast")
	}
	if f&trackOptin != 0 {
		flags = append(flags, "optin")
		if f&trackCaching != 0 {
			flags = append(flags, "caching-yes")
		}
	}
	if f&trackOptout != 0 {
		flags = append(flags, "optout")
		if f&trackCaching != 0 {
			flags = append(flags, "caching-no")
		}
	}
	if f&trackNoloop != 0 {
		flags = append(flags, "noloop")
	}
	if f&trackBrokenRedir != 0 {
		flags = append(flags, "broken_redirect")
	}
	w := c.W
	w.Map(3)
	w.BulkString("flags")
	w.Set(len(flags))
	for _, s := range flags {
		w.BulkString(s)
	}
	w.BulkString("redirect")
	if f&trackOn != 0 {
		w.Int(cl.trk.redirID.Load())
	} else {
		w.Int(-1)
	}
	w.BulkString("prefixes")
	w.BulkStrings(prefixes)
}

// trackingListFlags appends CLIENT LIST's tracking flag letters.
func (cl *Client) trackingListFlags(flags string) string {
	f := cl.trk.flags.Load()
	if f&trackOn != 0 {
		flags += "t"
	}
	if f&trackBrokenRedir != 0 {
		flags += "R"
	}
	if f&trackBcast != 0 {
		flags += "B"
	}
	return flags
}

// trackingRedir is CLIENT LIST's redir field.
func (cl *Client) trackingRedir() int64 {
	if cl.trk.flags.Load()&trackOn == 0 {
		return -1
	}
	return cl.trk.redirID.Load()
}
