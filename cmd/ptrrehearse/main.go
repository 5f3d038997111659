// Command ptrrehearse runs a rehearsal of a whole ptrsweep deployment on one
// machine against the lab's synthetic Internet (see
// internal/testenv/rehearsal): an external nats-server (or a three-node
// cluster), `ptrlab serve --internet`, worker processes and a fresh database
// on a running ClickHouse; it prints throughput, peak RSS, ClickHouse parts
// and bytes per row, and checks the stored rows against the truth.
//
//	ptrrehearse --bin bin [--cidr 8.0.0.0/8] [--workers 4] [--cluster 3] [--keep]
//
// It exits 0 when the stored data match the truth, 1 otherwise, 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/testenv/rehearsal"
)

func main() {
	ctx, cancel := cli.SignalContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ptrrehearse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg rehearsal.Config
	fs.StringVar(&cfg.Bin, "bin", "bin", "directory with coordinator, worker, ptrlab and nats-server")
	cidr := fs.String("cidr", rehearsal.DefaultCIDR.String(), "prefix of the synthetic Internet to sweep (/8 to /24)")
	fs.IntVar(&cfg.UnitPrefix, "unit-prefix", 24, "prefix length of a work unit")
	fs.BoolVar(&cfg.AllowReserved, "allow-reserved", false, "pass --allow-reserved to publish (a CIDR in reserved space)")
	fs.IntVar(&cfg.Workers, "workers", 4, "worker processes")
	workerArgs := fs.String("worker-args", "", "extra worker flags, space-separated (e.g. \"--qps 5000 --units 8\")")
	fs.IntVar(&cfg.Cluster, "cluster", 1, "nats-server nodes: 1, or 3 for a cluster with R3 streams")
	fs.StringVar(&cfg.ClickHouse, "clickhouse", "clickhouse://127.0.0.1:9000", "ClickHouse server (native protocol); a fresh database is created on it")
	fs.StringVar(&cfg.ClickHouseHTTP, "clickhouse-http", "http://127.0.0.1:8123", "the same server's HTTP interface, for the checks")
	fs.StringVar(&cfg.LabHost, "lab-host", "127.0.0.2", "loopback address the synthetic Internet is served on")
	fs.Float64Var(&cfg.SampleShare, "sample", 0.01, "share of the /24s checked row by row")
	fs.DurationVar(&cfg.Timeout, "timeout", 3*time.Hour, "longest time from publish to done")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the database and the logs")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ptrrehearse: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	p, err := netip.ParsePrefix(*cidr)
	if err != nil {
		fmt.Fprintf(stderr, "ptrrehearse: --cidr: %v\n", err)
		return 2
	}
	cfg.CIDR = p
	cfg.WorkerArgs = strings.Fields(*workerArgs)
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if _, err := rehearsal.Run(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "ptrrehearse: %v\n", err)
		if errors.Is(err, rehearsal.ErrConfig) {
			return 2
		}
		return 1
	}
	return 0
}
