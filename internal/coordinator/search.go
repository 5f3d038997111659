package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Search's output format and grouping choices.
const (
	// DefaultSearchFormat is the format of a search without --format.
	DefaultSearchFormat = "table"
	// GroupNetblock groups search results by routed netblock (per /24
	// without an IP-to-ASN table).
	GroupNetblock = analytics.GroupNetblock
)

// SearchConfig configures Search.
type SearchConfig struct {
	ClickHouse string
	Suffix     string
	Scan       string
	Format     string // ips, table (default), csv or json
	Group      string // "", netblock, asn or country
	// Filter keeps only the rows it selects (--status, --fcrdns).
	Filter analytics.Filter
	// Notes receives remarks for the user (stderr), e.g. that no IP-to-ASN
	// table is loaded; nil discards them.
	Notes io.Writer
}

// Validate checks Format and Group; its errors name the flag and the
// choices. Search treats an empty Format as DefaultSearchFormat.
func (c SearchConfig) Validate() error {
	switch c.Format {
	case "ips", "table", "csv", "json":
	default:
		return fmt.Errorf("--format %q: want ips, table, csv or json", c.Format)
	}
	if c.Group != "" {
		if _, err := analytics.ParseGroup(c.Group); err != nil {
			return err
		}
	}
	return nil
}

// rowSearcher streams the stored rows a query selects.
type rowSearcher interface {
	Search(ctx context.Context, q store.Query, emit func(sweep.Row) error) error
}

// routesReader looks addresses up in the stored IP-to-ASN table, on the
// server: only their routes come back.
type routesReader interface {
	RoutesOf(ctx context.Context, addrs []netip.Addr, asns []uint32) (*store.AddressRoutes, error)
}

// groupSearcher is what a grouped search needs.
type groupSearcher interface {
	rowSearcher
	routesReader
}

// Search prints every stored PTR whose name is Suffix or ends in "."+Suffix.
func Search(ctx context.Context, cfg SearchConfig, out io.Writer) error {
	if cfg.Format == "" {
		cfg.Format = DefaultSearchFormat
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return withStore(ctx, cfg.ClickHouse, func(st *store.Store) error { return search(ctx, st, cfg, out) })
}

// search writes the rows in cfg.Format, or their groups with cfg.Group;
// cfg is valid.
func search(ctx context.Context, st groupSearcher, cfg SearchConfig, out io.Writer) error {
	q := store.Query{Suffix: cfg.Suffix, Scan: cfg.Scan, Filter: rowFilter(cfg.Filter)}
	if cfg.Group != "" {
		var g analytics.Grouper
		if err := st.Search(ctx, q, g.Add); err != nil {
			return err
		}
		e, err := routesLoader(ctx, st, cfg.Notes)(g.Addrs(), g.StoredASNs())
		if err != nil {
			return err
		}
		return analytics.WriteGroups(out, g.Groups(cfg.Group, e), cfg.Format)
	}
	return writeRows(out, searchFormat(cfg.Format), func(emit func(sweep.Row) error) error {
		return st.Search(ctx, q, emit)
	})
}

// rowFilter is f as the store applies it, in SQL.
func rowFilter(f analytics.Filter) store.RowFilter {
	return store.RowFilter{Statuses: f.Statuses, FCrDNS: f.FCrDNS}
}

// routesLoader returns a loader of the routes of a set of addresses
// from st (see store.RoutesOf). Without a stored table it says so on
// notes and returns a nil Enricher (netblocks are /24s).
func routesLoader(ctx context.Context, st routesReader, notes io.Writer) analytics.RoutesLoader {
	return func(addrs []netip.Addr, asns []uint32) (analytics.Enricher, error) {
		r, err := st.RoutesOf(ctx, addrs, asns)
		return asEnricher(r, err, notes)
	}
}

// asEnricher returns e and err as a load of routing data does: without a
// stored table (err wraps store.ErrNoASNTable) it says so on notes and
// returns a nil Enricher and no error.
func asEnricher[E analytics.Enricher](e E, err error, notes io.Writer) (analytics.Enricher, error) {
	if errors.Is(err, store.ErrNoASNTable) {
		note(notes, noASNTable)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// noASNTable is the note of a command that found no IP-to-ASN table.
const noASNTable = "note: no IP-to-ASN table loaded (coordinator asn load FILE): netblocks are /24s, ASNs and countries only where stored with the rows"

// writeRows writes the rows that stream emits in format, then flushes.
func writeRows(out io.Writer, format string, stream func(emit func(sweep.Row) error) error) error {
	w, err := output.NewWriter(out, format)
	if err != nil {
		return err
	}
	if err := stream(w.Write); err != nil {
		return err
	}
	return w.Flush()
}

// searchFormat maps a search --format to the output package's name.
func searchFormat(f string) string {
	if f == "json" {
		return "jsonl"
	}
	return f
}
