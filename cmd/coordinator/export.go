package main

import (
	"context"
	"flag"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var ch cli.ClickHouse
	ch.Register(fs)
	scan := fs.String("scan", "", "scan name (required)")
	format := fs.String("format", coordinator.DefaultExportFormat, "output: jsonl or sonar")
	var ff filterFlags
	ff.register(fs)
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator export --scan NAME [--format jsonl|sonar] [--status S] [--fcrdns F]"); err != nil {
		return err
	}
	filter, err := ff.filter()
	if err != nil {
		return err
	}
	if *scan == "" {
		return cli.Usagef("--scan is required")
	}
	if err := cli.CheckScan(*scan); err != nil {
		return err
	}
	if err := coordinator.ValidateExportFormat(*format); err != nil {
		return cli.UsageError{Err: err}
	}
	dsn, err := ch.DSN()
	if err != nil {
		return err
	}
	if check.Done(stdout, "coordinator export", "scan="+*scan, cli.DescribeClickHouse(dsn)) {
		return nil
	}
	return coordinator.ExportFiltered(ctx, dsn, *scan, *format, filter, stdout)
}
