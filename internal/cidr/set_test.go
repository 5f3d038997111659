package cidr

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// space is a small address space of 256 addresses starting at base, where a
// brute-force reference is a [256]bool.
type space struct{ base uint32 }

func (sp space) addr(i int) netip.Addr { return Uint32ToAddr(sp.base + uint32(i)) }

// randomPrefixes returns n random prefixes of /24 to /32 inside the space.
func (sp space) randomPrefixes(r *rand.Rand, n int) []netip.Prefix {
	ps := make([]netip.Prefix, n)
	for i := range ps {
		bits := 24 + r.IntN(9)
		ps[i] = netip.PrefixFrom(sp.addr(r.IntN(256)), bits).Masked()
	}
	return ps
}

func brute(sp space, ps []netip.Prefix) (m [256]bool) {
	for i := range m {
		for _, p := range ps {
			if p.Contains(sp.addr(i)) {
				m[i] = true
			}
		}
	}
	return m
}

// checkSet checks s against the reference want over the space, and checks
// the invariants of s: sorted, non-overlapping, non-adjacent ranges, and a
// minimal, exact, sorted CIDR cover.
func checkSet(t *testing.T, name string, sp space, s Set, want [256]bool) {
	t.Helper()
	var n uint64
	for i, w := range want {
		if got := s.Contains(sp.addr(i)); got != w {
			t.Errorf("%s: Contains(%s) = %v, want %v (set %s)", name, sp.addr(i), got, w, s)
		}
		if w {
			n++
		}
	}
	if got := s.Size(); got != n {
		t.Errorf("%s: Size() = %d, want %d", name, got, n)
	}
	if got := s.Empty(); got != (n == 0) {
		t.Errorf("%s: Empty() = %v, want %v", name, got, n == 0)
	}
	for i := 1; i < len(s.r); i++ {
		if uint64(s.r[i-1].hi)+1 >= uint64(s.r[i].lo) {
			t.Errorf("%s: ranges %v and %v overlap or touch", name, s.r[i-1], s.r[i])
		}
	}
	var covered [256]int
	ps := s.Prefixes()
	for k, p := range ps {
		if k > 0 && p.Addr().Compare(ps[k-1].Addr()) <= 0 {
			t.Errorf("%s: Prefixes() not sorted: %v", name, ps)
		}
		if p != p.Masked() {
			t.Errorf("%s: Prefixes() has non-canonical %s", name, p)
		}
		for i := range covered {
			if p.Contains(sp.addr(i)) {
				covered[i]++
			}
		}
		// Minimal: the parent block is not wholly inside the set.
		if p.Bits() > 0 {
			parent := netip.PrefixFrom(p.Addr(), p.Bits()-1).Masked()
			inside := true
			for q := range Subnets(parent, 32) {
				if !s.Contains(q.Addr()) {
					inside = false
					break
				}
			}
			if inside {
				t.Errorf("%s: Prefixes() has %s whose parent %s is inside the set: not minimal", name, p, parent)
			}
		}
	}
	for i, c := range covered {
		w := 0
		if want[i] {
			w = 1
		}
		if c != w {
			t.Errorf("%s: Prefixes() covers %s %d times, want %d", name, sp.addr(i), c, w)
		}
	}
	back, err := ParseList(s.String())
	if err != nil {
		t.Errorf("%s: ParseList(String()) error: %v", name, err)
	} else if got := NewSet(back...); !got.Equal(s) {
		t.Errorf("%s: NewSet(ParseList(String())) = %s, want %s", name, got, s)
	}
}

func TestSetAlgebraBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	spaces := []space{{0}, {0xFFFFFF00}, {0xC6336400}} // 0.0.0.0/24, 255.255.255.0/24, 198.51.100.0/24
	for range 5 {
		spaces = append(spaces, space{r.Uint32() &^ 0xFF})
	}
	for _, sp := range spaces {
		for range 150 {
			pa := sp.randomPrefixes(r, r.IntN(6))
			pb := sp.randomPrefixes(r, r.IntN(6))
			a, b := NewSet(pa...), NewSet(pb...)
			wa, wb := brute(sp, pa), brute(sp, pb)
			var union, diff, inter [256]bool
			for i := range wa {
				union[i] = wa[i] || wb[i]
				diff[i] = wa[i] && !wb[i]
				inter[i] = wa[i] && wb[i]
			}
			checkSet(t, "NewSet", sp, a, wa)
			checkSet(t, "Union", sp, a.Union(b), union)
			checkSet(t, "Subtract", sp, a.Subtract(b), diff)
			checkSet(t, "Intersect", sp, a.Intersect(b), inter)
			if t.Failed() {
				t.Fatalf("a = %v, b = %v", pa, pb)
			}
		}
	}
}

func TestSetFullSpace(t *testing.T) {
	all := NewSet(netip.MustParsePrefix("0.0.0.0/0"))
	top := NewSet(netip.MustParsePrefix("255.255.255.255/32"))
	bottom := NewSet(netip.MustParsePrefix("0.0.0.0/32"))
	pfx := netip.MustParsePrefix
	tests := []struct {
		name     string
		s        Set
		size     uint64
		prefixes int
		first    netip.Prefix
		last     netip.Prefix
		in, out  []string
	}{
		{"all", all, 1 << 32, 1, pfx("0.0.0.0/0"), pfx("0.0.0.0/0"),
			[]string{"0.0.0.0", "255.255.255.255"}, []string{"::1", "::ffff:1.2.3.4"}},
		{"halves", NewSet(pfx("128.0.0.0/1"), pfx("0.0.0.0/1")), 1 << 32, 1, pfx("0.0.0.0/0"), pfx("0.0.0.0/0"),
			[]string{"127.255.255.255", "128.0.0.0"}, nil},
		{"all minus top", all.Subtract(top), 1<<32 - 1, 32, pfx("0.0.0.0/1"), pfx("255.255.255.254/32"),
			[]string{"255.255.255.254", "0.0.0.0"}, []string{"255.255.255.255"}},
		{"all minus bottom", all.Subtract(bottom), 1<<32 - 1, 32, pfx("0.0.0.1/32"), pfx("128.0.0.0/1"),
			[]string{"0.0.0.1", "255.255.255.255"}, []string{"0.0.0.0"}},
		{"all minus all", all.Subtract(all), 0, 0, netip.Prefix{}, netip.Prefix{}, nil, []string{"0.0.0.0", "255.255.255.255"}},
		{"top and neighbour", NewSet(pfx("255.255.255.255/32"), pfx("255.255.255.254/32")), 2, 1,
			pfx("255.255.255.254/31"), pfx("255.255.255.254/31"), []string{"255.255.255.255"}, []string{"255.255.255.253"}},
		{"top union all", top.Union(all), 1 << 32, 1, pfx("0.0.0.0/0"), pfx("0.0.0.0/0"), nil, nil},
		{"top intersect all", all.Intersect(top), 1, 1, pfx("255.255.255.255/32"), pfx("255.255.255.255/32"), nil, []string{"255.255.255.254"}},
		{"all minus both ends", all.Subtract(top.Union(bottom)), 1<<32 - 2, 62, pfx("0.0.0.1/32"), pfx("255.255.255.254/32"), nil, nil},
		{"zero", Set{}, 0, 0, netip.Prefix{}, netip.Prefix{}, nil, []string{"0.0.0.0"}},
		{"ignores non-IPv4", NewSet(pfx("::/0"), pfx("::ffff:0.0.0.0/96"), netip.Prefix{}), 0, 0, netip.Prefix{}, netip.Prefix{}, nil, nil},
	}
	for _, tt := range tests {
		if got := tt.s.Size(); got != tt.size {
			t.Errorf("%s: Size() = %d, want %d", tt.name, got, tt.size)
		}
		if got := tt.s.Empty(); got != (tt.size == 0) {
			t.Errorf("%s: Empty() = %v, want %v", tt.name, got, tt.size == 0)
		}
		ps := tt.s.Prefixes()
		if len(ps) != tt.prefixes {
			t.Errorf("%s: Prefixes() = %v (%d), want %d prefixes", tt.name, ps, len(ps), tt.prefixes)
		} else if len(ps) > 0 && (ps[0] != tt.first || ps[len(ps)-1] != tt.last) {
			t.Errorf("%s: Prefixes() = %v, want first %s and last %s", tt.name, ps, tt.first, tt.last)
		}
		var sum uint64
		for _, p := range ps {
			sum += uint64(1) << (32 - p.Bits())
		}
		if sum != tt.size {
			t.Errorf("%s: Prefixes() cover %d addresses, want %d", tt.name, sum, tt.size)
		}
		for _, a := range tt.in {
			if !tt.s.Contains(netip.MustParseAddr(a)) {
				t.Errorf("%s: Contains(%s) = false, want true", tt.name, a)
			}
		}
		for _, a := range tt.out {
			if tt.s.Contains(netip.MustParseAddr(a)) {
				t.Errorf("%s: Contains(%s) = true, want false", tt.name, a)
			}
		}
	}
}

func TestMerge(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		in   []netip.Addr
		want string
	}{
		{nil, ""},
		{[]netip.Addr{a("198.51.100.7")}, "198.51.100.7/32"},
		{[]netip.Addr{a("198.51.100.1"), a("198.51.100.0"), a("198.51.100.1")}, "198.51.100.0/31"},
		{[]netip.Addr{a("198.51.100.1"), a("198.51.100.2")}, "198.51.100.1/32,198.51.100.2/32"},
		{[]netip.Addr{a("255.255.255.255"), a("255.255.255.254"), a("0.0.0.0")}, "0.0.0.0/32,255.255.255.254/31"},
		{[]netip.Addr{a("2001:db8::1"), a("::ffff:1.2.3.4"), a("10.0.0.1")}, "10.0.0.1/32"},
	}
	for _, tt := range tests {
		got := Merge(tt.in)
		if s := NewSet(got...).String(); s != tt.want {
			t.Errorf("Merge(%v) = %v, want %s", tt.in, got, tt.want)
		}
	}

	// Every address of a /22 minus a few merges back to the exact cover.
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		var addrs []netip.Addr
		var ps []netip.Prefix
		for range r.IntN(300) {
			ad := Uint32ToAddr(0x0A000000 + uint32(r.IntN(1024)))
			addrs = append(addrs, ad)
			ps = append(ps, netip.PrefixFrom(ad, 32))
		}
		if got, want := Merge(addrs), NewSet(ps...).Prefixes(); !slices.Equal(got, want) {
			t.Fatalf("Merge(%v) = %v, want %v", addrs, got, want)
		}
	}
}

func TestReserved(t *testing.T) {
	rs := Reserved()
	for _, p := range rs {
		if err := Validate(p); err != nil {
			t.Errorf("Reserved() has %s: %v", p, err)
		}
	}
	rs[0] = netip.MustParsePrefix("8.8.8.0/24")
	if Reserved()[0] == rs[0] {
		t.Errorf("Reserved() returned a shared slice")
	}
	set := ReservedSet()
	for _, a := range []string{"0.1.2.3", "10.1.2.3", "100.64.0.1", "100.127.255.255", "127.0.0.1", "169.254.1.1",
		"172.31.255.255", "192.0.0.9", "192.0.2.1", "192.31.196.1", "192.52.193.1", "192.88.99.1", "192.168.1.1",
		"192.175.48.1", "198.19.255.255", "198.51.100.1", "203.0.113.1", "224.0.0.1", "239.255.255.255",
		"240.0.0.1", "255.255.255.255"} {
		if !set.Contains(netip.MustParseAddr(a)) {
			t.Errorf("ReservedSet().Contains(%s) = false, want true", a)
		}
	}
	for _, a := range []string{"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
		"172.32.0.0", "192.0.1.1", "192.169.0.0", "198.17.255.255", "198.20.0.0", "198.51.101.0", "223.255.255.255"} {
		if set.Contains(netip.MustParseAddr(a)) {
			t.Errorf("ReservedSet().Contains(%s) = true, want false", a)
		}
	}
	// In /24s: 3×65536 (0/8, 10/8, 127/8) + 16384 (100.64/10) + 4096 (172.16/12)
	// + 2×256 (169.254/16, 192.168/16) + 512 (198.18/15) + 8 single /24s
	// + 2×1048576 (224/4, 240/4; 255.255.255.255 lies in 240/4).
	const want24 = 3*65536 + 16384 + 4096 + 2*256 + 512 + 8 + 2*1048576
	if got := set.Size(); got != want24*256 {
		t.Errorf("ReservedSet().Size() = %d, want %d", got, want24*256)
	}
}

func BenchmarkSubtract(b *testing.B) {
	all := NewSet(netip.MustParsePrefix("0.0.0.0/0"))
	rs := ReservedSet()
	for b.Loop() {
		_ = all.Subtract(rs).Prefixes()
	}
}
