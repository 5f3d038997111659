package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/ingest"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

const importUsage = "coordinator import --scan NAME --format sonar|jsonl|massdns|zdns FILE[.gz]"

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("import", flag.ContinueOnError)
	var ch cli.ClickHouse
	ch.Register(fset)
	var cfg coordinator.ImportConfig
	fset.StringVar(&cfg.Scan, "scan", "", "name of the new scan to load the rows into (required)")
	format := fset.String("format", "", "input format: sonar, jsonl, massdns or zdns (required)")
	fset.IntVar(&cfg.Batch, "batch", ingest.DefaultBatch, "rows per INSERT")
	var check cli.CheckConfig
	check.Register(fset)
	file, err := parseOne(fset, args, stderr, importUsage, "the file to import")
	if err != nil {
		return err
	}
	cfg.File = file
	if cfg.Scan == "" {
		return cli.Usagef("--scan is required (the name of the new scan)")
	}
	if err := sweep.ValidateScanName(cfg.Scan); err != nil {
		return cli.Usagef("--scan: %v", err)
	}
	if *format == "" {
		return cli.Usagef("--format is required: sonar, jsonl, massdns or zdns")
	}
	if cfg.Format, err = ingest.ParseFormat(*format); err != nil {
		return cli.Usagef("--format: %v", err)
	}
	if cfg.Batch <= 0 {
		return cli.Usagef("--batch %d: want a positive number of rows", cfg.Batch)
	}
	if cfg.ClickHouse, err = ch.DSN(); err != nil {
		return err
	}
	if err := checkReadable(file); err != nil {
		return err
	}
	if check.Done(stdout, "coordinator import", "scan="+cfg.Scan, "format="+*format, "file="+file, cli.DescribeClickHouse(cfg.ClickHouse)) {
		return nil
	}
	err = coordinator.Import(ctx, cfg, stdout)
	if errors.Is(err, ingest.ErrFormat) || errors.Is(err, coordinator.ErrScanExists) || errors.As(err, new(*fs.PathError)) {
		return cli.UsageError{Err: err}
	}
	return err
}
