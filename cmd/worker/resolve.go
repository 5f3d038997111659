package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/ptrsweep/ptrsweep/internal/bulk"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

const resolveSynopsis = "worker resolve [--resolvers …] [--qps N] [--confirm] [--prune=false] [--input FILE] [--output FILE] [--format jsonl|sonar|massdns] < addresses"

// runResolve is `worker resolve`: the resolution engine alone, like massdns
// or zdns. It parses the flags and hands the run to bulk.Run.
func runResolve(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker resolve", flag.ContinueOnError)
	var rf cli.Resolver
	rf.Register(fs, "the")
	confirm := fs.Bool("confirm", false, "forward-confirm every PTR name (FCrDNS)")
	prune := fs.Bool("prune", true, "skip the addresses of reverse zones that answer NXDOMAIN (RFC 8020)")
	scan := fs.String("scan", "", "scan name written in every row")
	input := fs.String("input", "", "read addresses, CIDRs, ranges and in-addr.arpa names from this file, plain or gzip (default: stdin)")
	outPath := fs.String("output", "", "write rows to this file (default: stdout)")
	format := fs.String("format", bulk.DefaultFormat, "output format: "+strings.Join(output.Streaming, ", "))
	units := fs.Int("units", bulk.DefaultInFlight, "batches of --batch addresses resolved at once")
	batch := fs.Int("batch", bulk.DefaultBatch, "addresses per batch handed to the engine (at least 256: a /24 of a CIDR line stays whole)")
	quiet := fs.Bool("quiet", false, "no progress line and no summary on stderr (errors still)")
	allowReserved := fs.Bool("allow-reserved", false, "accept input in the IANA special-purpose ranges (private, loopback, documentation, benchmarking…)")
	excludeFile := fs.String("exclude-file", "", "blocklist: CIDRs, one per line; input overlapping it is refused")
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, resolveSynopsis)
		}
		return err
	}
	rc, err := rf.Config()
	if err != nil {
		return err
	}
	if *scan != "" {
		if err := cli.CheckScan(*scan); err != nil {
			return err
		}
	}
	exclude, err := readExcludeFile(*excludeFile)
	if err != nil {
		return err
	}
	res, err := resolve.New(rc)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	cfg := bulk.Config{
		Resolver: res,
		Input:    *input, Stdin: stdin, Output: *outPath, Stdout: stdout, Format: *format,
		Scan: *scan, Options: sweep.Options{Confirm: *confirm, NoPrune: !*prune, AllowReserved: *allowReserved},
		Exclude: exclude, Batch: *batch, InFlight: *units,
		Stderr: stderr, Progress: isTerminal(stderr), Quiet: *quiet, Name: "worker resolve",
	}
	if err := bulk.Check(cfg); err != nil {
		return cli.UsageError{Err: err}
	}
	if check.Done(stdout, "worker resolve", cli.DescribeResolvers(rc), "format="+*format) {
		return nil
	}
	err = bulk.Run(ctx, cfg)
	if errors.Is(err, bulk.ErrInput) || errors.Is(err, bulk.ErrConfig) {
		return cli.UsageError{Err: err}
	}
	return err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
