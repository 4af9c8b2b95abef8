package projection

import "sort"

// setObj is a set. Up to setPackEntries members of at most setPackValue
// bytes live in one pack (linear membership tests over ≤128 short members
// are as fast as hashing); bigger sets are a dense (dense.go): members in
// a slice plus a member→index map. enc is what Redis would report,
// tracked with Redis's own conversion rules (see src/t_set.c setTypeAdd),
// independently of the internal form.
//
// Order: while enc is intset the members are kept ascending by value, in
// the pack or the dense alike, as Redis's intset is (src/intset.c); while
// it is listpack, in insertion order (deletes keep the order); a
// hashtable's dense is in its slice order, which does not change while
// the set does not.
type setObj struct {
	pk  pbuf
	d   *dense[smem]
	n   uint16 // members of the pack (at most setPackEntries)
	enc uint8
	lru lruWord
}

const (
	setPackEntries = 128
	setPackValue   = 64
)

// Redis set encodings.
const (
	setEncIntset   uint8 = iota // OBJ_ENCODING_INTSET
	setEncListpack              // OBJ_ENCODING_LISTPACK (7.2+)
	setEncHT                    // OBJ_ENCODING_HT
)

func (s *setObj) encoding() string {
	switch s.enc {
	case setEncIntset:
		return "intset"
	case setEncListpack:
		return "listpack"
	}
	return "hashtable"
}

// newSet returns an empty set whose Redis encoding is chosen like
// setTypeCreate for a first member first and sizeHint members (7.0's
// looks at the first member only).
func newSet(first []byte, sizeHint int, ec *EncodingConfig) *setObj {
	s := &setObj{}
	_, isInt := parseStrictInt(first)
	switch {
	case isInt && (!ec.Redis72 || sizeHint <= ec.SetMaxIntsetEntries):
		s.enc = setEncIntset
	case ec.Redis72 && sizeHint <= ec.SetMaxListpackEntries:
		s.enc = setEncListpack
	default:
		s.enc = setEncHT
	}
	return s
}

// sizeFor is 7.2+'s setTypeMaybeConvert before SADD adds sizeHint
// members: an intset or listpack set whose threshold the count alone
// exceeds becomes a hashtable, even if most of them are already members.
func (s *setObj) sizeFor(sizeHint int, ec *EncodingConfig) {
	if !ec.Redis72 {
		return
	}
	if s.enc == setEncIntset && sizeHint > ec.SetMaxIntsetEntries ||
		s.enc == setEncListpack && sizeHint > ec.SetMaxListpackEntries {
		s.enc = setEncHT
	}
}

func (s *setObj) card() int {
	if s.d != nil {
		return s.d.len()
	}
	return int(s.n)
}

func (s *setObj) find(m []byte) (off, end int, ok bool) {
	pack := s.pk.bytes()
	for off < len(pack) {
		e, next := packNext(pack, off)
		if string(e) == string(m) {
			return off, next, true
		}
		off = next
	}
	return 0, 0, false
}

func (s *setObj) has(m []byte) bool {
	if s.d != nil {
		_, ok := s.d.find(m)
		return ok
	}
	_, _, ok := s.find(m)
	return ok
}

// reserve sizes a packed set's pack for the members ms (SADD) when it
// stays packed with them, so that the new ones are added without
// regrowing it.
func (s *setObj) reserve(ms [][]byte) {
	if s.d != nil || int(s.n)+len(ms) > setPackEntries || len(ms) < 2 {
		return
	}
	extra := 0
	for _, m := range ms {
		if len(m) > setPackValue {
			return
		}
		if _, _, ok := s.find(m); !ok {
			extra += packSize(m)
		}
	}
	s.pk.reserve(extra)
}

// add inserts m and reports whether it was new.
func (s *setObj) add(m []byte, ec *EncodingConfig) bool {
	if s.has(m) {
		return false
	}
	var v int64
	ordered := false
	if s.enc == setEncIntset {
		v, ordered = parseStrictInt(m)
	}
	if s.d == nil && (s.n >= setPackEntries || len(m) > setPackValue) {
		nd := newDense[smem](int(s.n) + 1)
		s.each(func(x []byte) bool { nd.push(smem(x)); return true })
		s.d, s.n = nd, 0
		s.pk.set(nil)
	}
	switch {
	case s.d != nil && ordered:
		items := s.d.items
		i := sort.Search(len(items), func(i int) bool {
			x, _ := parseStrictInt(stringBytes(string(items[i])))
			return x > v
		})
		s.d.insertAt(i, smem(m))
	case s.d != nil:
		s.d.push(smem(m))
	case ordered:
		off, pack := 0, s.pk.bytes()
		for off < len(pack) {
			e, next := packNext(pack, off)
			if x, _ := parseStrictInt(e); x > v {
				break
			}
			off = next
		}
		var tmp [32]byte
		s.pk.set(packInsert(pack, off, packAppend(tmp[:0], m)))
		s.n++
	default:
		s.pk.set(packAppend(s.pk.bytes(), m))
		s.n++
	}
	s.trackAdd(m, ec)
	return true
}

// trackAdd updates the reported encoding after adding m (src/t_set.c
// setTypeAddAux / 7.0 setTypeAdd).
func (s *setObj) trackAdd(m []byte, ec *EncodingConfig) {
	n := s.card()
	switch s.enc {
	case setEncIntset:
		if _, isInt := parseStrictInt(m); isInt {
			if n > ec.SetMaxIntsetEntries {
				s.enc = setEncHT
			}
			return
		}
		if ec.Redis72 && n <= ec.SetMaxListpackEntries && len(m) <= ec.SetMaxListpackValue {
			s.enc = setEncListpack
			// every other member is an integer, hence short
			return
		}
		s.enc = setEncHT
	case setEncListpack:
		if n > ec.SetMaxListpackEntries || len(m) > ec.SetMaxListpackValue {
			s.enc = setEncHT
		}
	}
}

// remove deletes m and reports whether it was there.
func (s *setObj) remove(m []byte) bool {
	if s.d != nil {
		i, ok := s.d.find(m)
		if !ok {
			return false
		}
		if s.enc != setEncHT {
			// keep an intset ascending and a listpack (7.2, past the pack
			// size) in insertion order; both are O(n) in Redis too
			s.d.removeOrdered(i)
		} else {
			s.d.removeAt(i)
		}
		return true
	}
	off, end, ok := s.find(m)
	if !ok {
		return false
	}
	s.pk.set(packCut(s.pk.bytes(), off, end))
	s.n--
	return true
}

func (s *setObj) each(fn func(m []byte) bool) {
	if s.d != nil {
		for _, k := range s.d.items {
			if !fn(stringBytes(string(k))) {
				return
			}
		}
		return
	}
	pack := s.pk.bytes()
	for off := 0; off < len(pack); {
		var e []byte
		e, off = packNext(pack, off)
		if !fn(e) {
			return
		}
	}
}

// at returns the member of index i (0 ≤ i < card) of the iteration order,
// with small the decoded pack (nil for a dense set).
func (s *setObj) at(i int, small [][]byte) []byte {
	if s.d != nil {
		return stringBytes(string(s.d.items[i]))
	}
	return small[i]
}

// clone returns a deep copy (COPY).
func (s *setObj) clone() *setObj {
	ns := &setObj{n: s.n, enc: s.enc, pk: s.pk.clone()}
	if s.d != nil {
		ns.d = s.d.clone()
	}
	return ns
}

// denseSetElem is the memory of one member of a dense set besides its
// bytes: a slice item (16) and an index slot (8, plus a control byte and
// load slack: about 12).
const denseSetElem = 16 + 12

// bytes estimates the set's memory from at most samples members (0: all),
// the rest assumed to be of their mean size, like objectComputeSize
// (src/object.c).
func (s *setObj) bytes(samples int) int {
	if s.d != nil {
		n := s.d.len()
		if samples <= 0 || samples > n {
			samples = n
		}
		sum := 0
		for _, k := range s.d.items[:samples] {
			sum += len(k)
		}
		est := 48 + 48 + cap(s.d.items)*16 + n*(denseSetElem-16)
		if samples > 0 {
			est += int(float64(sum) / float64(samples) * float64(n))
		}
		return est
	}
	return 32 + s.pk.capacity()
}
