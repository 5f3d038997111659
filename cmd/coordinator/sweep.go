package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/ptrsweep/ptrsweep/cmd/internal/metricsflag"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
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
	maxPending := registerMaxPending(fs)
	var mf metricsflag.Flag
	mf.Register(fs)
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator sweep --cidr CIDR[,…] [flags]"); err != nil {
		return err
	}
	if *workers < 1 || *units < 1 {
		return cli.Usagef("--workers %d, --units %d: want at least 1 each", *workers, *units)
	}
	if *maxPending < 0 {
		return cli.Usagef("--max-pending %d: want 0 (publish every unit at once) or more", *maxPending)
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
	if _, err := resolve.New(rc); err != nil {
		return cli.UsageError{Err: err}
	}
	tel, err := mf.New(log)
	if err != nil {
		return err
	}
	nats := cli.DescribeNATS(conn.Queue)
	if conn.Queue.URL == "" {
		nats = "nats=embedded"
	}
	if check.Done(stdout, "coordinator sweep", describePlan(pl), fmt.Sprintf("workers=%d", *workers), nats,
		cli.DescribeClickHouse(conn.ClickHouse), cli.DescribeResolvers(rc), tel.Describe()) {
		return nil
	}
	if err := tel.Start(ctx); err != nil {
		return err
	}
	defer tel.Close()
	cfg := coordinator.SweepConfig{Conn: conn, Plan: pl, Workers: *workers, MaxPending: *maxPending, Resolve: rc, Progress: stderr,
		Terminal: isTerminal(stderr), Logger: log, Metrics: tel.Metrics}
	cfg.Worker.BatchRows, cfg.Worker.FlushInterval, cfg.Worker.Units = *batchRows, *flush, *units
	cfg.Worker.Heartbeat = worker.HeartbeatFor(cf.ackWait)
	sum, err := coordinator.Sweep(ctx, cfg)
	if sum.Scan != "" && (err == nil || errors.Is(err, coordinator.ErrUnitsFailed)) {
		sum.Print(stdout)
	}
	return err
}
