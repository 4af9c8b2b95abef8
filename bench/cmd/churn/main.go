// Command churn runs the churn scenario: vdr and a Redis replica of one
// primary whose key set is overwritten, deleted and expired for a while,
// with both replicas' RSS sampled; it prints the samples and the RSS at
// the end against the RSS after the first minute. See bench.Churn.
//
//	go run ./bench/cmd/churn -vdr bin/vdr -for 30m
//	go run ./bench/cmd/churn -vdr bin/vdr -n 100000 -for 2m -warmup 20s -every 5s   # a short try
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/vdr-project/vdr/bench"
)

func main() {
	cfg := bench.DefaultChurnConfig()
	flag.IntVar(&cfg.N, "n", cfg.N, "keys in the key set")
	flag.Int64Var(&cfg.Seed, "seed", cfg.Seed, "dataset seed")
	flag.StringVar(&cfg.Mix, "mix", cfg.Mix, "dataset: mixed, or one type only: strings, hashes, lists, sets, zsets")
	flag.StringVar(&cfg.VDR, "vdr", cfg.VDR, "path of the vdr binary")
	flag.DurationVar(&cfg.For, "for", cfg.For, "how long the churn runs")
	flag.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "the reference RSS is the first sample this far in")
	flag.DurationVar(&cfg.Every, "every", cfg.Every, "sampling interval")
	flag.IntVar(&cfg.Rate, "rate", cfg.Rate, "key operations per second (overwrite, delete or expire)")
	flag.IntVar(&cfg.Conns, "conns", cfg.Conns, "connections of the write load")
	out := flag.String("out", "", "also write the samples to this file")
	vdrArgs := flag.String("vdr-args", "", "extra settings for vdr, space-separated")
	flag.Parse()
	cfg.VDRArgs = strings.Fields(*vdrArgs)
	cfg.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bench.Churn(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "churn:", err)
		os.Exit(1)
	}
	fmt.Printf("# go run ./bench/cmd/churn %s\n", strings.Join(os.Args[1:], " "))
	bench.WriteChurn(os.Stdout, res)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "churn:", err)
			os.Exit(1)
		}
		bench.WriteChurn(f, res)
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "churn:", err)
			os.Exit(1)
		}
	}
}
