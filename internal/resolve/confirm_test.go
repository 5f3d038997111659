package resolve

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestConfirm(t *testing.T) {
	z := newZone(t, false,
		"1.2.0.192.in-addr.arpa. 60 IN PTR good.example.",
		"good.example. 60 IN A 10.0.0.1",
		"good.example. 60 IN A 192.0.2.1",
		"2.2.0.192.in-addr.arpa. 60 IN PTR other.example.",
		"other.example. 60 IN A 10.9.9.9",
		"3.2.0.192.in-addr.arpa. 60 IN PTR gone.example.",
		"4.2.0.192.in-addr.arpa. 60 IN PTR txt.example.",
		`txt.example. 60 IN TXT "no address"`,
		"5.2.0.192.in-addr.arpa. 60 IN PTR broken.example.",
		"6.2.0.192.in-addr.arpa. 60 IN PTR 192.0.2.6.",
		"6.2.0.192.in-addr.arpa. 60 IN PTR 192.000.002.006.",
		"7.2.0.192.in-addr.arpa. 60 IN PTR alias.example.",
		"7.2.0.192.in-addr.arpa. 60 IN PTR Good.Example.",
		"alias.example. 60 IN CNAME target.example.",
		"target.example. 60 IN A 192.0.2.7",
		"8.2.0.192.in-addr.arpa. 60 IN PTR loop.example.",
		"loop.example. 60 IN CNAME loop.example.",
	)
	s := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Question[0].Name == "broken.example." {
			m := new(dns.Msg)
			_ = w.WriteMsg(m.SetRcode(r, dns.RcodeServerFailure))
			return
		}
		z.ServeDNS(w, r)
	}))
	r := mustNew(t, Config{Servers: []string{s.Addr}, Retries: -1})
	tests := []struct {
		ip      string
		fcrdns  []sweep.FCrDNS
		queries int
	}{
		{"192.0.2.1", []sweep.FCrDNS{sweep.FCrDNSConfirmed}, 2},
		{"192.0.2.2", []sweep.FCrDNS{sweep.FCrDNSMismatch}, 2},
		{"192.0.2.3", []sweep.FCrDNS{sweep.FCrDNSNoAddress}, 2},
		{"192.0.2.4", []sweep.FCrDNS{sweep.FCrDNSNoAddress}, 2},
		{"192.0.2.5", []sweep.FCrDNS{sweep.FCrDNSError}, 2},
		{"192.0.2.6", []sweep.FCrDNS{sweep.FCrDNSNumeric, sweep.FCrDNSNumeric}, 1},
		{"192.0.2.7", []sweep.FCrDNS{sweep.FCrDNSConfirmed, sweep.FCrDNSMismatch}, 4},
		{"192.0.2.8", []sweep.FCrDNS{sweep.FCrDNSError}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			got := resolveOneAddr(t, r, tt.ip, sweep.Options{Confirm: true})
			var fc []sweep.FCrDNS
			for _, p := range got.PTRs {
				fc = append(fc, p.FCrDNS)
			}
			if got.Status != sweep.StatusOK || !slices.Equal(fc, tt.fcrdns) || got.Queries != tt.queries {
				t.Errorf("got %v %+v, %d queries; want ok %v, %d queries", got.Status, got.PTRs, got.Queries, tt.fcrdns, tt.queries)
			}
		})
	}
	for _, name := range []string{"192.0.2.6.", "192.000.002.006."} {
		if n := s.count("udp", dns.TypeA, name); n != 0 {
			t.Errorf("server saw %d A queries for numeric %s, want 0", n, name)
		}
	}
	// Without Confirm no forward lookup is made.
	before := s.total.Load()
	got := resolveOneAddr(t, r, "192.0.2.1", sweep.Options{})
	if got.PTRs[0].FCrDNS != sweep.FCrDNSNone || got.Queries != 1 || s.total.Load()-before != 1 {
		t.Errorf("without confirm: %+v, %d queries, want no forward lookup", got.PTRs, got.Queries)
	}
}

// TestConfirmDedup checks that one Resolve call looks each name up once,
// however many addresses share it.
func TestConfirmDedup(t *testing.T) {
	z := newZone(t, false, "shared.example. 60 IN A 192.0.2.5")
	for i := range 64 {
		rr, err := dns.NewRR(fmt.Sprintf("%d.2.0.192.in-addr.arpa. 60 IN PTR Shared.Example.", i))
		if err != nil {
			t.Fatal(err)
		}
		z.add(rr)
	}
	s := newServer(t, z)
	r := mustNew(t, Config{Servers: []string{s.Addr}, Concurrency: 16})
	got := resolveAll(t, r, netip.MustParsePrefix("192.0.2.0/26"), sweep.Options{Confirm: true, NoPrune: true})
	total := 0
	for ip, res := range got {
		total += res.Queries
		want := sweep.FCrDNSMismatch
		if ip == netip.MustParseAddr("192.0.2.5") {
			want = sweep.FCrDNSConfirmed
		}
		if len(res.PTRs) != 1 || res.PTRs[0].FCrDNS != want {
			t.Errorf("%v: %+v, want one PTR %v", ip, res.PTRs, want)
		}
	}
	if n := s.count("udp", dns.TypeA, "shared.example."); n != 1 {
		t.Errorf("server saw %d A queries for shared.example, want 1", n)
	}
	if total != 65 || int(s.total.Load()) != 65 {
		t.Errorf("results count %d queries, server saw %d, want 65 and 65", total, s.total.Load())
	}
}

func TestNumericName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"192.0.2.1", true},
		{"192.000.002.001", true},
		{"0xc0.0.2.1", true},
		{"3221225985", true},
		{"192.0.513", true},
		{"::1", true},
		{"2001:db8::1", true},
		{"192.0.2.256", false},
		{"192.0.2.1.example", false},
		{"1.2.3.4.5", false},
		{"0b1.0.0.1", false},
		{"0o1.0.0.1", false},
		{"1_0.0.0.1", false},
		{"+1.0.0.1", false},
		{"host.example", false},
		{"1a.example", false},
		{"", false},
		{"4294967296", false},
	}
	for _, tt := range tests {
		if got := numericName(tt.name); got != tt.want {
			t.Errorf("numericName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
