// Package bulk resolves an address stream with the engine: it reads any mix
// of addresses, CIDRs, ranges and in-addr.arpa names (plain or gzip, from a
// file or standard input) as a stream, cuts it into bounded batches, keeps a
// few batches in flight so the engine's window stays full, writes each
// answer's rows as it arrives (jsonl, sonar or massdns), and reports
// progress and a summary. It is `worker resolve`. Memory does not grow with
// the input: a 100-million-line list is never held whole.
package bulk

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Defaults of Config.
const (
	// DefaultBatch is the number of addresses handed to the engine in one
	// ResolveAddrs call.
	DefaultBatch = 4096
	// MinBatch is the smallest batch: a /24 of a CIDR line always goes to
	// the engine whole, so that empty-zone pruning can work on it.
	MinBatch = 256
	// DefaultInFlight is the number of batches resolved at once.
	DefaultInFlight = 4
	// DefaultFormat is the output format.
	DefaultFormat = "jsonl"
	// progressEvery is how often the progress line is redrawn.
	progressEvery = 500 * time.Millisecond
)

// Resolver is the engine as bulk uses it. *resolve.Resolver satisfies it.
type Resolver interface {
	// ResolveAddrs resolves every address of addrs (duplicates included)
	// with opts and calls emit once per address with its Result, possibly
	// from several goroutines at once; it returns once every address is
	// emitted, or with an error (ctx.Err() when ctx ends first). Several
	// calls may run at once.
	ResolveAddrs(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error
	// Stats returns the engine's counters, for the summary.
	Stats() resolve.Stats
}

// Config is one run of Run. Errors name its fields by the flags of worker
// resolve (Input --input, Output --output, Format --format, Batch --batch,
// InFlight --units). Resolver, Batch, InFlight and, for standard
// input and output, Stdin and Stdout are required; zero values of the rest
// are the defaults.
type Config struct {
	Resolver Resolver
	// Input is the file to read ("" or "-": Stdin). Gzip is recognised by
	// its magic bytes, whatever the file is called.
	Input string
	Stdin io.Reader
	// Output is the file to write ("" or "-": Stdout); it is created or
	// truncated.
	Output string
	Stdout io.Writer
	// Format is one of output.Streaming (default jsonl).
	Format string
	// Scan is the scan name written in every row.
	Scan string
	// Options are the engine's options. Unless Options.AllowReserved, input
	// in the IANA special-purpose ranges is refused.
	Options sweep.Options
	// Exclude is refused input: a line that overlaps it stops the run.
	Exclude cidr.Set
	// Batch is the number of addresses per ResolveAddrs call: at least
	// MinBatch (DefaultBatch is a good choice).
	Batch int
	// InFlight is the number of batches resolved at once: at least 1
	// (DefaultInFlight is a good choice).
	InFlight int
	// Stderr receives the progress line and the summary (nil: neither).
	Stderr io.Writer
	// Progress draws a progress line on Stderr, redrawn in place: set it
	// when Stderr is a terminal.
	Progress bool
	// Quiet leaves out the progress line and the summary; errors are
	// still returned.
	Quiet bool
	// Name prefixes the summary lines (default "worker resolve").
	Name string
}

// check fills in defaults and validates c.
func (c *Config) check() error {
	if c.Resolver == nil {
		return configErrorf("no resolver")
	}
	c.Format = cmp.Or(c.Format, DefaultFormat)
	c.Name = cmp.Or(c.Name, "worker resolve")
	switch {
	case !slices.Contains(output.Streaming, c.Format):
		return configErrorf("--format %q: want %s", c.Format, strings.Join(output.Streaming, ", "))
	case c.Batch < MinBatch:
		return configErrorf("--batch %d: want at least %d addresses (a whole /24)", c.Batch, MinBatch)
	case c.InFlight < 1:
		return configErrorf("--units %d: want at least 1 batch in flight", c.InFlight)
	}
	if c.Quiet || c.Stderr == nil {
		c.Progress, c.Stderr = false, io.Discard
	}
	return nil
}

// Check validates cfg as Run does, without opening the input or the
// output (for --check-config). Errors wrap ErrConfig.
func Check(cfg Config) error { return cfg.check() }

// Run reads the input, resolves every address and writes the rows, until
// the input ends, a line is bad, ctx ends, writing fails or the engine
// fails. Rows of the addresses read before a stop are written before Run
// returns. A bad or refused line gives an error wrapping ErrInput that
// names the line; an interrupted run gives ctx.Err(). Unless Quiet, Run
// writes a summary to Stderr even when it fails.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	in, err := openInput(cfg.Input, cfg.Stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	out, closeOut, err := openOutput(cfg.Output, cfg.Stdout)
	if err != nil {
		return err
	}
	w, err := output.NewWriter(out, cfg.Format)
	if err != nil {
		closeOut()
		return configErrorf("--format: %w", err)
	}
	refused := cfg.Exclude
	if !cfg.Options.AllowReserved {
		refused = refused.Union(cidr.ReservedSet())
	}

	start := time.Now()
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	s := &sink{w: w, scan: cfg.Scan, stop: stopReading}
	var pwg sync.WaitGroup
	progressCtx, stopProgress := context.WithCancel(ctx)
	if cfg.Progress {
		p := &progress{w: cfg.Stderr, name: cfg.Name, done: &s.done, in: in, start: start}
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			p.run(progressCtx, progressEvery)
		}()
	}
	f := newFeeder(ctx, readCtx, cfg, s)
	inputErr := f.read(cidr.NewLines(in, in.name), cfg.Exclude, refused)
	f.wait()
	stopProgress()
	pwg.Wait()

	werr := s.writeErr()
	if err := w.Flush(); err != nil && werr == nil {
		werr = err
	}
	if err := closeOut(); err != nil && werr == nil {
		werr = err
	}
	if !cfg.Quiet {
		s.summary(cfg.Stderr, cfg.Name, time.Since(start), cfg.Resolver.Stats())
	}
	switch {
	case inputErr != nil:
		return inputErr
	case werr != nil:
		return fmt.Errorf("write rows: %w", werr)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return s.resolveErr()
}

// openOutput returns the output and its closer.
func openOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		if stdout == nil {
			return nil, nil, configErrorf("no output")
		}
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, configErrorf("--output: %w", err)
	}
	return f, f.Close, nil
}
