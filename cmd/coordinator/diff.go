package main

import (
	"context"
	"flag"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func cmdDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	var ch cli.ClickHouse
	ch.Register(fs)
	var cfg coordinator.DiffConfig
	fs.StringVar(&cfg.From, "from", "", "the older scan (required)")
	fs.StringVar(&cfg.To, "to", "", "the newer scan (required)")
	fs.StringVar(&cfg.Suffix, "suffix", "", "compare only names under this domain suffix (whole labels)")
	fs.StringVar(&cfg.Format, "format", "table", "output: table, json or csv")
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator diff --from SCAN --to SCAN [--suffix DOMAIN] [--format table|json|csv]"); err != nil {
		return err
	}
	if err := checkSuffix(cfg.Suffix); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return cli.UsageError{Err: err}
	}
	for flag, scan := range map[string]string{"--from": cfg.From, "--to": cfg.To} {
		if err := sweep.ValidateScanName(scan); err != nil {
			return cli.Usagef("%s: %v", flag, err)
		}
	}
	var err error
	if cfg.ClickHouse, err = ch.DSN(); err != nil {
		return err
	}
	if check.Done(stdout, "coordinator diff", "from="+cfg.From, "to="+cfg.To, cli.DescribeClickHouse(cfg.ClickHouse)) {
		return nil
	}
	cfg.Notes = stderr
	return coordinator.Diff(ctx, cfg, stdout)
}
