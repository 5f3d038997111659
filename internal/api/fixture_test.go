package api_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
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
	// lab2Scan is a registered scan of the lab's fleet /24 copied from
	// labScan with three changes (see lab2Changes).
	lab2Scan = "lab2"
)

// The changes of lab2Scan to labScan: one name renamed, one address gone,
// one new address.
const (
	lab2Renamed  = "198.18.11.9"
	lab2Gone     = "198.18.11.17"
	lab2New      = "198.18.11.200"
	lab2NewName  = "scan-999.security.fleet.example"
	lab2RenameTo = "renamed.security.fleet.example"
)

// asnNets is the IP-to-ASN table stored in the fixture: the fleet /24 is
// split between two providers inside a transit /15 (longest match wins).
var asnNets = []struct {
	net     netip.Prefix
	asn     uint32
	name    string
	country string
}{
	{netip.MustParsePrefix("198.18.0.0/15"), 64511, "Lab Transit", "DE"},
	{netip.MustParsePrefix("198.18.11.0/25"), 64496, "Fleet Hosting A", "US"},
	{netip.MustParsePrefix("198.18.11.128/25"), 64497, "Fleet Hosting B", "NL"},
}

// asnOf is the longest match of a in asnNets, as the table answers.
func asnOf(a netip.Addr) (netip.Prefix, uint32, string, string) {
	best := -1
	for i, n := range asnNets {
		if n.net.Contains(a) && (best < 0 || n.net.Bits() > asnNets[best].net.Bits()) {
			best = i
		}
	}
	if best < 0 {
		p, _ := a.Prefix(24)
		return p, 0, "", ""
	}
	n := asnNets[best]
	return n.net, n.asn, n.name, n.country
}

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
	// lab2: the fleet /24 of lab, changed.
	if err := st.Exec(ctx, `INSERT INTO ptr (scan, rname, ip, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country)`+
		` SELECT 'lab2', if(ip = IPv4StringToNum('`+lab2Renamed+`'), 'example.fleet.security.renamed', rname), ip,`+
		` if(ip = IPv4StringToNum('`+lab2Renamed+`'), '`+lab2RenameTo+`', ptr), status, ttl, fcrdns, unit, resolved_at + 86400, attempt, asn, country`+
		` FROM ptr WHERE scan = 'lab' AND ip BETWEEN IPv4StringToNum('198.18.11.0') AND IPv4StringToNum('198.18.11.255') AND ip != IPv4StringToNum('`+lab2Gone+`')`); err != nil {
		t.Fatal(err)
	}
	if err := st.Exec(ctx, `INSERT INTO ptr (scan, rname, ip, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country)`+
		` SELECT 'lab2', 'example.fleet.security.scan-999', IPv4StringToNum('`+lab2New+`'), '`+lab2NewName+`', 'ok', 60, 'confirmed', '198.18.11.0/24', now() + 86400, 1, 0, ''`); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveScan(ctx, sweep.ScanRecord{Name: lab2Scan, CIDRs: []string{"198.18.11.0/24"}, UnitPrefix: 24, Units: 1, Addresses: 256}); err != nil {
		t.Fatal(err)
	}
	var b enrich.Builder
	for _, n := range asnNets {
		if err := b.Add(n.net, n.asn, n.country, 0); err != nil {
			t.Fatal(err)
		}
		b.SetName(n.asn, n.name)
	}
	tab, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveASNTable(ctx, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "fixture", "pfx2as", tab); err != nil {
		t.Fatal(err)
	}
	f := &fixture{dsn: dsn, st: st}
	for _, scan := range []string{labScan, enrichedScan, lab2Scan} {
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
