package store

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
)

// sliceTable reads the committed slice of Debian's location database.
func sliceTable(t testing.TB) *enrich.Table {
	t.Helper()
	f, err := os.Open("../enrich/testdata/location-slice.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b enrich.Builder
	if _, err := enrich.ReadLocationDump(f, "location-slice.txt", &b); err != nil {
		t.Fatal(err)
	}
	tab, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// syntheticTable returns a table of n ranges: /24 networks every /23, with
// names for a thousand ASes.
func syntheticTable(t testing.TB, n int) *enrich.Table {
	t.Helper()
	var b enrich.Builder
	for i := range n {
		p := netip.PrefixFrom(cidr.Uint32ToAddr(0x01000000+uint32(i)<<9), 24)
		asn := uint32(1 + i%1000)
		if err := b.Add(p, asn, []string{"JP", "SG", ""}[i%3], i+1); err != nil {
			t.Fatal(err)
		}
		b.SetName(asn, "Example AS "+p.String())
	}
	tab, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func equalTables(t *testing.T, got, want *enrich.Table) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("Len() = %d, want %d", got.Len(), want.Len())
	}
	for i := range want.Len() {
		if g, w := got.At(i), want.At(i); g != w {
			t.Fatalf("At(%d) = %+v, want %+v", i, g, w)
		}
	}
}

func TestASNTable(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if _, _, err := s.LoadASNTable(ctx, time.Time{}); !errors.Is(err, ErrNoASNTable) {
		t.Fatalf("LoadASNTable on an empty database = %v, want ErrNoASNTable", err)
	}

	old := syntheticTable(t, 1000)
	slice := sliceTable(t)
	d1 := time.Date(2022, 10, 28, 0, 0, 0, 0, time.UTC)
	d2 := time.Date(2022, 10, 29, 5, 59, 54, 0, time.UTC) // the time of day is ignored
	if err := s.SaveASNTable(ctx, d1, "old.txt", "pfx2as", old); err != nil {
		t.Fatal(err)
	}
	// a first, wrong load of d2 that the second one must replace entirely
	if err := s.SaveASNTable(ctx, d2, "wrong.txt", "pfx2as", syntheticTable(t, 50)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveASNTable(ctx, d2, "location-slice.txt", "location", slice); err != nil {
		t.Fatal(err)
	}

	vs, err := s.ASNVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || !vs[0].Version.Equal(d2.Truncate(24*time.Hour)) || !vs[1].Version.Equal(d1) ||
		vs[0].Source != "location-slice.txt" || vs[0].Format != "location" || vs[0].Ranges != uint64(slice.Len()) || vs[1].Ranges != 1000 {
		t.Fatalf("ASNVersions() = %+v, want 2022-10-29 (location-slice.txt, location, %d ranges) then 2022-10-28 (1000 ranges)", vs, slice.Len())
	}

	latest, v, err := s.LoadASNTable(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Source != "location-slice.txt" {
		t.Errorf("latest version = %+v, want the 2022-10-29 one", v)
	}
	equalTables(t, latest, slice)
	if got, ok := latest.Lookup(netip.MustParseAddr("45.118.132.1")); !ok || got.ASName != "Linode, LLC" || got.Country != "SG" || got.Net.String() != "45.118.132.0/23" {
		t.Errorf("Lookup(45.118.132.1) = %+v, %v, want 45.118.132.0/23 Linode, LLC SG", got, ok)
	}

	named, _, err := s.LoadASNTable(ctx, d1.Add(13*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	equalTables(t, named, old)

	if _, _, err := s.LoadASNTable(ctx, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrNoASNTable) || !strings.Contains(err.Error(), "2020-01-01") {
		t.Errorf("LoadASNTable(2020-01-01) = %v, want ErrNoASNTable naming the date", err)
	}

	// a version whose ranges do not add up (a save under way) is refused
	if err := s.sendColumns(ctx, insertASNRanges, "extra range", []time.Time{d1}, []uint32{0xFF000000}, []uint32{0xFF0000FF},
		[]string{"255.0.0.0/24"}, []uint32{1}, []string{""}, []string{""}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LoadASNTable(ctx, d1); err == nil || !strings.Contains(err.Error(), "save it again") {
		t.Errorf("LoadASNTable of an inconsistent version = %v, want an error saying to save it again", err)
	}

	if err := s.SaveASNTable(ctx, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), "x", "pfx2as", old); err == nil {
		t.Errorf("SaveASNTable(1900-01-01) succeeded, want an error about the Date range")
	}
}

// BenchmarkASNTable measures saving and loading a table of a million
// ranges (about the size of a full location database).
func BenchmarkASNTable(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	tab := syntheticTable(b, 1_000_000)
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			if err := s.SaveASNTable(ctx, day, "synthetic", "pfx2as", tab); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(tab.Len()), "ranges")
	})
	b.Run("load", func(b *testing.B) {
		if vs, err := s.ASNVersions(ctx); err != nil || len(vs) == 0 {
			if err := s.SaveASNTable(ctx, day, "synthetic", "pfx2as", tab); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			got, _, err := s.LoadASNTable(ctx, time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			if got.Len() != tab.Len() {
				b.Fatalf("loaded %d ranges, want %d", got.Len(), tab.Len())
			}
		}
		b.ReportMetric(float64(tab.Len()), "ranges")
	})
}
