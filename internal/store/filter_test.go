package store

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// TestFilterInSQL checks that Search and ExportWhere select rows by
// outcome and forward confirmation in the query, and that the stored ASN
// and country come back with every row of Search and Export (ExportWhere
// does not read them).
func TestFilterInSQL(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	row := func(ip, ptr string, st sweep.Status, f sweep.FCrDNS) sweep.Row {
		return sweep.Row{Scan: "f", Unit: "198.51.100.0/24", IP: netip.MustParseAddr(ip), PTR: ptr, Status: st, FCrDNS: f,
			ResolvedAt: at, Attempt: 1, ASN: 64500, Country: "NL"}
	}
	rows := []sweep.Row{
		row("198.51.100.1", "a.fleet.example", sweep.StatusOK, sweep.FCrDNSConfirmed),
		row("198.51.100.2", "b.fleet.example", sweep.StatusOK, sweep.FCrDNSMismatch),
		row("198.51.100.3", "c.fleet.example", sweep.StatusOK, sweep.FCrDNSNoAddress),
		row("198.51.100.4", "", sweep.StatusTimeout, sweep.FCrDNSNone),
		row("198.51.100.5", "", sweep.StatusServFail, sweep.FCrDNSNone),
	}
	if err := s.InsertRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter RowFilter
		search []string // addresses Search returns (suffix fleet.example)
		export []string // addresses ExportWhere returns
	}{
		{"none", RowFilter{}, []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"},
			[]string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"}},
		{"mismatch, no_address", RowFilter{FCrDNS: []sweep.FCrDNS{sweep.FCrDNSMismatch, sweep.FCrDNSNoAddress}},
			[]string{"198.51.100.2", "198.51.100.3"}, []string{"198.51.100.2", "198.51.100.3"}},
		{"timeout", RowFilter{Statuses: []sweep.Status{sweep.StatusTimeout}}, nil, []string{"198.51.100.4"}},
		{"fcrdns none", RowFilter{FCrDNS: []sweep.FCrDNS{sweep.FCrDNSNone}}, nil, []string{"198.51.100.4", "198.51.100.5"}},
		{"ok and confirmed", RowFilter{Statuses: []sweep.Status{sweep.StatusOK}, FCrDNS: []sweep.FCrDNS{sweep.FCrDNSConfirmed}},
			[]string{"198.51.100.1"}, []string{"198.51.100.1"}},
	}
	for _, tt := range tests {
		var got []string
		collect := func(asn uint32, country string) func(r sweep.Row) error {
			return func(r sweep.Row) error {
				if r.ASN != asn || r.Country != country {
					t.Errorf("%s: row %v read back with %d %q, want %d %q", tt.name, r.IP, r.ASN, r.Country, asn, country)
				}
				got = append(got, r.IP.String())
				return nil
			}
		}
		if err := s.Search(ctx, Query{Suffix: "fleet.example", Scan: "f", Filter: tt.filter}, collect(64500, "NL")); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.search) {
			t.Errorf("%s: Search = %v, want %v", tt.name, got, tt.search)
		}
		got = nil
		if err := s.ExportWhere(ctx, "f", tt.filter, collect(0, "")); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.export) {
			t.Errorf("%s: ExportWhere = %v, want %v", tt.name, got, tt.export)
		}
	}
	var got []string
	if err := s.Export(ctx, "f", func(r sweep.Row) error {
		if r.ASN != 64500 || r.Country != "NL" || r.Unit != "198.51.100.0/24" {
			t.Errorf("Export: row %v read back with %d %q unit %q, want 64500 NL 198.51.100.0/24", r.IP, r.ASN, r.Country, r.Unit)
		}
		got = append(got, r.IP.String())
		return nil
	}); err != nil || len(got) != len(rows) {
		t.Errorf("Export = %v, %v; want all %d rows", got, err, len(rows))
	}
}
