package dnswire

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// result is the outcome of one answer to a PTR query, as the resolver
// makes it: a status, the negative TTL, the canonical PTRs.
type result struct {
	status sweep.Status
	ttl    uint32
	ptrs   []sweep.PTR
}

// parsedResult is what the resolver makes of a parsed Answer.
func parsedResult(a *Answer) result {
	switch {
	case a.Rcode() == dns.RcodeNameError:
		return result{status: sweep.StatusNXDomain, ttl: a.NegTTL()}
	case a.Len() == 0:
		return result{status: sweep.StatusNoData, ttl: a.NegTTL()}
	}
	out := result{status: sweep.StatusOK}
	for i := range a.Len() {
		out.ptrs = append(out.ptrs, sweep.PTR{Name: string(a.Name(i)), TTL: a.TTL(i)})
	}
	return out
}

// referenceOutcome is what the resolver's miekg/dns path makes of one
// answer to a PTR question, following CNAMEs in the answer: the outcome
// the fast parser must reproduce. ok is false when the resolver would ask
// again (the chain leaves the answer without records). A loop is
// servfail; Parse accepts at most one CNAME, so the resolver's bound on
// chain length never matters here.
func referenceOutcome(m *dns.Msg, qname string) (out result, ok bool) {
	seen := map[string]bool{strings.ToLower(qname): true}
	cur := qname
	var rrs []dns.RR
	for {
		next := ""
		for _, rr := range m.Answer {
			h := rr.Header()
			if h.Class != dns.ClassINET || !strings.EqualFold(h.Name, cur) {
				continue
			}
			if h.Rrtype == dns.TypePTR {
				rrs = append(rrs, rr)
			} else if c, isC := rr.(*dns.CNAME); isC && next == "" {
				next = c.Target
			}
		}
		if next == "" {
			break
		}
		if seen[strings.ToLower(next)] {
			return result{status: sweep.StatusServFail}, true
		}
		seen[strings.ToLower(next)] = true
		cur = next
	}
	switch {
	case m.Rcode == dns.RcodeNameError:
		return result{status: sweep.StatusNXDomain, ttl: negativeTTL(m)}, true
	case len(rrs) > 0:
		return result{status: sweep.StatusOK, ptrs: ptrNames(rrs)}, true
	case cur == qname:
		return result{status: sweep.StatusNoData, ttl: negativeTTL(m)}, true
	}
	return result{}, false
}

// ptrNames returns the canonical PTR names of rrs, each once with its
// first TTL.
func ptrNames(rrs []dns.RR) []sweep.PTR {
	var out []sweep.PTR
	seen := map[string]bool{}
	for _, rr := range rrs {
		name := sweep.CanonicalName(rr.(*dns.PTR).Ptr)
		if !seen[name] {
			seen[name] = true
			out = append(out, sweep.PTR{Name: name, TTL: rr.Header().Ttl})
		}
	}
	return out
}

// negativeTTL is the smaller of the first authority SOA's TTL and MINIMUM.
func negativeTTL(m *dns.Msg) uint32 {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Hdr.Ttl, soa.Minttl)
		}
	}
	return 0
}

const (
	rev7  = "7.2.0.192.in-addr.arpa."
	rev7d = "7.0/25.2.0.192.in-addr.arpa." // an RFC 2317 delegated name
)

var fuzzIP = netip.MustParseAddr("192.0.2.7")

// seedAnswers returns packed answers to the PTR query of fuzzIP.
func seedAnswers(t testing.TB) [][]byte {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	soa := rr("2.0.192.in-addr.arpa. 300 IN SOA ns.example. host.example. 1 3600 600 86400 60")
	var out [][]byte
	for _, tc := range []struct {
		rcode    int
		answer   []string
		ns       bool
		compress bool
	}{
		{0, []string{rev7 + " 60 IN PTR host.example."}, false, true},
		{0, []string{rev7 + " 60 IN PTR host.example.", rev7 + " 70 IN PTR Other.Example.", rev7 + " 80 IN PTR host.example."}, false, true},
		{0, []string{rev7 + ` 60 IN PTR A\ b\000c\.d\255\(\)\;\@\"\'\\.Example.COM.`}, false, false},
		{0, []string{"8.2.0.192.in-addr.arpa. 60 IN PTR evil.example.", rev7 + " 60 IN PTR good.example."}, false, true},
		{3, nil, true, true},
		{0, nil, true, false},
		{0, []string{rev7 + " 60 IN PTR ."}, false, false},
		{0, []string{rev7 + " 60 IN CNAME " + rev7d}, false, true},
		// RFC 2317: the CNAME and its target's PTRs.
		{0, []string{rev7 + " 60 IN CNAME " + rev7d, rev7d + " 50 IN PTR Host.Example.", rev7d + " 40 IN PTR other.example."}, false, true},
		{0, []string{rev7d + " 50 IN PTR host.example.", rev7 + " 60 IN CNAME " + strings.ToUpper(rev7d)}, false, false},
		{3, []string{rev7 + " 60 IN CNAME " + rev7d}, true, true},
		// Left to miekg/dns: a loop, two CNAMEs, PTRs of both names.
		{0, []string{rev7 + " 60 IN CNAME " + rev7, rev7 + " 50 IN PTR host.example."}, false, true},
		{0, []string{rev7 + " 60 IN CNAME " + rev7d, rev7d + " 60 IN CNAME x.example.", "x.example. 60 IN PTR host.example."}, false, true},
		{0, []string{rev7 + " 50 IN PTR a.example.", rev7 + " 60 IN CNAME " + rev7d, rev7d + " 50 IN PTR host.example."}, false, true},
		{0, []string{rev7 + " 60 IN PTR " + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61) + "."}, false, true},
	} {
		q := new(dns.Msg)
		q.SetQuestion(rev7, dns.TypePTR)
		m := new(dns.Msg)
		m.SetReply(q)
		m.Rcode = tc.rcode
		for _, a := range tc.answer {
			m.Answer = append(m.Answer, rr(a))
		}
		if tc.ns {
			m.Ns = []dns.RR{soa}
		}
		m.SetEdns0(1232, false)
		m.Compress = tc.compress
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	// A referral: NODATA for the fast parser as for lookup.
	q := new(dns.Msg)
	q.SetQuestion(rev7, dns.TypePTR)
	m := new(dns.Msg)
	m.SetReply(q)
	m.Ns = []dns.RR{rr("2.0.192.in-addr.arpa. 3600 IN NS ns.2.0.192.in-addr.arpa.")}
	m.Extra = []dns.RR{rr("ns.2.0.192.in-addr.arpa. 3600 IN A 127.0.0.3"), rr("ns.2.0.192.in-addr.arpa. 3600 IN AAAA ::1")}
	m.SetEdns0(1232, false)
	m.Compress = true
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, b)
	return out
}

// checkAgainstMiekg parses pkt (made an answer to fuzzIP's query) with the
// fast parser and, when it accepts, checks that miekg/dns accepts it too
// with the same outcome.
func checkAgainstMiekg(t *testing.T, pkt []byte) bool {
	var qbuf [MaxPTRQueryLen]byte
	q, qlen := PackPTRQuery(qbuf[:], 0, fuzzIP, 1232)
	var a Answer
	if !a.Parse(pkt, q[HeaderLen:HeaderLen+qlen]) {
		return false
	}
	m := new(dns.Msg)
	if err := m.Unpack(pkt); err != nil {
		t.Fatalf("fast parser accepted %x; miekg/dns: %v", pkt, err)
	}
	got := parsedResult(&a)
	want, ok := referenceOutcome(m, rev7)
	if !ok {
		t.Fatalf("packet %x: fast %+v, miekg/dns would ask again", pkt, got)
	}
	if got.status != want.status || got.ttl != want.ttl || !slices.Equal(got.ptrs, want.ptrs) {
		t.Fatalf("packet %x: fast %+v, miekg/dns %+v", pkt, got, want)
	}
	return true
}

func TestParseFastSeeds(t *testing.T) {
	accepted := 0
	for _, pkt := range seedAnswers(t) {
		if checkAgainstMiekg(t, pkt) {
			accepted++
		}
	}
	if accepted != 12 { // all but the CNAME without target records and the three left to miekg/dns
		t.Errorf("fast parser accepted %d seed answers, want 12", accepted)
	}
}

// FuzzParseFast checks the fast parser against miekg/dns: whatever it
// accepts, miekg/dns accepts with the same outcome.
func FuzzParseFast(f *testing.F) {
	for _, pkt := range seedAnswers(f) {
		f.Add(pkt)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		checkAgainstMiekg(t, pkt)
	})
}

// FuzzAppendName checks the name decoder against miekg/dns and
// sweep.CanonicalName.
func FuzzAppendName(f *testing.F) {
	f.Add([]byte("\x04Host\x07EXAMPLE\x00"))
	f.Add([]byte("\x05a b.c\x02\x00\xff\x00"))
	f.Add([]byte("\x00"))
	f.Add([]byte("\x01a\xc0\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := appendName(nil, b, 0)
		name, _, err := dns.UnpackDomainName(b, 0)
		if ok != (err == nil) {
			t.Fatalf("%x: fast ok %v, miekg/dns %v", b, ok, err)
		}
		if ok && string(got) != sweep.CanonicalName(name) {
			t.Fatalf("%x: fast %q, miekg/dns %q", b, got, sweep.CanonicalName(name))
		}
		if end, sok := skipName(b, 0); sok != ok || (ok && end > len(b)) {
			t.Fatalf("%x: skipName %d %v, appendName %v", b, end, sok, ok)
		}
	})
}

func TestPackPTRQuery(t *testing.T) {
	var buf [MaxPTRQueryLen]byte
	for _, ip := range []string{"0.0.0.0", "192.0.2.7", "255.255.255.255", "10.100.9.99"} {
		a := netip.MustParseAddr(ip)
		q, _ := PackPTRQuery(buf[:], 0x1234, a, 1400)
		m := new(dns.Msg)
		if err := m.Unpack(q); err != nil {
			t.Fatalf("%s: %v", ip, err)
		}
		if m.Id != 0x1234 || !m.RecursionDesired || m.Question[0].Name != sweep.ReverseName(a) ||
			m.Question[0].Qtype != dns.TypePTR || m.IsEdns0() == nil || m.IsEdns0().UDPSize() != 1400 {
			t.Errorf("%s: packed %v", ip, m)
		}
	}
}

func BenchmarkPackPTRQuery(b *testing.B) {
	var buf [MaxPTRQueryLen]byte
	ip := netip.MustParseAddr("198.51.100.7")
	b.ReportAllocs()
	for b.Loop() {
		PackPTRQuery(buf[:], 1, ip, 1232)
	}
}

func BenchmarkParseFast(b *testing.B) {
	pkt := seedAnswers(b)[1]
	var qbuf [MaxPTRQueryLen]byte
	q, qlen := PackPTRQuery(qbuf[:], 0, fuzzIP, 1232)
	var a Answer
	b.ReportAllocs()
	for b.Loop() {
		if !a.Parse(pkt, q[HeaderLen:HeaderLen+qlen]) {
			b.Fatal("not parsed")
		}
	}
}

func BenchmarkParseMiekg(b *testing.B) {
	pkt := seedAnswers(b)[1]
	b.ReportAllocs()
	for b.Loop() {
		m := new(dns.Msg)
		if err := m.Unpack(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func TestResponds(t *testing.T) {
	var qbuf [MaxPTRQueryLen]byte
	query, qlen := PackPTRQuery(qbuf[:], 7, fuzzIP, 1232)
	q := query[HeaderLen : HeaderLen+qlen]
	reply := func(edit func(m *dns.Msg)) []byte {
		m := new(dns.Msg)
		if err := m.Unpack(query); err != nil {
			t.Fatal(err)
		}
		m.Response = true
		edit(m)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		pkt  []byte
		want bool
	}{
		{"the same question", reply(func(m *dns.Msg) {}), true},
		{"question in other case", reply(func(m *dns.Msg) { m.Question[0].Name = strings.ToUpper(rev7) }), true},
		{"not a response", reply(func(m *dns.Msg) { m.Response = false }), false},
		{"another opcode", reply(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }), false},
		{"another name", reply(func(m *dns.Msg) { m.Question[0].Name = "8.2.0.192.in-addr.arpa." }), false},
		{"another type", reply(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeA }), false},
		{"refused without question", reply(func(m *dns.Msg) { m.Question = nil; m.Rcode = dns.RcodeRefused }), true},
		{"nxdomain without question", reply(func(m *dns.Msg) { m.Question = nil; m.Rcode = dns.RcodeNameError }), false},
		{"truncated error without question", reply(func(m *dns.Msg) { m.Question = nil; m.Rcode = dns.RcodeRefused; m.Truncated = true }), false},
	}
	for _, tt := range tests {
		if got := Responds(tt.pkt, q); got != tt.want {
			t.Errorf("Responds(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
