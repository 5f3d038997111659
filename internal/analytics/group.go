package analytics

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ptrsweep/ptrsweep/internal/enrich"
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

// Grouper collects the distinct addresses of a row stream, with the ASN
// and country stored with their rows, and groups them. Memory is one
// entry per distinct address. It is not safe for concurrent use.
type Grouper struct {
	seen  []stored
	addrs []netip.Addr
	asns  []uint32
}

// stored is an address and the routing stored with one of its rows.
type stored struct {
	addr    netip.Addr
	asn     uint32
	country string
}

// routed reports whether the row was stored with routing data (rows
// resolved before any IP-to-ASN table was loaded have ASN 0 and no
// country).
func (s stored) routed() bool { return s.asn != 0 || s.country != "" }

// describe returns e's routing of the address (see Describe) with the ASN
// and country stored with its row when it has them.
func (s stored) describe(e Enricher) enrich.Info {
	in := Describe(e, s.addr)
	if s.routed() {
		if s.asn != in.ASN {
			in.ASName = asName(e, s.asn)
		}
		in.ASN, in.Country = s.asn, s.country
	}
	return in
}

// describeAll returns what is known of each distinct address (see
// stored.describe), its routed row's stored values winning.
func (g *Grouper) describeAll(e Enricher) map[netip.Addr]enrich.Info {
	g.compact()
	out := make(map[netip.Addr]enrich.Info, len(g.seen))
	for _, s := range g.seen {
		out[s.addr] = s.describe(e)
	}
	return out
}

// Add records the row's address and its stored ASN and country. Rows may
// come in any order and repeat.
func (g *Grouper) Add(r sweep.Row) error {
	s := stored{addr: r.IP.Unmap(), asn: r.ASN, country: r.Country}
	if n := len(g.seen); n == 0 || g.seen[n-1] != s {
		g.seen = append(g.seen, s)
	}
	g.addrs = nil
	return nil
}

// compact sorts the entries by address and keeps one per address: the
// first with routing data if any has it.
func (g *Grouper) compact() {
	if g.addrs != nil {
		return
	}
	slices.SortStableFunc(g.seen, func(a, b stored) int {
		return cmp.Or(a.addr.Compare(b.addr), cmp.Compare(b2i(b.routed()), b2i(a.routed())))
	})
	g.seen = slices.CompactFunc(g.seen, func(a, b stored) bool { return a.addr == b.addr })
	g.addrs = make([]netip.Addr, len(g.seen))
	asns := set[uint32]{}
	for i, s := range g.seen {
		g.addrs[i] = s.addr
		if s.asn != 0 {
			asns.add(s.asn)
		}
	}
	g.asns = asns.list
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Addrs returns the distinct addresses added so far, sorted. The slice
// belongs to the Grouper.
func (g *Grouper) Addrs() []netip.Addr {
	g.compact()
	return g.addrs
}

// StoredASNs returns the distinct ASNs stored with the rows added so far
// (not 0), e.g. to look up their names. The slice belongs to the Grouper.
func (g *Grouper) StoredASNs() []uint32 {
	g.compact()
	return g.asns
}

// addrInfo is an address with what is known about it.
type addrInfo struct {
	addr netip.Addr
	net  netip.Prefix
	asn  uint32
	name string
	cc   string
}

// Groups groups the addresses added so far by group (see ParseGroup).
// The ASN and country are those stored with the rows (the routing when
// they were resolved); for rows stored without them, e's. The netblock
// and the AS name come from e; e may be nil (netblocks are then /24s, ASN
// 0 unless stored). Netblocks are sorted by address; providers and
// countries by address count, largest first.
func (g *Grouper) Groups(group string, e Enricher) Groups {
	g.compact()
	infos := make([]addrInfo, len(g.seen))
	for i, s := range g.seen {
		in := s.describe(e)
		infos[i] = addrInfo{addr: s.addr, net: in.Net, asn: in.ASN, name: in.ASName, cc: in.Country}
	}
	out := Groups{Routed: e != nil, Addresses: len(infos)}
	// The grouping asked for is never nil, also without addresses: the
	// writers tell the groupings apart by it.
	switch group {
	case GroupNetblock:
		out.Netblocks = append([]NetblockGroup{}, groupNetblocks(infos)...)
	case GroupASN:
		out.ASNs = append([]ASNGroup{}, groupASNs(infos)...)
	case GroupCountry:
		out.Countries = append([]CountryGroup{}, groupCountries(infos)...)
	}
	return out
}

// groupNetblocks counts sorted addresses per netblock, AS and country:
// one line per netblock unless its addresses were stored with different
// routing (scans before and after a change). Lines are in netblock order,
// then by ASN.
func groupNetblocks(infos []addrInfo) []NetblockGroup {
	type key struct {
		net netip.Prefix
		asn uint32
		cc  string
	}
	idx := map[key]int{}
	var out []NetblockGroup
	nets := map[int]netip.Prefix{}
	for _, in := range infos {
		k := key{in.net, in.asn, in.cc}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			nets[i] = in.net
			out = append(out, NetblockGroup{Netblock: in.net.String(), ASN: in.asn, ASName: in.name, Country: in.cc})
		}
		out[i].Addresses++
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(nets[a].Addr().Compare(nets[b].Addr()), cmp.Compare(nets[a].Bits(), nets[b].Bits()),
			cmp.Compare(out[a].ASN, out[b].ASN), cmp.Compare(out[a].Country, out[b].Country))
	})
	sorted := make([]NetblockGroup, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted
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

// WriteGroups writes g as JSON (one object per group and line), as CSV
// with a header line (lists such as netblocks space-separated, ASN 0 for
// unknown) or as an aligned table (any other format).
func WriteGroups(w io.Writer, g Groups, format string) error {
	return buffered(w, func(w io.Writer) error { return writeGroups(w, g, format) })
}

func writeGroups(w io.Writer, g Groups, format string) error {
	if format == "csv" {
		return writeGroupsCSV(w, g)
	}
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

// writeGroupsCSV writes g as CSV with a header line.
func writeGroupsCSV(w io.Writer, g Groups) error {
	cw := csv.NewWriter(w)
	num := func(asn uint32) string { return strconv.FormatUint(uint64(asn), 10) }
	switch {
	case g.Netblocks != nil:
		_ = cw.Write([]string{"netblock", "asn", "as_name", "country", "addresses"})
		for _, x := range g.Netblocks {
			_ = cw.Write([]string{x.Netblock, num(x.ASN), x.ASName, x.Country, strconv.Itoa(x.Addresses)})
		}
	case g.ASNs != nil:
		_ = cw.Write([]string{"asn", "as_name", "addresses", "netblocks", "countries"})
		for _, x := range g.ASNs {
			_ = cw.Write([]string{num(x.ASN), x.ASName, strconv.Itoa(x.Addresses), strings.Join(x.Netblocks, " "), strings.Join(x.Countries, " ")})
		}
	default:
		_ = cw.Write([]string{"country", "addresses", "netblocks", "asns"})
		for _, x := range g.Countries {
			asns := make([]string, len(x.ASNs))
			for i, a := range x.ASNs {
				asns[i] = num(a)
			}
			_ = cw.Write([]string{x.Country, strconv.Itoa(x.Addresses), strings.Join(x.Netblocks, " "), strings.Join(asns, " ")})
		}
	}
	cw.Flush()
	return cw.Error()
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
