package rdbparse

import (
	"bytes"
	"testing"
)

type hfeCollect struct {
	NopHandler
	funcs  []string
	fields map[string]int64
	rdbT   byte
}

func (h *hfeCollect) Function(code []byte) error { h.funcs = append(h.funcs, string(code)); return nil }
func (h *hfeCollect) Entry(e *Entry) error {
	h.rdbT = e.RDBType
	for _, f := range e.Fields {
		h.fields[string(f.Field)+"="+string(f.Value)] = f.ExpireMs
	}
	return nil
}

// TestWriterFunctionAndHashMetadata writes a function library and a hash
// with field TTLs (RDB_TYPE_HASH_METADATA) and parses them back.
func TestWriterFunctionAndHashMetadata(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Function([]byte("#!lua name=l\nredis.register_function('f', function() return 1 end)"))
	w.SelectDB(0, 1, 0)
	w.BeginHashMetadata([]byte("h"), 3, -1, 1000)
	w.PairTTL([]byte("a"), []byte("1"), 1000)
	w.PairTTL([]byte("b"), []byte("2"), -1)
	w.PairTTL([]byte("c"), []byte("3"), 1<<40)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h := &hfeCollect{fields: map[string]int64{}}
	if err := Parse(&buf, h, nil); err != nil {
		t.Fatal(err)
	}
	if len(h.funcs) != 1 || h.funcs[0][:12] != "#!lua name=l" {
		t.Errorf("functions %q", h.funcs)
	}
	if h.rdbT != TypeHashMetadata || h.fields["a=1"] != 1000 || h.fields["b=2"] != -1 || h.fields["c=3"] != 1<<40 || len(h.fields) != 3 {
		t.Errorf("type %d fields %v", h.rdbT, h.fields)
	}
}
