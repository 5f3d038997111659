package main

import (
	"context"
	"flag"
	"io"
	"slices"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
)

const lookupUsage = "coordinator lookup ADDRESS|CIDR [--scan NAME] [--format table|json|csv] [--status S] [--fcrdns F]"

func cmdLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	var ch cli.ClickHouse
	ch.Register(fs)
	var cfg coordinator.LookupConfig
	fs.StringVar(&cfg.Scan, "scan", "", "only this scan (default: every scan, with the history)")
	fs.StringVar(&cfg.Format, "format", coordinator.DefaultLookupFormat, "output: table, json or csv")
	var ff filterFlags
	ff.register(fs)
	var check cli.CheckConfig
	check.Register(fs)
	target, err := parseOne(fs, args, stderr, lookupUsage, "an IPv4 address or CIDR block (e.g. 139.162.77.6 or 139.162.0.0/16)")
	if err != nil {
		return err
	}
	if cfg.Target, err = analytics.ParseTarget(target); err != nil {
		return cli.UsageError{Err: err}
	}
	if !slices.Contains(analytics.HistoryFormats, cfg.Format) {
		return cli.Usagef("--format %q: want table, json or csv", cfg.Format)
	}
	if cfg.Filter, err = ff.filter(); err != nil {
		return err
	}
	if cfg.Scan != "" {
		if err := cli.CheckScan(cfg.Scan); err != nil {
			return err
		}
	}
	if cfg.ClickHouse, err = ch.DSN(); err != nil {
		return err
	}
	if check.Done(stdout, "coordinator lookup", "target="+cfg.Target.String(), cli.DescribeClickHouse(cfg.ClickHouse)) {
		return nil
	}
	cfg.Notes = stderr
	return coordinator.Lookup(ctx, cfg, stdout)
}
