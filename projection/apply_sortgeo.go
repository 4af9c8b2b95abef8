package projection

// ---- SORT … STORE and the storing geo searches (src/sort.c, src/geo.c) ----
//
// A 7.0 primary propagates these verbatim (checked on a real link: SORT …
// STORE, GEORADIUS … STORE|STOREDIST, GEORADIUSBYMEMBER … STORE|STOREDIST,
// GEOSEARCHSTORE … [STOREDIST], each as sent, including those whose source
// is missing and only delete the destination), so the replica recomputes
// the result from its own data, as these functions do.

// rawGet reads a key for a recomputed command: expired or not, as the
// primary's stream sees it (src/db.c expireIfNeeded for the master client).
func (c *ctx) rawGet(key []byte) Value {
	o, ok := c.d.lookup(key)
	return Value{o: o, ok: ok, enc: c.ec}
}

func sortCommand(c *ctx) error {
	if err := c.arity(2, true); err != nil {
		return err
	}
	res, err := sortGeneric(c.argv, false /* readonly */, c.rawGet)
	if err != nil {
		return err
	}
	// SORT converts a listpack sorted set to a skiplist for good, STORE or
	// not (sortCommandGeneric: "Destructively convert encoded sorted sets").
	if o, ok := c.d.lookup(c.argv[1]); ok && o.kind == KindZSet && o.zset().isLP() {
		o.zset().toBig()
	}
	if res.Store == nil {
		return nil // a plain SORT writes nothing (and is never propagated)
	}
	l := &listObj{}
	tp := c.a.p.textPack()
	for _, e := range res.Elems {
		l.pushTail(e, tp) // a GET that found nothing stores ""
	}
	l.updateLP(c.ec)
	if l.size() > 0 {
		c.d.storeNew(res.Store, &obj{kind: KindList, ptr: ptrOf(l)}) // setKey
		c.notify(NotifyList, "sortstore", res.Store)
	} else if c.d.remove(res.Store) {
		c.notify(NotifyGeneric, "del", res.Store)
	}
	return nil
}

// georadiusStoreCommand applies GEORADIUS, GEORADIUSBYMEMBER and
// GEOSEARCHSTORE: the destination gets the found members with their
// geohash scores, or their distances in the unit with STOREDIST; an
// empty result deletes it.
func georadiusStoreCommand(c *ctx) error {
	if err := c.arity(2, true); err != nil {
		return err
	}
	res, err := geoSearchGeneric(c.argv, c.rawGet)
	if err != nil {
		return err
	}
	if res.Store == nil {
		return nil // a plain GEORADIUS writes nothing (and is never propagated)
	}
	maxLen := 0
	for _, p := range res.Points {
		maxLen = max(maxLen, len(p.Member))
	}
	var nz *zsetObj
	if len(res.Points) > 0 {
		tp := c.a.p.textPack()
		nz = newZSet(len(res.Points), maxLen, c.ec)
		for _, p := range res.Points {
			s := p.Score
			if res.StoreDist {
				s = p.Dist
			}
			nz.set(p.Member, s, c.ec, tp)
		}
	}
	if nz != nil {
		c.d.storeNew(res.Store, &obj{kind: KindZSet, ptr: ptrOf(nz)}) // setKey
		if c.name == "geosearchstore" {
			c.notify(NotifyZSet, "geosearchstore", res.Store)
		} else {
			c.notify(NotifyZSet, "georadiusstore", res.Store)
		}
	} else if c.d.remove(res.Store) {
		c.notify(NotifyGeneric, "del", res.Store)
	}
	return nil
}
