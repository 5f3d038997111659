package cidr

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseItem(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		in   string
		want []netip.Prefix
	}{
		{"198.51.100.7", []netip.Prefix{pfx("198.51.100.7/32")}},
		{"198.51.100.0/24", []netip.Prefix{pfx("198.51.100.0/24")}},
		{"198.51.100.7-198.51.100.7", []netip.Prefix{pfx("198.51.100.7/32")}},
		{"198.51.100.0-198.51.100.255", []netip.Prefix{pfx("198.51.100.0/24")}},
		{"198.51.100.7 - 198.51.100.9", []netip.Prefix{pfx("198.51.100.7/32"), pfx("198.51.100.8/31")}},
		{"198.51.100.7-198.51.100.90", []netip.Prefix{pfx("198.51.100.7/32"), pfx("198.51.100.8/29"), pfx("198.51.100.16/28"),
			pfx("198.51.100.32/27"), pfx("198.51.100.64/28"), pfx("198.51.100.80/29"), pfx("198.51.100.88/31"), pfx("198.51.100.90/32")}},
		{"0.0.0.0-255.255.255.255", []netip.Prefix{pfx("0.0.0.0/0")}},
		{"10.0.0.255-10.0.1.0", []netip.Prefix{pfx("10.0.0.255/32"), pfx("10.0.1.0/32")}},
	}
	for _, tt := range tests {
		got, err := ParseItem(nil, tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseItem(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	// The prefixes are appended after what dst holds.
	got, err := ParseItem([]netip.Prefix{pfx("192.0.2.0/24")}, "10.0.0.1")
	if want := []netip.Prefix{pfx("192.0.2.0/24"), pfx("10.0.0.1/32")}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseItem(dst, 10.0.0.1) = %v, %v, want %v", got, err, want)
	}
}

func TestParseItemErrors(t *testing.T) {
	tests := []struct {
		in   string
		kind error
		text string
	}{
		{"198.51.100.90-198.51.100.7", ErrRangeOrder, "did you mean 198.51.100.7-198.51.100.90?"},
		{"198.51.100.0/24-198.51.101.0/24", ErrSyntax, "want a.b.c.d-e.f.g.h"},
		{"198.51.100.7-", ErrSyntax, "want a.b.c.d-e.f.g.h"},
		{"-198.51.100.7", ErrSyntax, "want a.b.c.d-e.f.g.h"},
		{"1.2.3.4-5.6.7.8-9.9.9.9", ErrSyntax, "want a.b.c.d-e.f.g.h"},
		{"2001:db8::1-2001:db8::2", ErrSyntax, "want a.b.c.d-e.f.g.h"},
		{"198.51.100.7/22", ErrHostBits, "did you mean 198.51.100.0/22?"},
		{"example.com", ErrSyntax, "want a.b.c.d"},
	}
	for _, tt := range tests {
		got, err := ParseItem(nil, tt.in)
		if err == nil || !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), `"`+tt.in+`"`) {
			t.Errorf("ParseItem(%q) = %v, %v; want an error wrapping %v naming the item and saying %q", tt.in, got, err, tt.kind, tt.text)
		}
	}
}

func TestRange(t *testing.T) {
	a := netip.MustParseAddr
	if got := slices.Collect(Range(a("10.0.0.2"), a("10.0.0.1"))); len(got) != 0 {
		t.Errorf("Range(backwards) = %v, want nothing", got)
	}
	if got := slices.Collect(Range(a("::1"), a("::2"))); len(got) != 0 {
		t.Errorf("Range(IPv6) = %v, want nothing", got)
	}
	got := slices.Collect(Range(a("10.0.0.1"), a("10.0.0.6")))
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("10.0.0.2/31"),
		netip.MustParsePrefix("10.0.0.4/31"), netip.MustParsePrefix("10.0.0.6/32")}
	if !slices.Equal(got, want) {
		t.Errorf("Range(10.0.0.1, 10.0.0.6) = %v, want %v", got, want)
	}
}

func TestOverlaps(t *testing.T) {
	s := NewSet(netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("10.0.2.0/24"))
	tests := []struct {
		p    string
		want bool
	}{
		{"10.0.0.0/8", true}, {"10.0.0.7/32", true}, {"10.0.1.0/24", false}, {"10.0.2.255/32", true},
		{"10.0.3.0/24", false}, {"9.255.255.255/32", false}, {"0.0.0.0/0", true}, {"10.0.1.128/25", false},
	}
	for _, tt := range tests {
		if got := s.Overlaps(netip.MustParsePrefix(tt.p)); got != tt.want {
			t.Errorf("Overlaps(%s) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if (Set{}).Overlaps(netip.MustParsePrefix("0.0.0.0/0")) {
		t.Error("the empty set overlaps 0.0.0.0/0")
	}
	if s.Overlaps(netip.Prefix{}) {
		t.Error("a set overlaps the zero Prefix")
	}
}

func TestLines(t *testing.T) {
	in := "\uFEFF# header\n\n 198.51.100.7 \r\n10.0.0.0/8# comment\n   # only a comment\nlast"
	l := NewLines(strings.NewReader(in), "list.txt")
	type item struct {
		line int
		text string
	}
	var got []item
	for l.Next() {
		got = append(got, item{l.Line(), l.Item()})
	}
	want := []item{{3, "198.51.100.7"}, {4, "10.0.0.0/8"}, {6, "last"}}
	if !slices.Equal(got, want) || l.Err() != nil {
		t.Errorf("Lines = %v, %v, want %v", got, l.Err(), want)
	}
	if err := l.Errorf(ErrSyntax); err.Error() != "list.txt:6: "+ErrSyntax.Error() || !errors.Is(err, ErrSyntax) {
		t.Errorf("Errorf = %v", err)
	}
	long := NewLines(strings.NewReader("1.2.3.4\n"+strings.Repeat("x", MaxLine+1)), "big")
	for long.Next() {
	}
	if err := long.Err(); err == nil || !strings.HasPrefix(err.Error(), "big:2: read: line longer than") {
		t.Errorf("an overlong line: Err = %v", err)
	}
}
