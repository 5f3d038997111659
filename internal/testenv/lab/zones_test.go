package lab_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// canonicalOf returns the stored form of a presentation name as miekg/dns
// would unpack it from the wire.
func canonicalOf(t *testing.T, name string) string {
	t.Helper()
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		t.Fatalf("pack %q: %v", name, err)
	}
	out, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		t.Fatalf("unpack %q: %v", name, err)
	}
	return sweep.CanonicalName(out)
}

// TestWriteZones parses the written zone files back and checks every PTR
// of the truth is there (and nothing else), and the failing /24s are
// delegations.
func TestWriteZones(t *testing.T) {
	l := newLab(t)
	files, err := l.WriteZones(t.TempDir())
	if err != nil {
		t.Fatalf("WriteZones: %v", err)
	}
	var zones []string
	for _, f := range files {
		zones = append(zones, f.Zone)
	}
	if want := []string{"18.198.in-addr.arpa.", "lab.example.", "fleet.example.", "evil.example."}; !slices.Equal(zones, want) {
		t.Errorf("zones written = %v, want %v", zones, want)
	}

	want := map[string]int{} // canonical PTR name -> records in the files
	ptrs, cnames, as, delegations := 0, 0, 0, 0
	for _, f := range files {
		fh, err := os.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		zp := dns.NewZoneParser(fh, f.Zone, f.Path)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			switch rr := rr.(type) {
			case *dns.PTR:
				ptrs++
				want[canonicalOf(t, rr.Ptr)]++
			case *dns.CNAME:
				cnames++
			case *dns.A:
				as++
			case *dns.NS:
				if rr.Hdr.Name != f.Zone {
					delegations++
				}
			}
		}
		if err := zp.Err(); err != nil {
			t.Errorf("parse %s: %v", f.Path, err)
		}
		fh.Close()
	}
	total, confirmable := 0, 0
	for ip := l.Space().Addr(); l.Space().Contains(ip); ip = ip.Next() {
		for _, p := range l.Expect(ip).PTRs {
			total++
			if want[p.Name] == 0 {
				t.Errorf("PTR %s of %s not in the zone files", p.Name, ip)
			}
			if p.FCrDNS == sweep.FCrDNSConfirmed || p.FCrDNS == sweep.FCrDNSMismatch {
				confirmable++
			}
		}
	}
	if ptrs != total {
		t.Errorf("zone files hold %d PTRs, truth has %d", ptrs, total)
	}
	if cnames == 0 {
		t.Error("zone files hold no CNAME")
	}
	if as < confirmable {
		t.Errorf("zone files hold %d A records, want at least %d", as, confirmable)
	}
	if delegations != 3*16 {
		t.Errorf("zone files hold %d delegations, want %d", delegations, 3*16)
	}
	// Names are written with \DDD escapes only.
	b, err := os.ReadFile(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `\ `) || !strings.Contains(string(b), `sp\032ace`) {
		t.Errorf("reverse zone file does not write a space as \\032")
	}
}
