package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/testenv/bench"
)

// errWrongAnswers is returned when a tool's answers did not match the truth.
var errWrongAnswers = errors.New("some answers did not match the generated zones")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := runBench(ctx, args, stdout, stderr)
	if err != nil && cli.ExitCode(err) != 0 {
		cli.Report(stderr, "ptrbench", err)
	}
	return cli.ExitCode(err)
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ptrbench", flag.ContinueOnError)
	bin := fs.String("bin", "bin", "directory holding the coordinator and worker binaries")
	addresses := fs.Int("addresses", 1<<20, "addresses in the generated zones (a multiple of 256), from the start of --space")
	space := fs.String("space", "10.0.0.0/12", "IPv4 prefix the addresses are taken from (only names in the zones: every query goes to 127.0.0.1)")
	rounds := fs.Int("rounds", 3, "runs of each tool; the table shows the median and the best")
	unbound := fs.Bool("unbound", false, "also measure dnsperf and the engine through Unbound in front of Knot")
	dsn := fs.String("clickhouse", "", "ClickHouse DSN for the pipeline (default: a fresh database ptrsweep_bench_<random> on 127.0.0.1:9000, dropped at the end)")
	out := fs.String("out", "", "also write the results table (markdown) to this file")
	keep := fs.Bool("keep", false, "keep the working directory (zones, query list, server configs)")
	massdns := fs.String("massdns", os.Getenv("MASSDNS"), "massdns binary to measure as a peer (default $MASSDNS; empty: its row says \"not run\")")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, "ptrbench [--bin bin] [--addresses N] [--space CIDR] [--rounds N] [--unbound] [--massdns PATH] [--clickhouse DSN] [--out FILE]")
		}
		return err
	}
	prefix, err := netip.ParsePrefix(*space)
	if err != nil {
		return cli.Usagef("--space: %v", err)
	}
	sp, err := bench.NewSpace(prefix, *addresses)
	if err != nil {
		return cli.Usagef("--space, --addresses: %v", err)
	}
	if *rounds < 1 {
		return cli.Usagef("--rounds %d: want at least 1", *rounds)
	}
	tag := fmt.Sprintf("%08x", rand.Uint32())
	drop := *dsn == ""
	if drop {
		*dsn = "clickhouse://127.0.0.1:9000/ptrsweep_bench_" + tag
	}
	if _, err := store.ParseDSN(*dsn); err != nil {
		return cli.Usagef("--clickhouse: %v", err)
	}
	dir, err := os.MkdirTemp("", "ptrbench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(stderr, "ptrbench: working directory %s (kept)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	start := time.Now()
	rep, err := bench.Run(ctx, bench.Config{Bin: *bin, Space: sp, Rounds: *rounds, Unbound: *unbound,
		ClickHouse: *dsn, Drop: drop, Scan: "bench-" + tag, Dir: dir, Log: stderr, MassDNS: *massdns})
	if err != nil {
		return err
	}
	var b strings.Builder
	st := rep.Stats
	fmt.Fprintf(&b, "ptrbench %s: %d addresses of %s, %d rounds, %d CPUs, %s\n\n", start.UTC().Format("2006-01-02 15:04"),
		st.Addresses, prefix.Masked(), rep.Rounds, runtime.NumCPU(), time.Since(start).Round(time.Second))
	fmt.Fprintf(&b, "truth: %d addresses with one PTR, %d with two (%d PTRs), %d NXDOMAIN, %d empty /24s\n\n",
		st.OnePTR, st.TwoPTRs, st.PTRs(), st.NXDomain, st.EmptyBlocks)
	var table strings.Builder
	if err := rep.Markdown(&table); err != nil {
		return err
	}
	b.WriteString(table.String())
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	// dnsperf's rcodes are reported, not enforced: a mismatch there is the
	// server's (Unbound under load answers a few SERVFAILs), not ours.
	for _, r := range rep.Rows {
		if !r.RcodesOnly && strings.HasPrefix(r.Verified(), "NO") {
			return fmt.Errorf("%s → %s: %w", r.Tool, r.Target, errWrongAnswers)
		}
	}
	return nil
}
