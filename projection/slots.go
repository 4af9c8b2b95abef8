package projection

// Partial keyspaces, for a replica of a whole Redis Cluster: one
// projection holds the keys of every shard, each shard's link has full
// syncs of its own, and a full sync (or a FLUSHALL) of one shard must
// replace that shard's keys and leave every other key serving. Which key
// belongs to which shard is the caller's business (hash slots and their
// owners, server/cluster*.go); here a key is claimed or not by a function.
//
// Both operations below go one lock stripe at a time: each key changes
// atomically for readers, a reader of several keys of the shard may see
// some old and some new, and readers of other stripes never wait. They
// are applier operations: call them from the goroutine that calls Apply.

// CommandKeys appends the keys a propagated command names to keys (as the
// applier finds them) and reports whether the command is one the applier
// knows and names its keys (false for keyless, db-wide and unknown
// commands). Call it from the applier's goroutine.
func (p *Projection) CommandKeys(argv [][]byte, keys [][]byte) ([][]byte, bool) {
	if len(argv) == 0 {
		return keys, false
	}
	desc := p.ap.lookup(argv[0])
	if desc == nil {
		return keys, false
	}
	keys, sc := desc.keys(argv, keys)
	return keys, sc == scopeKeys && len(keys) > 0
}

// loadedKey is a key of a partial load waiting to be stored.
type loadedKey struct {
	key string
	s   slot // the loaded record or box, which holds the key
}

// CommitClaimed ends a load that holds part of the keyspace: in db 0 of
// the serving keyspace, every key claimOld accepts is removed, then every
// loaded db-0 key claimNew accepts is stored (replacing a key claimOld
// left). Other keys and other databases are left as they are. It returns
// the keys removed and stored.
func (ld *Loader) CommitClaimed(claimOld, claimNew func(key string) bool) (removed, stored int, err error) {
	if ld.done {
		return 0, 0, ErrLoadClosed
	}
	ld.end()
	ld.ds.finishArenas() // the loaded records move to the serving tables as they are (arena.go)
	p := ld.p
	live := p.cur.Load().dbs[0]
	// The loaded keys, by the serving db's stripe they go to.
	byStripe := make([][]loadedKey, len(live.stripes))
	src := ld.ds.dbs[0]
	for b := range src.numBuckets() {
		src.each(b, func(s *slot) bool {
			k := s.keyString()
			if claimNew(k) {
				i := live.stripeOf([]byte(k))
				byStripe[i] = append(byStripe[i], loadedKey{k, *s})
			}
			return true
		})
	}
	ld.ds = nil
	var drop []string
	for i := range live.stripes {
		p.hold.Lock()
		d := p.cur.Load().dbs[0] // a swap cannot happen meanwhile: the caller is the applier
		d.stripes[i].mu.Lock()
		drop = d.claimedIn(i, claimOld, drop[:0])
		for _, k := range drop {
			d.removeKeyed(k)
		}
		for _, lk := range byStripe[i] {
			d.putSlot(lk.s)
		}
		d.stripes[i].mu.Unlock()
		p.cur.Load().compactQueued() // what the removals left a quarter dead (arena.go)
		p.hold.Unlock()
		removed += len(drop)
		stored += len(byStripe[i])
		byStripe[i] = nil
	}
	clear(drop)
	p.watch.touchAll()
	p.flushedAll()
	p.st.loads.Add(1)
	p.st.loadedKeys.Add(uint64(stored))
	return removed, stored, nil
}

// claimedIn appends the keys of stripe i's buckets that claim accepts; the
// caller holds the stripe.
func (d *db) claimedIn(i int, claim func(key string) bool, out []string) []string {
	for b := i; b < d.numBuckets(); b += len(d.stripes) {
		d.each(b, func(s *slot) bool {
			if k := s.keyString(); claim(k) {
				out = append(out, k)
			}
			return true
		})
	}
	return out
}

// DeleteWhere removes every key of database db that del accepts (a
// FLUSHALL on one shard of a cluster) and returns how many it removed.
func (p *Projection) DeleteWhere(db int, del func(key string) bool) int {
	if db < 0 || db >= p.NumDBs() {
		return 0
	}
	n := 0
	var drop []string
	for i := range p.opts.Stripes {
		p.hold.Lock()
		d := p.cur.Load().dbs[db]
		d.stripes[i].mu.Lock()
		drop = d.claimedIn(i, del, drop[:0])
		for _, k := range drop {
			d.removeKeyed(k)
		}
		d.stripes[i].mu.Unlock()
		p.cur.Load().compactQueued() // what the removals left a quarter dead (arena.go)
		p.hold.Unlock()
		n += len(drop)
	}
	clear(drop)
	if n > 0 {
		p.watch.touchAll()
		p.flushedAll()
	}
	return n
}
