package fleet

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	for _, tc := range []struct {
		name, addr, want string
	}{
		{"scan-30.security.ipip.net", "139.162.77.6", "scan-#.security.ipip.net"},
		{"1-2-3-4.static.example.net", "1.2.3.4", "{ip}.static.example.net"},
		{"ip-1-2-3-4.ec2.internal", "1.2.3.4", "ip-{ip}.ec#.internal"},
		{"4-3-2-1.dyn.example.net", "1.2.3.4", "{ip}.dyn.example.net"},
		{"1.2.3.4.static.example.net", "1.2.3.4", "{ip}.static.example.net"},
		{"4.3.2.1.in-addr.example", "1.2.3.4", "{ip}.in-addr.example"},
		{"host001002003004.example.net", "1.2.3.4", "host{ip}.example.net"},
		{"001-002-003-004.example.net", "1.2.3.4", "{ip}.example.net"},
		{"h0102030a.example.net", "1.2.3.10", "h{ip}.example.net"},
		{"H0102030A.example.net", "1.2.3.10", "H{ip}.example.net"},
		{"0a030201.example.net", "1.2.3.10", "{ip}.example.net"},
		{"1_2_3_4.example.net", "1.2.3.4", "{ip}.example.net"},
		// the name's numbers are another address: only digit runs
		{"1-2-3-5.static.example.net", "1.2.3.4", "#-#-#-#.static.example.net"},
		{"h0102030b.example.net", "1.2.3.10", "h#b.example.net"},
		// part of a longer number is not the address
		{"11-2-3-4.example.net", "1.2.3.4", "#-#-#-#.example.net"},
		{"1-2-3-45.example.net", "1.2.3.4", "#-#-#-#.example.net"},
		{"a0102030af.example.net", "1.2.3.10", "a#af.example.net"},
		// twice in one name
		{"1-2-3-4.4.3.2.1.example", "1.2.3.4", "{ip}.{ip}.example"},
		// a palindromic address
		{"1-2-2-1.example", "1.2.2.1", "{ip}.example"},
		{"", "1.2.3.4", ""},
		{"no-digits.example", "1.2.3.4", "no-digits.example"},
		{"a1b22c333", "9.9.9.9", "a#b#c#"},
	} {
		if got := Template(tc.name, netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Template(%q, %s) = %q, want %q", tc.name, tc.addr, got, tc.want)
		}
	}
	if got, want := Template("1-2-3-4.example", netip.Addr{}), "#-#-#-#.example"; got != want {
		t.Errorf("Template without an address = %q, want %q", got, want)
	}
	if got, want := Template("1-2-3-4.example", netip.MustParseAddr("::ffff:1.2.3.4")), "{ip}.example"; got != want {
		t.Errorf("Template with a mapped address = %q, want %q", got, want)
	}
}

func TestScanner(t *testing.T) {
	for _, tc := range []struct {
		name, word string
	}{
		{"scan-30.security.ipip.net", "scan"},
		{"scan-#.security.ipip.net", "scan"},
		{"host.security.ipip.net", "security"},
		{"scanner01.example.com", "scanner"},
		{"scanner#.example.com", "scanner"},
		{"probe_eu.example.com", "probe"},
		{"crawl-66-249-66-1.googlebot.com", "crawl"},
		{"researchscan541.eecs.umich.edu", "researchscan"},
		{"census5.shodan.io", "census"},
		{"worker-7.internet-census.org", "internet-census"},
		{"SCAN-1.EXAMPLE", "scan"},
		{"ip-{ip}.probing.example", "probing"},
		{"scandinavia.example.net", ""},
		{"probation.example.net", ""},
		{"insecurity.example.net", ""},
		{"mail.example.net", ""},
		{"", ""},
	} {
		word, ok := Scanner(tc.name)
		if word != tc.word || ok != (tc.word != "") {
			t.Errorf("Scanner(%q) = %q, %v, want %q", tc.name, word, ok, tc.word)
		}
	}
}

func TestAggregator(t *testing.T) {
	a := NewAggregator()
	linode1 := netip.MustParsePrefix("139.162.64.0/19")
	linode2 := netip.MustParsePrefix("45.118.132.0/23")
	kddi := netip.MustParsePrefix("106.128.0.0/10")
	// the case of the founding question, in small: one fleet over two
	// providers and three countries
	for i, r := range []struct {
		ip      string
		asn     uint32
		country string
		nb      netip.Prefix
	}{
		{"139.162.77.6", 63949, "JP", linode1},
		{"139.162.77.7", 63949, "JP", linode1},
		{"45.118.132.9", 63949, "SG", linode2},
		{"106.128.1.1", 2516, "JP", kddi},
		{"106.128.1.2", 2516, "US", kddi},
	} {
		a.Add(Row{IP: netip.MustParseAddr(r.ip), PTR: fmt.Sprintf("scan-%d.security.ipip.net", 30+i), ASN: r.asn, Country: r.country, Netblock: r.nb})
	}
	// the same address twice (two PTRs of one template) counts once
	a.Add(Row{IP: netip.MustParseAddr("139.162.77.6"), PTR: "scan-99.security.ipip.net", ASN: 63949, Country: "JP", Netblock: linode1})
	// names with embedded addresses, no routing data: /24 netblocks
	for _, ip := range []string{"198.51.100.1", "198.51.100.2", "203.0.113.5"} {
		addr := netip.MustParseAddr(ip)
		a.Add(Row{IP: addr, PTR: strings.ReplaceAll(ip, ".", "-") + ".dsl.example.net"})
	}
	a.Add(Row{IP: netip.MustParseAddr("192.0.2.1"), PTR: "mail.example.org"})
	a.Add(Row{IP: netip.MustParseAddr("192.0.2.9"), PTR: ""}) // no name: skipped
	a.Add(Row{PTR: "x.example"})                              // no address: skipped

	got := a.Fleets(2)
	want := []Fleet{
		{
			Template: "scan-#.security.ipip.net", Scanner: "scan", Addresses: 5, Names: 6, Example: "scan-30.security.ipip.net",
			Netblocks: []netip.Prefix{linode2, kddi, linode1},
			ASNs:      []uint32{2516, 63949},
			Countries: []string{"JP", "SG", "US"},
		},
		{
			Template: "{ip}.dsl.example.net", Addresses: 3, Names: 3, Example: "198-51-100-1.dsl.example.net",
			Netblocks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")},
			ASNs:      []uint32{0},
			Countries: []string{""},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fleets(2) =\n%+v\nwant\n%+v", got, want)
	}
	if all := a.Fleets(0); len(all) != 3 || all[2].Template != "mail.example.org" {
		t.Errorf("Fleets(0) = %+v, want the two fleets and mail.example.org", all)
	}
	if a.Skipped() != 2 {
		t.Errorf("Skipped() = %d, want 2", a.Skipped())
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"scan-30.security.ipip.net", "1-2-3-4.example", "001002003004", "0102030a", "4.3.2.1", "a1b2", ""} {
		f.Add(s, uint32(0x01020304))
	}
	f.Fuzz(func(t *testing.T, name string, u uint32) {
		addr := netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
		got := Template(name, addr)
		if strings.ContainsAny(got, "0123456789") {
			t.Fatalf("Template(%q, %v) = %q keeps a digit", name, addr, got)
		}
		if Template(got, addr) != got {
			t.Fatalf("Template is not idempotent: Template(%q) = %q, again %q", name, got, Template(got, addr))
		}
		// without the address, only digit runs change
		plain := Template(name, netip.Addr{})
		if strings.Count(plain, DigitToken) < strings.Count(got, DigitToken) {
			t.Fatalf("Template(%q, %v) = %q has more %s than the address-free %q", name, addr, got, DigitToken, plain)
		}
		Scanner(got) // must not panic
	})
}

func BenchmarkTemplate(b *testing.B) {
	addr := netip.MustParseAddr("139.162.77.6")
	for _, name := range []string{"scan-30.security.ipip.net", "139-162-77-6.ip.linodeusercontent.com"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Template(name, addr)
			}
		})
	}
}
