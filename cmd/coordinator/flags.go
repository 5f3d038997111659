package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// planFlags are the flags that plan a scan (sweep and publish).
type planFlags struct {
	cidrs, exclude, excludeFile, scan string
	allowReserved, confirm, prune     bool
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
	fs.BoolVar(&p.prune, "prune", true, "skip the addresses of reverse zones that answer NXDOMAIN (RFC 8020); --prune=false resolves every address")
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
	pl, err := plan.New(plan.Request{Scan: name, CIDRs: cidrs, Exclude: excl,
		UnitPrefix: p.unitPrefix, Options: sweep.Options{Confirm: p.confirm, NoPrune: !p.prune, AllowReserved: p.allowReserved}})
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
	nats       cli.NATS
	ch         cli.ClickHouse
	ackWait    time.Duration
	maxDeliver int
	replicas   int
}

func (c *connFlags) register(fs *flag.FlagSet, natsHelp string) {
	c.nats.Register(fs, natsHelp)
	c.ch.Register(fs)
}

func (c *connFlags) registerQueue(fs *flag.FlagSet) {
	fs.DurationVar(&c.ackWait, "ack-wait", queue.DefaultAckWait, "how long a delivered unit may go without a heartbeat before it is redelivered")
	fs.IntVar(&c.maxDeliver, "max-deliver", queue.DefaultMaxDeliver, "deliveries of a unit before it is dead-lettered")
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
	// The coordinator names each of its clients itself.
	qc, err := c.nats.Config("", c.ackWait, c.maxDeliver)
	if err != nil {
		return coordinator.Conn{}, err
	}
	qc.Replicas = c.replicas
	return coordinator.Conn{Queue: qc, ClickHouse: dsn}, nil
}

// registerMaxPending registers --max-pending (publish and sweep).
func registerMaxPending(fs *flag.FlagSet) *int {
	return fs.Int("max-pending", coordinator.DefaultMaxPending,
		"most units of the scan kept in the work stream: publish more as workers drain it to half (0: publish every unit at once)")
}

// describe returns the fields of a command's config-ok line: its name,
// more, then where conn leads (without secrets).
func describe(cmd string, conn coordinator.Conn, more ...string) []string {
	return append(append([]string{"coordinator " + cmd}, more...), cli.DescribeNATS(conn.Queue), cli.DescribeClickHouse(conn.ClickHouse))
}

// describePlan returns the fields of a config-ok line for a planned scan.
func describePlan(pl *plan.Plan) string {
	return fmt.Sprintf("scan=%s units=%d addresses=%d", pl.Record().Name, pl.Len(), pl.Addresses())
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
