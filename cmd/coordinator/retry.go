package main

import (
	"context"
	"flag"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
)

func cmdRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("retry", flag.ContinueOnError)
	var cf connFlags
	cf.register(fs, "NATS URL of the JetStream server (required)")
	scan := fs.String("scan", "", "scan name (required)")
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator retry --scan NAME --nats URL"); err != nil {
		return err
	}
	if *scan == "" || cf.nats.URL() == "" {
		return cli.Usagef("--scan and --nats are required")
	}
	if err := cli.CheckScan(*scan); err != nil {
		return err
	}
	conn, err := cf.conn()
	if err != nil {
		return err
	}
	if check.Done(stdout, describe("retry", conn, "scan="+*scan)...) {
		return nil
	}
	return coordinator.Retry(ctx, conn, *scan, stdout)
}
