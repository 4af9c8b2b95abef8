package projection

import (
	"fmt"
	"log/slog"
	"math/bits"
	"runtime"
	"time"

	"github.com/vdr-project/vdr/internal/compat"
)

// UnknownPolicy says what Apply does with a command it cannot apply exactly.
type UnknownPolicy uint8

const (
	// Invalidate removes the keys the command names (a miss is better than
	// a wrong answer), counts it per name in Stats, logs it once per name,
	// and returns nil. When the key positions of the command are not known,
	// the whole database the command ran in is flushed (counted in
	// Stats.FlushedForUnknown): any key could have been touched.
	Invalidate UnknownPolicy = iota
	// Resync counts and logs the command like Invalidate but changes
	// nothing and returns an error wrapping ErrNeedResync.
	Resync
)

// String returns "invalidate" or "resync".
func (u UnknownPolicy) String() string {
	if u == Resync {
		return "resync"
	}
	return "invalidate"
}

// EncodingConfig holds the primary's object-encoding thresholds, which
// decide what OBJECT ENCODING reports and when small collections leave
// their packed form. The zero value means Redis 7.0's defaults.
type EncodingConfig struct {
	HashMaxListpackEntries int // hash-max-listpack-entries (512)
	HashMaxListpackValue   int // hash-max-listpack-value (64)
	SetMaxIntsetEntries    int // set-max-intset-entries (512)
	SetMaxListpackEntries  int // set-max-listpack-entries (128; Redis 7.2+)
	SetMaxListpackValue    int // set-max-listpack-value (64; Redis 7.2+)
	ZSetMaxListpackEntries int // zset-max-listpack-entries (128)
	ZSetMaxListpackValue   int // zset-max-listpack-value (64)
	ListMaxListpackSize    int // list-max-listpack-size (-2: 8 KiB per node)
	// HLLSparseMaxBytes is hll-sparse-max-bytes (3000): a sparse
	// HyperLogLog that would grow beyond it becomes dense.
	HLLSparseMaxBytes int
	// Redis72 selects Redis 7.2+ encodings: small lists report "listpack"
	// and small non-integer sets "listpack". Redis 7.0 reports "quicklist"
	// for every list and "hashtable" for every non-intset set.
	Redis72 bool
	// ZAddLongestMember is Valkey 8's ZADD: it sizes a new sorted set,
	// and converts an existing listpack one, by the longest member of
	// the command, where Redis 7.2+ looks at the first member only (and
	// converts an existing one by the number of pairs alone).
	ZAddLongestMember bool
}

// FollowVersion sets the rules that depend on the primary's version
// rather than on its configuration.
func (e *EncodingConfig) FollowVersion(v compat.Version) {
	e.Redis72 = v.Encodings72()
	e.ZAddLongestMember = v.ZAddLongestMember()
}

func (e *EncodingConfig) ensureDefaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&e.HashMaxListpackEntries, 512)
	def(&e.HashMaxListpackValue, 64)
	def(&e.SetMaxIntsetEntries, 512)
	def(&e.SetMaxListpackEntries, 128)
	def(&e.SetMaxListpackValue, 64)
	def(&e.ZSetMaxListpackEntries, 128)
	def(&e.ZSetMaxListpackValue, 64)
	def(&e.ListMaxListpackSize, -2)
	def(&e.HLLSparseMaxBytes, 3000)
}

// Options configures a Projection. The zero value means the defaults.
type Options struct {
	// NumDBs is the number of databases (Redis's "databases"); default 16.
	NumDBs int
	// Stripes is the number of lock stripes per database, a power of two.
	// Default: 4×GOMAXPROCS rounded up to a power of two, at least 16. Why:
	// there is one writer and many readers; a reader blocks only when the
	// writer holds the stripe of one of its keys, which happens with
	// probability about 1/Stripes, so a few stripes per core keep readers
	// almost never waiting, while keyspace-wide operations (FLUSHALL,
	// SWAPDB, ViewAll) stay cheap because they take NumDBs×Stripes locks.
	Stripes int
	// Buckets is the number of hash buckets (maps) per database, a power of
	// two ≥ Stripes; default 4096. SCAN returns one bucket at a time, so
	// this bounds how many keys one SCAN call returns (keys/Buckets).
	Buckets int
	// Now returns the current Unix time in ms; it decides which keys reads
	// treat as expired. Default time.Now().UnixMilli. Tests inject a clock.
	Now func() int64
	// OnUnknown is the policy for commands that cannot be applied exactly.
	OnUnknown UnknownPolicy
	// Encoding holds the primary's encoding thresholds (also settable later
	// with SetEncodingConfig).
	Encoding EncodingConfig
	// Logger receives one warning per unknown command name; default
	// slog.Default().
	Logger *slog.Logger
	// CompressValues, when above 0, stores string values longer than this
	// many bytes LZ4-compressed when that saves bytes: less memory for
	// big text values (JSON, HTML), a decompression (and a copy) on every
	// read of one. 0: off.
	CompressValues int
	// PlainText turns text packing off: string values made only of hex
	// digits or base64 characters are otherwise stored at 4 or 6 bits a
	// character (textpack.go) and unpacked on every read.
	PlainText bool
}

// EnsureDefaults fills in zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.NumDBs == 0 {
		o.NumDBs = 16
	}
	if o.Stripes == 0 {
		n := 4 * runtime.GOMAXPROCS(0)
		if n < 16 {
			n = 16
		}
		o.Stripes = 1 << bits.Len(uint(n-1))
	}
	if o.Buckets == 0 {
		o.Buckets = 4096
	}
	if o.Buckets < o.Stripes {
		o.Buckets = o.Stripes
	}
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Encoding.ensureDefaults()
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	if o.NumDBs < 1 || o.NumDBs > 1<<20 {
		return fmt.Errorf("projection: NumDBs %d out of range", o.NumDBs)
	}
	if o.Stripes < 1 || o.Stripes&(o.Stripes-1) != 0 {
		return fmt.Errorf("projection: Stripes %d is not a power of two", o.Stripes)
	}
	if o.Buckets < o.Stripes || o.Buckets&(o.Buckets-1) != 0 {
		return fmt.Errorf("projection: Buckets %d is not a power of two ≥ Stripes", o.Buckets)
	}
	if o.OnUnknown > Resync {
		return fmt.Errorf("projection: unknown OnUnknown policy %d", o.OnUnknown)
	}
	return nil
}
