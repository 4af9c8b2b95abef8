package commands

import (
	"errors"

	"github.com/vdr-project/vdr/internal/geo"
	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Geo commands (src/geo.c): GEOPOS GEODIST GEOHASH GEOSEARCH GEORADIUS_RO
// GEORADIUSBYMEMBER_RO. GEORADIUS and GEORADIUSBYMEMBER are write
// commands in Redis's table (for STORE), so a read-only replica answers
// -READONLY to them even without STORE, and so does vdr (or forwards
// them). The search itself is projection's View.GeoSearch, the one the
// applier runs for the storing forms.

// replyError writes err as Redis would: its reply text when it is a
// *projection.ReplyError.
func replyError(c *Ctx, err error) {
	var re *projection.ReplyError
	if errors.As(err, &re) {
		c.W.Error(re.Msg)
		return
	}
	c.W.Error("ERR " + err.Error())
}

// humanDouble writes a coordinate as addReplyHumanLongDouble does: a bulk
// string in RESP2, a RESP3 double, both in "%.17Lf" without trailing zeros.
func humanDouble(w *Writer, f float64) {
	var tmp [48]byte
	s := geo.AppendCoord(tmp[:0], f)
	if w.Resp >= 3 {
		w.b = append(w.b, ',')
		w.b = append(w.b, s...)
		w.crlf()
		return
	}
	w.Bulk(s)
}

// distance writes a distance as addReplyDoubleDistance does: a bulk string
// with 4 decimals, in RESP2 and RESP3 alike.
func distance(w *Writer, d float64) {
	var tmp [48]byte
	w.Bulk(geo.AppendDistance(tmp[:0], d))
}

func geoposCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		c.W.Array(len(args) - 2)
		for _, m := range args[2:] {
			s, ok := x.ZScore(m)
			if !ok {
				c.W.NullArray()
				continue
			}
			lon, lat, ok := geo.DecodeScore(s)
			if !ok {
				c.W.NullArray()
				continue
			}
			c.W.Array(2)
			humanDouble(c.W, lon)
			humanDouble(c.W, lat)
		}
	})
}

func geodistCommand(c *Ctx, args [][]byte) {
	toMeters := 1.0
	if len(args) == 5 {
		f, ok := geo.UnitToMeters(args[4])
		if !ok {
			c.W.Error("ERR unsupported unit provided. please use M, KM, FT, MI")
			return
		}
		toMeters = f
	} else if len(args) > 5 {
		c.W.Error(errSyntax)
		return
	}
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !x.Exists() {
			c.W.Null()
			return
		}
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		s1, ok1 := x.ZScore(args[2])
		s2, ok2 := x.ZScore(args[3])
		if !ok1 || !ok2 {
			c.W.Null()
			return
		}
		lon1, lat1, ok1 := geo.DecodeScore(s1)
		lon2, lat2, ok2 := geo.DecodeScore(s2)
		if !ok1 || !ok2 {
			c.W.Null()
			return
		}
		distance(c.W, geo.Distance(lon1, lat1, lon2, lat2)/toMeters)
	})
}

func geohashCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		x := c.lookup(v, args[1])
		if !c.checkType(x, rdbparse.KindZSet) {
			return
		}
		c.W.Array(len(args) - 2)
		for _, m := range args[2:] {
			s, ok := x.ZScore(m)
			if !ok {
				c.W.Null()
				continue
			}
			h, ok := geo.HashString(s)
			if !ok {
				c.W.Null()
				continue
			}
			c.W.BulkString(h)
		}
	})
}

// geosearchCommand serves GEOSEARCH, GEORADIUS_RO and GEORADIUSBYMEMBER_RO
// (args[0] tells which): the source key is args[1] for all three.
func geosearchCommand(c *Ctx, args [][]byte) {
	c.read1(args[1], func(v *projection.View) {
		c.lookup(v, args[1]) // keyspace hit/miss, as lookupKeyRead counts it
		res, err := v.GeoSearch(args)
		if err != nil {
			replyError(c, err)
			return
		}
		opts := 0
		for _, on := range []bool{res.WithDist, res.WithHash, res.WithCoord} {
			if on {
				opts++
			}
		}
		c.W.Array(len(res.Points))
		for _, p := range res.Points {
			if opts > 0 {
				c.W.Array(opts + 1)
			}
			c.W.Bulk(p.Member)
			if res.WithDist {
				distance(c.W, p.Dist)
			}
			if res.WithHash {
				c.W.Int(int64(p.Score))
			}
			if res.WithCoord {
				c.W.Array(2)
				humanDouble(c.W, p.Lon)
				humanDouble(c.W, p.Lat)
			}
		}
	})
}
