package analytics

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"text/tabwriter"

	"github.com/ptrsweep/ptrsweep/internal/fleet"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Fleet is one name template and what its names cover; its JSON form is
// the contract of `coordinator fleets --format json`.
type Fleet struct {
	Template  string   `json:"template"`
	Scanner   string   `json:"scanner,omitempty"`
	Addresses int      `json:"addresses"`
	Names     int      `json:"names"`
	Example   string   `json:"example"`
	Netblocks []string `json:"netblocks"`
	ASNs      []uint32 `json:"asns"`
	Countries []string `json:"countries"`
}

// RoutesLoader returns routing data for the distinct addresses of a
// stream and names for the ASNs stored with its rows (see
// store.RoutesOf); a nil Enricher means none (/24 netblocks, ASN 0
// unless stored).
type RoutesLoader func(addrs []netip.Addr, storedASNs []uint32) (Enricher, error)

// DefaultMinAddresses is the smallest fleet shown when no minimum is
// given (`coordinator fleets` without --min-addresses, the API without
// min_addresses).
const DefaultMinAddresses = 2

// Fleets groups the named rows of a stream by template (see
// internal/fleet) and returns the templates with at least minAddresses
// addresses, largest first. Each row's ASN and country are those stored
// with it, or, for rows stored without them, load's; netblocks come from
// load (nil load: /24 netblocks). Memory grows with the named rows of the
// stream (they are held until load has run): give it one scan or one
// suffix.
func Fleets(stream func(emit func(sweep.Row) error) error, load RoutesLoader, minAddresses int) ([]Fleet, error) {
	var (
		named []fleet.Row
		g     Grouper
	)
	err := stream(func(r sweep.Row) error {
		if r.PTR == "" {
			return nil
		}
		named = append(named, fleet.Row{IP: r.IP.Unmap(), PTR: r.PTR})
		return g.Add(r)
	})
	if err != nil {
		return nil, err
	}
	var e Enricher
	if load != nil && len(named) > 0 {
		if e, err = load(g.Addrs(), g.StoredASNs()); err != nil {
			return nil, err
		}
	}
	infos := g.describeAll(e)
	agg := fleet.NewAggregator()
	for _, r := range named {
		info := infos[r.IP]
		r.ASN, r.Country, r.Netblock = info.ASN, info.Country, info.Net
		agg.Add(r)
	}
	fs := agg.Fleets(minAddresses)
	out := make([]Fleet, len(fs))
	for i, f := range fs {
		countries := make([]string, 0, len(f.Countries))
		for _, c := range f.Countries {
			if c != "" {
				countries = append(countries, c)
			}
		}
		out[i] = Fleet{Template: f.Template, Scanner: f.Scanner, Addresses: f.Addresses, Names: f.Names, Example: f.Example,
			Netblocks: prefixStrings(f.Netblocks), ASNs: f.ASNs, Countries: countries}
	}
	return out, nil
}

// WriteFleets writes fleets as JSON (one object per line) or as aligned
// lines such as
//
//	scan-#.security.ipip.net  93 addresses  9 netblocks  2 ASNs  5 countries  scanner (scan)  e.g. scan-30.security.ipip.net
func WriteFleets(w io.Writer, fleets []Fleet, format string) error {
	return buffered(w, func(w io.Writer) error { return writeFleets(w, fleets, format) })
}

func writeFleets(w io.Writer, fleets []Fleet, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, f := range fleets {
			if err := enc.Encode(f); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, f := range fleets {
		asns := 0
		for _, a := range f.ASNs {
			if a != 0 {
				asns++
			}
		}
		mark := ""
		if f.Scanner != "" {
			mark = "scanner (" + f.Scanner + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\te.g. %s\n", f.Template, count(f.Addresses, "address", "addresses"),
			count(len(f.Netblocks), "netblock", "netblocks"), count(asns, "ASN", "ASNs"), count(len(f.Countries), "country", "countries"), mark, f.Example)
	}
	return tw.Flush()
}

// count is "1 address" or "93 addresses".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
