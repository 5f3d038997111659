package bench

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mustSpace(t *testing.T, prefix string, n int) *Space {
	t.Helper()
	s, err := NewSpace(netip.MustParsePrefix(prefix), n)
	if err != nil {
		t.Fatalf("NewSpace(%s, %d): %v", prefix, n, err)
	}
	return s
}

func TestNewSpaceRejects(t *testing.T) {
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
		_, err := NewSpace(netip.MustParsePrefix(tc.prefix), tc.n)
		if !errors.Is(err, ErrBadSpace) {
			t.Errorf("NewSpace(%s, %d) = %v, want ErrBadSpace", tc.prefix, tc.n, err)
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
		s := mustSpace(t, tc.prefix, tc.n)
		if got := fmt.Sprint(s.CIDRs()); got != tc.want {
			t.Errorf("CIDRs(%s, %d) = %s, want %s", tc.prefix, tc.n, got, tc.want)
		}
	}
}

func TestExpect(t *testing.T) {
	for _, ip := range []string{"10.0.15.7", "10.3.255.9", "10.0.31.0"} {
		if got := Expect(netip.MustParseAddr(ip)); got != nil {
			t.Errorf("Expect(%s) = %q, want nil (an empty /24)", ip, got)
		}
	}
	// The rule: by splitmix64(address) % 100.
	s := mustSpace(t, "10.0.0.0/16", 65536)
	counts := map[int]int{}
	for i := range s.Len() {
		ip := s.Addr(i)
		got := Expect(ip)
		h := splitmix64(uint64(a2u(ip))) % 100
		want := 0
		switch {
		case Empty(ip) || h >= 75:
		case h < 70:
			want = 1
		default:
			want = 2
		}
		if len(got) != want {
			t.Fatalf("Expect(%s) = %q (h=%d), want %d PTRs", ip, got, h, want)
		}
		a := ip.As4()
		if want > 0 && got[0] != fmt.Sprintf("h-10-0-%d-%d.r0.bench.example", a[2], a[3]) {
			t.Errorf("Expect(%s)[0] = %q", ip, got[0])
		}
		if want == 2 && got[1] != fmt.Sprintf("alias-%d.c%d.b0.a10.bench.example", a[3], a[2]) {
			t.Errorf("Expect(%s)[1] = %q", ip, got[1])
		}
		counts[want]++
	}
	st := s.Stats()
	if st.NXDomain != counts[0] || st.OnePTR != counts[1] || st.TwoPTRs != counts[2] || st.EmptyBlocks != 16 {
		t.Errorf("Stats() = %+v, want %d/%d/%d and 16 empty /24s", st, counts[0], counts[1], counts[2])
	}
}

func TestWriteZones(t *testing.T) {
	// Two /16s: the whole of 10.0 and the first /22 of 10.1.
	s := mustSpace(t, "10.0.0.0/15", 65536+1024)
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
		if e := Expect(ip); !slices.Equal(got[ip.String()], e) {
			t.Fatalf("zone PTRs of %s = %q, want %q", ip, got[ip.String()], e)
		}
		if len(Expect(ip)) > 0 {
			want++
		}
	}
	if len(got) != want {
		t.Errorf("zones hold PTRs for %d addresses, want %d", len(got), want)
	}
}

func TestQueriesAndBlocks(t *testing.T) {
	s := mustSpace(t, "10.0.0.0/22", 1024)
	var b strings.Builder
	if err := s.WriteQueries(&b); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	inOrder := true
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for n := 0; sc.Scan(); n++ {
		name, ok := strings.CutSuffix(sc.Text(), ".in-addr.arpa PTR")
		if !ok {
			t.Fatalf("query line %q, want NAME.in-addr.arpa PTR", sc.Text())
		}
		l := strings.Split(name, ".")
		ip, err := netip.ParseAddr(l[3] + "." + l[2] + "." + l[1] + "." + l[0])
		if err != nil {
			t.Fatalf("query line %q: %v", sc.Text(), err)
		}
		if _, in := s.Index(ip); !in || seen[ip.String()] {
			t.Fatalf("query %q: outside the space or repeated", sc.Text())
		}
		seen[ip.String()] = true
		inOrder = inOrder && ip == s.Addr(n)
	}
	if len(seen) != s.Len() || inOrder {
		t.Errorf("queries: %d distinct addresses, in address order %v; want %d, shuffled", len(seen), inOrder, s.Len())
	}
	var b2 strings.Builder
	if err := s.WriteQueries(&b2); err != nil {
		t.Fatal(err)
	}
	if b2.String() != b.String() {
		t.Error("WriteQueries is not deterministic")
	}

	var blocks strings.Builder
	if err := s.WriteBlocks(&blocks); err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(blocks.String())
	slices.Sort(got)
	if want := []string{"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"}; !slices.Equal(got, want) {
		t.Errorf("blocks = %q, want %q", got, want)
	}
}
