package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	var pf planFlags
	var cf connFlags
	var rf cli.Resolver
	pf.register(fs)
	cf.register(fs, "NATS URL of an external JetStream server (default: an embedded server)")
	cf.registerQueue(fs)
	rf.Register(fs, "the sweep's")
	workers := fs.Int("workers", coordinator.DefaultWorkers, "workers to run in-process")
	units := fs.Int("units", 4, "/24 units each in-process worker resolves at once (smaller units count for their share: 16 /28s per /24)")
	batchRows := fs.Int("batch-rows", worker.DefaultBatchRows, "rows per ClickHouse insert")
	flush := fs.Duration("flush-interval", worker.DefaultFlushInterval, "longest wait before a partial batch is inserted")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator sweep --cidr CIDR[,…] [flags]"); err != nil {
		return err
	}
	if *workers < 1 || *units < 1 {
		return cli.Usagef("--workers %d, --units %d: want at least 1 each", *workers, *units)
	}
	conn, err := cf.conn()
	if err != nil {
		return err
	}
	rc, err := rf.Config()
	if err != nil {
		return err
	}
	log, err := cli.Logger(stderr, *logLevel)
	if err != nil {
		return err
	}
	pl, err := pf.plan(stderr)
	if err != nil {
		return err
	}
	cfg := coordinator.SweepConfig{Conn: conn, Plan: pl, Workers: *workers, Resolve: rc, Progress: stderr,
		Terminal: isTerminal(stderr), Logger: log}
	cfg.Worker.BatchRows, cfg.Worker.FlushInterval, cfg.Worker.Units = *batchRows, *flush, *units
	cfg.Worker.Heartbeat = worker.HeartbeatFor(cf.ackWait)
	sum, err := coordinator.Sweep(ctx, cfg)
	if sum.Scan != "" && (err == nil || errors.Is(err, coordinator.ErrUnitsFailed)) {
		sum.Print(stdout)
	}
	return err
}
