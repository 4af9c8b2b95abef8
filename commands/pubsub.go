package commands

import (
	"sort"
	"sync"
)

// Pub/Sub: vdr delivers messages published locally (PUBLISH from a
// client, as a Redis replica does) and those the primary's stream carries
// (the server calls PubSub.Publish / SPublish). See src/pubsub.c.

// PubSub is the registry of channel, pattern and shard-channel
// subscriptions of every client. Safe for concurrent use.
type PubSub struct {
	mu       sync.RWMutex
	channels map[string]map[*Client]struct{}
	patterns map[string]map[*Client]struct{}
	shard    map[string]map[*Client]struct{}
}

// NewPubSub returns an empty registry.
func NewPubSub() *PubSub {
	return &PubSub{
		channels: map[string]map[*Client]struct{}{},
		patterns: map[string]map[*Client]struct{}{},
		shard:    map[string]map[*Client]struct{}{},
	}
}

// message renders a pub/sub message for a client's protocol.
func message(resp int, kind string, pattern, channel, payload []byte) []byte {
	w := Writer{Resp: resp}
	if pattern != nil {
		w.Push(4)
		w.BulkString(kind)
		w.Bulk(pattern)
	} else {
		w.Push(3)
		w.BulkString(kind)
	}
	w.Bulk(channel)
	w.Bulk(payload)
	return w.b
}

// Publish delivers msg to the subscribers of channel and of matching
// patterns, and returns how many clients received it (PUBLISH's reply).
func (ps *PubSub) Publish(channel, msg []byte) int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	n := 0
	var m2, m3 []byte
	for cl := range ps.channels[string(channel)] {
		var b []byte
		if cl.protocol() == 3 {
			if m3 == nil {
				m3 = message(3, "message", nil, channel, msg)
			}
			b = m3
		} else {
			if m2 == nil {
				m2 = message(2, "message", nil, channel, msg)
			}
			b = m2
		}
		if cl.Push != nil && cl.Push(b) {
			n++
		}
	}
	for pat, subs := range ps.patterns {
		if !StringMatch([]byte(pat), channel, false) {
			continue
		}
		for cl := range subs {
			b := message(cl.protocol(), "pmessage", []byte(pat), channel, msg)
			if cl.Push != nil && cl.Push(b) {
				n++
			}
		}
	}
	return n
}

// SPublish delivers msg to the subscribers of shard channel.
func (ps *PubSub) SPublish(channel, msg []byte) int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	n := 0
	for cl := range ps.shard[string(channel)] {
		if cl.Push != nil && cl.Push(message(cl.protocol(), "smessage", nil, channel, msg)) {
			n++
		}
	}
	return n
}

type subKind uint8

const (
	subChannel subKind = iota
	subPattern
	subShard
)

func (ps *PubSub) table(k subKind) map[string]map[*Client]struct{} {
	switch k {
	case subPattern:
		return ps.patterns
	case subShard:
		return ps.shard
	}
	return ps.channels
}

func (cl *Client) subs(k subKind) *map[string]struct{} {
	switch k {
	case subPattern:
		return &cl.subPatterns
	case subShard:
		return &cl.subShard
	}
	return &cl.subChannels
}

var subNames = [...][2]string{
	subChannel: {"subscribe", "unsubscribe"},
	subPattern: {"psubscribe", "punsubscribe"},
	subShard:   {"ssubscribe", "sunsubscribe"},
}

// countFor is the count a (un)subscribe confirmation carries: shard
// channels count alone, channels and patterns count together.
func (cl *Client) countFor(k subKind) int {
	if k == subShard {
		return len(cl.subShard)
	}
	return len(cl.subChannels) + len(cl.subPatterns)
}

func (c *Ctx) subscribe(k subKind, names [][]byte) {
	ps, cl := c.Env.PubSub, c.Client
	for _, name := range names {
		ps.mu.Lock()
		cl.mu.Lock()
		m := cl.subs(k)
		if *m == nil {
			*m = map[string]struct{}{}
		}
		if _, ok := (*m)[string(name)]; !ok {
			(*m)[string(name)] = struct{}{}
			t := ps.table(k)
			s := t[string(name)]
			if s == nil {
				s = map[*Client]struct{}{}
				t[string(name)] = s
			}
			s[cl] = struct{}{}
		}
		n := cl.countFor(k)
		cl.mu.Unlock()
		ps.mu.Unlock()
		c.W.Push(3)
		c.W.BulkString(subNames[k][0])
		c.W.Bulk(name)
		c.W.Int(int64(n))
	}
}

func (c *Ctx) unsubscribe(k subKind, names [][]byte) {
	ps, cl := c.Env.PubSub, c.Client
	if len(names) == 0 {
		cl.mu.Lock()
		for name := range *cl.subs(k) {
			names = append(names, []byte(name))
		}
		cl.mu.Unlock()
		sort.Slice(names, func(i, j int) bool { return string(names[i]) < string(names[j]) })
		if len(names) == 0 {
			c.W.Push(3)
			c.W.BulkString(subNames[k][1])
			c.W.Null()
			c.W.Int(int64(cl.countFor(k)))
			return
		}
	}
	for _, name := range names {
		ps.mu.Lock()
		cl.mu.Lock()
		m := cl.subs(k)
		if _, ok := (*m)[string(name)]; ok {
			delete(*m, string(name))
			t := ps.table(k)
			if s := t[string(name)]; s != nil {
				delete(s, cl)
				if len(s) == 0 {
					delete(t, string(name))
				}
			}
		}
		n := cl.countFor(k)
		cl.mu.Unlock()
		ps.mu.Unlock()
		c.W.Push(3)
		c.W.BulkString(subNames[k][1])
		c.W.Bulk(name)
		c.W.Int(int64(n))
	}
}

// UnsubscribeAll drops every subscription of cl (connection close, RESET).
func (ps *PubSub) UnsubscribeAll(cl *Client) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, k := range []subKind{subChannel, subPattern, subShard} {
		t := ps.table(k)
		for name := range *cl.subs(k) {
			if s := t[name]; s != nil {
				delete(s, cl)
				if len(s) == 0 {
					delete(t, name)
				}
			}
		}
		*cl.subs(k) = nil
	}
}

func subscribeCommand(c *Ctx, args [][]byte)    { c.subscribe(subChannel, args[1:]) }
func psubscribeCommand(c *Ctx, args [][]byte)   { c.subscribe(subPattern, args[1:]) }
func ssubscribeCommand(c *Ctx, args [][]byte)   { c.subscribe(subShard, args[1:]) }
func unsubscribeCommand(c *Ctx, args [][]byte)  { c.unsubscribe(subChannel, args[1:]) }
func punsubscribeCommand(c *Ctx, args [][]byte) { c.unsubscribe(subPattern, args[1:]) }
func sunsubscribeCommand(c *Ctx, args [][]byte) { c.unsubscribe(subShard, args[1:]) }

func publishCommand(c *Ctx, args [][]byte) {
	n := c.Env.PubSub.Publish(args[1], args[2])
	c.Env.Stats.PubsubMessages.Add(1)
	c.W.Int(int64(n))
}

func listChannels(c *Ctx, t map[string]map[*Client]struct{}, pat []byte) {
	c.Env.PubSub.mu.RLock()
	var names []string
	for name := range t {
		if pat == nil || StringMatch(pat, []byte(name), false) {
			names = append(names, name)
		}
	}
	c.Env.PubSub.mu.RUnlock()
	sort.Strings(names)
	c.W.BulkStrings(names)
}

func pubsubChannelsCommand(c *Ctx, args [][]byte) {
	var pat []byte
	if len(args) > 2 {
		pat = args[2]
	}
	listChannels(c, c.Env.PubSub.channels, pat)
}

func pubsubShardchannelsCommand(c *Ctx, args [][]byte) {
	var pat []byte
	if len(args) > 2 {
		pat = args[2]
	}
	listChannels(c, c.Env.PubSub.shard, pat)
}

// numsub replies name, count pairs as a flat array, in RESP3 too: every
// supported version does (Redis 7.0–7.4, Valkey 7.2/8.0, checked against
// each server).
func numsub(c *Ctx, t map[string]map[*Client]struct{}, names [][]byte) {
	ps := c.Env.PubSub
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	c.W.Array(2 * len(names))
	for _, n := range names {
		c.W.Bulk(n)
		c.W.Int(int64(len(t[string(n)])))
	}
}

func pubsubNumsubCommand(c *Ctx, args [][]byte) { numsub(c, c.Env.PubSub.channels, args[2:]) }
func pubsubShardnumsubCommand(c *Ctx, args [][]byte) {
	numsub(c, c.Env.PubSub.shard, args[2:])
}

func pubsubNumpatCommand(c *Ctx, args [][]byte) {
	c.Env.PubSub.mu.RLock()
	n := len(c.Env.PubSub.patterns)
	c.Env.PubSub.mu.RUnlock()
	c.W.Int(int64(n))
}

// protocol is the client's RESP version, safe from other goroutines.
func (cl *Client) protocol() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.resp
}
