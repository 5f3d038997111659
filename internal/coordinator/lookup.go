package coordinator

import (
	"context"
	"fmt"
	"io"
	"net/netip"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// DefaultLookupFormat is the format of a lookup without --format.
const DefaultLookupFormat = "table"

// LookupConfig configures Lookup.
type LookupConfig struct {
	ClickHouse string
	// Target is the address (a /32) or block to look up.
	Target netip.Prefix
	// Scan restricts the lookup to one scan; empty shows every scan.
	Scan string
	// Format is table (default), json or csv.
	Format string
	// Filter keeps only the rows it selects.
	Filter analytics.Filter
	// Notes receives remarks for the user (stderr); nil discards them.
	Notes io.Writer
}

// addressStore reads rows by address and the IP-to-ASN ranges they need.
type addressStore interface {
	LookupRows(ctx context.Context, q store.AddressQuery, emit func(sweep.Row) error) error
	LoadASNRanges(ctx context.Context, first, last netip.Addr) (*enrich.Table, store.ASNVersion, error)
}

// Lookup prints the stored PTRs, outcomes and forward confirmation of the
// addresses of cfg.Target with their routed network, AS and country, and
// across several scans their history.
func Lookup(ctx context.Context, cfg LookupConfig, out io.Writer) error {
	if cfg.Format == "" {
		cfg.Format = DefaultLookupFormat
	}
	return withStore(ctx, cfg.ClickHouse, func(st *store.Store) error { return lookup(ctx, st, cfg, out) })
}

func lookup(ctx context.Context, st addressStore, cfg LookupConfig, out io.Writer) error {
	hw, err := analytics.NewHistoryWriter(out, cfg.Format)
	if err != nil {
		return err
	}
	first, last := cidr.Bounds(cfg.Target)
	t, _, err := st.LoadASNRanges(ctx, first, last)
	e, err := asEnricher(t, err, cfg.Notes)
	if err != nil {
		return err
	}
	q := store.AddressQuery{First: first, Last: last, Scan: cfg.Scan, Statuses: cfg.Filter.Statuses, FCrDNS: cfg.Filter.FCrDNS}
	err = analytics.Histories(func(emit func(sweep.Row) error) error { return st.LookupRows(ctx, q, emit) }, e, hw.Write)
	if err != nil {
		return err
	}
	if err := hw.Flush(); err != nil {
		return err
	}
	if hw.Count() == 0 {
		note(cfg.Notes, fmt.Sprintf("note: no stored rows for %v (NXDOMAIN addresses store none)", cfg.Target))
	}
	return nil
}

// note writes one line to w unless w is nil.
func note(w io.Writer, line string) {
	if w != nil {
		fmt.Fprintln(w, line)
	}
}
