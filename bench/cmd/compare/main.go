// Command compare runs vdr and a real Redis replica against one primary in
// the same run and writes bench/RESULTS.md with the ratios. See package
// bench for what it measures.
//
//	go run ./bench/cmd/compare -vdr bin/vdr -n 1000000 -out bench
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/vdr-project/vdr/bench"
)

func main() {
	cfg := bench.DefaultConfig()
	if v, err := strconv.Atoi(os.Getenv("BENCH_N")); err == nil && v > 0 {
		cfg.N = v
	}
	flag.IntVar(&cfg.N, "n", cfg.N, "keys in the dataset (env BENCH_N); 10000000 for the 10M run")
	flag.Int64Var(&cfg.Seed, "seed", cfg.Seed, "dataset seed")
	flag.IntVar(&cfg.Reps, "reps", cfg.Reps, "repetitions; medians and min–max are reported")
	flag.StringVar(&cfg.VDR, "vdr", "bin/vdr", "path of the vdr binary")
	flag.StringVar(&cfg.VDRBase, "vdr-base", "", "another vdr binary (e.g. one built from main) synced and read in the same run, reported as vdr-base")
	flag.StringVar(&cfg.Out, "out", "bench", "directory for RESULTS.md and plots/ (empty: print only)")
	flag.IntVar(&cfg.Requests, "requests", cfg.Requests, "requests per redis-benchmark run")
	flag.IntVar(&cfg.Clients, "clients", cfg.Clients, "redis-benchmark clients (-c)")
	flag.DurationVar(&cfg.LagFor, "lag-for", cfg.LagFor, "how long the write load of the lag measure runs")
	flag.StringVar(&cfg.Mix, "mix", "mixed", "dataset: mixed, or one type only: strings, hashes, lists, sets, zsets")
	flag.IntVar(&cfg.RateSteps, "rate-steps", cfg.RateSteps, "most steps of the highest-write-rate search")
	reads := flag.String("reads", "", "run only these read cases, comma-separated by first word (e.g. GET,EVALSHA_RO,FCALL_RO), and no lag phase")
	vdrArgs := flag.String("vdr-args", "", "extra settings for vdr, space-separated (e.g. \"--event-loops 2\")")
	flag.Parse()
	cfg.VDRArgs = strings.Fields(*vdrArgs)
	if *reads != "" {
		cfg.Reads = strings.Split(*reads, ",")
	}
	cfg.Command = "go run ./bench/cmd/compare " + strings.Join(os.Args[1:], " ")
	cfg.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	t0 := time.Now()
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
	if cfg.Out != "" {
		if err := bench.WriteReport(res); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "wrote %s/RESULTS.md in %v\n", cfg.Out, time.Since(t0).Round(time.Second))
	}
}
