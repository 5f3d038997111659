package analytics

import (
	"encoding/json"
	"fmt"
	"io"
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

// Fleets groups the named rows of a stream by template (see
// internal/fleet) with e's routing data (nil: /24 netblocks, ASN 0) and
// returns the templates with at least minAddresses addresses, largest
// first. Memory grows with the distinct names and addresses of the stream:
// give it one scan or one suffix.
func Fleets(stream func(emit func(sweep.Row) error) error, e Enricher, minAddresses int) ([]Fleet, error) {
	agg := fleet.NewAggregator()
	err := stream(func(r sweep.Row) error {
		if r.PTR == "" {
			return nil
		}
		info := Describe(e, r.IP)
		agg.Add(fleet.Row{IP: r.IP, PTR: r.PTR, ASN: info.ASN, Country: info.Country, Netblock: info.Net})
		return nil
	})
	if err != nil {
		return nil, err
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
