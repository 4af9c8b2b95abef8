package main

// The "vdr rdb" subcommand: print an RDB file's contents as JSON lines.
//
// Output, one JSON object per line:
//
//	{"db":0,"key":"k","type":"hash","encoding":"listpack","rdb_type":16,
//	 "expire_ms":1700000000000,"idle":5,"freq":3,"len":2,"value":[...]}
//	...
//	{"summary":{"magic":"REDIS","version":10,"keys":N,"bytes":B,...}}
//
// expire_ms, idle and freq are omitted when the file does not set them.
// Bytes (keys, values, fields, members) are JSON strings when they are
// valid UTF-8, otherwise {"hex":"<hex digits>"}. Values by type:
//
//	string  the bytes
//	list    [elem, ...]            set   [member, ...]
//	hash    [{"field":f,"value":v,"expire_ms":ms (only with a field TTL)}, ...]
//	zset    [{"member":m,"score":s}, ...]  (±inf and nan as the strings "inf", "-inf", "nan")
//	stream  {"length":n,"last_id":"ms-seq","entries":[{"id":"ms-seq","fields":[f,v,...]}],"groups":[...]}
//	module  {"module":"name","ver":n}
//
// A collection's elements are merged across the parser's batches up to
// -max-elems (default 1000) per key; beyond that they are counted in "len"
// but not printed, and "truncated":true is set. The summary line gives the
// keys per type and per database, the RDB's size in bytes, the version,
// the AUX fields, and counts of the other records.

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/vdr-project/vdr/rdbparse"
)

// jbytes marshals as a JSON string when valid UTF-8, else {"hex":…}.
type jbytes []byte

func (b jbytes) MarshalJSON() ([]byte, error) {
	if utf8.Valid(b) {
		return json.Marshal(string(b))
	}
	return json.Marshal(map[string]string{"hex": hex.EncodeToString(b)})
}

// jscore marshals a score as a number, or "inf"/"-inf"/"nan".
type jscore float64

func (s jscore) MarshalJSON() ([]byte, error) {
	f := float64(s)
	switch {
	case math.IsNaN(f):
		return []byte(`"nan"`), nil
	case math.IsInf(f, 1):
		return []byte(`"inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

type jfield struct {
	Field    jbytes `json:"field"`
	Value    jbytes `json:"value"`
	ExpireMs *int64 `json:"expire_ms,omitempty"`
}

type jmember struct {
	Member jbytes `json:"member"`
	Score  jscore `json:"score"`
}

type jentry struct {
	ID     string   `json:"id"`
	Fields []jbytes `json:"fields"`
}

type jpending struct {
	ID            string `json:"id"`
	Consumer      jbytes `json:"consumer"`
	DeliveryTime  int64  `json:"delivery_time"`
	DeliveryCount uint64 `json:"delivery_count"`
}

type jconsumer struct {
	Name       jbytes `json:"name"`
	SeenTime   int64  `json:"seen_time"`
	ActiveTime int64  `json:"active_time"`
	Pending    int    `json:"pending"`
}

type jgroup struct {
	Name        jbytes      `json:"name"`
	LastID      string      `json:"last_id"`
	EntriesRead *uint64     `json:"entries_read"` // null when unknown
	PEL         []jpending  `json:"pel"`
	Consumers   []jconsumer `json:"consumers"`
}

type jstream struct {
	Length       uint64   `json:"length"`
	LastID       string   `json:"last_id"`
	FirstID      string   `json:"first_id"`
	MaxDeletedID string   `json:"max_deleted_id"`
	EntriesAdded uint64   `json:"entries_added"`
	Entries      []jentry `json:"entries"`
	Groups       []jgroup `json:"groups"`
}

type jkey struct {
	DB        int    `json:"db"`
	Key       jbytes `json:"key"`
	Type      string `json:"type"`
	Encoding  string `json:"encoding"`
	RDBType   byte   `json:"rdb_type"`
	ExpireMs  *int64 `json:"expire_ms,omitempty"`
	Idle      *int64 `json:"idle,omitempty"`
	Freq      *int   `json:"freq,omitempty"`
	Len       int64  `json:"len"`
	Truncated bool   `json:"truncated,omitempty"`
	Value     any    `json:"value"`
}

type jsummary struct {
	Magic        string            `json:"magic"`
	Version      int               `json:"version"`
	Keys         int64             `json:"keys"`
	KeysPerType  map[string]int64  `json:"keys_per_type"`
	KeysPerDB    map[string]int64  `json:"keys_per_db"`
	Bytes        int64             `json:"bytes"`
	CRC          string            `json:"crc"`
	Aux          map[string]jbytes `json:"aux"`
	Functions    int               `json:"functions"`
	ModuleAux    []string          `json:"module_aux"`
	SlotInfo     int               `json:"slot_info"`
	EmptySkipped int64             `json:"empty_keys_skipped"`
}

// printer is the Handler that writes the JSON lines.
type printer struct {
	rdbparse.NopHandler
	enc      *json.Encoder
	maxElems int
	valkey   bool
	cur      *jkey
	n        int64 // elements of the current key seen
	sum      jsummary
}

func cp(b []byte) jbytes { return append(jbytes{}, b...) }

func sid(id rdbparse.StreamID) string { return fmt.Sprintf("%d-%d", id.Ms, id.Seq) }

func (p *printer) Header(h rdbparse.Header) error {
	p.sum.Magic, p.sum.Version = h.Magic, h.Version
	p.valkey = h.Magic == "VALKEY"
	return nil
}

func (p *printer) Aux(k, v []byte) error {
	p.sum.Aux[string(k)] = cp(v)
	return nil
}

func (p *printer) SlotInfo(uint64, uint64, uint64) error { p.sum.SlotInfo++; return nil }
func (p *printer) Function([]byte) error                 { p.sum.Functions++; return nil }
func (p *printer) ModuleAux(m rdbparse.Module, _ int) error {
	p.sum.ModuleAux = append(p.sum.ModuleAux, m.Name)
	return nil
}

func (p *printer) End(crc uint64) error {
	p.sum.CRC = fmt.Sprintf("%016x", crc)
	return nil
}

// room reports whether another element may be printed for this key.
func (p *printer) room() bool {
	p.n++
	if p.n > int64(p.maxElems) {
		p.cur.Truncated = true
		return false
	}
	return true
}

func (p *printer) Entry(e *rdbparse.Entry) error {
	if e.Batch == 0 {
		k := &jkey{DB: e.DB, Key: cp(e.Key), Type: e.Kind.String(), Encoding: rdbparse.TypeName(e.RDBType, p.valkey), RDBType: e.RDBType}
		if e.ExpireMs != -1 {
			v := e.ExpireMs
			k.ExpireMs = &v
		}
		if e.Idle != -1 {
			v := e.Idle
			k.Idle = &v
		}
		if e.Freq != -1 {
			v := e.Freq
			k.Freq = &v
		}
		switch e.Kind {
		case rdbparse.KindList, rdbparse.KindSet:
			k.Value = []jbytes{}
		case rdbparse.KindHash:
			k.Value = []jfield{}
		case rdbparse.KindZSet:
			k.Value = []jmember{}
		case rdbparse.KindStream:
			k.Value = &jstream{Entries: []jentry{}, Groups: []jgroup{}}
		default:
			// a string is one batch: nothing to count.
		}
		p.cur, p.n = k, 0
	}
	k := p.cur
	switch e.Kind {
	case rdbparse.KindString:
		k.Value = cp(e.String)
		p.n = int64(len(e.String))
	case rdbparse.KindList, rdbparse.KindSet:
		v := k.Value.([]jbytes)
		for _, b := range e.Elems {
			if p.room() {
				v = append(v, cp(b))
			}
		}
		k.Value = v
	case rdbparse.KindHash:
		v := k.Value.([]jfield)
		for _, f := range e.Fields {
			if p.room() {
				jf := jfield{Field: cp(f.Field), Value: cp(f.Value)}
				if f.ExpireMs != -1 {
					ms := f.ExpireMs
					jf.ExpireMs = &ms
				}
				v = append(v, jf)
			}
		}
		k.Value = v
	case rdbparse.KindZSet:
		v := k.Value.([]jmember)
		for _, z := range e.ZMembers {
			if p.room() {
				v = append(v, jmember{cp(z.Member), jscore(z.Score)})
			}
		}
		k.Value = v
	case rdbparse.KindStream:
		js := k.Value.(*jstream)
		for _, se := range e.Stream.Entries {
			if p.room() {
				je := jentry{ID: sid(se.ID)}
				for _, f := range se.Fields {
					je.Fields = append(je.Fields, cp(f))
				}
				js.Entries = append(js.Entries, je)
			}
		}
		if e.Last {
			s := e.Stream
			js.Length, js.LastID, js.FirstID, js.MaxDeletedID, js.EntriesAdded =
				s.Length, sid(s.LastID), sid(s.FirstID), sid(s.MaxDeletedID), s.EntriesAdded
			for _, g := range s.Groups {
				jg := jgroup{Name: cp(g.Name), LastID: sid(g.LastID), PEL: []jpending{}, Consumers: []jconsumer{}}
				if g.EntriesRead != rdbparse.EntriesReadUnknown {
					v := g.EntriesRead
					jg.EntriesRead = &v
				}
				for _, pe := range g.PEL {
					jg.PEL = append(jg.PEL, jpending{sid(pe.ID), cp(pe.Consumer), pe.DeliveryTime, pe.DeliveryCount})
				}
				for _, c := range g.Consumers {
					jg.Consumers = append(jg.Consumers, jconsumer{cp(c.Name), c.SeenTime, c.ActiveTime, len(c.Pending)})
				}
				js.Groups = append(js.Groups, jg)
			}
		}
	case rdbparse.KindModule:
		k.Value = map[string]any{"module": e.Module.Name, "ver": e.Module.Ver}
	}
	if !e.Last {
		return nil
	}
	k.Len = p.n
	if e.Kind == rdbparse.KindModule {
		k.Len = -1
	}
	p.sum.Keys++
	p.sum.KeysPerType[k.Type]++
	p.sum.KeysPerDB[strconv.Itoa(k.DB)]++
	p.cur = nil
	return p.enc.Encode(k)
}

// runRDB implements "vdr rdb [flags] FILE". It returns the exit code: 0
// on success, 1 when the file cannot be read or parsed (the error goes to
// stderr), 2 on a usage error.
func runRDB(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxElems := fs.Int("max-elems", 1000, "most elements printed per key (the rest are counted)")
	batch := fs.Int("batch", rdbparse.DefaultBatchSize, "parser batch size (elements per Entry call)")
	skipCRC := fs.Bool("skip-checksum", false, "do not verify the CRC-64")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vdr rdb [flags] FILE\n\nPrints an RDB file as JSON lines, one per key, then a summary line.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 || *maxElems < 0 {
		fs.Usage()
		return 2
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "vdr rdb: %v\n", err)
		return 1
	}
	defer f.Close()
	w := bufio.NewWriterSize(stdout, 64<<10)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	pr := &printer{enc: enc, maxElems: *maxElems}
	pr.sum.Aux = map[string]jbytes{}
	pr.sum.KeysPerType = map[string]int64{}
	pr.sum.KeysPerDB = map[string]int64{}
	p := rdbparse.NewParser(bufio.NewReaderSize(f, 256<<10), pr, &rdbparse.Options{BatchSize: *batch, SkipChecksum: *skipCRC})
	if err := p.Parse(); err != nil {
		w.Flush()
		fmt.Fprintf(stderr, "vdr rdb: %s: %v\n", fs.Arg(0), err)
		return 1
	}
	pr.sum.Bytes = p.Offset()
	pr.sum.EmptySkipped = p.EmptyKeysSkipped()
	if err := enc.Encode(map[string]any{"summary": pr.sum}); err != nil {
		fmt.Fprintf(stderr, "vdr rdb: %v\n", err)
		return 1
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "vdr rdb: %v\n", err)
		return 1
	}
	return 0
}
