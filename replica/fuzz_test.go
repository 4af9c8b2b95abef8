package replica

import (
	"bytes"
	"io"
	"testing"
)

// FuzzStream feeds arbitrary bytes to the stream applier, split in two
// reads at a fuzzed position: it must end with an error, never panic,
// and never apply past what it read.
func FuzzStream(f *testing.F) {
	f.Add([]byte(resp("SELECT", "1")+resp("SET", "a", "b")+resp("MULTI")+resp("INCR", "x")+resp("EXEC")), 5)
	f.Add([]byte(resp("REPLCONF", "GETACK", "*")+resp("ping")+"*0\r\n"), 3)
	f.Add([]byte("*1\r\n$99999999999\r\n"), 2)
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n"), 9)
	f.Add([]byte("hello\r\n"), 0)
	f.Fuzz(func(t *testing.T, in []byte, at int) {
		at = max(0, min(at, len(in)))
		o := (&Options{MaxBulkBytes: 1 << 16, MaxMultibulkLen: 1 << 10, ReadBufferBytes: 512}).EnsureDefaults()
		h := &countHandler{}
		s := newStream(newReader(io.MultiReader(bytes.NewReader(in[:at]), bytes.NewReader(in[at:])), o), h, nil, 4, 0, 0)
		s.ack = func(int64) error { return nil }
		err := s.run()
		if err == nil {
			t.Fatal("run returned nil at the end of input")
		}
		if s.appliedOff > s.readOff || s.readOff > int64(len(in)) {
			t.Fatalf("applied %d read %d of %d bytes", s.appliedOff, s.readOff, len(in))
		}
	})
}

// FuzzReply feeds arbitrary bytes to the handshake/Sentinel reply reader.
func FuzzReply(f *testing.F) {
	f.Add([]byte("+FULLRESYNC " + testReplID + " 0\r\n"))
	f.Add([]byte("*3\r\n$6\r\nmaster\r\n:1\r\n*0\r\n"))
	f.Add([]byte("-ERR x\r\n$-1\r\n*-1\r\n"))
	f.Add([]byte("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		o := (&Options{MaxBulkBytes: 1 << 16}).EnsureDefaults()
		rd := newReader(bytes.NewReader(in), o)
		for i := 0; i < 10; i++ {
			rep, err := rd.readReply()
			if err != nil {
				return
			}
			parsePsyncReply(rep)
		}
	})
}
