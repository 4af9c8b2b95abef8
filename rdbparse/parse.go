package rdbparse

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync/atomic"
)

// readBufferSize is the bufio.Reader size Parse uses when it is not given
// one: big enough that nearly every read is served from the window.
const readBufferSize = 64 << 10

// Parser parses one RDB stream. Create it with NewParser; Parse runs it.
type Parser struct {
	r      reader
	h      Handler
	opts   Options
	offset atomic.Int64
	keys   atomic.Int64
	empty  atomic.Int64
	// nkeys is keys as the parse counts it; published to keys (and the
	// offset with it) every publishEvery keys and when Parse returns. An
	// atomic write per key drained the store buffer each time, and the
	// handler's stores behind it with it: 0.1 µs a key in a load.
	nkeys int64

	hdr    Header
	valkey bool
	db     int

	// The current key and its batch.
	e          Entry
	key        []byte
	arena      []byte // element bytes of the current batch
	elems      [][]byte
	fields     []HashField
	zmembers   []ZMember
	sentries   []StreamEntry
	sfields    [][]byte
	total      int64 // elements delivered so far for the current key
	blob       []byte
	lzfBuf     []byte
	stream     Stream
	master     [][]byte // stream master entry field names
	masterBuf  []byte
	plainNodes int  // quicklist PLAIN nodes seen (for tests)
	inPlace    bool // elements may point into the current blob (see appendElem)
	module     Module
}

// NewParser returns a parser of the RDB read from r. When r is a
// *bufio.Reader it is used as is, and the parse consumes exactly the RDB's
// bytes; any other reader is wrapped in a bufio.Reader, which may read
// ahead of the RDB's end.
func NewParser(r io.Reader, h Handler, opts *Options) *Parser {
	p := newParser(h, opts)
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, readBufferSize)
	}
	p.r = reader{br: br, crcOn: true, pubOff: &p.offset}
	return p
}

func newParser(h Handler, opts *Options) *Parser {
	p := &Parser{h: h}
	if opts != nil {
		p.opts = *opts
	}
	if p.opts.BatchSize <= 0 {
		p.opts.BatchSize = DefaultBatchSize
	}
	if p.opts.MaxStringBytes <= 0 {
		p.opts.MaxStringBytes = DefaultMaxStringBytes
	}
	return p
}

// Parse parses the RDB read from r, calling h for everything it finds.
func Parse(r io.Reader, h Handler, opts *Options) error {
	return NewParser(r, h, opts).Parse()
}

// Offset returns the number of input bytes consumed so far. It is safe to
// call from any goroutine; during a parse it is updated at every refill
// of the read buffer and every publishEvery keys, and it is exact once
// Parse has returned.
func (p *Parser) Offset() int64 { return p.offset.Load() }

// Keys returns the number of keys completed so far (delivered with Last
// set, or skipped as empty). Safe to call from any goroutine; during a
// parse it is updated every publishEvery keys, and it is exact once Parse
// has returned.
func (p *Parser) Keys() int64 { return p.keys.Load() }

// publishEvery is how many keys a parse completes between two updates of
// what Offset and Keys report.
const publishEvery = 256

// publish makes the parse's position what Offset and Keys report.
func (p *Parser) publish() {
	p.offset.Store(p.r.offset())
	p.keys.Store(p.nkeys)
}

// EmptyKeysSkipped returns how many empty collections were dropped, as
// Redis 7 drops them when loading (see rdbLoadObject's
// RDB_LOAD_ERR_EMPTY_KEY). Safe to call from any goroutine.
func (p *Parser) EmptyKeysSkipped() int64 { return p.empty.Load() }

// Header returns what the file's header said (valid once Parse has read it).
func (p *Parser) Header() Header { return p.hdr }

// corrupt returns an ErrCorrupt error about what at the current offset.
func (p *Parser) corrupt(format string, args ...any) error {
	return fmt.Errorf("rdbparse: %s at offset %d: %w", fmt.Sprintf(format, args...), p.r.offset(), ErrCorrupt)
}

// handlerErr wraps an error returned by the Handler.
func (p *Parser) handlerErr(err error) error {
	return fmt.Errorf("rdbparse: handler stopped the parse at offset %d: %w", p.r.offset(), err)
}

// Parse reads the whole RDB: header, records, EOF and checksum. It must be
// called once.
func (p *Parser) Parse() error {
	defer p.publish()
	if err := p.readHeader(); err != nil {
		return err
	}
	if err := p.h.Header(p.hdr); err != nil {
		return p.handlerErr(err)
	}
	expireMs, idle, freq := int64(-1), int64(-1), -1
	for {
		t, err := p.r.byte1()
		if err != nil {
			return err
		}
		switch t {
		case OpcodeExpireTime:
			v, err := p.r.u32le()
			if err != nil {
				return err
			}
			expireMs = int64(int32(v)) * 1000
			continue
		case OpcodeExpireTimeMs:
			v, err := p.r.u64le()
			if err != nil {
				return err
			}
			expireMs = int64(v)
			continue
		case OpcodeFreq:
			v, err := p.r.byte1()
			if err != nil {
				return err
			}
			freq = int(v)
			continue
		case OpcodeIdle:
			v, err := p.readLength("idle time")
			if err != nil {
				return err
			}
			if v > math.MaxInt64 {
				return p.corrupt("idle time %d", v)
			}
			idle = int64(v)
			continue
		case OpcodeSelectDB:
			v, err := p.readLength("db number")
			if err != nil {
				return err
			}
			if v > math.MaxInt32 {
				return p.corrupt("db number %d", v)
			}
			p.db = int(v)
			continue
		case OpcodeResizeDB:
			keys, err := p.readLength("resizedb keys")
			if err != nil {
				return err
			}
			exp, err := p.readLength("resizedb expires")
			if err != nil {
				return err
			}
			if err := p.h.ResizeDB(p.db, keys, exp); err != nil {
				return p.handlerErr(err)
			}
			continue
		case OpcodeSlotInfo:
			var v [3]uint64
			for i := range v {
				if v[i], err = p.readLength("slot info"); err != nil {
					return err
				}
			}
			if err := p.h.SlotInfo(v[0], v[1], v[2]); err != nil {
				return p.handlerErr(err)
			}
			continue
		case OpcodeAux:
			if err := p.readAux(); err != nil {
				return err
			}
			continue
		case OpcodeModuleAux:
			if err := p.readModuleAux(); err != nil {
				return err
			}
			continue
		case OpcodeFunction2, OpcodeFunctionPre:
			if err := p.readFunction(t); err != nil {
				return err
			}
			continue
		case OpcodeSlotImport: // == OpcodeKeyMeta
			if !p.valkey {
				return fmt.Errorf("rdbparse: RDB_OPCODE_KEY_META (Redis 8 key metadata) at offset %d: %w", p.r.offset()-1, ErrUnsupported)
			}
			if err := p.readSlotImport(); err != nil {
				return err
			}
			continue
		case OpcodeEOF:
			return p.readEnd()
		case opcodeEntRAMLRU, opcodeEntSlotNum:
			if !p.valkey {
				if _, err := p.readLength("enterprise opcode"); err != nil {
					return err
				}
				continue
			}
		}
		kind, ok := kindOf(t)
		if !ok {
			return p.corrupt("unknown object type %d", t)
		}
		p.key, err = p.readString(p.key[:0], "key")
		if err != nil {
			return err
		}
		p.startKey(t, kind, expireMs, idle, freq)
		if err := p.readObject(t); err != nil {
			return err
		}
		if p.nkeys++; p.nkeys%publishEvery == 0 {
			p.publish()
		}
		expireMs, idle, freq = -1, -1, -1
	}
}

func (p *Parser) readHeader() error {
	b, err := p.r.next(9)
	if err != nil {
		return err
	}
	var magic string
	var digits []byte
	switch {
	case string(b[:5]) == "REDIS":
		magic, digits = "REDIS", b[5:]
	case string(b[:6]) == "VALKEY":
		magic, digits = "VALKEY", b[6:]
		p.valkey = true
	default:
		return p.corrupt("bad magic %q", b[:9])
	}
	ver := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return p.corrupt("bad version %q", b[:9])
		}
		ver = ver*10 + int(c-'0')
	}
	p.hdr = Header{Magic: magic, Version: ver}
	if p.valkey && (ver < minValkeyVersion || ver > maxValkeyVersion) ||
		!p.valkey && (ver < minRedisVersion || ver > maxRedisVersion) {
		return fmt.Errorf("rdbparse: %s version %d: %w", magic, ver, ErrUnsupportedVersion)
	}
	return nil
}

func (p *Parser) readEnd() error {
	var stored uint64
	if p.valkey || p.hdr.Version >= 5 {
		p.r.release() // the CRC covers everything up to and including the EOF opcode
		computed := p.r.crc
		p.r.crcOn = false
		v, err := p.r.u64le()
		if err != nil {
			return err
		}
		stored = v
		if stored != 0 && stored != computed && !p.opts.SkipChecksum {
			p.r.release()
			return fmt.Errorf("rdbparse: stored CRC-64 %016x, computed %016x, at offset %d: %w", stored, computed, p.r.offset(), ErrChecksum)
		}
	}
	p.r.release()
	p.publish() // exact for the handler's End
	if err := p.h.End(stored); err != nil {
		return p.handlerErr(err)
	}
	return nil
}

func (p *Parser) readAux() error {
	var err error
	p.blob, err = p.readString(p.blob[:0], "aux key")
	if err != nil {
		return err
	}
	kl := len(p.blob)
	p.blob, err = p.readString(p.blob, "aux value")
	if err != nil {
		return err
	}
	if err := p.h.Aux(p.blob[:kl:kl], p.blob[kl:]); err != nil {
		return p.handlerErr(err)
	}
	return nil
}

// readFunction reads RDB_OPCODE_FUNCTION2 (one string: the library code)
// or the 7.0 RC format RDB_OPCODE_FUNCTION_PRE_GA (name, engine name, an
// optional description behind a flag, code). Redis 7.0 loads the RC
// format by turning it into the GA form, "#!<engine> name=<name>\n" then
// the code, dropping the description (rdbFunctionLoad); Function gets
// that same text, so a pre-GA library loads like any other. (Redis 7.2
// and later refuse the RC format.)
func (p *Parser) readFunction(t byte) error {
	var err error
	if t != OpcodeFunctionPre {
		if p.blob, err = p.readString(p.blob[:0], "function code"); err != nil {
			return err
		}
		if err := p.h.Function(p.blob); err != nil {
			return p.handlerErr(err)
		}
		return nil
	}
	// name, engine, [description,] code, one after the other in p.blob.
	if p.blob, err = p.readString(p.blob[:0], "function name"); err != nil {
		return err
	}
	nameEnd := len(p.blob)
	if p.blob, err = p.readString(p.blob, "function engine"); err != nil {
		return err
	}
	engineEnd := len(p.blob)
	hasDesc, err := p.readLength("function description flag")
	if err != nil {
		return err
	}
	if hasDesc != 0 {
		if p.blob, err = p.readString(p.blob, "function description"); err != nil {
			return err
		}
		p.blob = p.blob[:engineEnd]
	}
	if p.blob, err = p.readString(p.blob, "function code"); err != nil {
		return err
	}
	name, engine, code := p.blob[:nameEnd], p.blob[nameEnd:engineEnd], p.blob[engineEnd:]
	lib := make([]byte, 0, len("#! name=\n")+len(p.blob))
	lib = append(append(append(lib, "#!"...), engine...), " name="...)
	lib = append(append(append(lib, name...), '\n'), code...)
	if err := p.h.Function(lib); err != nil {
		return p.handlerErr(err)
	}
	return nil
}

// readSlotImport skips Valkey's RDB_OPCODE_SLOT_IMPORT: a job name and a
// list of slot ranges.
func (p *Parser) readSlotImport() error {
	var err error
	if p.blob, err = p.readString(p.blob[:0], "slot import job"); err != nil {
		return err
	}
	n, err := p.readLength("slot import ranges")
	if err != nil {
		return err
	}
	for i := uint64(0); i < n; i++ {
		if _, err := p.readLength("slot range"); err != nil {
			return err
		}
		if _, err := p.readLength("slot range"); err != nil {
			return err
		}
	}
	return nil
}

// readLen reads an RDB length (rdbLoadLenByRef). enc reports the
// RDB_ENCVAL form, whose value is then an encoding type.
func (p *Parser) readLen() (n uint64, enc bool, err error) {
	b, err := p.r.byte1()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case len6Bit:
		return uint64(b & 0x3f), false, nil
	case len14Bit:
		b2, err := p.r.byte1()
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3f)<<8 | uint64(b2), false, nil
	case lenEnc:
		return uint64(b & 0x3f), true, nil
	}
	switch b {
	case len32Bit:
		v, err := p.r.next(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(v)), false, nil
	case len64Bit:
		v, err := p.r.next(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(v), false, nil
	}
	return 0, false, p.corrupt("unknown length encoding 0x%02x", b)
}

// readLength reads a length that must not be an encoded value.
func (p *Parser) readLength(what string) (uint64, error) {
	n, enc, err := p.readLen()
	if err != nil {
		return 0, err
	}
	if enc {
		return 0, p.corrupt("%s: unexpected encoded value %d", what, n)
	}
	return n, nil
}

// checkStringLen rejects lengths over MaxStringBytes before allocating.
func (p *Parser) checkStringLen(n uint64, what string) error {
	if n > uint64(p.opts.MaxStringBytes) {
		return p.corrupt("%s: length %d over the limit %d", what, n, p.opts.MaxStringBytes)
	}
	return nil
}

// readString appends the next RDB string to dst (rdbGenericLoadStringObject):
// raw, integer-encoded (rendered in decimal) or LZF-compressed.
func (p *Parser) readString(dst []byte, what string) ([]byte, error) {
	// Fast path: a 6-bit length whose bytes are all in the window.
	if r := &p.r; r.pos < len(r.win) {
		if b := r.win[r.pos]; b < 64 && r.pos+1+int(b) <= len(r.win) {
			dst = append(dst, r.win[r.pos+1:r.pos+1+int(b)]...)
			r.pos += 1 + int(b)
			return dst, nil
		}
	}
	n, enc, err := p.readLen()
	if err != nil {
		return dst, err
	}
	if !enc {
		if err := p.checkStringLen(n, what); err != nil {
			return dst, err
		}
		return p.r.appendBytes(dst, int(n))
	}
	switch n {
	case encInt8:
		b, err := p.r.byte1()
		if err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, int64(int8(b)), 10), nil
	case encInt16:
		b, err := p.r.next(2)
		if err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, int64(int16(binary.LittleEndian.Uint16(b))), 10), nil
	case encInt32:
		b, err := p.r.next(4)
		if err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b))), 10), nil
	case encLZF:
		clen, err := p.readLength("LZF compressed length")
		if err != nil {
			return dst, err
		}
		ulen, err := p.readLength("LZF uncompressed length")
		if err != nil {
			return dst, err
		}
		if err := p.checkStringLen(clen, what); err != nil {
			return dst, err
		}
		if err := p.checkStringLen(ulen, what); err != nil {
			return dst, err
		}
		if clen == 0 || ulen == 0 {
			return dst, p.corrupt("%s: LZF lengths %d/%d", what, clen, ulen)
		}
		in, err := p.r.next(int(clen))
		if err != nil {
			return dst, err
		}
		out, ok := lzfDecompress(dst, in, int(ulen))
		if !ok {
			return dst, p.corrupt("%s: invalid LZF data", what)
		}
		return out, nil
	}
	return dst, p.corrupt("%s: unknown string encoding %d", what, n)
}

// readBinaryDouble reads an 8-byte little-endian IEEE 754 double.
func (p *Parser) readBinaryDouble() (float64, error) {
	v, err := p.r.u64le()
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(v), nil
}

// readASCIIDouble reads the RDB_TYPE_ZSET score form (rdbLoadDoubleValue):
// a length byte (253 nan, 254 +inf, 255 -inf) then that many ASCII bytes.
func (p *Parser) readASCIIDouble() (float64, error) {
	n, err := p.r.byte1()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := p.r.next(int(n))
	if err != nil {
		return 0, err
	}
	f, ok := parseFloat(b)
	if !ok {
		return 0, p.corrupt("score %q", b)
	}
	return f, nil
}

// parseFloat parses a score as Redis writes it (%.17g, "inf", "-inf",
// "nan").
func parseFloat(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}
