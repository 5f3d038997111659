package bench

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/bulk"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

func mustSpace(t *testing.T, prefix string, n int) *Space {
	t.Helper()
	s, err := NewSpace(netip.MustParsePrefix(prefix), n)
	if err != nil {
		t.Fatalf("NewSpace(%s, %d): %v", prefix, n, err)
	}
	return s
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

func TestNewSpaceRejects(t *testing.T) {
	for _, n := range []int{0, 300} {
		if _, err := NewSpace(netip.MustParsePrefix("10.0.0.0/12"), n); !errors.Is(err, ErrBadSpace) || !errors.Is(err, lab.ErrBadBig) {
			t.Errorf("NewSpace(10.0.0.0/12, %d) = %v, want ErrBadSpace and lab.ErrBadBig", n, err)
		}
	}
}

// TestAddrsAndMix checks that the address list and the mix each cover
// every address of the space exactly once, and that the mix holds every
// input form of `worker resolve`.
func TestAddrsAndMix(t *testing.T) {
	s := mustSpace(t, "10.0.0.0/20", 4096)
	for _, tc := range []struct {
		name  string
		write func(io.Writer) error
		forms []string // substrings some line must have
	}{
		{"addresses", s.WriteAddrs, nil},
		{"mix", s.WriteMix, []string{"/24", "/26", "-", ".in-addr.arpa"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			seen := make([]int, s.Len())
			for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				ps, err := bulk.ParseItem(nil, line)
				if err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				for _, p := range ps {
					for a := p.Addr(); p.Contains(a); a = a.Next() {
						i, in := s.Index(a)
						if !in {
							t.Fatalf("line %q: %s outside the space", line, a)
						}
						seen[i]++
					}
				}
			}
			for i, n := range seen {
				if n != 1 {
					t.Fatalf("%s given %d times, want once", s.Addr(i), n)
				}
			}
			for _, f := range tc.forms {
				if !strings.Contains(b.String(), f) {
					t.Errorf("no line has %q", f)
				}
			}
		})
	}
}
