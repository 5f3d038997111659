package main

import (
	"context"
	"flag"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
)

func cmdFleets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleets", flag.ContinueOnError)
	var ch cli.ClickHouse
	ch.Register(fs)
	var cfg coordinator.FleetsConfig
	fs.StringVar(&cfg.Scan, "scan", "", "the scan whose names to group")
	fs.StringVar(&cfg.Suffix, "suffix", "", "only names under this domain suffix (whole labels)")
	fs.IntVar(&cfg.MinAddresses, "min-addresses", coordinator.DefaultMinAddresses, "show templates with at least this many addresses")
	fs.StringVar(&cfg.Format, "format", "table", "output: table or json")
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator fleets [--scan NAME] [--suffix DOMAIN] [--min-addresses N] [--format table|json]"); err != nil {
		return err
	}
	if err := checkSuffix(cfg.Suffix); err != nil {
		return err
	}
	if cfg.Scan != "" {
		if err := cli.CheckScan(cfg.Scan); err != nil {
			return err
		}
	}
	if err := cfg.Validate(); err != nil {
		return cli.UsageError{Err: err}
	}
	var err error
	if cfg.ClickHouse, err = ch.DSN(); err != nil {
		return err
	}
	if check.Done(stdout, "coordinator fleets", cli.DescribeClickHouse(cfg.ClickHouse)) {
		return nil
	}
	cfg.Notes = stderr
	return coordinator.Fleets(ctx, cfg, stdout)
}
