package enrich

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }

// checkTable fails unless t's ranges are sorted, non-overlapping, inside
// their networks, and found again by Lookup at both ends.
func checkTable(t testing.TB, tab *Table) {
	t.Helper()
	var prevLast uint64
	for i := range tab.Len() {
		r := tab.At(i)
		f, l := cidr.AddrToUint32(r.First), cidr.AddrToUint32(r.Last)
		if f > l || (i > 0 && uint64(f) <= prevLast) {
			t.Fatalf("range %d %v-%v is empty or overlaps the previous one", i, r.First, r.Last)
		}
		if !r.Net.Contains(r.First) || !r.Net.Contains(r.Last) {
			t.Fatalf("range %d %v-%v is outside its network %v", i, r.First, r.Last, r.Net)
		}
		for _, a := range []netip.Addr{r.First, r.Last} {
			got, ok := tab.Lookup(a)
			if !ok || got != r.Info {
				t.Fatalf("Lookup(%v) = %+v, %v, want %+v", a, got, ok, r.Info)
			}
		}
		prevLast = uint64(l)
	}
}

// naive answers a lookup by scanning every network for the longest match.
type naiveNet struct {
	p       netip.Prefix
	asn     uint32
	country string
}

func naiveLookup(nets []naiveNet, a netip.Addr) (naiveNet, bool) {
	best, found := naiveNet{}, false
	for _, n := range nets {
		if n.p.Contains(a) && (!found || n.p.Bits() > best.p.Bits()) {
			best, found = n, true
		}
	}
	return best, found
}

func TestBuilderLongestMatch(t *testing.T) {
	nets := []naiveNet{
		{mustPrefix("45.118.132.0/22"), 63949, "JP"},
		{mustPrefix("45.118.132.0/23"), 63949, "SG"},
		{mustPrefix("10.0.0.0/8"), 1, "US"},
		{mustPrefix("10.1.0.0/16"), 2, ""},
		{mustPrefix("10.1.2.0/24"), 3, "DE"},
		{mustPrefix("10.255.255.255/32"), 4, "FR"},
		{mustPrefix("0.0.0.0/1"), 5, ""},
		{mustPrefix("0.0.0.0/32"), 6, "NL"},
		{mustPrefix("255.255.255.255/32"), 7, "eu"},
	}
	var b Builder
	for i, n := range nets {
		if err := b.Add(n.p, n.asn, n.country, i+1); err != nil {
			t.Fatal(err)
		}
	}
	b.SetName(63949, "Linode, LLC")
	b.SetName(63949, "second name is ignored")
	tab, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, tab)
	for _, s := range []string{"45.118.132.1", "45.118.133.255", "45.118.134.0", "45.118.135.255", "45.118.136.0",
		"10.0.0.0", "10.1.1.255", "10.1.2.0", "10.1.2.255", "10.1.3.0", "10.255.255.254", "10.255.255.255",
		"0.0.0.0", "0.0.0.1", "127.255.255.255", "128.0.0.0", "255.255.255.255", "255.255.255.254"} {
		a := mustAddr(s)
		want, wantOK := naiveLookup(nets, a)
		got, ok := tab.Lookup(a)
		if ok != wantOK || got.Net != want.p || got.ASN != want.asn || (got.Country != "" || want.country != "") && got.Country != upperString(want.country) {
			t.Errorf("Lookup(%s) = %+v, %v, want %v AS%d %q, %v", s, got, ok, want.p, want.asn, want.country, wantOK)
		}
	}
	if got, _ := tab.Lookup(mustAddr("45.118.133.1")); got.ASName != "Linode, LLC" {
		t.Errorf("ASName = %q, want %q", got.ASName, "Linode, LLC")
	}
	if _, ok := tab.Lookup(mustAddr("2001:db8::1")); ok {
		t.Errorf("Lookup of an IPv6 address succeeded")
	}
	if got, ok := tab.Lookup(mustAddr("::ffff:10.1.2.3")); !ok || got.ASN != 3 {
		t.Errorf("Lookup(::ffff:10.1.2.3) = %+v, %v, want AS3", got, ok)
	}
}

func upperString(s string) string {
	c, _ := countryCode(s)
	return cc(c)
}

// TestBuilderRandom compares the flattened table with a naive longest match
// over random nested networks.
func TestBuilderRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var nets []naiveNet
		seen := map[netip.Prefix]bool{}
		var b Builder
		for range 1 + rng.IntN(40) {
			bits := 8 + rng.IntN(25)
			a := cidr.Uint32ToAddr(rng.Uint32() & 0x0F0F00FF) // cluster the networks so they nest
			p, _ := a.Prefix(bits)
			if seen[p] {
				continue
			}
			seen[p] = true
			n := naiveNet{p, rng.Uint32N(5), []string{"", "JP", "SG"}[rng.IntN(3)]}
			nets = append(nets, n)
			if err := b.Add(p, n.asn, n.country, len(nets)); err != nil {
				t.Fatal(err)
			}
		}
		tab, err := b.Table()
		if err != nil {
			t.Fatal(err)
		}
		checkTable(t, tab)
		probe := func(a netip.Addr) {
			want, wantOK := naiveLookup(nets, a)
			got, ok := tab.Lookup(a)
			if ok != wantOK || ok && (got.Net != want.p || got.ASN != want.asn || got.Country != want.country) {
				t.Fatalf("round %d: Lookup(%v) = %+v, %v, want %v AS%d %q, %v", round, a, got, ok, want.p, want.asn, want.country, wantOK)
			}
			asn, country, ok := tab.Route(a)
			if ok != wantOK || asn != want.asn || country != want.country {
				t.Fatalf("round %d: Route(%v) = %d %q %v, want AS%d %q, %v", round, a, asn, country, ok, want.asn, want.country, wantOK)
			}
		}
		for _, n := range nets {
			first := n.p.Addr()
			last := cidr.Uint32ToAddr(cidr.AddrToUint32(first) | uint32(uint64(1)<<(32-n.p.Bits())-1))
			probe(first)
			probe(last)
			if first.Prev().IsValid() {
				probe(first.Prev())
			}
			if last.Next().IsValid() {
				probe(last.Next())
			}
		}
		for range 200 {
			probe(cidr.Uint32ToAddr(rng.Uint32() & 0x0F0F00FF))
		}
	}
}

func TestBuilderDuplicates(t *testing.T) {
	var b Builder
	b.source("a.txt")
	for _, line := range []int{3, 7} {
		if err := b.Add(mustPrefix("192.0.2.0/24"), 64500, "NL", line); err != nil {
			t.Fatal(err)
		}
	}
	tab, err := b.Table()
	if err != nil {
		t.Fatalf("identical duplicate: %v", err)
	}
	if tab.Len() != 1 {
		t.Errorf("Len() = %d, want 1", tab.Len())
	}

	var b2 Builder
	b2.source("b.txt")
	_ = b2.Add(mustPrefix("192.0.2.0/24"), 64500, "NL", 3)
	_ = b2.Add(mustPrefix("192.0.2.0/24"), 64501, "NL", 9)
	_, err = b2.Table()
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "b.txt" || pe.Line != 9 || !errors.Is(err, ErrFormat) {
		t.Fatalf("conflicting duplicate: err = %v, want a ParseError at b.txt:9", err)
	}
}

func TestBuilderAddErrors(t *testing.T) {
	var b Builder
	for _, tc := range []struct {
		p       netip.Prefix
		country string
	}{
		{mustPrefix("2001:db8::/32"), ""},
		{netip.PrefixFrom(mustAddr("192.0.2.1"), 24), ""},
		{mustPrefix("192.0.2.0/24"), "USA"},
		{mustPrefix("192.0.2.0/24"), "U-"},
		{netip.Prefix{}, ""},
	} {
		if err := b.Add(tc.p, 1, tc.country, 1); !errors.Is(err, ErrFormat) {
			t.Errorf("Add(%v, %q) = %v, want ErrFormat", tc.p, tc.country, err)
		}
	}
}

func TestRangeAppender(t *testing.T) {
	var b Builder
	_ = b.Add(mustPrefix("45.118.132.0/22"), 63949, "JP", 1)
	_ = b.Add(mustPrefix("45.118.133.0/24"), 63949, "SG", 2)
	_ = b.Add(mustPrefix("198.51.100.0/24"), 0, "", 3)
	b.SetName(63949, "Linode, LLC")
	tab, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	a := NewRangeAppender(tab.Len())
	for r := range tab.All() {
		if err := a.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	back := a.Table()
	if back.Len() != tab.Len() {
		t.Fatalf("Len() = %d, want %d", back.Len(), tab.Len())
	}
	for i := range tab.Len() {
		if got, want := back.At(i), tab.At(i); got != want {
			t.Errorf("At(%d) = %+v, want %+v", i, got, want)
		}
	}

	bad := []struct {
		name string
		rs   []Range
	}{
		{"overlap", []Range{
			{First: mustAddr("10.0.0.0"), Last: mustAddr("10.0.0.255"), Info: Info{Net: mustPrefix("10.0.0.0/24")}},
			{First: mustAddr("10.0.0.255"), Last: mustAddr("10.0.1.0"), Info: Info{Net: mustPrefix("10.0.0.0/23")}},
		}},
		{"outside network", []Range{{First: mustAddr("10.0.0.0"), Last: mustAddr("10.0.1.0"), Info: Info{Net: mustPrefix("10.0.0.0/24")}}}},
		{"reversed", []Range{{First: mustAddr("10.0.0.9"), Last: mustAddr("10.0.0.1"), Info: Info{Net: mustPrefix("10.0.0.0/24")}}}},
		{"IPv6", []Range{{First: mustAddr("::1"), Last: mustAddr("::2"), Info: Info{Net: mustPrefix("::/64")}}}},
		{"country", []Range{{First: mustAddr("10.0.0.0"), Last: mustAddr("10.0.0.1"), Info: Info{Net: mustPrefix("10.0.0.0/24"), Country: "JPN"}}}},
	}
	for _, tc := range bad {
		a := NewRangeAppender(0)
		var err error
		for _, r := range tc.rs {
			if err = a.Append(r); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Append error = %v, want ErrFormat", tc.name, err)
		}
	}
}

func TestMerge(t *testing.T) {
	build := func(nets ...naiveNet) *Table {
		var b Builder
		for i, n := range nets {
			if err := b.Add(n.p, n.asn, n.country, i); err != nil {
				t.Fatal(err)
			}
		}
		tab, err := b.Table()
		if err != nil {
			t.Fatal(err)
		}
		return tab
	}
	asn := build(naiveNet{mustPrefix("10.0.0.0/16"), 64500, ""}, naiveNet{mustPrefix("10.0.8.0/24"), 64501, "GB"}, naiveNet{mustPrefix("255.255.255.0/24"), 1, ""})
	asn.names[64500] = "Example AS"
	geo := build(naiveNet{mustPrefix("10.0.0.0/20"), 0, "NL"}, naiveNet{mustPrefix("10.0.4.0/22"), 0, "BE"}, naiveNet{mustPrefix("10.2.0.0/16"), 0, "FR"}, naiveNet{mustPrefix("255.255.255.128/25"), 0, "US"})
	m := Merge(asn, geo)
	checkTable(t, m)
	for _, tc := range []struct {
		addr    string
		net     string
		asn     uint32
		country string
		ok      bool
	}{
		{"10.0.0.1", "10.0.0.0/16", 64500, "NL", true},
		{"10.0.4.1", "10.0.0.0/16", 64500, "BE", true},
		{"10.0.8.1", "10.0.8.0/24", 64501, "GB", true}, // primary's own country wins
		{"10.0.16.1", "10.0.0.0/16", 64500, "", true},  // only primary
		{"10.2.3.4", "10.2.0.0/16", 0, "FR", true},     // only secondary
		{"10.3.0.0", "", 0, "", false},                 // neither
		{"255.255.255.255", "255.255.255.0/24", 1, "US", true},
	} {
		got, ok := m.Lookup(mustAddr(tc.addr))
		gotNet := ""
		if got.Net.IsValid() {
			gotNet = got.Net.String()
		}
		if ok != tc.ok || gotNet != tc.net || got.ASN != tc.asn || got.Country != tc.country {
			t.Errorf("Merge: Lookup(%s) = %+v, %v, want %s AS%d %q, %v", tc.addr, got, ok, tc.net, tc.asn, tc.country, tc.ok)
		}
	}
	if got, _ := m.Lookup(mustAddr("10.0.0.1")); got.ASName != "Example AS" {
		t.Errorf("merged ASName = %q, want %q", got.ASName, "Example AS")
	}
}

func TestRangePrefixes(t *testing.T) {
	for _, tc := range []struct{ lo, hi, want string }{
		{"1.0.0.0", "1.0.0.255", "[1.0.0.0/24]"},
		{"1.0.4.0", "1.0.7.255", "[1.0.4.0/22]"},
		{"1.0.0.1", "1.0.0.6", "[1.0.0.1/32 1.0.0.2/31 1.0.0.4/31 1.0.0.6/32]"},
		{"0.0.0.0", "255.255.255.255", "[0.0.0.0/0]"},
		{"255.255.255.255", "255.255.255.255", "[255.255.255.255/32]"},
	} {
		var got []netip.Prefix
		for p := range rangePrefixes(cidr.AddrToUint32(mustAddr(tc.lo)), cidr.AddrToUint32(mustAddr(tc.hi))) {
			got = append(got, p)
		}
		if s := fmt.Sprint(got); s != tc.want {
			t.Errorf("rangePrefixes(%s, %s) = %s, want %s", tc.lo, tc.hi, s, tc.want)
		}
	}
}
