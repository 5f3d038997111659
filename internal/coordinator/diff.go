package coordinator

import (
	"context"
	"fmt"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// DiffConfig configures Diff.
type DiffConfig struct {
	ClickHouse string
	From, To   string
	// Suffix restricts the diff to names under a domain suffix: an
	// address is compared by its names under the suffix only.
	Suffix string
	// Format is table (default), json or csv.
	Format string
	// Notes receives the counts of a csv diff (stderr); nil discards them.
	Notes io.Writer
}

// Validate checks the config; its errors name the flag.
func (c DiffConfig) Validate() error {
	if c.From == "" || c.To == "" {
		return fmt.Errorf("give both --from SCAN and --to SCAN")
	}
	if c.From == c.To {
		return fmt.Errorf("--from and --to are both %q: give two scans", c.From)
	}
	switch c.Format {
	case "", "table", "json", "csv":
	default:
		return fmt.Errorf("--format %q: want table, json or csv", c.Format)
	}
	return nil
}

// Diff prints the addresses whose PTR names appeared, disappeared or
// changed from one scan to another, then the counts.
func Diff(ctx context.Context, cfg DiffConfig, out io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	return withStore(ctx, cfg.ClickHouse, func(st *store.Store) error { return diff(ctx, st, cfg, out) })
}

func diff(ctx context.Context, st scanRows, cfg DiffConfig, out io.Writer) error {
	if cfg.Format == "" {
		cfg.Format = "table"
	}
	dw, err := analytics.NewDiffWriter(out, cfg.Format)
	if err != nil {
		return err
	}
	from, err := rowStream(ctx, st, cfg.From, cfg.Suffix)
	if err != nil {
		return err
	}
	to, err := rowStream(ctx, st, cfg.To, cfg.Suffix)
	if err != nil {
		return err
	}
	counts, err := analytics.Diff(ctx, from, to, dw.Write)
	if err != nil {
		return err
	}
	if err := dw.Close(counts); err != nil {
		return err
	}
	if cfg.Format == "csv" {
		note(cfg.Notes, counts.String())
	}
	return nil
}
