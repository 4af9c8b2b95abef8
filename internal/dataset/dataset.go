// Package dataset fills a redis-server with a deterministic mixed dataset
// for benchmarks and load tests: by default 70% strings of 16–128 bytes,
// 10% hashes of 10 fields, 10% lists of 10 elements, 5% sets of 10
// members and 5% sorted sets of 10 members.
//
// It writes pipelined RESP over a few raw TCP connections (no client
// library) so that a million keys load in seconds. The content depends
// only on the seed and the key number, never on timing or on the number
// of connections. It does not verify what it wrote.
package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// ErrReply is returned when the server answers a write with an error.
var ErrReply = errors.New("dataset: server replied with an error")

// Spec describes the mix. Percentages must add up to 100.
type Spec struct {
	StringPct, HashPct, ListPct, SetPct, ZSetPct int
	Members                                      int // fields/elements/members per collection
	StringMin, StringMax                         int // string value sizes in bytes, inclusive
	Conns                                        int // TCP connections used to load
}

// Default is the mix the benchmarks use.
var Default = Spec{StringPct: 70, HashPct: 10, ListPct: 10, SetPct: 5, ZSetPct: 5,
	Members: 10, StringMin: 16, StringMax: 128, Conns: 4}

// Validate reports whether s is usable.
func (s Spec) Validate() error {
	if s.StringPct+s.HashPct+s.ListPct+s.SetPct+s.ZSetPct != 100 {
		return errors.New("dataset: percentages do not add up to 100")
	}
	if s.Members < 1 || s.StringMin < 0 || s.StringMax < s.StringMin || s.Conns < 1 {
		return errors.New("dataset: bad sizes")
	}
	return nil
}

// Single returns a Spec of one kind only (for single-type benchmarks),
// with Default's sizes.
func Single(k Kind) Spec {
	s := Default
	s.StringPct, s.HashPct, s.ListPct, s.SetPct, s.ZSetPct = 0, 0, 0, 0, 0
	switch k {
	case String:
		s.StringPct = 100
	case Hash:
		s.HashPct = 100
	case List:
		s.ListPct = 100
	case Set:
		s.SetPct = 100
	default:
		s.ZSetPct = 100
	}
	return s
}

// ParseMix returns the Spec a name stands for: "mixed" (Default),
// "strings", "hashes", "lists", "sets" or "zsets".
func ParseMix(name string) (Spec, error) {
	switch name {
	case "mixed", "":
		return Default, nil
	case "strings":
		return Single(String), nil
	case "hashes":
		return Single(Hash), nil
	case "lists":
		return Single(List), nil
	case "sets":
		return Single(Set), nil
	case "zsets":
		return Single(ZSet), nil
	}
	return Spec{}, fmt.Errorf("dataset: unknown mix %q (mixed, strings, hashes, lists, sets, zsets)", name)
}

// Load writes n keys of the Default mix into the server at addr.
func Load(addr string, n int, seed int64) error { return LoadSpec(addr, n, seed, Default) }

// LoadSpec writes n keys of the mix s into the server at addr.
func LoadSpec(addr string, n int, seed int64, s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, s.Conns)
	per := (n + s.Conns - 1) / s.Conns
	for c := 0; c < s.Conns; c++ {
		lo, hi := c*per, min((c+1)*per, n)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			errs[c] = loadRange(addr, lo, hi, seed, s)
		}(c)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Kind is one of the dataset's key types.
type Kind int

// The kinds, in the order the mix lays them out.
const (
	String Kind = iota
	Hash
	List
	Set
	ZSet
	numKinds
)

var prefixes = [numKinds]string{"s:", "h:", "l:", "set:", "z:"}

// Prefix returns the key prefix of kind: keys are the prefix followed by
// the kind's own index, zero-padded to 12 digits — the form
// redis-benchmark gives __rand_int__, so "GET s:__rand_int__ -r N" with N
// from Counts addresses existing strings only.
func Prefix(k Kind) string { return prefixes[k] }

func (s Spec) pcts() [numKinds]int {
	return [numKinds]int{s.StringPct, s.HashPct, s.ListPct, s.SetPct, s.ZSetPct}
}

// kindOf returns key i's kind and its index among keys of that kind. Keys
// are laid out in blocks of 100: the first StringPct of each block are
// strings, then hashes, and so on, so each kind's indexes are contiguous
// from 0.
func (s Spec) kindOf(i int) (Kind, int) {
	block, slot := i/100, i%100
	start := 0
	for k, pct := range s.pcts() {
		if slot < start+pct {
			return Kind(k), block*pct + slot - start
		}
		start += pct
	}
	return ZSet, 0 // unreachable for a valid Spec
}

// Counts returns how many keys of each kind Load writes for n keys of the
// Default mix.
func Counts(n int) map[Kind]int { return Default.Counts(n) }

// Counts returns how many keys of each kind LoadSpec writes for n keys.
func (s Spec) Counts(n int) map[Kind]int {
	out := map[Kind]int{}
	for k, pct := range s.pcts() {
		full, rest := n/100, n%100
		start := 0
		for j := 0; j < k; j++ {
			start += s.pcts()[j]
		}
		out[Kind(k)] = full*pct + min(max(rest-start, 0), pct)
	}
	return out
}

// Key returns the name of key i of the mix.
func (s Spec) Key(i int) string {
	k, j := s.kindOf(i)
	return fmt.Sprintf("%s%012d", prefixes[k], j)
}

// rng is splitmix64: cheap, and seeded per key so that the content does
// not depend on the order keys are written.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (r *rng) appendText(b []byte, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, alphabet[r.intn(len(alphabet))])
	}
	return b
}

// cmdWriter writes RESP arrays.
type cmdWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (c *cmdWriter) header(n int) {
	c.buf = append(c.buf[:0], '*')
	c.buf = strconv.AppendInt(c.buf, int64(n), 10)
	c.buf = append(c.buf, '\r', '\n')
	c.w.Write(c.buf)
}

func (c *cmdWriter) arg(a []byte) {
	c.buf = append(c.buf[:0], '$')
	c.buf = strconv.AppendInt(c.buf, int64(len(a)), 10)
	c.buf = append(c.buf, '\r', '\n')
	c.buf = append(c.buf, a...)
	c.buf = append(c.buf, '\r', '\n')
	c.w.Write(c.buf)
}

func loadRange(addr string, lo, hi int, seed int64, s Spec) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() { done <- readReplies(conn, hi-lo) }()
	cw := &cmdWriter{w: bufio.NewWriterSize(conn, 64<<10)}
	var key, val []byte
	vals := make([][]byte, 0, 2*s.Members+2)
	scratch := make([]byte, 0, 4096)
	for i := lo; i < hi; i++ {
		vals = vals[:0]
		scratch = scratch[:0]
		add := func(b []byte) {
			start := len(scratch)
			scratch = append(scratch, b...)
			vals = append(vals, scratch[start:len(scratch):len(scratch)])
		}
		var cmd string
		cmd, key, val = s.command(i, seed, key[:0], val, add)
		cw.header(2 + len(vals))
		cw.arg([]byte(cmd))
		cw.arg(key)
		for _, v := range vals {
			cw.arg(v)
		}
	}
	if err := cw.w.Flush(); err != nil {
		return err
	}
	return <-done
}

// command returns key i's write command and its key (appended to key),
// passing each argument after the key to add; val is scratch space, returned
// for reuse.
func (s Spec) command(i int, seed int64, key, val []byte, add func([]byte)) (string, []byte, []byte) {
	r := rng{s: uint64(seed)*0x2545f4914f6cdd1d ^ uint64(i)}
	kind, idx := s.kindOf(i)
	key = fmt.Appendf(key, "%s%012d", prefixes[kind], idx)
	switch kind {
	case String:
		val = r.appendText(val[:0], s.StringMin+r.intn(s.StringMax-s.StringMin+1))
		add(val)
		return "SET", key, val
	case Hash:
		for j := 0; j < s.Members; j++ {
			add(fmt.Appendf(val[:0], "field%d", j))
			val = r.appendText(val[:0], 8+r.intn(25))
			add(val)
		}
		return "HSET", key, val
	case List:
		for j := 0; j < s.Members; j++ {
			val = r.appendText(val[:0], 8+r.intn(25))
			add(val)
		}
		return "RPUSH", key, val
	case Set:
		for j := 0; j < s.Members; j++ {
			val = fmt.Appendf(r.appendText(val[:0], 8+r.intn(17)), "-%d", j)
			add(val)
		}
		return "SADD", key, val
	}
	for j := 0; j < s.Members; j++ {
		add(strconv.AppendFloat(val[:0], float64(r.intn(1000000))/100, 'f', -1, 64))
		val = fmt.Appendf(r.appendText(val[:0], 8+r.intn(17)), "-%d", j)
		add(val)
	}
	return "ZADD", key, val
}

// Command returns the write command (name, key, arguments) that Load
// sends for key i of the mix with seed: another seed gives the same key
// new content of the same kind (the churn scenario's overwrites).
func (s Spec) Command(i int, seed int64) []string {
	var args []string
	cmd, key, _ := s.command(i, seed, nil, nil, func(b []byte) { args = append(args, string(b)) })
	return append([]string{cmd, string(key)}, args...)
}

// readReplies reads n one-line replies (+OK or :n), failing on -ERR.
func readReplies(conn net.Conn, n int) error {
	br := bufio.NewReaderSize(conn, 64<<10)
	var firstErr error
	for i := 0; i < n; i++ {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("dataset: reading reply %d of %d: %w", i, n, err)
		}
		if len(line) > 0 && line[0] == '-' && firstErr == nil {
			firstErr = fmt.Errorf("%w: %s", ErrReply, line)
		}
	}
	return firstErr
}
