package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// TTL is the TTL in seconds of every PTR, CNAME, A and TXT record of the lab.
const TTL uint32 = 3600

// NegativeTTL is the TTL and the minimum of every SOA record of the lab, so
// the TTL of nxdomain and nodata outcomes (RFC 2308).
const NegativeTTL uint32 = 300

// DefaultSpace is the /16 a lab covers unless told otherwise: part of
// 198.18.0.0/15, the IANA benchmarking range.
var DefaultSpace = netip.MustParsePrefix("198.18.0.0/16")

// The forward zones of the lab, without the trailing dot.
const (
	zoneLab    = "lab.example"
	zoneFleet  = "fleet.example"
	zoneEvil   = "evil.example"
	zoneBroken = "broken.example"
)

// Class is the kind of a /24 of the lab (see the package documentation).
type Class uint8

// The classes of /24.
const (
	ClassDense Class = iota + 1
	ClassSparse
	ClassEmpty
	ClassMulti
	ClassLarge
	ClassRFC2317
	ClassServFail
	ClassRefused
	ClassSilent
	ClassNoData
	ClassOdd
	ClassFleet
)

// Classes lists every class.
var Classes = []Class{ClassDense, ClassSparse, ClassEmpty, ClassMulti, ClassLarge, ClassRFC2317,
	ClassServFail, ClassRefused, ClassSilent, ClassNoData, ClassOdd, ClassFleet}

var classNames = map[Class]string{
	ClassDense: "dense", ClassSparse: "sparse", ClassEmpty: "empty", ClassMulti: "multi",
	ClassLarge: "large", ClassRFC2317: "rfc2317", ClassServFail: "servfail", ClassRefused: "refused",
	ClassSilent: "silent", ClassNoData: "nodata", ClassOdd: "odd", ClassFleet: "fleet",
}

// String returns the class's name as in the package documentation.
func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// classTable maps the third octet mod 16 to the class.
var classTable = [16]Class{
	ClassDense, ClassSparse, ClassEmpty, ClassMulti, ClassLarge, ClassRFC2317, ClassServFail, ClassRefused,
	ClassSilent, ClassNoData, ClassOdd, ClassFleet, ClassDense, ClassEmpty, ClassSparse, ClassEmpty,
}

// classOf returns the class of the /24 with third octet c.
func classOf(c byte) Class { return classTable[c%16] }

// Expected is what a correct sweep finds for one address.
type Expected struct {
	Status sweep.Status
	// TTL is the answer's TTL as sweep.Result defines it: the first PTR's TTL
	// for ok, NegativeTTL for nxdomain and nodata, 0 otherwise.
	TTL uint32
	// PTRs are the address's PTRs in canonical form (sweep.CanonicalName),
	// sorted by name, each with TTL and the expected forward-confirmation
	// outcome (a sweep without confirmation sees FCrDNSNone instead).
	PTRs []sweep.PTR
}

// Result returns e as a sweep.Result of address ip.
func (e Expected) Result(ip netip.Addr) sweep.Result {
	return sweep.Result{IP: ip, Status: e.Status, TTL: e.TTL, PTRs: slices.Clone(e.PTRs)}
}

// node is one name of a lab zone. A node with no records is an empty
// non-terminal. Nodes are read-only after New.
type node struct {
	ptrs     []string // served PTR targets, presentation form, fully qualified
	cname    string   // served CNAME target, fully qualified
	cnameKey string   // canonical key of the CNAME target
	a        []netip.Addr
	txt      bool
	apex     *zone // set on zone apexes: they hold SOA and NS
}

// zone is one zone the lab serves.
type zone struct {
	key     string // canonical apex, no trailing dot
	fqdn    string // apex with the trailing dot
	reverse bool
	broken  bool // every name answers SERVFAIL; never written to a zone file
	soa     *dns.SOA
	ns      *dns.NS
}

// Lab is the synthetic reverse-DNS world of one /16. It is immutable after
// New and safe for concurrent use.
type Lab struct {
	space  netip.Prefix
	zones  []*zone
	rev    *zone
	expect []Expected // indexed by the address's low 16 bits
	nodes  map[string]*node
}

// New builds the lab of space, which must be an IPv4 /16 (usually
// DefaultSpace). It builds every record up front, which takes a fraction of
// a second.
func New(space netip.Prefix) (*Lab, error) {
	if !space.IsValid() || !space.Addr().Is4() || space.Bits() != 16 {
		return nil, fmt.Errorf("new lab of %s: %w", space, ErrSpace)
	}
	space = space.Masked()
	l := &Lab{
		space:  space,
		expect: make([]Expected, 1<<16),
		nodes:  make(map[string]*node, 1<<17),
	}
	revFQDN, err := sweep.ReverseZone(space)
	if err != nil {
		return nil, fmt.Errorf("new lab: %w", err)
	}
	l.rev = l.addZone(revFQDN, true, false)
	l.addZone(zoneLab+".", false, false)
	l.addZone(zoneFleet+".", false, false)
	l.addZone(zoneEvil+".", false, false)
	l.addZone(zoneBroken+".", false, true)
	l.nodeFor("ns." + zoneLab).a = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}

	g := gen{l: l}
	for c := 0; c < 256; c++ {
		for d := 0; d < 256; d++ {
			g.address(byte(c), byte(d))
		}
	}
	return l, nil
}

// Space returns the lab's /16.
func (l *Lab) Space() netip.Prefix { return l.space }

// Zones returns the apex of every zone the lab serves, fully qualified
// (trailing dot): the reverse zone of its /16 first, then the forward zones.
func (l *Lab) Zones() []string {
	out := make([]string, len(l.zones))
	for i, z := range l.zones {
		out[i] = z.fqdn
	}
	return out
}

// Class returns the class of the /24 that holds ip, and false if ip is
// outside the lab's space.
func (l *Lab) Class(ip netip.Addr) (Class, bool) {
	if !l.space.Contains(ip) {
		return 0, false
	}
	return classOf(ip.As4()[2]), true
}

// Blocks returns the /24s of class c in order.
func (l *Lab) Blocks(c Class) []netip.Prefix {
	var out []netip.Prefix
	a := l.space.Addr().As4()
	for i := 0; i < 256; i++ {
		if classOf(byte(i)) == c {
			out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{a[0], a[1], byte(i), 0}), 24))
		}
	}
	return out
}

// Expect returns what a sweep that queries the lab's authoritative server
// (the in-process Server, or Knot for the classes it serves itself) must
// find for ip. Addresses outside the space are refused. The PTRs slice is
// shared: callers must not modify it.
func (l *Lab) Expect(ip netip.Addr) Expected {
	if !ip.Is4() || !l.space.Contains(ip) {
		return Expected{Status: sweep.StatusRefused}
	}
	a := ip.As4()
	return l.expect[int(a[2])<<8|int(a[3])]
}

// ExpectRecursive returns what a sweep through a recursive resolver
// (Unbound, set up by labproc) in front of Knot serving WriteZones must find
// for ip: servfail, refused and silent /24s are delegations to dead servers,
// so they all become servfail; addresses outside the space are answered by
// Unbound's static root, so nxdomain. Forward confirmation outcomes are the
// same as Expect's.
func (l *Lab) ExpectRecursive(ip netip.Addr) Expected {
	if !ip.Is4() || !l.space.Contains(ip) {
		return Expected{Status: sweep.StatusNXDomain, TTL: NegativeTTL}
	}
	e := l.Expect(ip)
	switch e.Status {
	case sweep.StatusRefused, sweep.StatusTimeout:
		e.Status = sweep.StatusServFail
	}
	return e
}

func (l *Lab) addZone(fqdn string, reverse, broken bool) *zone {
	key := strings.TrimSuffix(fqdn, ".")
	z := &zone{key: key, fqdn: fqdn, reverse: reverse, broken: broken}
	hdr := dns.RR_Header{Name: fqdn, Class: dns.ClassINET, Ttl: NegativeTTL}
	z.soa = &dns.SOA{Hdr: hdr, Ns: "ns." + zoneLab + ".", Mbox: "hostmaster." + zoneLab + ".",
		Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: NegativeTTL}
	z.soa.Hdr.Rrtype = dns.TypeSOA
	z.ns = &dns.NS{Hdr: dns.RR_Header{Name: fqdn, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: TTL}, Ns: "ns." + zoneLab + "."}
	l.zones = append(l.zones, z)
	if !broken {
		l.nodes[key] = &node{apex: z}
	}
	return z
}

// zoneOf returns the zone that holds the canonical name key, or nil.
func (l *Lab) zoneOf(key string) *zone {
	for _, z := range l.zones {
		if key == z.key || (len(key) > len(z.key) && strings.HasSuffix(key, z.key) && key[len(key)-len(z.key)-1] == '.' &&
			!escapedDot(key, len(key)-len(z.key)-1)) {
			return z
		}
	}
	return nil
}

// escapedDot reports whether the byte at i is escaped by an odd run of
// backslashes.
func escapedDot(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// parent returns key without its first label, and false at a single label.
func parent(key string) (string, bool) {
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '\\':
			i++
		case '.':
			return key[i+1:], true
		}
	}
	return "", false
}

// nodeFor returns the node of canonical name key, creating it and its
// ancestors (empty non-terminals) up to the zone apex.
func (l *Lab) nodeFor(key string) *node {
	if n, ok := l.nodes[key]; ok {
		return n
	}
	n := &node{}
	l.nodes[key] = n
	for k := key; ; {
		p, ok := parent(k)
		if !ok {
			break
		}
		if _, exists := l.nodes[p]; exists {
			break
		}
		if l.zoneOf(p) == nil {
			break
		}
		l.nodes[p] = &node{}
		k = p
	}
	return n
}

// canonical returns the stored form of a served presentation name: miekg's
// escaping (names with escapes are packed and unpacked to get exactly its
// form), no trailing dot, ASCII lower-cased.
func canonical(served string) string {
	if strings.ContainsRune(served, '\\') {
		buf := make([]byte, 256)
		n, err := dns.PackDomainName(served, buf, 0, nil, false)
		if err != nil {
			panic(fmt.Sprintf("lab: bad generated name %q: %v", served, err))
		}
		name, _, err := dns.UnpackDomainName(buf[:n], 0)
		if err != nil {
			panic(fmt.Sprintf("lab: bad generated name %q: %v", served, err))
		}
		served = name
	}
	return sweep.CanonicalName(served)
}

// slash24 returns the third octet of the /24 of the space whose reverse
// zone holds name (case-insensitive, with or without the trailing dot).
func (l *Lab) slash24(name string) (byte, bool) {
	labels := sweep.SplitLabels(strings.ToLower(name))
	n := len(labels)
	a := l.space.Addr().As4()
	if n < 5 || labels[n-1] != "arpa" || labels[n-2] != "in-addr" ||
		labels[n-3] != strconv.Itoa(int(a[0])) || labels[n-4] != strconv.Itoa(int(a[1])) {
		return 0, false
	}
	c, err := strconv.Atoi(labels[n-5])
	if err != nil || c < 0 || c > 255 {
		return 0, false
	}
	return byte(c), true
}
