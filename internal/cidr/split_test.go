package cidr

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		p    string
		bits int
		want []string
	}{
		{"198.51.100.0/22", 24, []string{"198.51.100.0/24", "198.51.101.0/24", "198.51.102.0/24", "198.51.103.0/24"}},
		{"198.51.100.0/22", 22, []string{"198.51.100.0/22"}},
		{"198.51.100.0/22", 8, []string{"198.51.100.0/22"}},
		{"198.51.100.0/30", 32, []string{"198.51.100.0/32", "198.51.100.1/32", "198.51.100.2/32", "198.51.100.3/32"}},
		{"0.0.0.0/0", 1, []string{"0.0.0.0/1", "128.0.0.0/1"}},
		{"255.255.255.254/31", 32, []string{"255.255.255.254/32", "255.255.255.255/32"}},
	}
	for _, tt := range tests {
		p := pfx(tt.p)
		var want []netip.Prefix
		for _, w := range tt.want {
			want = append(want, pfx(w))
		}
		if got := Split(p, tt.bits); !slices.Equal(got, want) {
			t.Errorf("Split(%s, %d) = %v, want %v", p, tt.bits, got, want)
		}
		if got := SplitCount(p, tt.bits); got != uint64(len(want)) {
			t.Errorf("SplitCount(%s, %d) = %d, want %d", p, tt.bits, got, len(want))
		}
		for i, w := range want {
			if got := SplitAt(p, tt.bits, uint64(i)); got != w {
				t.Errorf("SplitAt(%s, %d, %d) = %s, want %s", p, tt.bits, i, got, w)
			}
		}
		if got := slices.Collect(Subnets(p, tt.bits)); !slices.Equal(got, want) {
			t.Errorf("Subnets(%s, %d) = %v, want %v", p, tt.bits, got, want)
		}
	}
}

func TestSplitFullSpace(t *testing.T) {
	all := netip.MustParsePrefix("0.0.0.0/0")
	tests := []struct {
		bits  int
		count uint64
		i     uint64
		want  string
	}{
		{32, 1 << 32, 1<<32 - 1, "255.255.255.255/32"},
		{32, 1 << 32, 0, "0.0.0.0/32"},
		{24, 1 << 24, 1, "0.0.1.0/24"},
		{24, 1 << 24, 1<<24 - 1, "255.255.255.0/24"},
		{0, 1, 0, "0.0.0.0/0"},
	}
	for _, tt := range tests {
		if got := SplitCount(all, tt.bits); got != tt.count {
			t.Errorf("SplitCount(%s, %d) = %d, want %d", all, tt.bits, got, tt.count)
		}
		if got := SplitAt(all, tt.bits, tt.i); got.String() != tt.want {
			t.Errorf("SplitAt(%s, %d, %d) = %s, want %s", all, tt.bits, tt.i, got, tt.want)
		}
	}
	n := 0
	for range Subnets(all, 32) {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("Subnets(%s, 32) stopped after %d, want 3", all, n)
	}
}

func TestSplitPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"bits 33", func() { SplitCount(netip.MustParsePrefix("10.0.0.0/8"), 33) }},
		{"bits -1", func() { Split(netip.MustParsePrefix("10.0.0.0/8"), -1) }},
		{"IPv6", func() { Split(netip.MustParsePrefix("2001:db8::/32"), 40) }},
		{"zero prefix", func() { Subnets(netip.Prefix{}, 24) }},
		{"index", func() { SplitAt(netip.MustParsePrefix("10.0.0.0/8"), 10, 4) }},
	}
	for _, tt := range tests {
		got := func() (r any) {
			defer func() { r = recover() }()
			tt.f()
			return nil
		}()
		if got == nil {
			t.Errorf("%s: no panic, want one", tt.name)
		} else if s := fmt.Sprint(got); len(s) < 10 {
			t.Errorf("%s: panic %q, want a message", tt.name, s)
		}
	}
}
