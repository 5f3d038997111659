// Command ptrchaos runs ptrsweep's fault scenarios against real processes
// (a private clickhouse-server, nats-server, ptrlab, workers and
// coordinator commands) and prints a table of expected, stored, missing
// and duplicated rows and recovery times.
//
//	ptrchaos --bin bin [--scenarios 1,2,5] [--quick] [--out FILE] [--keep]
//
// BIN must hold coordinator, worker, ptrlab and nats-server:
//
//	go build -o bin/ ./cmd/... && go build -o bin/nats-server github.com/nats-io/nats-server/v2
//
// It exits 0 when every scenario passed, 1 when one failed, 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/testenv/chaos"
)

func main() {
	ctx, cancel := cli.SignalContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ptrchaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin", "directory with coordinator, worker, ptrlab and nats-server")
	list := fs.String("scenarios", "", "scenarios to run, comma-separated (1–8; 6 is 6a and 6b; default all)")
	quick := fs.Bool("quick", false, "small scenarios of a few seconds each (a /22, 5 s outages)")
	out := fs.String("out", "", "also write the table to this file")
	keep := fs.Bool("keep", false, "keep the temp directory (process logs, data) after the run")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ptrchaos: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	scenarios, err := chaos.Select(*list)
	if err != nil {
		fmt.Fprintf(stderr, "ptrchaos: --scenarios: %v\n", err)
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	h, err := chaos.New(ctx, chaos.Config{Bin: *bin, Quick: *quick, Keep: *keep, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "ptrchaos: %v\n", err)
		return 1
	}
	var results []chaos.Result
	for _, s := range scenarios {
		if ctx.Err() != nil {
			break
		}
		r := h.Run(ctx, s)
		fmt.Fprintf(stderr, "scenario %s %s: pass=%v (%s)\n", r.ID, r.Name, r.Pass, r.Elapsed.Round(1e9))
		results = append(results, r)
	}
	if *keep {
		fmt.Fprintf(stderr, "ptrchaos: logs and data kept in %s\n", h.Dir())
	}
	if err := h.Close(); err != nil {
		fmt.Fprintf(stderr, "ptrchaos: %v\n", err)
	}
	var b strings.Builder
	_ = chaos.WriteTable(&b, results, *quick)
	fmt.Fprint(stdout, b.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintf(stderr, "ptrchaos: --out: %v\n", err)
			return 1
		}
	}
	for _, r := range results {
		if !r.Pass {
			return 1
		}
	}
	if ctx.Err() != nil || len(results) < len(scenarios) {
		return 1
	}
	return 0
}
