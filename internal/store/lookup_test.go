package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func lookupRow(scan, ip, ptr string, st sweep.Status, fc sweep.FCrDNS, at time.Time) sweep.Row {
	return sweep.Row{Scan: scan, Unit: "198.51.100.0/24", IP: netip.MustParseAddr(ip), PTR: ptr, Status: st, TTL: 300, FCrDNS: fc, ResolvedAt: at}
}

func lookupAll(t *testing.T, s *Store, q AddressQuery) []string {
	t.Helper()
	var got []string
	err := s.LookupRows(context.Background(), q, func(r sweep.Row) error {
		got = append(got, r.Scan+" "+r.IP.String()+" "+r.PTR+" "+r.Status.String()+" "+r.FCrDNS.String())
		return nil
	})
	if err != nil {
		t.Fatalf("LookupRows(%+v): %v", q, err)
	}
	return got
}

func TestLookupRows(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t1 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	rows := []sweep.Row{
		lookupRow("a", "198.51.100.7", "old.example", sweep.StatusOK, sweep.FCrDNSConfirmed, t1),
		lookupRow("b", "198.51.100.7", "new.example", sweep.StatusOK, sweep.FCrDNSMismatch, t2),
		lookupRow("a", "198.51.100.8", "", sweep.StatusServFail, 0, t1),
		lookupRow("a", "198.51.101.1", "far.example", sweep.StatusOK, sweep.FCrDNSConfirmed, t1),
	}
	if err := s.InsertRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRows(ctx, rows[:1]); err != nil { // a redelivery
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("198.51.100.7")
	tests := []struct {
		name string
		q    AddressQuery
		want []string
	}{
		{"one address, every scan, by time", AddressQuery{First: ip, Last: ip},
			[]string{"a 198.51.100.7 old.example ok confirmed", "b 198.51.100.7 new.example ok mismatch"}},
		{"one scan", AddressQuery{First: ip, Last: ip, Scan: "b"}, []string{"b 198.51.100.7 new.example ok mismatch"}},
		{"a /24", AddressQuery{First: netip.MustParseAddr("198.51.100.0"), Last: netip.MustParseAddr("198.51.100.255")},
			[]string{"a 198.51.100.7 old.example ok confirmed", "b 198.51.100.7 new.example ok mismatch", "a 198.51.100.8  servfail "}},
		{"status filter", AddressQuery{First: netip.MustParseAddr("198.51.0.0"), Last: netip.MustParseAddr("198.51.255.255"), Statuses: []sweep.Status{sweep.StatusServFail, sweep.StatusTimeout}},
			[]string{"a 198.51.100.8  servfail "}},
		{"fcrdns filter", AddressQuery{First: netip.MustParseAddr("198.51.0.0"), Last: netip.MustParseAddr("198.51.255.255"), FCrDNS: []sweep.FCrDNS{sweep.FCrDNSMismatch}},
			[]string{"b 198.51.100.7 new.example ok mismatch"}},
	}
	for _, tt := range tests {
		if got := lookupAll(t, s, tt.q); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: LookupRows = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestBackfillByIP checks that a database from before ptr_by_ip gets its
// existing rows copied when the schema creates the table and its view.
func TestBackfillByIP(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, q := range []string{"DROP TABLE ptr_by_ip_mv", "DROP TABLE ptr_by_ip"} {
		if err := s.conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if err := s.InsertRows(ctx, []sweep.Row{lookupRow("old", "203.0.113.9", "before.example", sweep.StatusOK, 0, at)}); err != nil {
		t.Fatal(err)
	}
	if err := s.applySchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRows(ctx, []sweep.Row{lookupRow("new", "203.0.113.9", "after.example", sweep.StatusOK, 0, at)}); err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("203.0.113.9")
	if got, want := lookupAll(t, s, AddressQuery{First: ip, Last: ip}), []string{"new 203.0.113.9 after.example ok ", "old 203.0.113.9 before.example ok "}; !reflect.DeepEqual(got, want) {
		t.Errorf("after backfill: %q, want %q", got, want)
	}
	// applying the schema again copies nothing twice
	if err := s.applySchema(ctx); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM ptr_by_ip").Scan(&n); err != nil || n != 2 {
		t.Errorf("ptr_by_ip holds %d rows (%v), want 2", n, err)
	}
}

func TestLoadASNRanges(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, _, err := s.LoadASNRanges(ctx, netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("1.2.3.4")); err == nil {
		t.Fatal("LoadASNRanges without a table: no error")
	}
	var b enrich.Builder
	for _, p := range []string{"10.0.0.0/8", "10.1.0.0/16", "20.0.0.0/6", "192.0.2.0/24"} {
		if err := b.Add(netip.MustParsePrefix(p), 64500, "NL", 0); err != nil {
			t.Fatal(err)
		}
	}
	b.SetName(64500, "Example")
	tab, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveASNTable(ctx, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "t", "location", tab); err != nil {
		t.Fatal(err)
	}
	part, _, err := s.LoadASNRanges(ctx, netip.MustParseAddr("10.1.2.0"), netip.MustParseAddr("10.1.2.255"))
	if err != nil {
		t.Fatal(err)
	}
	if part.Len() != 1 {
		t.Errorf("LoadASNRanges of a /24 in 10.1.0.0/16: %d ranges, want 1", part.Len())
	}
	info, ok := part.Lookup(netip.MustParseAddr("10.1.2.3"))
	if want := (enrich.Info{Net: netip.MustParsePrefix("10.1.0.0/16"), ASN: 64500, ASName: "Example", Country: "NL"}); !ok || info != want {
		t.Errorf("Lookup = %+v, %v, want %+v", info, ok, want)
	}
	// a range that starts more than a /8 before the address
	far := netip.MustParseAddr("23.255.0.1")
	part, _, err = s.LoadASNRanges(ctx, far, far)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := part.Lookup(far); !ok || info.Net != netip.MustParsePrefix("20.0.0.0/6") {
		t.Errorf("Lookup(%v) = %+v, %v, want 20.0.0.0/6", far, info, ok)
	}
	// an address no range holds
	none := netip.MustParseAddr("198.51.100.1")
	if part, _, err = s.LoadASNRanges(ctx, none, none); err != nil || part.Len() != 0 {
		t.Errorf("LoadASNRanges(%v) = %d ranges, %v, want none", none, part.Len(), err)
	}
}

// TestRoutesOf checks the server-side join of addresses to ranges against
// the table's own Lookup: nested networks, a range over many /16s, an
// address no range holds, the first and the last address of a range, and
// the names of extra ASes.
func TestRoutesOf(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.RoutesOf(ctx, []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil); !errors.Is(err, ErrNoASNTable) {
		t.Fatalf("RoutesOf without a table = %v, want ErrNoASNTable", err)
	}
	var b enrich.Builder
	for i, p := range []string{"10.0.0.0/8", "10.1.0.0/16", "20.0.0.0/6", "192.0.2.0/24", "203.0.113.0/24"} {
		asn := uint32(64500 + i)
		if err := b.Add(netip.MustParsePrefix(p), asn, "NL", 0); err != nil {
			t.Fatal(err)
		}
		b.SetName(asn, fmt.Sprintf("AS number %d", i))
	}
	b.SetName(65001, "Not routing anything") // names live with ranges: not stored
	tab, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveASNTable(ctx, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "t", "location", tab); err != nil {
		t.Fatal(err)
	}
	addrs := []netip.Addr{}
	for _, a := range []string{"192.0.2.5", "10.200.0.1", "23.255.0.1", "20.0.0.0", "23.255.255.255", "10.0.255.255", "10.2.0.0",
		"198.51.100.1", "203.0.113.9", "203.0.113.9", "9.255.255.255"} {
		addrs = append(addrs, netip.MustParseAddr(a))
	}
	r, err := s.RoutesOf(ctx, addrs, []uint32{65001, 64501, 64500, 0}) // no address in 64501's 10.1.0.0/16
	if err != nil {
		t.Fatal(err)
	}
	sameRoutes(t, "RoutesOf", r, tab, addrs)
	for asn, want := range map[uint32]string{65001: "", 64500: "AS number 0", 64501: "AS number 1", 64503: "AS number 3"} {
		if got := r.ASName(asn); got != want {
			t.Errorf("ASName(%d) = %q, want %q", asn, got, want)
		}
	}
	if got := r.Version.Version.Format(time.DateOnly); got != "2026-01-02" {
		t.Errorf("Version = %s, want 2026-01-02", got)
	}
	// the committed slice of Debian's data: every address of a sample
	real := sliceTable(t)
	if err := s.SaveASNTable(ctx, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC), "slice", "location", real); err != nil {
		t.Fatal(err)
	}
	addrs = addrs[:0]
	for rg := range real.All() {
		addrs = append(addrs, rg.First, rg.Last, rg.Last.Next())
	}
	if r, err = s.RoutesOf(ctx, addrs, nil); err != nil {
		t.Fatal(err)
	}
	sameRoutes(t, "RoutesOf of the Debian slice", r, real, addrs)
}

// sameRoutes checks that r routes each address as the table does.
func sameRoutes(t *testing.T, what string, r *AddressRoutes, tab *enrich.Table, addrs []netip.Addr) {
	t.Helper()
	for _, a := range addrs {
		got, gotOK := r.Lookup(a)
		want, wantOK := tab.Lookup(a)
		if got != want || gotOK != wantOK {
			t.Errorf("%s: %v = %+v, %v; want %+v, %v", what, a, got, gotOK, want, wantOK)
		}
	}
}
