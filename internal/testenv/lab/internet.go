package lab

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// The Internet world: a synthetic reverse DNS for every IPv4 address, a
// pure function of the address, so the truth of a /8 (or of all IPv4) is
// computed on demand and never stored. Its shape, from the top:
//
//   - /16: each /8 has its own share of empty /16s, 10 % to 60 % by a hash
//     of the first octet (InternetEmpty16Share), so /8s differ. An
//     empty /16's name b.a.in-addr.arpa answers NXDOMAIN, and so does every
//     name below it (RFC 8020).
//   - Every other /16 belongs to one provider (Providers), by a hash of the
//     /16; the provider decides the name template, how many of its /24s
//     are dense hosting ranges and how full the others are. About 30 % of
//     all addresses have a PTR.
//   - /24, by h = hash(/24) % 1000: h < 120 empty (the /24's name answers
//     NXDOMAIN); h < 128 a delegation that answers SERVFAIL for every name
//     at or below the /24; h < 130 one that answers REFUSED; h < 132 one
//     that never answers (timeout); of the rest, the provider's
//     DensePermille are dense, where 19 addresses in 20 have a PTR, and
//     the others sparse, where the provider's SparsePercent have a PTR.
//   - Scanner fleets: 4 in 1000 of the dense and sparse /24s hold a fleet
//     (InternetFleets, by a hash of the /24): the address .8k+1 of every /29
//     is named scan-N.<fleet>, N numbering the /29s of the /8.
//   - An address with a PTR has a second one (vhost-…) 1 time in 40.
//   - Addresses without a PTR answer NXDOMAIN.
//
// The server is authoritative for in-addr.arpa (SOA with NegativeTTL); it
// serves no forward zone, so the world is for sweeps without --confirm.
// Names outside in-addr.arpa are REFUSED. Every PTR has TTL TTL.

// Provider is a network operator of the Internet world: the template of
// its PTR names and the shape of its /16s.
type Provider struct {
	// Domain is the provider's forward domain.
	Domain string
	// Template is the name of address A.B.C.D with the placeholders
	// {a} {b} {c} {d}, followed by "." and Domain.
	Template string
	// DensePermille is the share, in 1/1000, of the provider's /24s that
	// are neither empty nor failing and are dense hosting ranges.
	DensePermille int
	// SparsePercent is the share of addresses with a PTR in its other /24s.
	SparsePercent int
}

// Providers are the Internet world's providers, chosen per /16 by hash.
var Providers = []Provider{
	{Domain: "compute.cloudhost.example", Template: "ip-{a}-{b}-{c}-{d}", DensePermille: 700, SparsePercent: 45},
	{Domain: "static.isp.example", Template: "{d}.{c}.{b}.{a}", DensePermille: 150, SparsePercent: 35},
	{Domain: "dyn.broadband.example", Template: "host-{a}-{b}-{c}-{d}", DensePermille: 80, SparsePercent: 30},
	{Domain: "rev.hosting.example", Template: "{a}-{b}-{c}-{d}", DensePermille: 600, SparsePercent: 40},
	{Domain: "pool.telco.example", Template: "customer-{d}-{c}.{b}-{a}", DensePermille: 100, SparsePercent: 25},
	{Domain: "net.university.example", Template: "h{c}-{d}.b{b}.a{a}", DensePermille: 250, SparsePercent: 20},
}

// InternetFleets are the suffixes of the scanner fleets of the Internet world.
var InternetFleets = []string{"security.fleet.example", "census.scanner.example", "probe.research.example"}

// Kind24 is the kind of a /24 of the Internet world.
type Kind24 uint8

// The kinds of /24 of the Internet world.
const (
	Kind24Empty16  Kind24 = iota + 1 // in an empty /16
	Kind24Empty                      // the /24 itself is empty
	Kind24ServFail                   // SERVFAIL at and below the /24
	Kind24Refused                    // REFUSED at and below the /24
	Kind24Silent                     // no answer at and below the /24
	Kind24Dense                      // 19 in 20 addresses have a PTR
	Kind24Sparse                     // the provider's SparsePercent have a PTR
)

var kind24Names = [...]string{"", "empty16", "empty", "servfail", "refused", "silent", "dense", "sparse"}

// String returns the kind's name.
func (k Kind24) String() string {
	if int(k) < len(kind24Names) && k != 0 {
		return kind24Names[k]
	}
	return "kind24(" + strconv.Itoa(int(k)) + ")"
}

// Salts keep the hashes of the levels apart.
const (
	saltEmpty8  = 0x9e3779b9
	saltEmpty16 = 0x7f4a7c15
	saltProv    = 0x94d049bb
	saltKind24  = 0xbf58476d
	saltFleet   = 0x2545f491
	saltPTR     = 0x68e31da4
	saltSecond  = 0x1b873593
)

// InternetEmpty16Share returns the share, in percent, of the empty /16s of
// the /8 with first octet a: 10, 20, 30, 45 or 60.
func InternetEmpty16Share(a byte) int {
	return empty16Shares[mix(uint32(a)^saltEmpty8)%uint32(len(empty16Shares))]
}

// empty16Shares are the possible shares of empty /16s in a /8, in percent.
var empty16Shares = [...]int{10, 20, 30, 45, 60}

// InternetProvider returns the provider of ip's /16, and false when the
// /16 is empty.
func InternetProvider(ip netip.Addr) (Provider, bool) {
	a := ip.As4()
	k16 := uint32(a[0])<<8 | uint32(a[1])
	if int(mix(k16^saltEmpty16)%100) < InternetEmpty16Share(a[0]) {
		return Provider{}, false
	}
	return Providers[mix(k16^saltProv)%uint32(len(Providers))], true
}

// InternetKind returns the kind of ip's /24.
func InternetKind(ip netip.Addr) Kind24 {
	p, ok := InternetProvider(ip)
	if !ok {
		return Kind24Empty16
	}
	a := ip.As4()
	h := int(mix(uint32(a[0])<<16|uint32(a[1])<<8|uint32(a[2])^saltKind24) % 1000)
	switch {
	case h < 120:
		return Kind24Empty
	case h < 128:
		return Kind24ServFail
	case h < 130:
		return Kind24Refused
	case h < 132:
		return Kind24Silent
	case h < 132+p.DensePermille*868/1000:
		return Kind24Dense
	}
	return Kind24Sparse
}

// InternetFleet returns the fleet suffix of ip's /24, and false when it
// holds no fleet.
func InternetFleet(ip netip.Addr) (string, bool) {
	switch InternetKind(ip) {
	case Kind24Dense, Kind24Sparse:
	default:
		return "", false
	}
	a := ip.As4()
	h := mix(uint32(a[0])<<16 | uint32(a[1])<<8 | uint32(a[2]) ^ saltFleet)
	if h%1000 >= 4 {
		return "", false
	}
	return InternetFleets[(h/1000)%uint32(len(InternetFleets))], true
}

// InternetExpect returns what a sweep of the Internet world's server finds
// for ip (without forward confirmation). It is a pure function of ip.
func InternetExpect(ip netip.Addr) Expected {
	if !ip.Is4() {
		return Expected{Status: sweep.StatusRefused}
	}
	names := InternetPTRs(ip)
	if names == nil {
		switch InternetKind(ip) {
		case Kind24ServFail:
			return Expected{Status: sweep.StatusServFail}
		case Kind24Refused:
			return Expected{Status: sweep.StatusRefused}
		case Kind24Silent:
			return Expected{Status: sweep.StatusTimeout}
		}
		return Expected{Status: sweep.StatusNXDomain, TTL: NegativeTTL}
	}
	e := Expected{Status: sweep.StatusOK, TTL: TTL, PTRs: make([]sweep.PTR, len(names))}
	for i, n := range names {
		e.PTRs[i] = sweep.PTR{Name: n, TTL: TTL}
	}
	return e
}

// InternetPTRs returns the PTR names of ip in the Internet world, sorted,
// lower case and without the trailing dot; nil when it has none (its
// status is then that of its /24's kind, or nxdomain).
func InternetPTRs(ip netip.Addr) []string {
	p, fleet, n := internetAddr(ip)
	a := ip.As4()
	switch {
	case n == 0:
		return nil
	case fleet != "":
		num := uint32(a[1])<<13 | uint32(a[2])<<5 | uint32(a[3])>>3
		return []string{"scan-" + strconv.FormatUint(uint64(num), 10) + "." + fleet}
	}
	first := expand(p.Template, a) + "." + p.Domain
	if n == 1 {
		return []string{first}
	}
	second := "vhost-" + dashed(a) + "." + p.Domain
	if second < first {
		return []string{second, first}
	}
	return []string{first, second}
}

// internetAddr returns ip's provider, its fleet ("" when none) and its
// number of PTRs, without building names.
func internetAddr(ip netip.Addr) (p Provider, fleet string, n int) {
	kind := InternetKind(ip)
	if kind != Kind24Dense && kind != Kind24Sparse {
		return Provider{}, "", 0
	}
	a := ip.As4()
	if f, ok := InternetFleet(ip); ok && a[3]%8 == 1 {
		return Provider{}, f, 1
	}
	p, _ = InternetProvider(ip)
	v := cidr.AddrToUint32(ip)
	h := int(mix(v^saltPTR) % 100)
	if (kind == Kind24Dense && h >= 95) || (kind == Kind24Sparse && h >= p.SparsePercent) {
		return p, "", 0
	}
	if mix(v^saltSecond)%40 != 0 {
		return p, "", 1
	}
	return p, "", 2
}

// expand fills the placeholders of a provider template.
func expand(tmpl string, a [4]byte) string {
	r := strings.NewReplacer("{a}", strconv.Itoa(int(a[0])), "{b}", strconv.Itoa(int(a[1])),
		"{c}", strconv.Itoa(int(a[2])), "{d}", strconv.Itoa(int(a[3])))
	return r.Replace(tmpl)
}

// InternetStats counts what the Internet world serves for a set of addresses.
type InternetStats struct {
	// Addresses is the number of addresses counted.
	Addresses int
	// Status counts the addresses by outcome.
	Status map[sweep.Status]int
	// PTRs is the number of (address, PTR) pairs.
	PTRs int
	// Kinds counts the /24s by kind (each /24 whose first address is counted).
	Kinds map[Kind24]int
	// Fleet counts the fleet PTRs by suffix.
	Fleet map[string]int
}

// Rows returns the number of rows a sweep stores for the counted
// addresses, by status, as sweep.Rows makes them: one per PTR, one per
// address without a PTR, none for nxdomain.
func (st InternetStats) Rows() map[sweep.Status]int {
	out := map[sweep.Status]int{}
	for s, n := range st.Status {
		out[s] = n
	}
	out[sweep.StatusOK] = st.PTRs
	out[sweep.StatusNXDomain] = 0
	return out
}

// CountInternet counts the Internet world over prefix (an IPv4 prefix of
// length 8 or more); a /8 takes a few seconds.
func CountInternet(prefix netip.Prefix) InternetStats {
	st := InternetStats{Status: map[sweep.Status]int{}, Kinds: map[Kind24]int{}, Fleet: map[string]int{}}
	prefix = prefix.Masked()
	lo := uint64(cidr.AddrToUint32(prefix.Addr()))
	hi := lo + uint64(1)<<(32-prefix.Bits())
	for v := lo; v < hi; v++ {
		ip := cidr.Uint32ToAddr(uint32(v))
		if v%256 == 0 || v == lo {
			st.Kinds[InternetKind(ip)]++
		}
		st.add(ip)
	}
	return st
}

func (st *InternetStats) add(ip netip.Addr) {
	st.Addresses++
	_, fleet, n := internetAddr(ip)
	if n == 0 {
		st.Status[InternetExpect(ip).Status]++
		return
	}
	st.Status[sweep.StatusOK]++
	st.PTRs += n
	if fleet != "" {
		st.Fleet[fleet]++
	}
}

// internetSOA is the SOA of the Internet world's one zone, in-addr.arpa.
var internetSOA = &dns.SOA{
	Hdr: dns.RR_Header{Name: "in-addr.arpa.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: NegativeTTL},
	Ns:  "ns.internet.example.", Mbox: "hostmaster.internet.example.",
	Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: NegativeTTL,
}

// reverseOctets parses the labels of a name under in-addr.arpa (canonical
// form, no trailing dot) into the octets it names, most significant first.
// ok is false when the name is not under in-addr.arpa; valid is false when
// a label is not an octet (octets then holds those above it) or there are
// more than four (octets then holds the last four).
func reverseOctets(key string) (octets []byte, ok, valid bool) {
	const suffix = "in-addr.arpa"
	if key == suffix {
		return nil, true, true
	}
	if !strings.HasSuffix(key, "."+suffix) {
		return nil, false, false
	}
	labels := strings.Split(strings.TrimSuffix(key, "."+suffix), ".")
	valid = true
	if len(labels) > 4 {
		// Below an address: judged by the address's /24, then NXDOMAIN.
		labels, valid = labels[len(labels)-4:], false
	}
	for i := len(labels) - 1; i >= 0; i-- {
		n, err := strconv.Atoi(labels[i])
		if err != nil || n < 0 || n > 255 || strconv.Itoa(n) != labels[i] {
			return nil, true, false
		}
		octets = append(octets, byte(n))
	}
	return octets, true, valid
}

// AnswerInternet returns the Internet world's authoritative response to
// req as received over UDP (udp true) or TCP, and false when the query must
// be dropped (a silent /24). It is safe for concurrent use.
func AnswerInternet(req *dns.Msg, udp bool) (*dns.Msg, bool) {
	return answer(req, udp, fillInternet)
}

// fillInternet writes the Internet world's answer to q into resp; false
// means drop the query.
func fillInternet(resp *dns.Msg, q dns.Question) bool {
	key := sweep.CanonicalName(q.Name)
	octets, ok, valid := reverseOctets(key)
	if !ok || (q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY) {
		resp.Rcode = dns.RcodeRefused
		return true
	}
	nx := func() bool {
		resp.Authoritative = true
		resp.Rcode = dns.RcodeNameError
		resp.Ns = append(resp.Ns, internetSOA)
		return true
	}
	nodata := func() bool {
		resp.Authoritative = true
		resp.Ns = append(resp.Ns, internetSOA)
		return true
	}
	if len(octets) >= 2 {
		var a [4]byte
		copy(a[:], octets)
		ip := netip.AddrFrom4(a)
		if len(octets) == 2 {
			if _, ok := InternetProvider(ip); !ok {
				return nx()
			}
		} else {
			switch InternetKind(ip) {
			case Kind24Empty16, Kind24Empty:
				return nx()
			case Kind24ServFail:
				resp.Rcode = dns.RcodeServerFailure
				return true
			case Kind24Refused:
				resp.Rcode = dns.RcodeRefused
				return true
			case Kind24Silent:
				return false
			}
		}
		if len(octets) == 4 && valid {
			names := InternetPTRs(ip)
			if names == nil {
				return nx()
			}
			resp.Authoritative = true
			switch q.Qtype {
			case dns.TypePTR, dns.TypeANY:
				for _, n := range names {
					resp.Answer = append(resp.Answer, &dns.PTR{Hdr: hdr(q.Name, dns.TypePTR, TTL), Ptr: n + "."})
				}
				return true
			}
			return nodata()
		}
	}
	if !valid {
		return nx()
	}
	if len(octets) == 0 {
		resp.Authoritative = true
		switch q.Qtype {
		case dns.TypeSOA, dns.TypeANY:
			soa := *internetSOA
			soa.Hdr.Name = q.Name
			resp.Answer = append(resp.Answer, &soa)
			return true
		}
	}
	// The apex, a /8 or a non-empty /16 or /24: a name with no records.
	return nodata()
}
