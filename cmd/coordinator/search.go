package main

import (
	"context"
	"flag"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

func cmdSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	var ch cli.ClickHouse
	ch.Register(fs)
	var cfg coordinator.SearchConfig
	fs.StringVar(&cfg.Suffix, "suffix", "", "domain suffix, matched on whole labels (required)")
	fs.StringVar(&cfg.Scan, "scan", "", "only this scan (default: every scan)")
	fs.StringVar(&cfg.Format, "format", coordinator.DefaultSearchFormat, "output: ips, table, csv or json")
	fs.StringVar(&cfg.Group, "group", "", "group results: netblock (routed prefix, AS and country; /24 without an IP-to-ASN table), asn or country")
	var ff filterFlags
	ff.register(fs)
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator search --suffix DOMAIN [--scan NAME] [--format ips|table|csv|json] [--group netblock|asn|country] [--status S] [--fcrdns F]"); err != nil {
		return err
	}
	var err error
	if cfg.Filter, err = ff.filter(); err != nil {
		return err
	}
	cfg.Notes = stderr
	if cfg.Suffix == "" {
		return cli.Usagef("--suffix is required (e.g. --suffix security.ipip.net)")
	}
	if _, err := store.NormalizeSuffix(cfg.Suffix); err != nil {
		return cli.Usagef("--suffix: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return cli.UsageError{Err: err}
	}
	if cfg.ClickHouse, err = ch.DSN(); err != nil {
		return err
	}
	if check.Done(stdout, "coordinator search", cli.DescribeClickHouse(cfg.ClickHouse)) {
		return nil
	}
	return coordinator.Search(ctx, cfg, stdout)
}
