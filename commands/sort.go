package commands

import "github.com/vdr-project/vdr/projection"

// SORT_RO (src/sort.c). SORT itself is a write command in Redis's table
// (for STORE): a read-only replica answers -READONLY to it even without
// STORE, and so does vdr (or forwards it). The sort is projection's
// View.Sort, the one the applier runs for SORT … STORE.

func sortroCommand(c *Ctx, args [][]byte) {
	fn := func(v *projection.View) {
		c.lookup(v, args[1]) // keyspace hit/miss, as lookupKeyRead counts it
		res, err := v.Sort(args, true /* readonly */)
		if err != nil {
			replyError(c, err)
			return
		}
		c.W.Array(len(res.Elems))
		for _, e := range res.Elems {
			if e == nil {
				c.W.Null()
			} else {
				c.W.Bulk(e)
			}
		}
	}
	// BY and GET patterns read other keys: lock the database.
	if projection.SortNeedsDB(args) {
		c.readDB(fn)
	} else {
		c.read1(args[1], fn)
	}
}
