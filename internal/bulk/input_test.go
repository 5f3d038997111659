package bulk

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestParseItem(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		in   string
		want []netip.Prefix
	}{
		{"198.51.100.7", []netip.Prefix{pfx("198.51.100.7/32")}},
		{"198.51.100.0/24", []netip.Prefix{pfx("198.51.100.0/24")}},
		{"10.0.0.0/8", []netip.Prefix{pfx("10.0.0.0/8")}},
		{"198.51.100.7-198.51.100.9", []netip.Prefix{pfx("198.51.100.7/32"), pfx("198.51.100.8/31")}},
		{"198.51.100.0 - 198.51.101.255", []netip.Prefix{pfx("198.51.100.0/23")}},
		{"7.100.51.198.in-addr.arpa", []netip.Prefix{pfx("198.51.100.7/32")}},
		{"7.100.51.198.in-addr.arpa.", []netip.Prefix{pfx("198.51.100.7/32")}},
		{"7.100.51.198.IN-ADDR.ARPA", []netip.Prefix{pfx("198.51.100.7/32")}},
		{"100.51.198.in-addr.arpa", []netip.Prefix{pfx("198.51.100.0/24")}},
		{"51.198.In-Addr.Arpa.", []netip.Prefix{pfx("198.51.0.0/16")}},
	}
	for _, tt := range tests {
		got, err := ParseItem(nil, tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseItem(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseItemErrors(t *testing.T) {
	tests := []struct {
		in   string
		kind error
		text string
	}{
		{"example.com", cidr.ErrSyntax, "not an IPv4 address, CIDR, range (a.b.c.d-e.f.g.h) or in-addr.arpa name"},
		{"300.1.2.3", cidr.ErrSyntax, "in-addr.arpa name"},
		{"198.51.100.7/22", cidr.ErrHostBits, "did you mean 198.51.100.0/22?"},
		{"2001:db8::1", cidr.ErrNotIPv4, "IPv4 only"},
		{"198.51.100.9-198.51.100.7", cidr.ErrRangeOrder, "did you mean 198.51.100.7-198.51.100.9?"},
		{"198.51.100.7-x", cidr.ErrSyntax, "a.b.c.d-e.f.g.h"},
		{"1.0.0.0.0.0.0.0.ip6.arpa", sweep.ErrReverseName, "in-addr.arpa"},
		{"0/25.100.51.198.in-addr.arpa.", sweep.ErrReverseName, "RFC 2317"},
		{"1.2.3.4.5.in-addr.arpa", sweep.ErrReverseName, "at most 4"},
		{"in-addr.arpa", sweep.ErrReverseName, "1 to 4 octets"},
	}
	for _, tt := range tests {
		got, err := ParseItem(nil, tt.in)
		if err == nil || !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), `"`+tt.in+`"`) {
			t.Errorf("ParseItem(%q) = %v, %v; want an error wrapping %v naming the item and saying %q", tt.in, got, err, tt.kind, tt.text)
		}
	}
}

// FuzzParseItem checks the line parser: an item parses to canonical IPv4
// prefixes, or fails with one line that names it. Seeds are in
// testdata/fuzz/FuzzParseItem too.
func FuzzParseItem(f *testing.F) {
	for _, s := range []string{"198.51.100.7", "198.51.100.0/24", "198.51.100.7-198.51.100.90", "7.100.51.198.in-addr.arpa.",
		"100.51.198.IN-ADDR.ARPA", "0.0.0.0-255.255.255.255", "a.arpa", "1.2.3.4-1.2.3.3", "::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, item string) {
		ps, err := ParseItem(nil, item)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, strconv.Quote(item)) {
				t.Fatalf("ParseItem(%q) error %q is not one line naming the item", item, msg)
			}
			return
		}
		if len(ps) == 0 {
			t.Fatalf("ParseItem(%q) gave no prefix and no error", item)
		}
		for i, p := range ps {
			if !p.IsValid() || !p.Addr().Is4() || p != p.Masked() {
				t.Fatalf("ParseItem(%q) gave non-canonical %v", item, p)
			}
			if i > 0 && !ps[i-1].Addr().Less(p.Addr()) {
				t.Fatalf("ParseItem(%q) = %v: not in address order", item, ps)
			}
		}
	})
}
