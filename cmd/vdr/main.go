// Command vdr is a read replica for Redis and Valkey: it replicates a primary
// over PSYNC into memory and serves reads over the Redis protocol.
//
// main only picks the subcommand and turns flags into options; the work is
// done by the server, replica, projection and rdbparse packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vdr-project/vdr/internal/compat"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code:
// 0 success, 1 runtime failure, 2 invalid configuration or usage.
func run(args []string, stdout, stderr io.Writer) int {
	sub := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		sub = "version"
	}
	switch sub {
	case "serve":
		return runServe(args, os.Getenv, stdout, stderr)
	case "rdb":
		return runRDB(args, stdout, stderr)
	case "version":
		// The personality vdr answers as when neither --compat nor a
		// primary (nor a snapshot) says otherwise.
		fmt.Fprintf(stdout, "vdr %s (answers as %s by default: redis_version %s; --compat %s)\n",
			version, compat.Default, compat.Default.RedisVersion(), compatNames())
		return 0
	case "tail":
		return runTail(args, os.Getenv, stdout, stderr)
	case "verify":
		return runVerify(args, os.Getenv, stdout, stderr)
	case "help":
		printHelp(stdout, nil)
		return 0
	}
	fmt.Fprintf(stderr, "vdr: unknown subcommand %q (try vdr --help)\n", sub)
	return 2
}

// exitCodeFor maps a configuration error to the documented exit codes.
func exitCodeFor(err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, err)
	var ce *configError
	if errors.As(err, &ce) {
		return 2
	}
	return 1
}
