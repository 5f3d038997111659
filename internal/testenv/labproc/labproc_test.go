package labproc_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labproc"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
)

// requireBinary skips the test when bin is missing, unless CI=true, where
// a missing server is a failure.
func requireBinary(t *testing.T, bin string) {
	t.Helper()
	_, err := os.Stat(bin)
	testenv.Require(t, bin+" (apt-get install knot unbound)", err)
}

// sample returns a few addresses of the first /24 of each class.
func sample(l *lab.Lab) map[lab.Class][]netip.Addr {
	out := map[lab.Class][]netip.Addr{}
	for _, c := range lab.Classes {
		a := l.Blocks(c)[0].Addr().As4()
		for _, d := range []byte{0, 1, 2, 3, 4, 5, 6, 7, 9, 200} {
			a[3] = d
			out[c] = append(out[c], netip.AddrFrom4(a))
		}
	}
	return out
}

func delegated(c lab.Class) bool {
	return c == lab.ClassServFail || c == lab.ClassRefused || c == lab.ClassSilent
}

func TestKnotAndUnbound(t *testing.T) {
	requireBinary(t, labproc.KnotdPath)
	requireBinary(t, labproc.UnboundPath)
	l, err := lab.New(lab.DefaultSpace)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := l.WriteZones(filepath.Join(dir, "zones"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	knotDir := filepath.Join(dir, "knot")
	if err := os.Mkdir(knotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	knot, err := labproc.StartKnot(ctx, knotDir, files, "")
	if err != nil {
		t.Fatalf("StartKnot: %v", err)
	}
	t.Cleanup(func() {
		if err := knot.Close(); err != nil {
			t.Errorf("close knot: %v", err)
		}
	})
	unboundDir := filepath.Join(dir, "unbound")
	if err := os.Mkdir(unboundDir, 0o755); err != nil {
		t.Fatal(err)
	}
	unbound, err := labproc.StartUnbound(ctx, unboundDir, knot.Addr(), l.Zones())
	if err != nil {
		t.Fatalf("StartUnbound: %v", err)
	}
	t.Cleanup(func() {
		if err := unbound.Close(); err != nil {
			t.Errorf("close unbound: %v", err)
		}
	})

	samples := sample(l)
	t.Run("knot", func(t *testing.T) {
		cl := labtest.Client{Addr: knot.Addr(), UDPSize: 1232}
		for _, c := range lab.Classes {
			for _, ip := range samples[c] {
				if delegated(c) {
					// Knot answers with a referral to the dead server.
					r, err := cl.Exchange(ctx, sweep.ReverseName(ip), dns.TypePTR)
					if err != nil {
						t.Fatalf("Exchange(%s): %v", ip, err)
					}
					if r.Rcode != dns.RcodeSuccess || r.Authoritative || len(r.Ns) == 0 || r.Ns[0].Header().Rrtype != dns.TypeNS {
						t.Errorf("%s [%s]: got %v, want a referral", ip, c, r)
					}
					continue
				}
				got, err := cl.Lookup(ctx, ip, true)
				if err != nil {
					t.Fatalf("Lookup(%s): %v", ip, err)
				}
				want := l.Expect(ip)
				if got.Status != want.Status || got.TTL != want.TTL || !slices.Equal(got.PTRs, want.PTRs) {
					t.Errorf("Lookup(%s) [%s] = %+v, want %+v", ip, c, got, want)
				}
			}
		}
	})
	t.Run("unbound", func(t *testing.T) {
		cl := labtest.Client{Addr: unbound.Addr(), UDPSize: 1232, RecursionDesired: true, Timeout: 15 * time.Second}
		for _, c := range lab.Classes {
			for _, ip := range samples[c] {
				got, err := cl.Lookup(ctx, ip, true)
				if err != nil {
					t.Fatalf("Lookup(%s): %v", ip, err)
				}
				want := l.ExpectRecursive(ip)
				// TTLs count down in Unbound's cache: compare names and outcomes.
				if got.Status != want.Status || !slices.EqualFunc(got.PTRs, want.PTRs, func(a, b sweep.PTR) bool {
					return a.Name == b.Name && a.FCrDNS == b.FCrDNS
				}) {
					t.Errorf("Lookup(%s) [%s] via unbound = %+v, want %+v", ip, c, got, want)
				}
			}
		}
		// Names outside the lab never leave the machine: the static root answers.
		r, err := cl.Exchange(ctx, "example.com.", dns.TypeA)
		if err != nil {
			t.Fatalf("Exchange(example.com): %v", err)
		}
		if r.Rcode != dns.RcodeNameError {
			t.Errorf("example.com via unbound: rcode %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
		}
	})
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := labproc.StartKnot(ctx, t.TempDir(), nil, "10.0.0.1:53"); err == nil {
		t.Error("StartKnot on 10.0.0.1:53: no error, want one")
	}
	if _, err := labproc.StartUnbound(ctx, t.TempDir(), "192.0.2.1:53", []string{"lab.example."}); err == nil {
		t.Error("StartUnbound with a stub outside 127.0.0.0/8: no error, want one")
	}
}
