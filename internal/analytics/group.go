package analytics

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// The groupings of ParseGroup.
const (
	GroupNetblock = "netblock"
	GroupASN      = "asn"
	GroupCountry  = "country"
)

// ParseGroup checks a --group value: netblock, asn or country. Its error
// wraps ErrBadGroup and lists the choices.
func ParseGroup(s string) (string, error) {
	switch s {
	case GroupNetblock, GroupASN, GroupCountry:
		return s, nil
	}
	return "", fmt.Errorf("%w: --group %q: want netblock, asn or country", ErrBadGroup, s)
}

// NetblockGroup is one routed network and the addresses found in it.
type NetblockGroup struct {
	Netblock  string `json:"netblock"`
	ASN       uint32 `json:"asn"`
	ASName    string `json:"as_name"`
	Country   string `json:"country"`
	Addresses int    `json:"addresses"`
}

// ASNGroup is one provider (origin AS) and where its addresses are.
type ASNGroup struct {
	ASN       uint32   `json:"asn"`
	ASName    string   `json:"as_name"`
	Addresses int      `json:"addresses"`
	Netblocks []string `json:"netblocks"`
	Countries []string `json:"countries"`
}

// CountryGroup is one country and the networks and providers of its
// addresses.
type CountryGroup struct {
	Country   string   `json:"country"`
	Addresses int      `json:"addresses"`
	Netblocks []string `json:"netblocks"`
	ASNs      []uint32 `json:"asns"`
}

// Groups is the result of Grouper.Groups: exactly one of the slices is
// set, per the grouping asked for.
type Groups struct {
	// Routed is false when no IP-to-ASN data was used: netblocks are /24s.
	Routed    bool
	Addresses int
	Netblocks []NetblockGroup
	ASNs      []ASNGroup
	Countries []CountryGroup
}

// Grouper collects the distinct addresses of a row stream and groups them.
// Memory is one entry per distinct address. It is not safe for concurrent
// use.
type Grouper struct {
	addrs []netip.Addr
}

// Add records the row's address. Rows may come in any order and repeat.
func (g *Grouper) Add(r sweep.Row) error {
	a := r.IP.Unmap()
	if n := len(g.addrs); n == 0 || g.addrs[n-1] != a {
		g.addrs = append(g.addrs, a)
	}
	return nil
}

// Addrs returns the distinct addresses added so far, sorted. The slice
// belongs to the Grouper.
func (g *Grouper) Addrs() []netip.Addr {
	slices.SortFunc(g.addrs, netip.Addr.Compare)
	g.addrs = slices.Compact(g.addrs)
	return g.addrs
}

// addrInfo is an address with what is known about it.
type addrInfo struct {
	addr netip.Addr
	net  netip.Prefix
	asn  uint32
	name string
	cc   string
}

// Groups groups the addresses added so far by group (see ParseGroup),
// with e's routing data; e may be nil (netblocks are then /24s, ASN 0).
// Netblocks are sorted by address; providers and countries by address
// count, largest first.
func (g *Grouper) Groups(group string, e Enricher) Groups {
	addrs := g.Addrs()
	infos := make([]addrInfo, len(addrs))
	for i, a := range addrs {
		in := Describe(e, a)
		infos[i] = addrInfo{addr: a, net: in.Net, asn: in.ASN, name: in.ASName, cc: in.Country}
	}
	out := Groups{Routed: e != nil, Addresses: len(infos)}
	switch group {
	case GroupNetblock:
		out.Netblocks = groupNetblocks(infos)
	case GroupASN:
		out.ASNs = groupASNs(infos)
	case GroupCountry:
		out.Countries = groupCountries(infos)
	}
	return out
}

// groupNetblocks counts sorted addresses per netblock.
func groupNetblocks(infos []addrInfo) []NetblockGroup {
	var out []NetblockGroup
	for i := 0; i < len(infos); {
		j := i
		for j < len(infos) && infos[j].net == infos[i].net {
			j++
		}
		in := infos[i]
		out = append(out, NetblockGroup{Netblock: in.net.String(), ASN: in.asn, ASName: in.name, Country: in.cc, Addresses: j - i})
		i = j
	}
	return out
}

// set keeps distinct values in first-seen order.
type set[K comparable] struct {
	seen map[K]struct{}
	list []K
}

func (s *set[K]) add(k K) {
	if s.seen == nil {
		s.seen = make(map[K]struct{})
	}
	if _, ok := s.seen[k]; !ok {
		s.seen[k] = struct{}{}
		s.list = append(s.list, k)
	}
}

func groupASNs(infos []addrInfo) []ASNGroup {
	idx := map[uint32]int{}
	var (
		out  []ASNGroup
		nets []set[netip.Prefix]
		ccs  []set[string]
	)
	for _, in := range infos {
		i, ok := idx[in.asn]
		if !ok {
			i = len(out)
			idx[in.asn] = i
			out = append(out, ASNGroup{ASN: in.asn, ASName: in.name})
			nets = append(nets, set[netip.Prefix]{})
			ccs = append(ccs, set[string]{})
		}
		out[i].Addresses++
		nets[i].add(in.net)
		if in.cc != "" {
			ccs[i].add(in.cc)
		}
	}
	for i := range out {
		out[i].Netblocks = prefixStrings(nets[i].list)
		out[i].Countries = slices.Sorted(slices.Values(ccs[i].list))
		if out[i].Countries == nil {
			out[i].Countries = []string{}
		}
	}
	slices.SortFunc(out, func(a, b ASNGroup) int {
		return cmp.Or(cmp.Compare(b.Addresses, a.Addresses), cmp.Compare(a.ASN, b.ASN))
	})
	return out
}

func groupCountries(infos []addrInfo) []CountryGroup {
	idx := map[string]int{}
	var (
		out  []CountryGroup
		nets []set[netip.Prefix]
		asns []set[uint32]
	)
	for _, in := range infos {
		i, ok := idx[in.cc]
		if !ok {
			i = len(out)
			idx[in.cc] = i
			out = append(out, CountryGroup{Country: in.cc})
			nets = append(nets, set[netip.Prefix]{})
			asns = append(asns, set[uint32]{})
		}
		out[i].Addresses++
		nets[i].add(in.net)
		asns[i].add(in.asn)
	}
	for i := range out {
		out[i].Netblocks = prefixStrings(nets[i].list)
		out[i].ASNs = slices.Sorted(slices.Values(asns[i].list))
	}
	slices.SortFunc(out, func(a, b CountryGroup) int {
		return cmp.Or(cmp.Compare(b.Addresses, a.Addresses), cmp.Compare(a.Country, b.Country))
	})
	return out
}

// prefixStrings returns the prefixes (already in address order, as they
// come from sorted addresses) as strings.
func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// WriteGroups writes g as JSON (one object per group and line) or as an
// aligned table (any other format).
func WriteGroups(w io.Writer, g Groups, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		var err error
		switch {
		case g.Netblocks != nil:
			for _, x := range g.Netblocks {
				err = cmp.Or(err, enc.Encode(x))
			}
		case g.ASNs != nil:
			for _, x := range g.ASNs {
				err = cmp.Or(err, enc.Encode(x))
			}
		default:
			for _, x := range g.Countries {
				err = cmp.Or(err, enc.Encode(x))
			}
		}
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	switch {
	case g.Netblocks != nil:
		fmt.Fprintf(tw, "NETBLOCK\tASN\tAS NAME\tCOUNTRY\tADDRESSES\n")
		for _, x := range g.Netblocks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", x.Netblock, asnText(x.ASN), dash(x.ASName), dash(x.Country), x.Addresses)
		}
	case g.ASNs != nil:
		fmt.Fprintf(tw, "ASN\tAS NAME\tADDRESSES\tNETBLOCKS\tCOUNTRIES\n")
		for _, x := range g.ASNs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", asnText(x.ASN), dash(x.ASName), x.Addresses, countList(x.Netblocks, "netblock"), dash(strings.Join(x.Countries, ",")))
		}
	default:
		fmt.Fprintf(tw, "COUNTRY\tADDRESSES\tNETBLOCKS\tASNS\n")
		for _, x := range g.Countries {
			asns := make([]string, len(x.ASNs))
			for i, a := range x.ASNs {
				asns[i] = asnText(a)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", dash(x.Country), x.Addresses, countList(x.Netblocks, "netblock"), strings.Join(asns, ","))
		}
	}
	fmt.Fprintf(tw, "\n%d addresses\n", g.Addresses)
	return tw.Flush()
}

// asnText is "AS63949", or "-" for 0 (unknown).
func asnText(asn uint32) string {
	if asn == 0 {
		return "-"
	}
	return "AS" + strconv.FormatUint(uint64(asn), 10)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// countList is "9 netblocks: a, b, …" with at most eight items listed.
func countList(items []string, what string) string {
	const shown = 8
	s := fmt.Sprintf("%d %s", len(items), plural(len(items), what))
	if len(items) == 0 {
		return s
	}
	s += ": " + strings.Join(items[:min(shown, len(items))], ",")
	if len(items) > shown {
		s += ",…"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
