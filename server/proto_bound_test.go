package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestReaderGrowsWithData checks that a declared bulk length reserves
// nothing: after "$524288000" and 1 MB of it, the buffer holds at most
// twice what arrived (plus a read chunk), where it used to be 500 MB.
func TestReaderGrowsWithData(t *testing.T) {
	const sent = 1 << 20
	data := append([]byte("*2\r\n$3\r\nSET\r\n$524288000\r\n"), bytes.Repeat([]byte{'x'}, sent)...)
	rd := newReader(&chunkReader{data: data, sizes: []int{4096}}, defaultMaxBulkBytes, maxIntMultibulk, func() bool { return true })
	args, err := rd.next(func() error { return nil })
	if err != io.EOF || args != nil {
		t.Fatalf("got %q, %v; want io.EOF with the request incomplete", args, err)
	}
	if limit := 2*len(data) + readChunk; cap(rd.buf) > limit {
		t.Fatalf("buffer is %d bytes after %d arrived (limit %d)", cap(rd.buf), len(data), limit)
	}
	rd.release()
	if rd.buf != nil {
		t.Fatal("release kept the buffer")
	}
}

// TestReaderBigArgument checks that a real big argument still arrives
// whole, over many reads, and the buffer shrinks back after it.
func TestReaderBigArgument(t *testing.T) {
	val := strings.Repeat("v", 3<<20+17)
	req := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n", len(val), val)
	rd := newReader(&chunkReader{data: []byte(req), sizes: []int{100, 7000, 65536}}, defaultMaxBulkBytes, maxIntMultibulk, func() bool { return true })
	args, err := rd.next(func() error { return nil })
	if err != nil || len(args) != 3 || string(args[2]) != val {
		t.Fatalf("big SET: %d args, %v", len(args), err)
	}
	args, err = rd.next(func() error { return nil })
	if err != nil || len(args) != 1 || string(args[0]) != "PING" {
		t.Fatalf("after it: %q %v", args, err)
	}
	rd.room()
	if len(rd.buf) > 4*readChunk {
		t.Fatalf("buffer of %d bytes kept after the big request", len(rd.buf))
	}
}

// TestReaderManyArguments checks that a request with many arguments,
// arriving in small reads, parses each argument once (it was re-parsed
// from its start on every read: quadratic in the argument count).
func TestReaderManyArguments(t *testing.T) {
	const n = 200_000
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(n+1) + "\r\n$6\r\nEXISTS\r\n")
	for i := 0; i < n; i++ {
		k := "key:" + strconv.Itoa(i)
		b.WriteString("$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n")
	}
	rd := newReader(&chunkReader{data: []byte(b.String()), sizes: repeatInts(readChunk, b.Len()/readChunk+1)}, defaultMaxBulkBytes, maxIntMultibulk, func() bool { return true })
	args, err := rd.next(func() error { return nil })
	if err != nil || len(args) != n+1 || string(args[n]) != "key:"+strconv.Itoa(n-1) {
		t.Fatalf("%d args, %v", len(args), err)
	}
	if rd.headers != n+1 {
		t.Fatalf("parsed %d argument headers for %d arguments", rd.headers, n+1)
	}
}

func repeatInts(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestDeclaredBulkRSS is the case against a running server: ten
// connections that each declare a 500 MB argument, send 1 MB of it and
// close leave the process's resident memory within 64 MB of where it
// started (it grew by a gigabyte).
func TestDeclaredBulkRSS(t *testing.T) {
	srv := startVDR(t, Options{})
	before := rssBytes(t)
	chunk := bytes.Repeat([]byte{'x'}, 1<<20)
	ping := dialRaw(t, srv.Addr())
	for i := 0; i < 10; i++ {
		c := dialRaw(t, srv.Addr())
		c.send([]byte("*2\r\n$3\r\nSET\r\n$524288000\r\n"))
		c.send(chunk)
		// Another client is still served meanwhile.
		if r := ping.dos("PING"); r != "+PONG\r\n" {
			t.Fatalf("PING while a bulk is pending: %q", r)
		}
		c.nc.Close()
	}
	if after := rssBytes(t); after-before > 64<<20 {
		t.Fatalf("RSS grew by %d MB (from %d MB to %d MB)", (after-before)>>20, before>>20, after>>20)
	}
}

// rssBytes is this process's resident set size.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm:", err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
