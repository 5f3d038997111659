package analytics

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// caseTable is the founding case in small: Linode (AS63949) in JP and SG,
// KDDI (AS2516) in JP and US.
func caseTable(t testing.TB) *enrich.Table {
	t.Helper()
	var b enrich.Builder
	for _, n := range []struct {
		p       string
		asn     uint32
		country string
	}{
		{"139.162.64.0/19", 63949, "JP"},
		{"139.162.0.0/16", 63949, "US"},
		{"45.118.132.0/23", 63949, "SG"},
		{"106.128.0.0/10", 2516, "JP"},
		{"106.187.0.0/16", 2516, "US"},
	} {
		if err := b.Add(netip.MustParsePrefix(n.p), n.asn, n.country, 0); err != nil {
			t.Fatal(err)
		}
	}
	b.SetName(63949, "Linode, LLC")
	b.SetName(2516, "KDDI CORPORATION")
	tab, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

var day1 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func okRow(scan, ip, ptr string) sweep.Row {
	return sweep.Row{Scan: scan, IP: netip.MustParseAddr(ip), PTR: ptr, Status: sweep.StatusOK, TTL: 60, FCrDNS: sweep.FCrDNSConfirmed, ResolvedAt: day1}
}
