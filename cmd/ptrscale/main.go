// Command ptrscale is ptrsweep's scale harness (`make scale`): it fills a
// fresh ClickHouse database with synthetic rows through INSERT … SELECT
// from numbers() and times the commands users run against it (suffix
// search, lookup of an address and of a /16, outcome counts, grouping by
// provider, fleets, diff, export, import). See internal/testenv/scale.
//
//	ptrscale [--bin bin] [--clickhouse-addr 127.0.0.1:9000] [--rows 100000000]
//	         [--asn FILE] [--keep] [--out FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/testenv/scale"
)

func main() {
	ctx, cancel := cli.SignalContext(context.Background())
	code := cli.ExitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
	cancel()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ptrscale", flag.ContinueOnError)
	cfg := scale.Config{Log: stderr}
	fs.StringVar(&cfg.Bin, "bin", "bin", "directory of the built coordinator binary")
	fs.StringVar(&cfg.Addr, "clickhouse-addr", "127.0.0.1:9000", "ClickHouse native host:port")
	fs.Uint64Var(&cfg.Rows, "rows", 100_000_000, "synthetic rows to generate")
	fs.IntVar(&cfg.Repeats, "repeats", 5, "runs of each read command (the median is shown)")
	fs.StringVar(&cfg.ASNFile, "asn", "", "IP-to-ASN file to load (e.g. from `location dump`); empty skips the grouping by provider")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the database")
	out := fs.String("out", "", "also write the table to this file")
	if err := cli.ParseOrUsage(fs, args, stderr, "ptrscale [--bin bin] [--clickhouse-addr HOST:PORT] [--rows N] [--asn FILE] [--keep] [--out FILE]"); err != nil {
		cli.Report(stderr, "ptrscale", err)
		return err
	}
	if cfg.Rows < 1000 {
		err := cli.Usagef("--rows %d: want at least 1000", cfg.Rows)
		cli.Report(stderr, "ptrscale", err)
		return err
	}
	res, sizes, err := scale.Run(ctx, cfg)
	if err != nil {
		cli.Report(stderr, "ptrscale", err)
		return err
	}
	scale.Table(stdout, cfg, res, sizes)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			cli.Report(stderr, "ptrscale", err)
			return err
		}
		defer f.Close()
		scale.Table(f, cfg, res, sizes)
		fmt.Fprintf(stderr, "table written to %s\n", *out)
	}
	return nil
}
