package coordinator

import (
	"context"
	"fmt"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// DefaultMinAddresses is the smallest fleet `coordinator fleets` shows
// without --min-addresses.
const DefaultMinAddresses = analytics.DefaultMinAddresses

// FleetsConfig configures Fleets. At least one of Scan and Suffix must be
// set: the rows of one scan or of one suffix are grouped in memory.
type FleetsConfig struct {
	ClickHouse   string
	Scan         string
	Suffix       string
	MinAddresses int
	// Format is table (default) or json.
	Format string
	// Notes receives remarks for the user (stderr); nil discards them.
	Notes io.Writer
}

// Validate checks the config; its errors name the flag.
func (c FleetsConfig) Validate() error {
	if c.Scan == "" && c.Suffix == "" {
		return fmt.Errorf("give --scan NAME or --suffix DOMAIN (or both): fleets groups one scan's or one suffix's names")
	}
	if c.MinAddresses < 1 {
		return fmt.Errorf("--min-addresses %d: want 1 or more", c.MinAddresses)
	}
	switch c.Format {
	case "", "table", "json":
	default:
		return fmt.Errorf("--format %q: want table or json", c.Format)
	}
	return nil
}

// scanRows streams the rows of a scan or of a suffix.
type scanRows interface {
	scanExporter
	rowSearcher
}

// rowSource is scanRows that also looks addresses up in the IP-to-ASN
// table.
type rowSource interface {
	scanRows
	routesReader
}

// Fleets prints the name templates of a scan or a suffix with their
// addresses, netblocks, ASNs and countries, largest first, scanners marked.
func Fleets(ctx context.Context, cfg FleetsConfig, out io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	return withStore(ctx, cfg.ClickHouse, func(st *store.Store) error { return fleets(ctx, st, cfg, out) })
}

func fleets(ctx context.Context, st rowSource, cfg FleetsConfig, out io.Writer) error {
	stream, err := rowStream(ctx, st, cfg.Scan, cfg.Suffix)
	if err != nil {
		return err
	}
	fs, err := analytics.Fleets(stream, routesLoader(ctx, st, cfg.Notes), cfg.MinAddresses)
	if err != nil {
		return err
	}
	if len(fs) == 0 {
		note(cfg.Notes, fmt.Sprintf("note: no template has %d or more addresses", cfg.MinAddresses))
	}
	return analytics.WriteFleets(out, fs, cfg.Format)
}

// rowStream returns the rows of a suffix (in one scan, or every scan) or
// of a whole scan, through the store's deduplicating reads. A scan that
// does not exist is an error naming it.
func rowStream(ctx context.Context, st scanRows, scan, suffix string) (func(emit func(sweep.Row) error) error, error) {
	if scan != "" {
		if err := checkScan(ctx, st, scan); err != nil {
			return nil, err
		}
	}
	if suffix != "" {
		q := store.Query{Suffix: suffix, Scan: scan}
		return func(emit func(sweep.Row) error) error { return st.Search(ctx, q, emit) }, nil
	}
	return func(emit func(sweep.Row) error) error { return st.Export(ctx, scan, emit) }, nil
}
