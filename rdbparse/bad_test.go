package rdbparse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// rdbFile builds an RDB file: header, body, EOF and a valid CRC-64.
func rdbFile(magic string, body ...[]byte) []byte {
	b := []byte(magic)
	for _, x := range body {
		b = append(b, x...)
	}
	b = append(b, OpcodeEOF)
	crc := CRC64(b)
	for i := 0; i < 8; i++ {
		b = append(b, byte(crc>>(8*i)))
	}
	return b
}

// TestBadInput checks hand-built invalid files: each gives its sentinel
// error, never a panic.
func TestBadInput(t *testing.T) {
	f := func(name string, data []byte, want error) {
		t.Helper()
		err := Parse(bytes.NewReader(data), NopHandler{}, nil)
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "offset") && !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("%s: error %q does not say the offset", name, err)
		}
	}
	u64be := func(v uint64) []byte {
		return []byte{0x81, byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	}
	f("bad magic", []byte("RUDIS0009\xff"), ErrCorrupt)
	f("version 14", rdbFile("REDIS0014"), ErrUnsupportedVersion)
	f("valkey 79", rdbFile("VALKEY079"), ErrUnsupportedVersion)
	f("version 0", rdbFile("REDIS0000"), ErrUnsupportedVersion)
	f("unknown type", rdbFile("REDIS0009", []byte{30, 1, 'k'}), ErrCorrupt)
	f("bad length encoding", rdbFile("REDIS0009", []byte{TypeString, 0x82}), ErrCorrupt)
	f("bad string encoding", rdbFile("REDIS0009", []byte{TypeString, 1, 'k', 0xc4}), ErrCorrupt)
	f("2^60-member set", rdbFile("REDIS0009", []byte{TypeSet, 1, 'k'}, u64be(1<<60)), ErrCorrupt) // the EOF byte is read as an element
	f("2^60-byte string", rdbFile("REDIS0009", []byte{TypeString, 1, 'k'}, u64be(1<<60)), ErrCorrupt)
	f("huge LZF", rdbFile("REDIS0009", []byte{TypeString, 1, 'k', 0xc3}, u64be(10), u64be(1<<40)), ErrCorrupt)
	f("bad LZF", rdbFile("REDIS0009", []byte{TypeString, 1, 'k', 0xc3, 2, 10, 0xe0, 0xff}), ErrCorrupt)
	f("bad ziplist", rdbFile("REDIS0009", []byte{TypeListZiplist, 1, 'k', 3, 1, 2, 3}), ErrCorrupt)
	f("bad listpack", rdbFile("REDIS0009", []byte{TypeHashListpack, 1, 'k', 7, 7, 0, 0, 0, 1, 0, 0xff}), ErrCorrupt)
	f("odd hash listpack", rdbFile("REDIS0009", []byte{TypeHashListpack, 1, 'k', 10, 10, 0, 0, 0, 1, 0, 0x81, 'a', 2, 0xff}), ErrCorrupt)
	f("bad intset width", rdbFile("REDIS0009", []byte{TypeSetIntset, 1, 'k', 10, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0}), ErrCorrupt)
	f("bad quicklist container", rdbFile("REDIS0010", []byte{TypeListQuicklist2, 1, 'k', 1, 7}), ErrCorrupt)
	f("key meta", rdbFile("REDIS0012", []byte{OpcodeKeyMeta}), ErrUnsupported)
	f("pre-GA module", rdbFile("REDIS0009", []byte{TypeModulePreGA, 1, 'k', 5}), ErrUnsupported)
	f("bad module opcode", rdbFile("REDIS0009", []byte{TypeModule2, 1, 'k', 5, 9}), ErrCorrupt)
	f("bad module aux when", rdbFile("REDIS0009", []byte{OpcodeModuleAux, 5, 1, 0}), ErrCorrupt)
	f("stream node key", rdbFile("REDIS0009", []byte{TypeStreamListpacks, 1, 'k', 1, 3, 'a', 'b', 'c'}), ErrCorrupt)
	bad := rdbFile("REDIS0009", []byte{TypeString, 1, 'k', 1, 'v'})
	bad[len(bad)-1] ^= 1
	f("checksum", bad, ErrChecksum)
	f("checksum is corrupt", bad, ErrCorrupt)
	if err := Parse(bytes.NewReader(bad), NopHandler{}, &Options{SkipChecksum: true}); err != nil {
		t.Errorf("SkipChecksum: %v", err)
	}
}

// TestNoPreallocation: a claimed huge collection must not allocate before
// its elements arrive.
func TestNoPreallocation(t *testing.T) {
	for _, typ := range []byte{TypeSet, TypeList, TypeHash, TypeZSet2, TypeListQuicklist2, TypeStreamListpacks3} {
		data := []byte("REDIS0011")
		data = append(data, typ, 1, 'k', 0x81, 0x10, 0, 0, 0, 0, 0, 0, 0) // 2^60
		var m1, m2 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m1)
		err := Parse(bytes.NewReader(data), NopHandler{}, nil)
		runtime.ReadMemStats(&m2)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("type %d: %v", typ, err)
		}
		if grown := m2.TotalAlloc - m1.TotalAlloc; grown > 1<<20 {
			t.Errorf("type %d: allocated %d bytes for a claim", typ, grown)
		}
	}
}

// TestExactConsumption: with a *bufio.Reader, the parse stops right after
// the CRC, so what follows (the diskless end mark) is still there.
func TestExactConsumption(t *testing.T) {
	mark := strings.Repeat("e", 40)
	for _, ver := range []string{"REDIS0004", "REDIS0011"} {
		file := rdbFile(ver, []byte{TypeString, 1, 'k', 1, 'v'})
		if ver == "REDIS0004" {
			file = file[:len(file)-8] // no CRC before version 5
		}
		for _, size := range []int{16, 4096} {
			br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(file), strings.NewReader(mark)), size)
			p := NewParser(br, NopHandler{}, nil)
			if err := p.Parse(); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != mark || p.Offset() != int64(len(file)) {
				t.Errorf("%s size %d: left %q, offset %d of %d", ver, size, rest, p.Offset(), len(file))
			}
		}
	}
}

// TestHandlerError: a Handler error stops the parse and comes back
// wrapped.
func TestHandlerError(t *testing.T) {
	stop := errors.New("stop")
	file := rdbFile("REDIS0011", []byte{TypeString, 1, 'a', 1, 'v'}, []byte{TypeString, 1, 'b', 1, 'v'})
	h := &stopAfter{n: 1, err: stop}
	err := Parse(bytes.NewReader(file), h, nil)
	if !errors.Is(err, stop) || h.seen != 1 {
		t.Fatalf("got %v after %d entries", err, h.seen)
	}
}

type stopAfter struct {
	NopHandler
	n, seen int
	err     error
}

func (s *stopAfter) Entry(*Entry) error {
	s.seen++
	if s.seen >= s.n {
		return s.err
	}
	return nil
}

// TestProgressConcurrent reads Offset and Keys from another goroutine
// while parsing (run with -race).
func TestProgressConcurrent(t *testing.T) {
	var body [][]byte
	for i := 0; i < 5000; i++ {
		k := fmt.Sprintf("key:%d", i)
		body = append(body, append([]byte{TypeString, byte(len(k))}, append([]byte(k), 1, 'v')...))
	}
	file := rdbFile("REDIS0011", body...)
	p := NewParser(iotestSlow(file), NopHandler{}, nil)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := int64(0)
		for {
			select {
			case <-done:
				return
			default:
			}
			if k := p.Keys(); k < last {
				t.Errorf("Keys went back from %d to %d", last, k)
			} else {
				last = k
			}
			_ = p.Offset()
			runtime.Gosched()
		}
	}()
	err := p.Parse()
	close(done)
	wg.Wait()
	if err != nil || p.Keys() != 5000 || p.Offset() != int64(len(file)) {
		t.Fatalf("err %v keys %d offset %d", err, p.Keys(), p.Offset())
	}
}

// iotestSlow returns data through small reads.
func iotestSlow(data []byte) io.Reader {
	return &randomChunkReader{r: bytes.NewReader(data), rng: newRand(1), max: 100}
}

// TestHandBuiltRecords covers records no corpus file holds: the 7.0 RC
// function format, every module opcode, and Redis Enterprise opcodes.
func TestHandBuiltRecords(t *testing.T) {
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	var body [][]byte
	// RDB_OPCODE_FUNCTION_PRE_GA: name, engine, has_desc, desc, code.
	body = append(body, []byte{OpcodeFunctionPre}, str("lib"), str("LUA"), []byte{1}, str("a description"), str("return 1"))
	body = append(body, []byte{OpcodeFunctionPre}, str("lib2"), str("LUA"), []byte{0}, str("return 2"))
	// A module value using every module opcode; module id of "test__rdb" v3.
	id := uint64(0)
	for _, c := range "test__rdb" {
		id = id<<6 | uint64(strings.IndexRune(moduleCharset, c))
	}
	id = id<<10 | 3
	idLen := []byte{0x81, byte(id >> 56), byte(id >> 48), byte(id >> 40), byte(id >> 32), byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
	body = append(body, []byte{TypeModule2}, str("mod"), idLen,
		[]byte{moduleOpcodeSInt, 5, moduleOpcodeUInt, 0x40, 0xff, moduleOpcodeFloat, 0, 0, 0x80, 0x3f,
			moduleOpcodeDouble, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, moduleOpcodeString}, str("payload"),
		[]byte{moduleOpcodeString, 0xc3, 6, 5, 0x04, 'a', 'b', 'c', 'd', 'e'}, // an LZF string
		[]byte{moduleOpcodeEOF})
	body = append(body, []byte{OpcodeModuleAux}, idLen, []byte{moduleOpcodeUInt, 2, moduleOpcodeEOF})
	// Redis Enterprise RAM_LRU and SLOT_NUM opcodes, then a key.
	body = append(body, []byte{opcodeEntRAMLRU, 7, opcodeEntSlotNum, 0x40, 0x10}, []byte{TypeString}, str("k"), str("v"))
	rec := &recorder{}
	if err := Parse(bytes.NewReader(rdbFile("REDIS0010", body...)), rec, nil); err != nil {
		t.Fatal(err)
	}
	// Translated as Redis 7.0 does: a shebang naming engine and library,
	// the description dropped.
	if len(rec.funcs) != 2 || string(rec.funcs[0]) != "#!LUA name=lib\nreturn 1" || string(rec.funcs[1]) != "#!LUA name=lib2\nreturn 2" {
		t.Errorf("functions %q", rec.funcs)
	}
	if len(rec.keys) != 2 || rec.keys[0].Module == nil || rec.keys[0].Module.Name != "test__rdb" || rec.keys[0].Module.Ver != 3 {
		t.Fatalf("keys %+v", rec.keys)
	}
	if string(rec.keys[1].Key) != "k" || string(rec.keys[1].Str) != "v" {
		t.Errorf("key after the module: %+v", rec.keys[1])
	}
	if len(rec.moduleAux) != 1 || rec.moduleAux[0].Name != "test__rdb" {
		t.Errorf("module aux %+v", rec.moduleAux)
	}
	// Valkey: opcode 243 is SLOT_IMPORT (skipped), type 22 is HASH_2.
	body = [][]byte{{OpcodeSlotImport}, str("job-1"), {2, 0, 10, 20, 30},
		{22}, str("h"), {2}, str("f1"), str("v1"), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		str("f2"), str("v2"), {0x10, 0x27, 0, 0, 0, 0, 0, 0}}
	rec = &recorder{}
	if err := Parse(bytes.NewReader(rdbFile("VALKEY080", body...)), rec, nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) != 1 || len(rec.keys[0].Fields) != 2 || rec.keys[0].Fields[0].ExpireMs != -1 || rec.keys[0].Fields[1].ExpireMs != 10000 {
		t.Fatalf("valkey hash2: %+v", rec.keys)
	}
}
