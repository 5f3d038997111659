package lab_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
)

func startInternet(t *testing.T) *lab.Server {
	t.Helper()
	s, err := lab.StartInternet(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("StartInternet: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// blocksByKind returns, for each kind, up to n /24s of prefix of that kind.
func blocksByKind(prefix netip.Prefix, n int) map[lab.Kind24][]netip.Prefix {
	out := map[lab.Kind24][]netip.Prefix{}
	for ip := prefix.Masked().Addr(); prefix.Contains(ip); {
		k := lab.InternetKind(ip)
		if len(out[k]) < n {
			out[k] = append(out[k], netip.PrefixFrom(ip, 24))
		}
		a := ip.As4()
		next := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 + 256
		if next == 0 {
			break
		}
		ip = netip.AddrFrom4([4]byte{byte(next >> 24), byte(next >> 16), byte(next >> 8), 0})
	}
	return out
}

// TestInternetServerAgrees resolves every address of two /24s of each kind
// of 8.0.0.0/8, a fleet /24, and addresses spread over all of IPv4, and
// compares the server's answers with InternetExpect.
func TestInternetServerAgrees(t *testing.T) {
	s := startInternet(t)
	kinds := blocksByKind(netip.MustParsePrefix("8.0.0.0/12"), 2)
	var addrs []netip.Addr
	for k, blocks := range kinds {
		for _, b := range blocks {
			for ip := b.Addr(); b.Contains(ip); ip = ip.Next() {
				if k == lab.Kind24Silent && ip.As4()[3] >= 8 {
					break // a few timeouts are enough
				}
				addrs = append(addrs, ip)
			}
		}
	}
	for _, k := range []lab.Kind24{lab.Kind24Empty16, lab.Kind24Empty, lab.Kind24ServFail, lab.Kind24Refused,
		lab.Kind24Silent, lab.Kind24Dense, lab.Kind24Sparse} {
		if len(kinds[k]) == 0 {
			t.Errorf("no /24 of kind %s in 8.0.0.0/12", k)
		}
	}
	for v := uint32(0x01020304); v > 0x01000000; v += 0x00f1d3b7 { // spread over IPv4
		addrs = append(addrs, netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}))
	}
	cl := labtest.Client{Addr: s.Addr(), UDPSize: 1232, Timeout: 5 * time.Second}
	silent := labtest.Client{Addr: s.Addr(), UDPSize: 1232, Timeout: 300 * time.Millisecond}
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 64)
	bad := 0
	for _, ip := range addrs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c := cl
			if lab.InternetKind(ip) == lab.Kind24Silent {
				c = silent
			}
			got, err := c.Lookup(context.Background(), ip, false)
			want := lab.InternetExpect(ip)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Lookup(%s): %v", ip, err)
				return
			}
			if !sameExpected(got, want) && bad < 10 {
				bad++
				t.Errorf("Lookup(%s) = %+v, want %+v", ip, got, want)
			}
		}()
	}
	wg.Wait()
}

// TestInternetZoneCuts checks the names above the addresses: empty /16s
// and /24s answer NXDOMAIN (RFC 8020), failing /24s fail at their own
// name, other names exist without records, and names outside in-addr.arpa
// are refused.
func TestInternetZoneCuts(t *testing.T) {
	s := startInternet(t)
	kinds := blocksByKind(netip.MustParsePrefix("8.0.0.0/12"), 1)
	name24 := func(k lab.Kind24) string {
		a := kinds[k][0].Addr().As4()
		return dns.Fqdn(strings.Join([]string{itoa(a[2]), itoa(a[1]), itoa(a[0]), "in-addr.arpa"}, "."))
	}
	name16 := func(k lab.Kind24) string {
		a := kinds[k][0].Addr().As4()
		return dns.Fqdn(strings.Join([]string{itoa(a[1]), itoa(a[0]), "in-addr.arpa"}, "."))
	}
	tests := []struct {
		name  string
		qtype uint16
		want  int // rcode; -1 no answer
	}{
		{name16(lab.Kind24Empty16), dns.TypePTR, dns.RcodeNameError},
		{name24(lab.Kind24Empty16), dns.TypePTR, dns.RcodeNameError},
		{name16(lab.Kind24Empty), dns.TypePTR, dns.RcodeSuccess},
		{name24(lab.Kind24Empty), dns.TypePTR, dns.RcodeNameError},
		{"x." + name24(lab.Kind24Empty), dns.TypePTR, dns.RcodeNameError},
		{name24(lab.Kind24Dense), dns.TypePTR, dns.RcodeSuccess},
		{name24(lab.Kind24Sparse), dns.TypeNS, dns.RcodeSuccess},
		{name24(lab.Kind24ServFail), dns.TypePTR, dns.RcodeServerFailure},
		{"1.2." + name24(lab.Kind24ServFail), dns.TypePTR, dns.RcodeServerFailure},
		{name24(lab.Kind24Refused), dns.TypePTR, dns.RcodeRefused},
		{name24(lab.Kind24Silent), dns.TypePTR, -1},
		{"8.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess},
		{"in-addr.arpa.", dns.TypeSOA, dns.RcodeSuccess},
		{"300.8.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError},
		{"example.com.", dns.TypeA, dns.RcodeRefused},
	}
	for _, tt := range tests {
		cl := labtest.Client{Addr: s.Addr(), Timeout: 5 * time.Second}
		if tt.want == -1 {
			cl.Timeout = 300 * time.Millisecond
		}
		r, err := cl.Exchange(context.Background(), tt.name, tt.qtype)
		got := -1
		if err == nil {
			got = r.Rcode
			if tt.want == dns.RcodeSuccess && tt.qtype != dns.TypeSOA && (len(r.Answer) != 0 || len(r.Ns) != 1) {
				t.Errorf("%s %s: answer %d, authority %d records, want an empty answer with the SOA",
					tt.name, dns.TypeToString[tt.qtype], len(r.Answer), len(r.Ns))
			}
		}
		if got != tt.want {
			t.Errorf("%s %s: rcode %d (err %v), want %d", tt.name, dns.TypeToString[tt.qtype], got, err, tt.want)
		}
	}
}

func itoa(b byte) string { return netip.AddrFrom4([4]byte{0, 0, 0, b}).String()[6:] }

// TestInternetShape checks the world's statistics: about 30 % of the
// addresses of IPv4 have a PTR (sampled), /8s differ, empty /16s and /24s
// exist, and every fleet's members are found by their suffix.
func TestInternetShape(t *testing.T) {
	var ok, n int
	shares := map[int]bool{}
	for a := 1; a < 224; a += 3 {
		st := lab.CountInternet(netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a), byte(a * 37), 0, 0}), 18))
		ok += st.Status[sweep.StatusOK]
		n += st.Addresses
		shares[lab.InternetEmpty16Share(byte(a))] = true
	}
	if share := float64(ok) / float64(n); share < 0.25 || share > 0.35 {
		t.Errorf("share of addresses with a PTR = %.3f, want about 0.30", share)
	}
	if len(shares) < 3 {
		t.Errorf("empty /16 shares of /8s = %v, want at least 3 different", shares)
	}
	st := lab.CountInternet(netip.MustParsePrefix("8.0.0.0/12"))
	for _, k := range []lab.Kind24{lab.Kind24Empty16, lab.Kind24Empty, lab.Kind24ServFail, lab.Kind24Dense, lab.Kind24Sparse} {
		if st.Kinds[k] == 0 {
			t.Errorf("8.0.0.0/12 has no /24 of kind %s: %v", k, st.Kinds)
		}
	}
	if got := st.Status[sweep.StatusOK] + st.Status[sweep.StatusNXDomain] + st.Status[sweep.StatusServFail] +
		st.Status[sweep.StatusRefused] + st.Status[sweep.StatusTimeout]; got != st.Addresses {
		t.Errorf("statuses sum to %d, want %d", got, st.Addresses)
	}
	// Fleets: every member's name ends in its fleet's suffix, one per /29.
	for _, f := range lab.InternetFleets {
		if st.Fleet[f] == 0 {
			t.Errorf("fleet %s has no member in 8.0.0.0/12", f)
		}
	}
	found := map[string]int{}
	p := netip.MustParsePrefix("8.0.0.0/12")
	for ip := p.Addr(); p.Contains(ip); ip = ip.Next() {
		if _, ok := lab.InternetFleet(ip); !ok {
			continue
		}
		for _, name := range lab.InternetPTRs(ip) {
			for _, f := range lab.InternetFleets {
				if strings.HasPrefix(name, "scan-") && strings.HasSuffix(name, "."+f) {
					found[f]++
					if ip.As4()[3]%8 != 1 {
						t.Errorf("fleet member %s (%s) is not the .8k+1 of its /29", ip, name)
					}
				}
			}
		}
	}
	for _, f := range lab.InternetFleets {
		if found[f] != st.Fleet[f] {
			t.Errorf("fleet %s: %d names found by suffix, CountInternet says %d", f, found[f], st.Fleet[f])
		}
	}
}

// TestInternetProviderNames checks the templates: each provider's name of
// an address is its template filled with the address's octets.
func TestInternetProviderNames(t *testing.T) {
	checked := map[string]int{}
	for v := uint32(0x08000000); v < 0x09000000; v += 0x1003 {
		ip := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		names := lab.InternetPTRs(ip)
		p, ok := lab.InternetProvider(ip)
		if _, fleet := lab.InternetFleet(ip); !ok || len(names) == 0 || fleet {
			continue
		}
		a := ip.As4()
		want := strings.NewReplacer("{a}", itoa(a[0]), "{b}", itoa(a[1]), "{c}", itoa(a[2]), "{d}", itoa(a[3])).Replace(p.Template) + "." + p.Domain
		if !slices.Contains(names, want) {
			t.Errorf("InternetPTRs(%s) = %q, want it to hold %q", ip, names, want)
		}
		checked[p.Domain]++
	}
	if len(checked) != len(lab.Providers) {
		t.Errorf("providers seen in 8.0.0.0/8 = %v, want all %d", checked, len(lab.Providers))
	}
}
