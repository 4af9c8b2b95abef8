package projection

import (
	"fmt"
)

// ---- stream commands (src/t_stream.c), as a 7.0 primary propagates them ----
//
// On the link every XADD carries its final ID (the primary rewrites "*" and
// "ms-*"), every "~" trim is rewritten to "=" with the length or first ID
// it left (streamRewriteTrimArgument), and LIMIT is ignored for the master
// client (mustObeyClient), so trims here are always exact. XREADGROUP,
// XCLAIM and XAUTOCLAIM arrive as XCLAIM … TIME t RETRYCOUNT n FORCE JUSTID
// LASTID id, XGROUP SETID and XGROUP CREATECONSUMER.

// errStreamID is an unparsable stream ID.
var errStreamID = fmt.Errorf("Invalid stream ID specified as stream command argument: %w", ErrSyntax)

// streamOf returns the stream at key, creating it when create is set.
func (c *ctx) streamOf(key []byte, create bool) (*streamObj, error) {
	o, ok, err := c.typed(key, KindStream)
	if err != nil {
		return nil, err
	}
	if ok {
		return o.stream(), nil
	}
	if !create {
		return nil, nil
	}
	s := newStream()
	c.d.store(key, obj{kind: KindStream, ptr: ptrOf(s)})
	return s, nil
}

// trimArgs is streamAddTrimArgs as a replica parses it.
type trimArgs struct {
	strategy   int // 0 none, 1 MAXLEN, 2 MINID
	approx     bool
	maxlen     int64
	minid      StreamID
	noMkStream bool
	id         StreamID
	idGiven    bool
	seqGiven   bool
}

const (
	trimNone = iota
	trimMaxLen
	trimMinID
)

// parseAddOrTrim is streamParseAddOrTrimArgsOrReply for the master client;
// it returns the index of XADD's ID argument.
func parseAddOrTrim(argv [][]byte, xadd bool, a *trimArgs) (int, error) {
	i := 2
	limitGiven := false
	for ; i < len(argv); i++ {
		more := len(argv) - 1 - i
		opt := argv[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			return i, nil
		case (eq(opt, "maxlen") || eq(opt, "minid")) && more > 0:
			if a.strategy != trimNone {
				return 0, fmt.Errorf("MAXLEN and MINID together: %w", ErrSyntax)
			}
			a.approx = false
			next := argv[i+1]
			if more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.approx = next[0] == '~'
				i++
			}
			if eq(opt, "maxlen") {
				n, err := parseInt(argv[i+1])
				if err != nil || n < 0 {
					return 0, fmt.Errorf("bad MAXLEN: %w", ErrSyntax)
				}
				a.maxlen, a.strategy = n, trimMaxLen
			} else {
				id, ok := parseStreamID(argv[i+1], 0, true, nil)
				if !ok {
					return 0, errStreamID
				}
				a.minid, a.strategy = id, trimMinID
			}
			i++
		case eq(opt, "limit") && more > 0:
			n, err := parseInt(argv[i+1])
			if err != nil || n < 0 {
				return 0, fmt.Errorf("bad LIMIT: %w", ErrSyntax)
			}
			limitGiven = n != 0
			i++
		case xadd && eq(opt, "nomkstream"):
			a.noMkStream = true
		case xadd:
			id, ok := parseStreamID(opt, 0, true, &a.seqGiven)
			if !ok {
				return 0, errStreamID
			}
			a.id, a.idGiven = id, true
			return i, nil
		default:
			return 0, ErrSyntax
		}
	}
	if limitGiven && a.strategy == trimNone {
		return 0, fmt.Errorf("LIMIT without a trimming strategy: %w", ErrSyntax)
	}
	if !xadd && a.strategy == trimNone {
		return 0, fmt.Errorf("XTRIM without a trimming strategy: %w", ErrSyntax)
	}
	return i, nil
}

// trim applies an exact trim. A "~" trim never reaches a replica (the
// primary rewrites it); one that does cannot be mirrored node for node.
func (s *streamObj) trim(a *trimArgs) (int, error) {
	if a.approx {
		return 0, fmt.Errorf("approximate trim on the link: %w", ErrUnsupported)
	}
	switch a.strategy {
	case trimMaxLen:
		return s.trimMaxLen(uint64(a.maxlen)), nil
	case trimMinID:
		return s.trimMinID(a.minid), nil
	}
	return 0, nil
}

// xaddCommand: XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] t [LIMIT n]] id field value…
func xaddCommand(c *ctx) error {
	if err := c.arity(5, true); err != nil {
		return err
	}
	var a trimArgs
	idpos, err := parseAddOrTrim(c.argv, true, &a)
	if err != nil {
		return err
	}
	nf := len(c.argv) - idpos - 1
	if nf < 2 || nf%2 == 1 {
		return fmt.Errorf("wrong number of arguments for 'xadd': %w", ErrSyntax)
	}
	if !a.idGiven || !a.seqGiven {
		// "*" or "ms-*": the primary always rewrites these to the ID it
		// generated, so the replica's clock never decides an ID.
		return fmt.Errorf("XADD with a generated ID on the link: %w", ErrUnsupported)
	}
	if idZero(a.id) {
		return fmt.Errorf("XADD ID 0-0: %w", ErrSyntax)
	}
	if a.approx {
		return fmt.Errorf("approximate trim on the link: %w", ErrUnsupported)
	}
	s, err := c.streamOf(c.argv[1], !a.noMkStream)
	if err != nil || s == nil {
		return err
	}
	if s.lastID == maxStreamID {
		return fmt.Errorf("stream exhausted the last ID: %w", ErrSyntax)
	}
	if !idLess(s.lastID, a.id) {
		return fmt.Errorf("XADD ID %s not above the top item %s: %w", FormatStreamID(a.id), FormatStreamID(s.lastID), ErrSyntax)
	}
	s.entries.add(a.id, c.argv[idpos+1:])
	s.entriesAdded++
	s.lastID = a.id
	if s.length() == 1 {
		s.firstID = a.id
	}
	c.notify(NotifyStream, "xadd", c.argv[1])
	n, err := s.trim(&a)
	if n > 0 {
		c.notify(NotifyStream, "xtrim", c.argv[1])
	}
	return err
}

// xtrimCommand: XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n]
func xtrimCommand(c *ctx) error {
	if err := c.arity(4, true); err != nil {
		return err
	}
	var a trimArgs
	if _, err := parseAddOrTrim(c.argv, false, &a); err != nil {
		return err
	}
	if a.approx {
		return fmt.Errorf("approximate trim on the link: %w", ErrUnsupported)
	}
	s, err := c.streamOf(c.argv[1], false)
	if err != nil || s == nil {
		return err
	}
	n, err := s.trim(&a)
	if n > 0 {
		c.notify(NotifyStream, "xtrim", c.argv[1])
	}
	return err
}

// parseIDs parses strict IDs (all or nothing, as Redis checks them first).
func parseIDs(args [][]byte) ([]StreamID, error) {
	ids := make([]StreamID, len(args))
	for i, b := range args {
		id, ok := parseStreamID(b, 0, true, nil)
		if !ok {
			return nil, errStreamID
		}
		ids[i] = id
	}
	return ids, nil
}

// xdelCommand: XDEL key id…
func xdelCommand(c *ctx) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	s, err := c.streamOf(c.argv[1], false)
	if err != nil || s == nil {
		return err
	}
	ids, err := parseIDs(c.argv[2:])
	if err != nil {
		return err
	}
	deleted, first := 0, false
	for _, id := range ids {
		if !s.entries.del(id) {
			continue
		}
		if id == s.firstID {
			first = true
		}
		if idLess(s.maxDeleted, id) {
			s.maxDeleted = id
		}
		deleted++
	}
	if deleted > 0 {
		if s.length() == 0 {
			s.firstID = StreamID{}
		} else if first {
			s.firstID = s.firstEntryID()
		}
		c.notify(NotifyStream, "xdel", c.argv[1])
	}
	return nil
}

// xsetidCommand: XSETID key id [ENTRIESADDED n] [MAXDELETEDID id]
func xsetidCommand(c *ctx) error {
	if err := c.arity(3, true); err != nil {
		return err
	}
	id, ok := parseStreamID(c.argv[2], 0, true, nil)
	if !ok {
		return errStreamID
	}
	added := int64(-1)
	var maxDel StreamID
	for i := 3; i < len(c.argv); i += 2 {
		if i+1 >= len(c.argv) {
			return ErrSyntax
		}
		switch {
		case eq(c.argv[i], "entriesadded"):
			n, err := parseInt(c.argv[i+1])
			if err != nil || n < 0 {
				return fmt.Errorf("bad ENTRIESADDED: %w", ErrSyntax)
			}
			added = n
		case eq(c.argv[i], "maxdeletedid"):
			m, ok := parseStreamID(c.argv[i+1], 0, true, nil)
			if !ok {
				return errStreamID
			}
			if idLess(id, m) {
				return fmt.Errorf("XSETID below MAXDELETEDID: %w", ErrSyntax)
			}
			maxDel = m
		default:
			return ErrSyntax
		}
	}
	s, err := c.streamOf(c.argv[1], false)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("XSETID on a missing key: %w", ErrSyntax)
	}
	if s.length() > 0 {
		if idLess(id, s.lastEntryID()) {
			return fmt.Errorf("XSETID below the top item: %w", ErrSyntax)
		}
		if added != -1 && uint64(s.length()) > uint64(added) {
			return fmt.Errorf("XSETID ENTRIESADDED below the length: %w", ErrSyntax)
		}
	}
	s.lastID = id
	if added != -1 {
		s.entriesAdded = uint64(added)
	}
	if !idZero(maxDel) {
		s.maxDeleted = maxDel
	}
	c.notify(NotifyStream, "xsetid", c.argv[1])
	return nil
}

// xgroupCommand: XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]
// | SETID key group id|$ [ENTRIESREAD n] | DESTROY key group
// | CREATECONSUMER key group consumer | DELCONSUMER key group consumer
func xgroupCommand(c *ctx) error {
	if err := c.arity(4, true); err != nil {
		return err
	}
	sub := c.argv[1]
	create, setid := eq(sub, "create"), eq(sub, "setid")
	mkstream := false
	entriesRead := int64(scgInvalidEntriesRead)
	for i := 5; i < len(c.argv); {
		switch {
		case create && eq(c.argv[i], "mkstream"):
			mkstream = true
			i++
		case (create || setid) && eq(c.argv[i], "entriesread") && i+1 < len(c.argv):
			n, err := parseInt(c.argv[i+1])
			if err != nil || (n < 0 && n != scgInvalidEntriesRead) {
				return fmt.Errorf("bad ENTRIESREAD: %w", ErrSyntax)
			}
			entriesRead = n
			i += 2
		default:
			return ErrSyntax
		}
	}
	key, name := c.argv[2], c.argv[3]
	s, err := c.streamOf(key, false)
	if err != nil {
		return err
	}
	var g *sgroup
	if !mkstream {
		if s == nil {
			return fmt.Errorf("XGROUP on a missing key: %w", ErrSyntax)
		}
		if g = s.group(name); g == nil && (setid || eq(sub, "createconsumer") || eq(sub, "delconsumer")) {
			return fmt.Errorf("NOGROUP %q: %w", name, ErrSyntax)
		}
	}
	n := len(c.argv)
	switch {
	case create && n >= 5 && n <= 8:
		var id StreamID
		if string(c.argv[4]) == "$" {
			if s != nil {
				id = s.lastID
			}
		} else {
			var ok bool
			if id, ok = parseStreamID(c.argv[4], 0, true, nil); !ok {
				return errStreamID
			}
		}
		if s == nil {
			s, _ = c.streamOf(key, true)
		}
		if s.addGroup(name, id, entriesRead) == nil {
			return fmt.Errorf("BUSYGROUP %q: %w", name, ErrSyntax)
		}
		c.notify(NotifyStream, "xgroup-create", key)
	case setid && (n == 5 || n == 7):
		var id StreamID
		if string(c.argv[4]) == "$" {
			id = s.lastID
		} else {
			var ok bool
			if id, ok = parseStreamID(c.argv[4], 0, false, nil); !ok {
				return errStreamID
			}
		}
		g.lastID, g.entriesRead = id, entriesRead
		c.notify(NotifyStream, "xgroup-setid", key)
	case eq(sub, "destroy") && n == 4:
		if s.delGroup(name) {
			c.notify(NotifyStream, "xgroup-destroy", key)
		}
	case eq(sub, "createconsumer") && n == 5:
		if g.addConsumer(c.argv[4], c.nowMs()) != nil {
			c.notify(NotifyStream, "xgroup-createconsumer", key)
		}
	case eq(sub, "delconsumer") && n == 5:
		if _, ok := g.consumerIdx(c.argv[4]); ok {
			g.delConsumer(c.argv[4])
			c.notify(NotifyStream, "xgroup-delconsumer", key)
		}
	default:
		return fmt.Errorf("XGROUP %q: %w", sub, ErrSyntax)
	}
	return nil
}

// xackCommand: XACK key group id…
func xackCommand(c *ctx) error {
	if err := c.arity(4, true); err != nil {
		return err
	}
	s, err := c.streamOf(c.argv[1], false)
	if err != nil || s == nil {
		return err
	}
	g := s.group(c.argv[2])
	if g == nil {
		return nil
	}
	ids, err := parseIDs(c.argv[3:])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if x := g.pending(id); x != nil {
			g.dropNACK(x)
		}
	}
	return nil
}

// xclaimCommand: XCLAIM key group consumer min-idle id… [IDLE ms] [TIME
// ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id] (src/t_stream.c
// xclaimCommand). The replica's clock sets "now", as on a real replica.
func xclaimCommand(c *ctx) error {
	if err := c.arity(6, true); err != nil {
		return err
	}
	s, err := c.streamOf(c.argv[1], false)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("XCLAIM on a missing key: %w", ErrSyntax)
	}
	g := s.group(c.argv[2])
	if g == nil {
		return fmt.Errorf("NOGROUP %q: %w", c.argv[2], ErrSyntax)
	}
	minIdle, err := parseInt(c.argv[4])
	if err != nil {
		return err
	}
	minIdle = max(minIdle, 0)
	j := 5
	var ids []StreamID
	for ; j < len(c.argv); j++ {
		id, ok := parseStreamID(c.argv[j], 0, true, nil)
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	now := c.nowMs()
	retry, dtime := int64(-1), int64(-1)
	force, justid := false, false
	var lastID StreamID
	for ; j < len(c.argv); j++ {
		more := j+1 < len(c.argv)
		opt := c.argv[j]
		switch {
		case eq(opt, "force"):
			force = true
		case eq(opt, "justid"):
			justid = true
		case (eq(opt, "idle") || eq(opt, "time") || eq(opt, "retrycount")) && more:
			j++
			v, err := parseInt(c.argv[j])
			if err != nil {
				return err
			}
			switch {
			case eq(opt, "idle"):
				dtime = now - v
			case eq(opt, "time"):
				dtime = v
			default:
				retry = v
			}
		case eq(opt, "lastid") && more:
			j++
			id, ok := parseStreamID(c.argv[j], 0, true, nil)
			if !ok {
				return errStreamID
			}
			lastID = id
		default:
			return fmt.Errorf("unrecognized XCLAIM option %q: %w", opt, ErrSyntax)
		}
	}
	if idLess(g.lastID, lastID) {
		g.lastID = lastID
	}
	if dtime < 0 || dtime > now {
		dtime = now
	}
	var cons *sconsumer
	for _, id := range ids {
		x := g.pending(id)
		if !s.entries.has(id) {
			if x != nil { // the entry was deleted: drop it from the PEL
				g.dropNACK(x)
			}
			continue
		}
		if force && x == nil {
			x = &nack{id: id, time: now, count: 1}
			g.pel.Set(x)
		}
		if x == nil {
			continue
		}
		if x.owner != nil && minIdle > 0 && now-x.time < minIdle {
			continue
		}
		if cons == nil {
			if cons = g.consumer(c.argv[3]); cons != nil {
				cons.seenTime = now
			} else {
				cons = g.addConsumer(c.argv[3], now)
				c.notify(NotifyStream, "xgroup-createconsumer", c.argv[1])
			}
		}
		if x.owner != cons && x.owner != nil {
			x.owner.pel.Delete(x)
		}
		x.time = dtime
		if retry >= 0 {
			x.count = uint64(retry)
		} else if !justid {
			x.count++
		}
		if x.owner != cons {
			cons.pel.Set(x)
			x.owner = cons
		}
		// Every claimed entry makes the consumer active (7.2's
		// xclaimCommand: consumer->active_time = commandTimeSnapshot()).
		cons.activeTime = now
	}
	return nil
}
