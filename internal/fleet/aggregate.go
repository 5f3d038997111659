package fleet

import (
	"cmp"
	"net/netip"
	"slices"
)

// Row is one (address, PTR name) pair with what is known about the address.
type Row struct {
	// IP is the address; it must be valid.
	IP netip.Addr
	// PTR is the name; rows without one are not counted.
	PTR string
	// ASN is the origin AS of the address, 0 when unknown.
	ASN uint32
	// Country is the address's country code, "" when unknown.
	Country string
	// Netblock is the routed network of the address (enrich.Info.Net). When
	// it is the zero Prefix, the address's /24 is used (its /64 for IPv6).
	Netblock netip.Prefix
}

// Fleet is one template and what its names cover.
type Fleet struct {
	// Template is the names' template (see Template).
	Template string
	// Scanner is the word of ScannerWords found in the template, "" when
	// none (see Scanner).
	Scanner string
	// Addresses is the number of distinct addresses with a name of the
	// template.
	Addresses int
	// Names is the number of distinct names.
	Names int
	// Example is the smallest name of the template (byte order).
	Example string
	// Netblocks are the distinct netblocks of the addresses, sorted.
	Netblocks []netip.Prefix
	// ASNs are the distinct origin AS numbers, sorted; 0 (unknown) is
	// counted like any AS.
	ASNs []uint32
	// Countries are the distinct country codes, sorted; "" (unknown) is
	// counted like any country.
	Countries []string
}

// group accumulates one template's rows.
type group struct {
	addrs     map[netip.Addr]struct{}
	names     map[string]struct{}
	netblocks map[netip.Prefix]struct{}
	asns      map[uint32]struct{}
	countries map[string]struct{}
}

// Aggregator groups rows by template. The zero value is not ready: use
// NewAggregator. It is not safe for concurrent use. Memory grows with the
// number of distinct names and addresses: feed it one scan or one suffix,
// not a whole dataset (group those in SQL).
type Aggregator struct {
	groups  map[string]*group
	skipped int
}

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator { return &Aggregator{groups: make(map[string]*group)} }

// Add counts a row under the template of its name. A row without a PTR name
// or without a valid address is not counted (see Skipped).
func (a *Aggregator) Add(r Row) {
	if r.PTR == "" || !r.IP.IsValid() {
		a.skipped++
		return
	}
	ip := r.IP.Unmap()
	t := Template(r.PTR, ip)
	g := a.groups[t]
	if g == nil {
		g = &group{addrs: map[netip.Addr]struct{}{}, names: map[string]struct{}{}, netblocks: map[netip.Prefix]struct{}{},
			asns: map[uint32]struct{}{}, countries: map[string]struct{}{}}
		a.groups[t] = g
	}
	nb := r.Netblock
	if !nb.IsValid() {
		bits := 24
		if ip.Is6() {
			bits = 64
		}
		nb, _ = ip.Prefix(bits)
	}
	g.addrs[ip] = struct{}{}
	g.names[r.PTR] = struct{}{}
	g.netblocks[nb.Masked()] = struct{}{}
	g.asns[r.ASN] = struct{}{}
	g.countries[r.Country] = struct{}{}
}

// Skipped returns the number of rows Add did not count.
func (a *Aggregator) Skipped() int { return a.skipped }

// Fleets returns the templates with at least minAddresses addresses,
// sorted by address count (largest first), then by template.
func (a *Aggregator) Fleets(minAddresses int) []Fleet {
	var out []Fleet
	for t, g := range a.groups {
		if len(g.addrs) < minAddresses {
			continue
		}
		f := Fleet{Template: t, Addresses: len(g.addrs), Names: len(g.names)}
		f.Scanner, _ = Scanner(t)
		for n := range g.names {
			if f.Example == "" || n < f.Example {
				f.Example = n
			}
		}
		f.Netblocks = sortedKeys(g.netblocks, func(x, y netip.Prefix) int {
			if c := x.Addr().Compare(y.Addr()); c != 0 {
				return c
			}
			return cmp.Compare(x.Bits(), y.Bits())
		})
		f.ASNs = sortedKeys(g.asns, cmp.Compare[uint32])
		f.Countries = sortedKeys(g.countries, cmp.Compare[string])
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y Fleet) int {
		if c := cmp.Compare(y.Addresses, x.Addresses); c != 0 {
			return c
		}
		return cmp.Compare(x.Template, y.Template)
	})
	return out
}

func sortedKeys[K comparable](m map[K]struct{}, compare func(K, K) int) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, compare)
	return out
}
