package main

import (
	"context"
	"flag"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
)

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var cf connFlags
	cf.register(fs, "NATS URL, to show the queue as well (optional)")
	scan := fs.String("scan", "", "scan name (required)")
	watch := fs.Bool("watch", false, "reprint the status until the scan completes")
	wait := fs.Bool("wait", false, "block until the scan completes: exit 0 if every unit is done, 1 if some failed")
	interval := fs.Duration("interval", coordinator.DefaultStatusInterval, "refresh interval for --watch and --wait")
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator status --scan NAME [--watch | --wait]"); err != nil {
		return err
	}
	if *scan == "" {
		return cli.Usagef("--scan is required")
	}
	if err := cli.CheckScan(*scan); err != nil {
		return err
	}
	if *watch && *wait {
		return cli.Usagef("--watch and --wait exclude each other")
	}
	conn, err := cf.conn()
	if err != nil {
		return err
	}
	if check.Done(stdout, describe("status", conn, "scan="+*scan)...) {
		return nil
	}
	return coordinator.Status(ctx, coordinator.StatusConfig{Conn: conn, Scan: *scan, Watch: *watch, Wait: *wait, Interval: *interval}, stdout)
}
