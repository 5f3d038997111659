package main

import (
	"context"
	"flag"
	"io"

	"github.com/ptrsweep/ptrsweep/cmd/internal/metricsflag"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
)

func cmdPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	var pf planFlags
	var cf connFlags
	pf.register(fs)
	cf.register(fs, "NATS URL of the JetStream server (required)")
	cf.registerQueue(fs)
	maxPending := registerMaxPending(fs)
	recheck := fs.Bool("recheck", false, "check every unit the scan's cursor counts as published, and publish again those neither queued nor finished (after the NATS server lost its data)")
	var mf metricsflag.Flag
	mf.Register(fs)
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator publish --cidr CIDR[,…] --nats URL [--max-pending N] [flags]"); err != nil {
		return err
	}
	if *maxPending < 0 {
		return cli.Usagef("--max-pending %d: want 0 (publish every unit at once) or more", *maxPending)
	}
	if cf.nats.URL() == "" {
		return cli.Usagef("--nats is required: publish sends units to an external JetStream server (use 'coordinator sweep' for one machine)")
	}
	conn, err := cf.conn()
	if err != nil {
		return err
	}
	pl, err := pf.plan(stderr)
	if err != nil {
		return err
	}
	log, err := cli.Logger(stderr, "warn")
	if err != nil {
		return err
	}
	tel, err := mf.New(log)
	if err != nil {
		return err
	}
	if check.Done(stdout, describe("publish", conn, describePlan(pl), tel.Describe())...) {
		return nil
	}
	if err := tel.Start(ctx); err != nil {
		return err
	}
	defer tel.Close()
	fc := coordinator.FeedConfig{MaxPending: *maxPending, Recheck: *recheck, Progress: stderr}
	return coordinator.Publish(ctx, conn, pl, fc, stdout)
}
