package api_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// labScan is the scan of the lab's first /20 (one /24 of every class,
// the first fleet /24 among them); enrichedScan holds rows with an AS
// number and a country, which the lab's sweep does not fill.
const (
	labScan      = "lab"
	enrichedScan = "enriched"
)

// fixture is a database with the lab's first /20 swept into it (with
// forward confirmation) and a few enriched rows, and every stored row as
// Export reads it: the truth the API's answers are compared with.
type fixture struct {
	dsn  string
	st   *store.Store
	rows []store.Record
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	l, srv := labtest.Start(t)
	dsn := storetest.DSN(t)
	ctx := context.Background()
	space := netip.PrefixFrom(l.Space().Addr(), 20)
	p, err := plan.New(plan.Request{Scan: labScan, CIDRs: []netip.Prefix{space}, UnitPrefix: 24,
		Options: sweep.Options{Confirm: true, AllowReserved: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coordinator.Sweep(ctx, coordinator.SweepConfig{
		Conn: coordinator.Conn{ClickHouse: dsn}, Plan: p, Workers: 2,
		Resolve: resolve.Config{Servers: []string{srv.Addr()}, Timeout: 500 * time.Millisecond, Retries: 3},
	}); err != nil {
		t.Fatalf("sweep the lab: %v", err)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Enriched rows: three addresses of one AS in JP, one in another AS in DE.
	if err := st.Exec(ctx, `INSERT INTO ptr (scan, rname, ip, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country) SELECT 'enriched', 'example.fleet.security.scan-900', IPv4StringToNum('198.18.250.1'), 'scan-900.security.fleet.example', 'ok', 60, 'confirmed', '198.18.250.0/24', now(), 1, 64500, 'JP' UNION ALL SELECT 'enriched', 'example.fleet.security.scan-901', IPv4StringToNum('198.18.250.2'), 'scan-901.security.fleet.example', 'ok', 60, 'mismatch', '198.18.250.0/24', now(), 1, 64500, 'JP' UNION ALL SELECT 'enriched', '', IPv4StringToNum('198.18.250.3'), '', 'timeout', 60, '', '198.18.250.0/24', now(), 1, 64500, 'JP' UNION ALL SELECT 'enriched', 'example.other.host-1', IPv4StringToNum('198.18.250.4'), 'host-1.other.example', 'ok', 60, '', '198.18.250.0/24', now(), 1, 64501, 'DE'`); err != nil {
		t.Fatal(err)
	}
	f := &fixture{dsn: dsn, st: st}
	for _, scan := range []string{labScan, enrichedScan} {
		if err := st.Export(ctx, scan, func(r sweep.Row) error {
			f.rows = append(f.rows, store.Record{Row: r})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range f.rows {
		if f.rows[i].Scan == enrichedScan {
			f.rows[i].Country = "JP"
			f.rows[i].ASN = 64500
			if f.rows[i].PTR == "host-1.other.example" {
				f.rows[i].ASN, f.rows[i].Country = 64501, "DE"
			}
		}
	}
	slices.SortFunc(f.rows, func(a, b store.Record) int {
		if c := a.IP.Compare(b.IP); c != 0 {
			return c
		}
		if c := strings.Compare(a.PTR, b.PTR); c != 0 {
			return c
		}
		return strings.Compare(a.Scan, b.Scan)
	})
	return f
}

// where returns the rows for which keep holds, in the API's order.
func (f *fixture) where(keep func(store.Record) bool) []store.Record {
	var out []store.Record
	for _, r := range f.rows {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// hasSuffix is ptr_part's match: the name or a name ending in "."+s.
func hasSuffix(name, s string) bool { return name == s || strings.HasSuffix(name, "."+s) }
