package worker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// fakeASN is an ASNSource of func fields.
type fakeASN struct {
	versions func() ([]store.ASNVersion, error)
	load     func(time.Time) (*enrich.Table, store.ASNVersion, error)
	loads    int
}

func (f *fakeASN) ASNVersions(context.Context) ([]store.ASNVersion, error) { return f.versions() }
func (f *fakeASN) LoadASNTable(_ context.Context, v time.Time) (*enrich.Table, store.ASNVersion, error) {
	f.loads++
	return f.load(v)
}

// tableOf builds a table of one range per prefix with the given AS
// and country.
func tableOf(t *testing.T, nets ...enrich.Info) *enrich.Table {
	t.Helper()
	a := enrich.NewRangeAppender(len(nets))
	for _, in := range nets {
		first, last := cidr.Bounds(in.Net)
		if err := a.Append(enrich.Range{First: first, Last: last, Info: in}); err != nil {
			t.Fatal(err)
		}
	}
	return a.Table()
}

func day(s string) time.Time {
	d, _ := time.Parse(time.DateOnly, s)
	return d
}

// TestRoutesRefresh walks Routes through no table, a first version, the
// same version again, a newer one and a failed load.
func TestRoutesRefresh(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	v1 := store.ASNVersion{Version: day("2026-01-01"), LoadedAt: day("2026-01-02")}
	v2 := store.ASNVersion{Version: day("2026-02-01"), LoadedAt: day("2026-02-02")}
	tables := map[time.Time]*enrich.Table{
		v1.Version: tableOf(t, enrich.Info{Net: netip.MustParsePrefix("192.0.2.0/24"), ASN: 64500, Country: "JP"}),
		v2.Version: tableOf(t, enrich.Info{Net: netip.MustParsePrefix("192.0.2.0/25"), ASN: 64501, Country: "US"}),
	}
	var (
		stored  []store.ASNVersion
		loadErr error
	)
	src := &fakeASN{
		versions: func() ([]store.ASNVersion, error) { return stored, nil },
		load: func(v time.Time) (*enrich.Table, store.ASNVersion, error) {
			if loadErr != nil {
				return nil, store.ASNVersion{}, loadErr
			}
			for _, s := range stored {
				if s.Version.Equal(v) {
					return tables[v], s, nil
				}
			}
			return nil, store.ASNVersion{}, store.ErrNoASNTable
		},
	}
	r := NewRoutes(src, log)
	addr := netip.MustParseAddr("192.0.2.9")
	type route struct {
		asn     uint32
		country string
	}
	steps := []struct {
		name    string
		stored  []store.ASNVersion
		loadErr error
		wantErr bool
		want    route
		loads   int
	}{
		{name: "no table", want: route{0, ""}},
		{name: "still no table", want: route{0, ""}},
		{name: "first version", stored: []store.ASNVersion{v1}, want: route{64500, "JP"}, loads: 1},
		{name: "same version", stored: []store.ASNVersion{v1}, want: route{64500, "JP"}, loads: 1},
		{name: "newer version", stored: []store.ASNVersion{v2, v1}, want: route{64501, "US"}, loads: 2},
		{name: "same version reloaded", stored: []store.ASNVersion{{Version: v2.Version, LoadedAt: day("2026-03-01")}, v1},
			loadErr: errors.New("ranges do not add up"), wantErr: true, want: route{64501, "US"}, loads: 3},
	}
	for _, s := range steps {
		stored, loadErr = s.stored, s.loadErr
		err := r.Refresh(context.Background())
		if (err != nil) != s.wantErr {
			t.Errorf("%s: Refresh = %v, want error %v", s.name, err, s.wantErr)
		}
		asn, cc := r.Route(addr)
		if got := (route{asn, cc}); got != s.want {
			t.Errorf("%s: Route(%v) = %v, want %v", s.name, addr, got, s.want)
		}
		if src.loads != s.loads {
			t.Errorf("%s: %d loads, want %d", s.name, src.loads, s.loads)
		}
	}
	if got := strings.Count(logs.String(), "no IP-to-ASN table stored"); got != 1 {
		t.Errorf("%d log lines about the missing table, want 1:\n%s", got, logs.String())
	}
	if asn, cc := r.Route(netip.MustParseAddr("198.51.100.1")); asn != 0 || cc != "" {
		t.Errorf("Route of an unrouted address = %d %q, want 0 \"\"", asn, cc)
	}
}

// TestWorkerStoresRoutes runs a worker with Routes over a real ClickHouse
// holding an IP-to-ASN table: every stored row, in ptr and in ptr_by_ip,
// carries the AS and country of its address, and 0 and "" where the table
// has no range.
func TestWorkerStoresRoutes(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tbl := tableOf(t, enrich.Info{Net: netip.MustParsePrefix("198.51.0.0/24"), ASN: 64500, ASName: "EXAMPLE-NET", Country: "JP"})
	if err := st.SaveASNTable(ctx, day("2026-01-01"), "test", "location", tbl); err != nil {
		t.Fatal(err)
	}
	routes := NewRoutes(st, quiet)
	if err := routes.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ds := units(2) // 198.51.0.0/28 (routed) and 198.51.1.0/28 (not)
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	w, err := New(Config{Queue: q, Store: st, Resolver: fakeResolver{}, ExitWhenIdle: true, Logger: quiet,
		FlushInterval: 10 * time.Millisecond, Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(ctx)
	type route struct {
		asn     uint32
		country string
	}
	want := map[string]route{"198.51.0": {64500, "JP"}, "198.51.1": {0, ""}}
	got := map[string]route{}
	n := 0
	err = st.LookupRows(ctx, store.AddressQuery{First: netip.MustParseAddr("198.51.0.0"), Last: netip.MustParseAddr("198.51.1.255")}, func(r sweep.Row) error {
		n++
		net := r.IP.String()[:strings.LastIndex(r.IP.String(), ".")]
		if prev, ok := got[net]; ok && prev != (route{r.ASN, r.Country}) {
			t.Errorf("row %v: %d %q, other rows of its /24: %v", r.IP, r.ASN, r.Country, prev)
		}
		got[net] = route{r.ASN, r.Country}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 32 || len(got) != 2 || got["198.51.0"] != want["198.51.0"] || got["198.51.1"] != want["198.51.1"] {
		t.Errorf("%d rows, routes per /24 %v; want 32 rows, %v", n, got, want)
	}
	// the suffix search reads ptr: the same values
	err = st.Search(ctx, store.Query{Suffix: "198.51.0.1", Scan: "t"}, func(r sweep.Row) error {
		if r.ASN != 64500 || r.Country != "JP" {
			t.Errorf("search row %v: %d %q, want 64500 JP", r.IP, r.ASN, r.Country)
		}
		n++
		return nil
	})
	if err != nil || n != 33 {
		t.Errorf("search: %v, %d rows in all, want 33", err, n)
	}
}
