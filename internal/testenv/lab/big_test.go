package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
)

func mustBig(t *testing.T, prefix string, n int) *Big {
	t.Helper()
	s, err := NewBig(netip.MustParsePrefix(prefix), n)
	if err != nil {
		t.Fatalf("NewBig(%s, %d): %v", prefix, n, err)
	}
	return s
}

func TestNewBigRejects(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		n      int
	}{
		{"10.0.0.0/12", 0},
		{"10.0.0.0/12", 300},
		{"10.0.0.0/22", 2048},
		{"10.0.0.0/25", 256},
		{"10.0.0.0/7", 256},
		{"2001:db8::/32", 256},
	} {
		_, err := NewBig(netip.MustParsePrefix(tc.prefix), tc.n)
		if !errors.Is(err, ErrBadBig) {
			t.Errorf("NewBig(%s, %d) = %v, want ErrBadBig", tc.prefix, tc.n, err)
		}
	}
}

func TestCIDRs(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		n      int
		want   string
	}{
		{"10.0.0.0/12", 1 << 20, "[10.0.0.0/12]"},
		{"10.0.0.0/12", 4096, "[10.0.0.0/20]"},
		{"10.0.0.0/16", 768, "[10.0.0.0/23 10.0.2.0/24]"},
		{"10.1.2.3/24", 256, "[10.1.2.0/24]"},
		{"10.0.0.0/15", 65536 + 1280, "[10.0.0.0/16 10.1.0.0/22 10.1.4.0/24]"},
	} {
		s := mustBig(t, tc.prefix, tc.n)
		if got := fmt.Sprint(s.CIDRs()); got != tc.want {
			t.Errorf("CIDRs(%s, %d) = %s, want %s", tc.prefix, tc.n, got, tc.want)
		}
	}
}

func TestBigExpect(t *testing.T) {
	for _, ip := range []string{"10.0.15.7", "10.3.255.9", "10.0.31.0"} {
		if got := BigExpect(netip.MustParseAddr(ip)); got != nil {
			t.Errorf("BigExpect(%s) = %q, want nil (an empty /24)", ip, got)
		}
	}
	// The rule: by mix(address) % 100.
	s := mustBig(t, "10.0.0.0/16", 65536)
	counts := map[int]int{}
	for i := range s.Len() {
		ip := s.Addr(i)
		got := BigExpect(ip)
		h := mix(cidr.AddrToUint32(ip)) % 100
		want := 0
		switch {
		case BigEmpty(ip) || h >= 75:
		case h < 70:
			want = 1
		default:
			want = 2
		}
		if len(got) != want {
			t.Fatalf("BigExpect(%s) = %q (h=%d), want %d PTRs", ip, got, h, want)
		}
		a := ip.As4()
		if want > 0 && got[0] != fmt.Sprintf("h-10-0-%d-%d.r0.bench.example", a[2], a[3]) {
			t.Errorf("BigExpect(%s)[0] = %q", ip, got[0])
		}
		if want == 2 && got[1] != fmt.Sprintf("alias-%d.c%d.b0.a10.bench.example", a[3], a[2]) {
			t.Errorf("BigExpect(%s)[1] = %q", ip, got[1])
		}
		counts[want]++
	}
	st := s.Stats()
	if st.NXDomain != counts[0] || st.OnePTR != counts[1] || st.TwoPTRs != counts[2] || st.EmptyBlocks != 16 {
		t.Errorf("Stats() = %+v, want %d/%d/%d and 16 empty /24s", st, counts[0], counts[1], counts[2])
	}
}

func TestBigWriteZones(t *testing.T) {
	// Two /16s: the whole of 10.0 and the first /22 of 10.1.
	s := mustBig(t, "10.0.0.0/15", 65536+1024)
	files, err := s.WriteZones(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var zones []string
	got := map[string][]string{}
	for _, f := range files {
		zones = append(zones, f.Zone)
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "$ORIGIN "+f.Zone+"\n") {
			t.Errorf("%s starts %q, want $ORIGIN %s", filepath.Base(f.Path), string(b)[:40], f.Zone)
		}
		third := strings.Split(f.Zone, ".")
		for line := range strings.Lines(string(b)) {
			owner, name, ok := strings.Cut(strings.TrimSpace(line), " PTR ")
			if !ok {
				continue
			}
			d, c, _ := strings.Cut(owner, ".")
			ip := netip.MustParseAddr(fmt.Sprintf("%s.%s.%s.%s", third[1], third[0], c, d))
			got[ip.String()] = append(got[ip.String()], strings.TrimSuffix(name, "."))
		}
	}
	if want := []string{"0.10.in-addr.arpa.", "1.10.in-addr.arpa."}; !slices.Equal(zones, want) {
		t.Errorf("zones = %q, want %q", zones, want)
	}
	want := 0
	for i := range s.Len() {
		ip := s.Addr(i)
		if e := BigExpect(ip); !slices.Equal(got[ip.String()], e) {
			t.Fatalf("zone PTRs of %s = %q, want %q", ip, got[ip.String()], e)
		}
		if len(BigExpect(ip)) > 0 {
			want++
		}
	}
	if len(got) != want {
		t.Errorf("zones hold PTRs for %d addresses, want %d", len(got), want)
	}
}
