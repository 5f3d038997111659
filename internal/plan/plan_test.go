package plan

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func prefixes(t testing.TB, s string) []netip.Prefix {
	t.Helper()
	ps, err := cidr.ParseList(s)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestNewErrors(t *testing.T) {
	good := func() Request {
		return Request{Scan: "s1", CIDRs: prefixes(t, "8.8.8.0/24"), UnitPrefix: 24}
	}
	tests := []struct {
		name string
		edit func(*Request)
		kind error
		text string
	}{
		{"empty scan", func(r *Request) { r.Scan = "" }, sweep.ErrScanName, "empty"},
		{"bad scan", func(r *Request) { r.Scan = "Scan.1" }, sweep.ErrScanName, `"Scan.1"`},
		{"unit prefix 0", func(r *Request) { r.UnitPrefix = 0 }, ErrUnitPrefix, "/0; want a prefix length from 8 to 32"},
		{"unit prefix 7", func(r *Request) { r.UnitPrefix = 7 }, ErrUnitPrefix, "/7"},
		{"unit prefix 33", func(r *Request) { r.UnitPrefix = 33 }, ErrUnitPrefix, "/33"},
		{"no CIDRs", func(r *Request) { r.CIDRs = nil }, ErrNoCIDRs, "at least one CIDR"},
		{"IPv6 CIDR", func(r *Request) { r.CIDRs = []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")} }, ErrBadPrefix, "2001:db8::/32"},
		{"host bits", func(r *Request) { r.CIDRs = []netip.Prefix{netip.PrefixFrom(netip.MustParseAddr("8.8.8.8"), 24)} }, ErrBadPrefix, "did you mean 8.8.8.0/24?"},
		{"zero prefix", func(r *Request) { r.CIDRs = []netip.Prefix{{}} }, ErrBadPrefix, "CIDR to sweep"},
		{"bad exclusion", func(r *Request) { r.Exclude = []netip.Prefix{netip.MustParsePrefix("::ffff:8.8.8.0/120")} }, ErrBadPrefix, "exclusion"},
		{"all excluded by user", func(r *Request) { r.Exclude = prefixes(t, "8.8.0.0/16") }, ErrAllExcluded, "all 256 requested addresses are in the exclusions"},
		{"all reserved", func(r *Request) { r.CIDRs = prefixes(t, "10.0.0.0/8,192.168.1.1") }, ErrAllExcluded, "--allow-reserved"},
		{"user and reserved", func(r *Request) { r.CIDRs = prefixes(t, "192.0.2.0/23"); r.Exclude = prefixes(t, "192.0.3.0/24") }, ErrAllExcluded, "the 256 requested addresses outside the exclusions are in reserved"},
	}
	for _, tt := range tests {
		req := good()
		tt.edit(&req)
		p, err := New(req)
		if err == nil {
			t.Errorf("%s: New = plan of %d units, want an error", tt.name, p.Len())
			continue
		}
		if !errors.Is(err, tt.kind) {
			t.Errorf("%s: New error %q is not %v", tt.name, err, tt.kind)
		}
		if !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: New error %q does not say %q", tt.name, err, tt.text)
		}
	}
	// Only the reserved registry's exclusions suggest --allow-reserved.
	_, err := New(Request{Scan: "s", CIDRs: prefixes(t, "8.8.8.0/24"), Exclude: prefixes(t, "8.8.8.0/24"), UnitPrefix: 24})
	if err == nil || strings.Contains(err.Error(), "allow-reserved") {
		t.Errorf("New with everything excluded by the user: error %v, want one without --allow-reserved", err)
	}
}

// TestCoverage checks that the units hold every target address exactly once,
// against a brute-force membership test on every requested address.
func TestCoverage(t *testing.T) {
	tests := []struct {
		cidrs, exclude string
		allowReserved  bool
	}{
		// 198.51.100.0/24 is TEST-NET-2, reserved.
		{"198.51.100.0/22", "198.51.101.128/25,198.51.102.7,198.51.103.64/26", false},
		{"198.51.100.0/22", "198.51.101.128/25,198.51.102.7,198.51.103.64/26", true},
		{"198.51.100.0/22", "", false},
		{"198.51.100.0/22,198.51.102.0/23,198.51.103.3", "198.51.103.255", true},
		{"192.0.2.0/24,192.0.3.0/24,192.0.3.5", "192.0.3.128/30", false},
		{"255.255.252.0/22", "", true},
		{"0.0.0.0/22", "0.0.1.0/24", true},
	}
	for _, tt := range tests {
		for _, unit := range []int{22, 24, 26, 32} {
			req := Request{
				Scan:       "cover",
				CIDRs:      prefixes(t, tt.cidrs),
				Exclude:    prefixes(t, tt.exclude),
				UnitPrefix: unit,
				Options:    sweep.Options{Confirm: true, AllowReserved: tt.allowReserved},
			}
			p, err := New(req)
			if err != nil {
				t.Fatalf("New(%+v): %v", req, err)
			}
			seen := map[netip.Addr]int{}
			i := 0
			wantOpts := sweep.Options{Confirm: true, AllowReserved: tt.allowReserved}
			for u := range p.All() {
				if u.Seq != i || u.Total != p.Len() || u.Scan != "cover" || u.Options != wantOpts {
					t.Errorf("%s: unit %d = %+v, want Seq %d, Total %d, Scan cover, Options %+v", tt.cidrs, i, u, i, p.Len(), wantOpts)
				}
				if u.Prefix.Bits() < unit || u.Prefix != u.Prefix.Masked() {
					t.Errorf("%s at /%d: unit %d is %s, want a canonical prefix of /%d or longer", tt.cidrs, unit, i, u.Prefix, unit)
				}
				for a := range cidr.Subnets(u.Prefix, 32) {
					seen[a.Addr()]++
				}
				i++
			}
			if i != p.Len() {
				t.Errorf("%s at /%d: All gave %d units, want Len %d", tt.cidrs, unit, i, p.Len())
			}
			reserved := cidr.ReservedSet()
			requested := map[netip.Addr]bool{}
			for _, c := range req.CIDRs {
				for a := range cidr.Subnets(c, 32) {
					requested[a.Addr()] = true
				}
			}
			var want uint64
			for addr := range requested {
				in := !slices.ContainsFunc(req.Exclude, func(q netip.Prefix) bool { return q.Contains(addr) }) &&
					(tt.allowReserved || !reserved.Contains(addr))
				w := 0
				if in {
					w = 1
					want++
				}
				if got := seen[addr]; got != w {
					t.Errorf("%s at /%d: %s is in %d units, want %d", tt.cidrs, unit, addr, got, w)
				}
			}
			for addr, n := range seen {
				if !requested[addr] {
					t.Errorf("%s at /%d: %s is in %d units but was not requested", tt.cidrs, unit, addr, n)
				}
			}
			if got := p.Addresses(); got != want {
				t.Errorf("%s at /%d: Addresses() = %d, want %d", tt.cidrs, unit, got, want)
			}
			if got, w := p.Excluded(), uint64(len(requested))-want; got != w {
				t.Errorf("%s at /%d: Excluded() = %d, want %d", tt.cidrs, unit, got, w)
			}
		}
	}
}

func TestUnitSizes(t *testing.T) {
	// The cover of 198.51.100.0/22 minus 198.51.101.128/25 (reserved allowed)
	// is /24, /25, /23: at /24 the /23 splits in two and the /25 stays whole;
	// at /22 nothing splits.
	tests := []struct {
		unit int
		want []string
	}{
		{24, []string{"198.51.100.0/24", "198.51.101.0/25", "198.51.102.0/24", "198.51.103.0/24"}},
		{22, []string{"198.51.100.0/24", "198.51.101.0/25", "198.51.102.0/23"}},
		{25, []string{"198.51.100.0/25", "198.51.100.128/25", "198.51.101.0/25", "198.51.102.0/25", "198.51.102.128/25", "198.51.103.0/25", "198.51.103.128/25"}},
	}
	for _, tt := range tests {
		p, err := New(Request{Scan: "sizes", CIDRs: prefixes(t, "198.51.100.0/22"), Exclude: prefixes(t, "198.51.101.128/25"),
			Options: sweep.Options{AllowReserved: true}, UnitPrefix: tt.unit})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for u := range p.All() {
			got = append(got, u.Prefix.String())
		}
		slices.SortFunc(got, func(a, b string) int {
			return netip.MustParsePrefix(a).Addr().Compare(netip.MustParsePrefix(b).Addr())
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("units at /%d = %v, want %v", tt.unit, got, tt.want)
		}
	}
}

func TestReservedExclusion(t *testing.T) {
	req := Request{Scan: "res", CIDRs: prefixes(t, "10.0.0.0/8,8.8.8.0/24,127.0.0.0/30"), UnitPrefix: 24}
	p, err := New(req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 1 || p.Unit(0).Prefix.String() != "8.8.8.0/24" {
		t.Errorf("reserved excluded: units %v, want [8.8.8.0/24]", slices.Collect(p.All()))
	}
	if got, want := p.Excluded(), uint64(1<<24+4); got != want {
		t.Errorf("reserved excluded: Excluded() = %d, want %d", got, want)
	}

	req.Options.AllowReserved = true
	p, err = New(req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Len(), 65536+1+1; got != want {
		t.Errorf("reserved allowed: Len() = %d, want %d", got, want)
	}
	if got := p.Excluded(); got != 0 {
		t.Errorf("reserved allowed: Excluded() = %d, want 0", got)
	}
	for _, a := range []string{"10.1.2.3", "127.0.0.3", "8.8.8.8"} {
		if !p.Target().Contains(netip.MustParseAddr(a)) {
			t.Errorf("reserved allowed: Target() does not contain %s", a)
		}
	}
}

// allIPv4Units24 is the number of /24s of IPv4 outside cidr.Reserved: 2^24
// minus the reserved /24s (see cidr's TestReserved).
const allIPv4Units24 = 1<<24 - (3*65536 + 16384 + 4096 + 2*256 + 512 + 8 + 2*1048576)

func TestFullSpace(t *testing.T) {
	p, err := New(Request{Scan: "full", CIDRs: prefixes(t, "0.0.0.0/0"), UnitPrefix: 24})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Len(); got != allIPv4Units24 {
		t.Errorf("Len() = %d, want %d", got, allIPv4Units24)
	}
	if got, want := p.Addresses(), uint64(allIPv4Units24)*256; got != want {
		t.Errorf("Addresses() = %d, want %d", got, want)
	}
	if got, want := p.Excluded(), uint64(1<<32)-uint64(allIPv4Units24)*256; got != want {
		t.Errorf("Excluded() = %d, want %d", got, want)
	}
	reserved := cidr.ReservedSet()
	seen := map[netip.Prefix]bool{}
	for _, i := range []int{0, 1, 2, 1000, p.Len() / 2, p.Len() - 2, p.Len() - 1} {
		u := p.Unit(i)
		if u.Seq != i || u.Total != p.Len() || u.Prefix.Bits() != 24 {
			t.Errorf("Unit(%d) = %+v, want Seq %d, Total %d and a /24", i, u, i, p.Len())
		}
		if reserved.Contains(u.Prefix.Addr()) || !p.Target().Contains(u.Prefix.Addr()) {
			t.Errorf("Unit(%d) = %s, which is reserved", i, u.Prefix)
		}
		if seen[u.Prefix] {
			t.Errorf("Unit(%d) = %s, seen before", i, u.Prefix)
		}
		seen[u.Prefix] = true
	}

	// The first units spread over the space rather than walking it in order.
	slash8 := map[byte]bool{}
	for i := range 64 {
		slash8[p.Unit(i).Prefix.Addr().As4()[0]] = true
	}
	if len(slash8) < 32 {
		t.Errorf("the first 64 units fall in %d /8s, want at least 32", len(slash8))
	}

	// Every address as its own unit: 2^32 minus reserved still fits.
	p32, err := New(Request{Scan: "full", CIDRs: prefixes(t, "0.0.0.0/0"), UnitPrefix: 32})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := uint64(p32.Len()), p.Addresses(); got != want {
		t.Errorf("at /32: Len() = %d, want %d", got, want)
	}
	if u := p32.Unit(p32.Len() - 1); u.Prefix.Bits() != 32 || reserved.Contains(u.Prefix.Addr()) {
		t.Errorf("at /32: last unit %s, want an unreserved /32", u.Prefix)
	}

	pAll, err := New(Request{Scan: "full", CIDRs: prefixes(t, "0.0.0.0/0"), Options: sweep.Options{AllowReserved: true}, UnitPrefix: 8})
	if err != nil {
		t.Fatal(err)
	}
	if got := pAll.Len(); got != 256 {
		t.Errorf("all of IPv4 at /8 with reserved: Len() = %d, want 256", got)
	}
}

func TestDeterminism(t *testing.T) {
	order := func(scan string) []netip.Prefix {
		p, err := New(Request{Scan: scan, CIDRs: prefixes(t, "8.8.0.0/22"), Exclude: prefixes(t, "8.8.1.0/26"), UnitPrefix: 32})
		if err != nil {
			t.Fatal(err)
		}
		var out []netip.Prefix
		for u := range p.All() {
			out = append(out, u.Prefix)
		}
		return out
	}
	a1, a2, b := order("alpha"), order("alpha"), order("beta")
	if !slices.Equal(a1, a2) {
		t.Errorf("scan alpha planned twice gave different orders")
	}
	if slices.Equal(a1, b) {
		t.Errorf("scans alpha and beta have the same order, want different")
	}
	sorted := slices.Clone(a1)
	slices.SortFunc(sorted, func(x, y netip.Prefix) int { return x.Addr().Compare(y.Addr()) })
	if slices.Equal(a1, sorted) {
		t.Errorf("scan alpha's units are in address order, want shuffled")
	}
	sortedB := slices.Clone(b)
	slices.SortFunc(sortedB, func(x, y netip.Prefix) int { return x.Addr().Compare(y.Addr()) })
	if !slices.Equal(sorted, sortedB) {
		t.Errorf("scans alpha and beta hold different units")
	}
}

func TestPlanBijection(t *testing.T) {
	// 8.0.0.0/14 at /32: 262,144 units; every address exactly once.
	p, err := New(Request{Scan: "bij", CIDRs: prefixes(t, "8.0.0.0/14"), UnitPrefix: 32})
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, p.Len())
	base := netip.MustParseAddr("8.0.0.0").As4()
	for i := range p.Len() {
		a := p.Unit(i).Prefix.Addr().As4()
		off := int(a[1]-base[1])<<16 | int(a[2])<<8 | int(a[3])
		if seen[off] {
			t.Fatalf("Unit(%d) = %v, already seen", i, a)
		}
		seen[off] = true
	}
}

func TestPermutationBijection(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 4, 5, 7, 8, 9, 100, 255, 256, 257, 1000, 4097, 65535, 65536, 65537, 300_001} {
		p := newPermutation(n, "perm")
		seen := make([]bool, n)
		for i := range n {
			j := p.at(i)
			if j >= n {
				t.Fatalf("n=%d: at(%d) = %d, out of range", n, i, j)
			}
			if seen[j] {
				t.Fatalf("n=%d: at(%d) = %d, already taken", n, i, j)
			}
			seen[j] = true
		}
		if n >= 100 {
			fixed := 0
			for i := range n {
				if p.at(i) == i {
					fixed++
				}
			}
			if fixed > int(n/10) {
				t.Errorf("n=%d: %d fixed points, want a shuffle", n, fixed)
			}
		}
	}
}

func TestRecord(t *testing.T) {
	req := Request{
		Scan:       "rec",
		CIDRs:      prefixes(t, "8.8.8.0/24,1.1.1.0/24,10.0.0.0/8"),
		Exclude:    prefixes(t, "1.1.1.128/25"),
		UnitPrefix: 26,
		Options:    sweep.Options{NoPrune: true},
	}
	p, err := New(req)
	if err != nil {
		t.Fatal(err)
	}
	req.CIDRs[0] = netip.MustParsePrefix("9.9.9.0/24") // New copied the slices
	got := p.Record()
	want := sweep.ScanRecord{
		Name:       "rec",
		CIDRs:      []string{"8.8.8.0/24", "1.1.1.0/24", "10.0.0.0/8"},
		Excludes:   []string{"1.1.1.128/25"},
		UnitPrefix: 26,
		Units:      4 + 2,
		Addresses:  256 + 128,
		Options:    sweep.Options{NoPrune: true},
	}
	if got.Name != want.Name || !slices.Equal(got.CIDRs, want.CIDRs) || !slices.Equal(got.Excludes, want.Excludes) ||
		got.UnitPrefix != want.UnitPrefix || got.Units != want.Units ||
		got.Addresses != want.Addresses || got.Options != want.Options || !got.CreatedAt.IsZero() {
		t.Errorf("Record() = %+v, want %+v", got, want)
	}
}

func TestUnitPanics(t *testing.T) {
	p, err := New(Request{Scan: "panic", CIDRs: prefixes(t, "8.8.8.0/24"), UnitPrefix: 24})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{-1, 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Unit(%d) did not panic", i)
				}
			}()
			p.Unit(i)
		}()
	}
}

func BenchmarkUnit(b *testing.B) {
	p, err := New(Request{Scan: "bench", CIDRs: prefixes(b, "0.0.0.0/0"), UnitPrefix: 24})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		_ = p.Unit(i)
		if i++; i == p.Len() {
			i = 0
		}
	}
}

func BenchmarkNewFullSpace(b *testing.B) {
	cidrs := prefixes(b, "0.0.0.0/0")
	for b.Loop() {
		if _, err := New(Request{Scan: "bench", CIDRs: cidrs, UnitPrefix: 24}); err != nil {
			b.Fatal(err)
		}
	}
}
