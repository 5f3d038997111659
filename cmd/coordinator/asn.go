package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
)

const asnUsage = "coordinator asn load FILE [--format auto|pfx2as|ip2asn|mmdb|location] [--version YYYY-MM-DD] | coordinator asn list"

func cmdASN(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cli.Usagef("asn: want a subcommand: load FILE or list (usage: %s)", asnUsage)
	}
	switch args[0] {
	case "load":
		return cmdASNLoad(ctx, args[1:], stdout, stderr)
	case "list":
		fs := flag.NewFlagSet("asn list", flag.ContinueOnError)
		var ch cli.ClickHouse
		ch.Register(fs)
		var check cli.CheckConfig
		check.Register(fs)
		if err := cli.ParseOrUsage(fs, args[1:], stderr, "coordinator asn list"); err != nil {
			return err
		}
		dsn, err := ch.DSN()
		if err != nil {
			return err
		}
		if check.Done(stdout, "coordinator asn list", cli.DescribeClickHouse(dsn)) {
			return nil
		}
		return coordinator.ASNList(ctx, dsn, stdout)
	case "-h", "--help", "help":
		io.WriteString(stderr, "usage: "+asnUsage+"\n")
		return flag.ErrHelp
	}
	return cli.Usagef("asn: unknown subcommand %q (want load or list)", args[0])
}

func cmdASNLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("asn load", flag.ContinueOnError)
	var ch cli.ClickHouse
	ch.Register(fset)
	format := fset.String("format", "auto", "input format: auto, pfx2as, ip2asn, mmdb or location")
	version := fset.String("version", "", "date to store the table under, YYYY-MM-DD (default: the date the file states)")
	var check cli.CheckConfig
	check.Register(fset)
	file, err := parseOne(fset, args, stderr, "coordinator asn load FILE [--format …] [--version YYYY-MM-DD]", "the IP-to-ASN file")
	if err != nil {
		return err
	}
	var cfg coordinator.ASNLoadConfig
	cfg.File = file
	if cfg.Format, err = enrich.ParseFormat(*format); err != nil {
		return cli.Usagef("--format: %v", err)
	}
	if cfg.Version, err = coordinator.ParseASNVersion(*version); err != nil {
		return cli.UsageError{Err: err}
	}
	if cfg.ClickHouse, err = ch.DSN(); err != nil {
		return err
	}
	if err := checkReadable(file); err != nil {
		return err
	}
	if check.Done(stdout, "coordinator asn load", "file="+file, "format="+*format, cli.DescribeClickHouse(cfg.ClickHouse)) {
		return nil
	}
	err = coordinator.ASNLoad(ctx, cfg, stdout)
	if errors.Is(err, enrich.ErrFormat) || errors.Is(err, enrich.ErrUnknownFormat) || errors.Is(err, coordinator.ErrNoASNVersion) || errors.As(err, new(*fs.PathError)) {
		return cli.UsageError{Err: err}
	}
	return err
}
