// Command printer is a runnable example of a replica.Handler: it attaches
// to a Redis primary as a replica and prints every key of the snapshot and
// every command of the replication stream, one line each.
//
//	go run ./examples/printer -primary 127.0.0.1:6379
//
// It stores nothing: it shows the shape of the Handler interface (a CDC
// sink would write these lines to a queue instead).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/vdr-project/vdr/rdbparse"
	"github.com/vdr-project/vdr/replica"
)

// printer prints what the replica.Client hands it.
type printer struct {
	replica.NopHandler
	out *os.File
}

func (p *printer) FullSyncBegin(replID string, offset int64) error {
	fmt.Fprintf(p.out, "# full sync begins: replid %s offset %d\n", replID, offset)
	return nil
}

func (p *printer) Entry(e *rdbparse.Entry) error {
	n := len(e.Elems) + len(e.Fields) + len(e.ZMembers)
	if e.Stream != nil {
		n = len(e.Stream.Entries)
	}
	switch e.Kind {
	case rdbparse.KindString:
		fmt.Fprintf(p.out, "rdb db=%d %s %q = %q\n", e.DB, e.Kind, e.Key, e.String)
	default:
		fmt.Fprintf(p.out, "rdb db=%d %s %q batch %d: %d elements\n", e.DB, e.Kind, e.Key, e.Batch, n)
	}
	return nil
}

func (p *printer) FullSyncEnd(replID string, offset int64) error {
	fmt.Fprintf(p.out, "# full sync done\n")
	return nil
}

func (p *printer) FullSyncAbort(err error) {
	fmt.Fprintf(p.out, "# full sync aborted: %v\n", err)
}

func (p *printer) Commands(cmds []replica.Command) error {
	unit := len(cmds) > 1 && cmds[0].Unit
	if unit {
		fmt.Fprintln(p.out, "MULTI")
	}
	for _, c := range cmds {
		parts := make([]string, len(c.Argv))
		for i, a := range c.Argv {
			parts[i] = strconv.Quote(string(a)) // Argv is only valid during the call: print (copy) now
		}
		fmt.Fprintf(p.out, "%d db=%d %s\n", c.Offset, c.DB, strings.Join(parts, " "))
	}
	if unit {
		fmt.Fprintln(p.out, "EXEC")
	}
	return nil
}

func (p *printer) LinkState(s replica.State, err error) {
	if err != nil {
		fmt.Fprintf(p.out, "# link %s: %v\n", s, err)
		return
	}
	fmt.Fprintf(p.out, "# link %s\n", s)
}

func main() {
	primary := flag.String("primary", "127.0.0.1:6379", "primary `host:port`")
	user := flag.String("user", "", "ACL user (with -password)")
	password := flag.String("password", "", "password (masterauth)")
	tlsCA := flag.String("tls-ca", "", "connect with TLS, verifying against this CA `file`")
	flag.Parse()

	opts := replica.Options{
		Primary:  *primary,
		Handler:  &printer{out: os.Stdout},
		Username: *user,
		Password: *password,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	if *tlsCA != "" {
		opts.TLS = &replica.TLSOptions{CAFile: *tlsCA}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := replica.New(opts).Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "printer:", err)
		os.Exit(1)
	}
}
