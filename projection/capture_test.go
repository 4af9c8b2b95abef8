package projection

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/fixtures"
	"github.com/vdr-project/vdr/internal/redistest"
)

// readCommands parses a stream of RESP arrays of bulk strings.
func readCommands(r io.Reader) ([][][]byte, error) {
	cmds, _, err := readCommandsAt(r)
	return cmds, err
}

// countingReader counts bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

// readCommandsAt is readCommands that also returns each command's end
// offset in the stream.
func readCommandsAt(r io.Reader) ([][][]byte, []int, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReader(cr)
	var out [][][]byte
	var ends []int
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			return out, ends, nil
		}
		if err != nil {
			return nil, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue // keepalive
		}
		if line[0] != '*' {
			return nil, nil, fmt.Errorf("command header %q", line)
		}
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil {
			return nil, nil, err
		}
		argv := make([][]byte, n)
		for i := range argv {
			h, err := br.ReadBytes('\n')
			if err != nil {
				return nil, nil, err
			}
			sz, err := strconv.Atoi(string(bytes.TrimRight(h[1:], "\r\n")))
			if err != nil {
				return nil, nil, err
			}
			b := make([]byte, sz+2)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, nil, err
			}
			argv[i] = b[:sz]
		}
		out = append(out, argv)
		ends = append(ends, cr.n-br.Buffered())
	}
}

// servePrimary plays a captured primary: it answers the replica's
// handshake itself (PONG to PING, OK to AUTH and every REPLCONF), and to
// PSYNC/SYNC writes the captured bytes from the FULLRESYNC reply on (RDB,
// command stream), then keeps the connection open, discarding what the
// replica sends.
//
// The handshake is answered rather than replayed because replicas of
// other versions send other handshakes (Valkey 8 adds REPLCONF version):
// the captured replies of 7.0.15's handshake would be read out of step.
//
// The stream after the RDB is held back until release is closed: a
// replica reading a diskless "$EOF:<mark>" payload recognises the mark
// only at the end of a read (src/replication.c readSyncBulkPayload).
func servePrimary(t *testing.T, capture []byte, rdbEnd int, release <-chan struct{}) int {
	fullSync := bytes.Index(capture, []byte("+FULLRESYNC "))
	if fullSync < 0 || fullSync > rdbEnd {
		t.Fatal("no +FULLRESYNC reply before the RDB in the capture")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					argv, err := readHandshakeCommand(br)
					if err != nil {
						return
					}
					switch strings.ToUpper(string(argv[0])) {
					case "PING":
						c.Write([]byte("+PONG\r\n"))
					case "AUTH", "REPLCONF":
						c.Write([]byte("+OK\r\n"))
					case "PSYNC", "SYNC":
						go io.Copy(io.Discard, br)
						c.Write(capture[fullSync:rdbEnd])
						<-release
						c.Write(capture[rdbEnd:])
						time.Sleep(time.Hour)
						return
					default:
						c.Write([]byte("-ERR the capture's primary does not answer " + string(argv[0]) + "\r\n"))
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// readHandshakeCommand reads one command a replica sends: a RESP array
// of bulk strings, or an inline command.
func readHandshakeCommand(br *bufio.Reader) ([][]byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 || line[0] != '*' {
		if f := bytes.Fields(line); len(f) > 0 {
			return f, nil
		}
		return nil, fmt.Errorf("empty command line")
	}
	n, err := strconv.Atoi(string(line[1:]))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("command header %q", line)
	}
	argv := make([][]byte, n)
	for i := range argv {
		h, err := br.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		sz, err := strconv.Atoi(string(bytes.TrimRight(h[1:], "\r\n")))
		if err != nil || sz < 0 {
			return nil, fmt.Errorf("bulk header %q", h)
		}
		b := make([]byte, sz+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, err
		}
		argv[i] = b[:sz]
	}
	return argv, nil
}

// TestCaptureStream applies a real 7.0.15 capture (the committed one, and
// the shared one when present) to an empty projection and compares it
// with a real redis-server that replicated the very same bytes from a
// fake primary. It checks several prefixes of the stream (up to just
// before each FLUSHALL/FLUSHDB, and the whole), so that the state wiped
// by those flushes is compared too.
func TestCaptureStream(t *testing.T) {
	for _, c := range fixtures.Captures(t) {
		t.Run(c.Name, func(t *testing.T) {
			capture, streamStart := c.Full, c.Stream // the RDB before the stream holds no keys
			cmds, ends, err := readCommandsAt(bytes.NewReader(capture[streamStart:]))
			if err != nil {
				t.Fatal(err)
			}
			var cuts []int // number of commands in each checked prefix
			inMulti := false
			for i, argv := range cmds {
				switch {
				case eq(argv[0], "multi"):
					inMulti = true
				case eq(argv[0], "exec"):
					inMulti = false
				case (eq(argv[0], "flushall") || eq(argv[0], "flushdb")) && !inMulti && i > 0:
					cuts = append(cuts, i)
				}
			}
			cuts = append(cuts, len(cmds))
			total := 0
			for _, n := range cuts {
				total += checkCapturePrefix(t, capture, streamStart, cmds[:n], ends[n-1])
			}
			t.Logf("%d checkpoints, %d keys compared in all", len(cuts), total)
			if total < 50 {
				t.Errorf("only %d keys compared", total)
			}
		})
	}
}

func checkCapturePrefix(t *testing.T, capture []byte, streamStart int, cmds [][][]byte, streamLen int) int {
	t.Helper()
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.SetEncodingConfig(serverEncodings(t, p.EncodingConfig()))
	// Keys named by commands the projection does not mirror (bitmaps,
	// HLL, streams, RESTORE, SORT, geo…) are invalidated; anything derived
	// from them (RENAME, *STORE, …) is tainted too and not compared.
	type dbKey struct {
		db  int
		key string
	}
	tainted := map[dbKey]bool{}
	taint := func(db int, keys [][]byte) {
		for _, k := range keys {
			for i := 0; i < 16; i++ { // MOVE/COPY DB carry taint across dbs
				tainted[dbKey{i, string(k)}] = true
			}
		}
	}
	unknown := func() (n uint64) {
		for _, c := range p.Stats().Unknown {
			n += c
		}
		return n
	}
	lk := p.NewLink()
	type pendingKeys struct {
		db   int
		keys [][]byte
	}
	var unit []pendingKeys // keys named inside the open MULTI
	for _, argv := range cmds {
		d := p.ap.lookup(argv[0])
		db := lk.DB()
		var keys [][]byte
		if d != nil {
			var sc scope
			keys, sc = d.keys(argv, nil)
			if d.fn == nil && (sc == scopeAll || sc == scopeDB) {
				t.Errorf("db-wide unsupported command %q", argv[0])
			}
			for _, k := range keys {
				if tainted[dbKey{db, string(k)}] {
					taint(db, keys)
					break
				}
			}
		}
		before := unknown()
		if err := lk.Feed(argv); err != nil {
			t.Fatalf("apply %q: %v", argv, err)
		}
		if lk.InMulti() {
			unit = append(unit, pendingKeys{db, keys})
			continue
		}
		if unknown() != before { // not mirrored: its keys (or its unit's) were invalidated
			taint(db, keys)
			for _, u := range unit {
				taint(u.db, u.keys)
			}
		}
		unit = unit[:0]
	}
	st := p.Stats()
	if len(st.Failed) > 0 {
		t.Errorf("commands failed on the projection: %v", st.Failed)
	}
	release := make(chan struct{})
	prefix := capture[:streamStart+streamLen]
	port := servePrimary(t, prefix, streamStart, release)
	rep := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(port))
	redistest.WaitFor(t, 30*time.Second, "replica loads the RDB", func() bool {
		return redistest.InfoField(rep.Addr(), "replication", "master_link_status") == "up"
	})
	close(release)
	want := strconv.Itoa(streamLen)
	deadline := time.Now().Add(30 * time.Second)
	for redistest.InfoField(rep.Addr(), "replication", "slave_repl_offset") != want {
		if time.Now().After(deadline) {
			t.Fatalf("replica did not apply the capture: offset %s, want %s; log:\n%s",
				redistest.InfoField(rep.Addr(), "replication", "slave_repl_offset"), want, rep.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	n := compareWithRedis(t, p, dialRedis(t, rep.Addr()), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		func(db int, key string) bool { return tainted[dbKey{db, key}] })
	t.Logf("prefix of %d commands: %d keys compared, %d tainted; unknown %v", len(cmds), n, len(tainted), st.Unknown)
	rep.Stop()
	return n
}
