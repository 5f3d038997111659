package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/connflags"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// planFlags are the flags that plan a scan (sweep and publish).
type planFlags struct {
	cidrs, exclude, excludeFile, scan string
	allowReserved, confirm            bool
	unitPrefix                        int
}

func (p *planFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.cidrs, "cidr", "", "IPv4 CIDRs or addresses to sweep, comma-separated (required)")
	fs.StringVar(&p.exclude, "exclude", "", "CIDRs to leave out, comma-separated")
	fs.StringVar(&p.excludeFile, "exclude-file", "", "file of CIDRs to leave out, one per line, # comments")
	fs.BoolVar(&p.allowReserved, "allow-reserved", false, "do not exclude the IANA special-purpose ranges (private, loopback, documentation, benchmarking…)")
	fs.IntVar(&p.unitPrefix, "unit-prefix", 24, "prefix length of a work unit (8–32)")
	fs.StringVar(&p.scan, "scan", "", "scan name, [a-z0-9_-] (default: generated and printed)")
	fs.BoolVar(&p.confirm, "confirm", false, "forward-confirm every PTR name (FCrDNS: confirmed, mismatch, no_address, error)")
}

func (p *planFlags) plan(stderr io.Writer) (*plan.Plan, error) {
	if p.cidrs == "" {
		return nil, cli.Usagef("--cidr is required (e.g. --cidr 198.51.100.0/22)")
	}
	cidrs, err := cidr.ParseList(p.cidrs)
	if err != nil {
		return nil, cli.Usagef("--cidr: %v", err)
	}
	var excl []netip.Prefix
	if p.exclude != "" {
		if excl, err = cidr.ParseList(p.exclude); err != nil {
			return nil, cli.Usagef("--exclude: %v", err)
		}
	}
	if p.excludeFile != "" {
		f, err := os.Open(p.excludeFile)
		if err != nil {
			return nil, cli.Usagef("--exclude-file: %v", err)
		}
		more, err := cidr.ParseFile(f, p.excludeFile)
		f.Close()
		if err != nil {
			return nil, cli.Usagef("--exclude-file: %v", err)
		}
		excl = append(excl, more...)
	}
	name := p.scan
	if name == "" {
		name = plan.GenerateScanName(time.Now().UTC())
	}
	pl, err := plan.New(plan.Request{Scan: name, CIDRs: cidrs, Exclude: excl, AllowReserved: p.allowReserved,
		UnitPrefix: p.unitPrefix, Options: sweep.Options{Confirm: p.confirm}})
	if err != nil {
		return nil, cli.UsageError{Err: err}
	}
	if p.scan == "" {
		fmt.Fprintf(stderr, "scan name: %s\n", name)
	}
	return pl, nil
}

// connFlags are the connection flags.
type connFlags struct {
	nats       connflags.NATS
	ch         connflags.ClickHouse
	ackWait    time.Duration
	maxDeliver int
	replicas   int
}

func (c *connFlags) register(fs *flag.FlagSet, natsHelp string) {
	c.nats.Register(fs, natsHelp)
	c.ch.Register(fs)
}

func (c *connFlags) registerQueue(fs *flag.FlagSet) {
	fs.DurationVar(&c.ackWait, "ack-wait", 60*time.Second, "how long a delivered unit may go without a heartbeat before it is redelivered")
	fs.IntVar(&c.maxDeliver, "max-deliver", 5, "deliveries of a unit before it is dead-lettered")
	fs.IntVar(&c.replicas, "replicas", 0, "replicas of the work and dead-letter streams: 1 for one server, 3 recommended on a cluster (0: keep an existing stream's count, 1 for a new one)")
}

func (c *connFlags) conn() (coordinator.Conn, error) {
	if c.replicas < 0 {
		return coordinator.Conn{}, cli.Usagef("--replicas %d: want 0 or more", c.replicas)
	}
	dsn, err := c.ch.DSN()
	if err != nil {
		return coordinator.Conn{}, err
	}
	qc, err := c.nats.Config("ptrsweep-coordinator", c.ackWait, c.maxDeliver)
	if err != nil {
		return coordinator.Conn{}, err
	}
	return coordinator.Conn{NATS: qc.URL, NATSAuth: qc.Auth, ClickHouse: dsn, AckWait: c.ackWait, MaxDeliver: c.maxDeliver, Replicas: c.replicas}, nil
}

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	var pf planFlags
	var cf connFlags
	var rf connflags.Resolver
	pf.register(fs)
	cf.register(fs, "NATS URL of an external JetStream server (default: an embedded server)")
	cf.registerQueue(fs)
	rf.Register(fs, "the sweep's")
	workers := fs.Int("workers", 4, "workers to run in-process")
	units := fs.Int("units", 4, "units each in-process worker resolves at once")
	batchRows := fs.Int("batch-rows", 50000, "rows per ClickHouse insert")
	flush := fs.Duration("flush-interval", 500*time.Millisecond, "longest wait before a partial batch is inserted")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, "coordinator sweep --cidr CIDR[,…] [flags]")
		}
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
	cfg.Worker.Heartbeat = max(conn.AckWait/4, time.Second)
	sum, err := coordinator.Sweep(ctx, cfg)
	if sum.Scan != "" && (err == nil || errors.Is(err, coordinator.ErrUnitsFailed)) {
		sum.Print(stdout)
	}
	return err
}

func cmdPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	var pf planFlags
	var cf connFlags
	pf.register(fs)
	cf.register(fs, "NATS URL of the JetStream server (required)")
	cf.registerQueue(fs)
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, "coordinator publish --cidr CIDR[,…] --nats URL [flags]")
		}
		return err
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
	return coordinator.Publish(ctx, conn, pl, stdout)
}

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var cf connFlags
	cf.register(fs, "NATS URL, to show the queue as well (optional)")
	scan := fs.String("scan", "", "scan name (required)")
	watch := fs.Bool("watch", false, "reprint the status until the scan completes")
	wait := fs.Bool("wait", false, "block until the scan completes: exit 0 if every unit is done, 1 if some failed")
	interval := fs.Duration("interval", 2*time.Second, "refresh interval for --watch and --wait")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, "coordinator status --scan NAME [--watch | --wait]")
		}
		return err
	}
	if *scan == "" {
		return cli.Usagef("--scan is required")
	}
	if *watch && *wait {
		return cli.Usagef("--watch and --wait exclude each other")
	}
	conn, err := cf.conn()
	if err != nil {
		return err
	}
	return coordinator.Status(ctx, coordinator.StatusConfig{Conn: conn, Scan: *scan, Watch: *watch, Wait: *wait, Interval: *interval}, stdout)
}

func cmdRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("retry", flag.ContinueOnError)
	var cf connFlags
	cf.register(fs, "NATS URL of the JetStream server (required)")
	scan := fs.String("scan", "", "scan name (required)")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, "coordinator retry --scan NAME --nats URL")
		}
		return err
	}
	if *scan == "" || cf.nats.URL() == "" {
		return cli.Usagef("--scan and --nats are required")
	}
	conn, err := cf.conn()
	if err != nil {
		return err
	}
	return coordinator.Retry(ctx, conn, *scan, stdout)
}

func cmdSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	var ch connflags.ClickHouse
	ch.Register(fs)
	suffix := fs.String("suffix", "", "domain suffix, matched on whole labels (required)")
	scan := fs.String("scan", "", "only this scan (default: every scan)")
	format := fs.String("format", "table", "output: ips, table, csv or json")
	group := fs.String("group", "", "group results: netblock (per-/24 counts and merged CIDRs)")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, "coordinator search --suffix DOMAIN [--scan NAME] [--format ips|table|csv|json] [--group netblock]")
		}
		return err
	}
	if *suffix == "" {
		return cli.Usagef("--suffix is required (e.g. --suffix security.ipip.net)")
	}
	if _, err := store.NormalizeSuffix(*suffix); err != nil {
		return cli.Usagef("--suffix: %v", err)
	}
	switch *format {
	case "ips", "table", "csv", "json":
	default:
		return cli.Usagef("--format %q: want ips, table, csv or json", *format)
	}
	if *group != "" && *group != "netblock" {
		return cli.Usagef("--group %q: want netblock", *group)
	}
	dsn, err := ch.DSN()
	if err != nil {
		return err
	}
	return coordinator.Search(ctx, coordinator.SearchConfig{ClickHouse: dsn, Suffix: *suffix, Scan: *scan, Format: *format, Group: *group}, stdout)
}

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var ch connflags.ClickHouse
	ch.Register(fs)
	scan := fs.String("scan", "", "scan name (required)")
	format := fs.String("format", "jsonl", "output: jsonl or sonar")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, "coordinator export --scan NAME [--format jsonl|sonar]")
		}
		return err
	}
	if *scan == "" {
		return cli.Usagef("--scan is required")
	}
	if *format != "jsonl" && *format != "sonar" {
		return cli.Usagef("--format %q: want jsonl or sonar", *format)
	}
	dsn, err := ch.DSN()
	if err != nil {
		return err
	}
	return coordinator.Export(ctx, dsn, *scan, *format, stdout)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
