package projection

// setObj is a set. Up to setPackEntries members of at most setPackValue
// bytes live in one pack (linear membership tests over ≤128 short members
// are as fast as hashing); bigger sets use a map. enc is what Redis
// would report, tracked with Redis's own conversion rules (see src/t_set.c
// setTypeAdd), independently of the internal form.
type setObj struct {
	pack []byte
	n    int
	m    map[string]struct{}
	lru  lruWord // before enc: the struct stays 48 bytes
	enc  uint8
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
// setTypeCreate for a first member first and sizeHint members.
func newSet(first []byte, sizeHint int, ec *EncodingConfig) *setObj {
	s := &setObj{}
	_, isInt := parseStrictInt(first)
	switch {
	case isInt && sizeHint <= ec.SetMaxIntsetEntries:
		s.enc = setEncIntset
	case ec.Redis72 && sizeHint <= ec.SetMaxListpackEntries:
		s.enc = setEncListpack
	default:
		s.enc = setEncHT
	}
	return s
}

func (s *setObj) card() int {
	if s.m != nil {
		return len(s.m)
	}
	return s.n
}

func (s *setObj) find(m []byte) (off, end int, ok bool) {
	for off < len(s.pack) {
		e, next := packNext(s.pack, off)
		if string(e) == string(m) {
			return off, next, true
		}
		off = next
	}
	return 0, 0, false
}

func (s *setObj) has(m []byte) bool {
	if s.m != nil {
		_, ok := s.m[string(m)]
		return ok
	}
	_, _, ok := s.find(m)
	return ok
}

// add inserts m and reports whether it was new.
func (s *setObj) add(m []byte, ec *EncodingConfig) bool {
	if s.has(m) {
		return false
	}
	if s.m != nil {
		s.m[string(m)] = struct{}{}
	} else if s.n >= setPackEntries || len(m) > setPackValue {
		nm := make(map[string]struct{}, s.n+1)
		s.each(func(x []byte) bool { nm[string(x)] = struct{}{}; return true })
		nm[string(m)] = struct{}{}
		s.m = nm
		s.pack, s.n = nil, 0
	} else {
		s.pack = packAppend(s.pack, m)
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
	if s.m != nil {
		if _, ok := s.m[string(m)]; !ok {
			return false
		}
		delete(s.m, string(m))
		return true
	}
	off, end, ok := s.find(m)
	if !ok {
		return false
	}
	s.pack = packCut(s.pack, off, end)
	s.n--
	return true
}

func (s *setObj) each(fn func(m []byte) bool) {
	if s.m != nil {
		for k := range s.m {
			if !fn(stringBytes(k)) {
				return
			}
		}
		return
	}
	for off := 0; off < len(s.pack); {
		var e []byte
		e, off = packNext(s.pack, off)
		if !fn(e) {
			return
		}
	}
}

func (s *setObj) bytes() int {
	if s.m != nil {
		n := 48 + len(s.m)*40
		for k := range s.m {
			n += len(k)
		}
		return n
	}
	return 48 + cap(s.pack)
}
