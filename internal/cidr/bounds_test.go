package cidr

import (
	"net/netip"
	"testing"
)

func TestBounds(t *testing.T) {
	for _, tt := range []struct{ p, first, last string }{
		{"139.162.0.0/16", "139.162.0.0", "139.162.255.255"},
		{"139.162.77.6/32", "139.162.77.6", "139.162.77.6"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255"},
		{"10.1.2.3/8", "10.0.0.0", "10.255.255.255"},
	} {
		f, l := Bounds(netip.MustParsePrefix(tt.p))
		if f.String() != tt.first || l.String() != tt.last {
			t.Errorf("Bounds(%s) = %v, %v, want %s, %s", tt.p, f, l, tt.first, tt.last)
		}
	}
}
