package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// runResolve is `worker resolve`: the resolution engine alone, like massdns
// or zdns. It reads addresses or CIDRs on stdin, one per line, and writes
// JSONL rows (the fields and rules of `coordinator export --format jsonl`)
// to stdout, and a summary line to stderr.
func runResolve(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker resolve", flag.ContinueOnError)
	var rf cli.Resolver
	rf.Register(fs, "the")
	confirm := fs.Bool("confirm", false, "forward-confirm every PTR name (FCrDNS)")
	prune := fs.Bool("prune", true, "skip the addresses of reverse zones that answer NXDOMAIN (RFC 8020)")
	scan := fs.String("scan", "", "scan name written in every row")
	units := fs.Int("units", 64, "input blocks (a /24 or an address) resolved at once")
	allowReserved := fs.Bool("allow-reserved", false, "accept input in the IANA special-purpose ranges (private, loopback, documentation, benchmarking…)")
	excludeFile := fs.String("exclude-file", "", "blocklist: CIDRs, one per line; input overlapping it is refused")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, "worker resolve [--resolvers …] [--qps N] [--confirm] [--prune=false] < addresses")
		}
		return err
	}
	rc, err := rf.Config()
	if err != nil {
		return err
	}
	if *units < 1 {
		return cli.Usagef("--units %d: want at least 1", *units)
	}
	if *scan != "" {
		if err := validScan(*scan); err != nil {
			return err
		}
	}
	refused, err := readExcludeFile(*excludeFile)
	if err != nil {
		return err
	}
	if !*allowReserved {
		refused = refused.Union(cidr.ReservedSet())
	}
	res, err := resolve.New(rc)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	w, err := output.NewWriter(stdout, "jsonl")
	if err != nil {
		return err
	}
	opts := sweep.Options{Confirm: *confirm, NoPrune: !*prune}

	start := time.Now()
	var (
		mu     sync.Mutex // guards w, counts, rows, werr
		counts sweep.Counts
		rows   []sweep.Row
		werr   error
		wg     sync.WaitGroup
		rerr   error
		rerrMu sync.Mutex
	)
	slots := make(chan struct{}, *units)
	work := func(u sweep.Unit) {
		defer wg.Done()
		defer func() { <-slots }()
		err := res.Resolve(ctx, u, func(r sweep.Result) {
			mu.Lock()
			defer mu.Unlock()
			counts.Add(r)
			rows = sweep.Rows(rows[:0], u, r)
			for _, row := range rows {
				if werr == nil {
					werr = w.Write(row)
				}
			}
		})
		if err != nil {
			rerrMu.Lock()
			if rerr == nil {
				rerr = fmt.Errorf("resolve %s: %w", u.Prefix, err)
			}
			rerrMu.Unlock()
		}
	}
	inputErr := readBlocks(ctx, stdin, refused, func(p sweep.Unit) {
		slots <- struct{}{}
		wg.Add(1)
		p.Scan, p.Options = *scan, opts
		go work(p)
	})
	wg.Wait()
	if err := w.Flush(); err != nil && werr == nil {
		werr = err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stderr, "worker resolve: %d addresses, %d PTRs in %s (%.0f addresses/s, %d queries, %.0f qps); %s\n",
		counts.Addresses(), counts.PTRs, elapsed.Round(time.Millisecond), float64(counts.Addresses())/max(elapsed.Seconds(), 1e-9),
		counts.Queries, float64(counts.Queries)/max(elapsed.Seconds(), 1e-9), counts)
	fmt.Fprintf(stderr, "worker resolve: %s\n", res.Stats())
	switch {
	case inputErr != nil:
		return inputErr
	case werr != nil:
		return fmt.Errorf("write rows: %w", werr)
	case rerr != nil:
		return rerr
	}
	return nil
}

// readBlocks parses stdin (addresses or CIDRs, one per line, # comments)
// and hands out blocks of at most a /24. A bad line, or one that overlaps
// refused (reserved ranges unless --allow-reserved, and --exclude-file),
// stops the input with a usage error naming it; blocks already handed out
// are still resolved.
func readBlocks(ctx context.Context, r io.Reader, refused cidr.Set, block func(sweep.Unit)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		ps, err := cidr.ParseList(line)
		if err != nil {
			return cli.Usagef("stdin:%d: %v", n, err)
		}
		for _, p := range ps {
			if in := cidr.NewSet(p).Intersect(refused); !in.Empty() {
				return cli.Usagef("stdin:%d: %s overlaps reserved or excluded ranges (%s); pass --allow-reserved for special-purpose space", n, p, in)
			}
		}
		for _, p := range ps {
			for sub := range cidr.Subnets(p, max(24, p.Bits())) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				block(sweep.Unit{Prefix: sub})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin after line %d: %w", n, err)
	}
	return nil
}
