package lab_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
)

func startServer(t *testing.T) (*lab.Lab, *lab.Server) {
	t.Helper()
	l := newLab(t)
	s, err := lab.Start(context.Background(), l, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l, s
}

// sameExpected reports whether got equals want, TTLs included.
func sameExpected(got, want lab.Expected) bool {
	return got.Status == want.Status && got.TTL == want.TTL && slices.Equal(got.PTRs, want.PTRs)
}

// TestServerAgreesWithExpect resolves every address of two /24s of each
// class (over UDP with TCP fallback, and over TCP only) with forward
// confirmation and compares with Expect.
func TestServerAgreesWithExpect(t *testing.T) {
	l, s := startServer(t)
	ctx := context.Background()
	for _, c := range lab.Classes {
		blocks := l.Blocks(c)
		for i, b := range []netip.Prefix{blocks[0], blocks[len(blocks)-1]} {
			cl := labtest.Client{Addr: s.Addr(), UDPSize: 1232, TCP: i == 1}
			if c == lab.ClassSilent {
				cl.Timeout = 200 * time.Millisecond
			}
			t.Run(c.String()+"/"+b.String(), func(t *testing.T) {
				var wg sync.WaitGroup
				sem := make(chan struct{}, 64)
				for ip := b.Addr(); b.Contains(ip); ip = ip.Next() {
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						got, err := cl.Lookup(ctx, ip, true)
						if err != nil {
							t.Errorf("Lookup(%s): %v", ip, err)
							return
						}
						if want := l.Expect(ip); !sameExpected(got, want) {
							t.Errorf("Lookup(%s) = %+v, want %+v", ip, got, want)
						}
					}()
				}
				wg.Wait()
			})
		}
	}
}

func TestTruncation(t *testing.T) {
	l, s := startServer(t)
	ctx := context.Background()
	large := l.Blocks(lab.ClassLarge)[0].Addr() // .0 has 40 PTRs
	small := large.Next()
	if n := len(l.Expect(large).PTRs); n != 40 {
		t.Fatalf("Expect(%s) has %d PTRs, want 40", large, n)
	}
	tests := []struct {
		name    string
		ip      netip.Addr
		edns    uint16 // 0: none
		tcp     bool
		wantTC  bool
		maxSize int
	}{
		{"no EDNS", large, 0, false, true, 512},
		{"EDNS 1232", large, 1232, false, true, 1232},
		{"EDNS 4096 capped", large, 4096, false, true, 1232},
		{"EDNS 100 means 512", large, 100, false, true, 512},
		{"TCP", large, 0, true, false, dns.MaxMsgSize},
		{"TCP EDNS", large, 1232, true, false, dns.MaxMsgSize},
		{"small no EDNS", small, 0, false, false, 512},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(sweep.ReverseName(tt.ip), dns.TypePTR)
			if tt.edns > 0 {
				m.SetEdns0(tt.edns, false)
			}
			c := &dns.Client{Net: "udp", UDPSize: dns.MaxMsgSize}
			if tt.tcp {
				c.Net = "tcp"
			}
			r, _, err := c.ExchangeContext(ctx, m, s.Addr())
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if r.Truncated != tt.wantTC {
				t.Errorf("TC = %v, want %v", r.Truncated, tt.wantTC)
			}
			r.Compress = true
			buf, err := r.Pack()
			if err != nil {
				t.Fatalf("pack: %v", err)
			}
			if len(buf) > tt.maxSize {
				t.Errorf("answer is %d bytes, want at most %d", len(buf), tt.maxSize)
			}
			want := len(l.Expect(tt.ip).PTRs)
			if !tt.wantTC && len(r.Answer) != want {
				t.Errorf("answer has %d records, want %d", len(r.Answer), want)
			}
			if tt.wantTC && len(r.Answer) >= want {
				t.Errorf("truncated answer has %d records, want fewer than %d", len(r.Answer), want)
			}
			if (r.IsEdns0() != nil) != (tt.edns > 0) {
				t.Errorf("answer has OPT = %v, want %v", r.IsEdns0() != nil, tt.edns > 0)
			}
		})
	}
}

func TestSilent(t *testing.T) {
	l, s := startServer(t)
	ip := l.Blocks(lab.ClassSilent)[0].Addr().Next()
	for _, tcp := range []bool{false, true} {
		before := s.Queries()
		cl := labtest.Client{Addr: s.Addr(), Timeout: 200 * time.Millisecond, TCP: tcp}
		_, err := cl.Exchange(context.Background(), sweep.ReverseName(ip), dns.TypePTR)
		if !errors.Is(err, labtest.ErrTimeout) {
			t.Errorf("tcp=%v: Exchange(%s) error = %v, want ErrTimeout", tcp, ip, err)
		}
		if got := s.Queries(); got != before+1 {
			t.Errorf("tcp=%v: Queries() = %d, want %d", tcp, got, before+1)
		}
	}
}

// TestAnswers checks the details of authoritative answers.
func TestAnswers(t *testing.T) {
	l, s := startServer(t)
	ctx := context.Background()
	cl := labtest.Client{Addr: s.Addr(), UDPSize: 1232}
	at := func(cl lab.Class, d byte) string {
		a := l.Blocks(cl)[0].Addr().As4()
		a[3] = d
		return sweep.ReverseName(netip.AddrFrom4(a))
	}
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		rcode     int
		aa        bool
		answer    []uint16 // types in the answer section, in order
		soaInAuth bool
	}{
		{"dense PTR", at(lab.ClassDense, 7), dns.TypePTR, dns.RcodeSuccess, true, []uint16{dns.TypePTR}, false},
		{"dense /24 is an empty non-terminal", at(lab.ClassDense, 7)[2:], dns.TypePTR, dns.RcodeSuccess, true, nil, true},
		{"empty /24 name", at(lab.ClassEmpty, 7)[2:], dns.TypePTR, dns.RcodeNameError, true, nil, true},
		{"empty address", at(lab.ClassEmpty, 7), dns.TypePTR, dns.RcodeNameError, true, nil, true},
		{"sparse nxdomain", at(lab.ClassSparse, 2), dns.TypePTR, dns.RcodeNameError, true, nil, true},
		{"nodata", at(lab.ClassNoData, 7), dns.TypePTR, dns.RcodeSuccess, true, nil, true},
		{"nodata TXT", at(lab.ClassNoData, 7), dns.TypeTXT, dns.RcodeSuccess, true, []uint16{dns.TypeTXT}, false},
		{"rfc2317 one hop", at(lab.ClassRFC2317, 1), dns.TypePTR, dns.RcodeSuccess, true, []uint16{dns.TypeCNAME, dns.TypePTR}, false},
		{"rfc2317 two hops", at(lab.ClassRFC2317, 5), dns.TypePTR, dns.RcodeSuccess, true, []uint16{dns.TypeCNAME, dns.TypeCNAME, dns.TypePTR}, false},
		{"rfc2317 target nodata", at(lab.ClassRFC2317, 6), dns.TypePTR, dns.RcodeSuccess, true, []uint16{dns.TypeCNAME}, true},
		{"rfc2317 target nxdomain", at(lab.ClassRFC2317, 7), dns.TypePTR, dns.RcodeNameError, true, []uint16{dns.TypeCNAME}, true},
		{"rfc2317 CNAME query", at(lab.ClassRFC2317, 5), dns.TypeCNAME, dns.RcodeSuccess, true, []uint16{dns.TypeCNAME}, false},
		{"rfc2317 target direct", "1.0-63." + at(lab.ClassRFC2317, 1)[2:], dns.TypePTR, dns.RcodeSuccess, true, []uint16{dns.TypePTR}, false},
		{"servfail", at(lab.ClassServFail, 7), dns.TypePTR, dns.RcodeServerFailure, false, nil, false},
		{"servfail /24", at(lab.ClassServFail, 7)[2:], dns.TypeNS, dns.RcodeServerFailure, false, nil, false},
		{"refused", at(lab.ClassRefused, 7), dns.TypePTR, dns.RcodeRefused, false, nil, false},
		{"apex SOA", l.Zones()[0], dns.TypeSOA, dns.RcodeSuccess, true, []uint16{dns.TypeSOA}, false},
		{"forward A", "h-198-18-0-7.dense.lab.example.", dns.TypeA, dns.RcodeSuccess, true, []uint16{dns.TypeA}, false},
		{"forward AAAA nodata", "h-198-18-0-7.dense.lab.example.", dns.TypeAAAA, dns.RcodeSuccess, true, nil, true},
		{"forward mixed case", "HOST-10-0.mixed.LAB.example.", dns.TypeA, dns.RcodeSuccess, true, []uint16{dns.TypeA}, false},
		{"forward nxdomain", "nope.lab.example.", dns.TypeA, dns.RcodeNameError, true, nil, true},
		{"broken zone", "x.broken.example.", dns.TypeA, dns.RcodeServerFailure, false, nil, false},
		{"outside zones", "example.com.", dns.TypeA, dns.RcodeRefused, false, nil, false},
		{"outside space", "1.2.0.192.in-addr.arpa.", dns.TypePTR, dns.RcodeRefused, false, nil, false},
		{"look-alike zone", "xlab.example.", dns.TypeA, dns.RcodeRefused, false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := cl.Exchange(ctx, tt.qname, tt.qtype)
			if err != nil {
				t.Fatalf("Exchange(%s): %v", tt.qname, err)
			}
			if r.Rcode != tt.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode])
			}
			if r.Authoritative != tt.aa {
				t.Errorf("AA = %v, want %v", r.Authoritative, tt.aa)
			}
			var types []uint16
			for _, rr := range r.Answer {
				types = append(types, rr.Header().Rrtype)
			}
			if !slices.Equal(types, tt.answer) {
				t.Errorf("answer types = %v, want %v", types, tt.answer)
			}
			soa := len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA
			if soa != tt.soaInAuth {
				t.Errorf("SOA in authority = %v, want %v (authority %v)", soa, tt.soaInAuth, r.Ns)
			}
			if len(r.Answer) > 0 && r.Answer[0].Header().Name != tt.qname {
				t.Errorf("answer owner = %q, want the query name %q", r.Answer[0].Header().Name, tt.qname)
			}
		})
	}
}

// TestCanonicalRoundTrip checks that what miekg/dns unpacks from the
// server's answers, after sweep.CanonicalName, is byte for byte the name
// Expect gives, for every address of the odd class.
func TestCanonicalRoundTrip(t *testing.T) {
	l, s := startServer(t)
	cl := labtest.Client{Addr: s.Addr(), UDPSize: 1232}
	b := l.Blocks(lab.ClassOdd)[0]
	for ip := b.Addr(); b.Contains(ip); ip = ip.Next() {
		r, err := cl.Exchange(context.Background(), sweep.ReverseName(ip), dns.TypePTR)
		if err != nil {
			t.Fatalf("Exchange(%s): %v", ip, err)
		}
		var got []string
		for _, rr := range r.Answer {
			if p, ok := rr.(*dns.PTR); ok {
				got = append(got, sweep.CanonicalName(p.Ptr))
			}
		}
		var want []string
		for _, p := range l.Expect(ip).PTRs {
			want = append(want, p.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("PTRs of %s = %q, want %q", ip, got, want)
		}
	}
}

func TestServerLifecycle(t *testing.T) {
	l := newLab(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := lab.Start(ctx, l, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := labtest.Client{Addr: s.Addr()}
	if _, err := cl.Exchange(context.Background(), "lab.example.", dns.TypeSOA); err != nil {
		t.Errorf("Exchange: %v", err)
	}
	if got := s.Queries(); got != 1 {
		t.Errorf("Queries() = %d, want 1", got)
	}
	cancel() // the server stops with its context
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The port is free again for both protocols.
	s2, err := lab.Start(context.Background(), l, s.Addr())
	if err != nil {
		t.Fatalf("Start on the closed server's address: %v", err)
	}
	if err := s2.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
