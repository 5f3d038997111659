package e2e

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labproc"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// startLab serves the default lab on a loopback address for the test.
func startLab(t *testing.T) (*lab.Lab, *lab.Server) { return labtest.Start(t) }

func newPlan(t *testing.T, scan string, space netip.Prefix, unitPrefix int, confirm bool) *plan.Plan {
	t.Helper()
	p, err := plan.New(plan.Request{Scan: scan, CIDRs: []netip.Prefix{space},
		UnitPrefix: unitPrefix, Options: sweep.Options{Confirm: confirm, AllowReserved: true}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// labResolver is the resolver configuration for the lab: short timeouts so
// the silent /24s cost little, and enough retries that a loaded machine
// dropping a burst of packets still gets every answer.
func labResolver(servers ...string) resolve.Config {
	return resolve.Config{Servers: servers, Timeout: 500 * time.Millisecond, Retries: 3}
}

// TestSweepLabSlash16 sweeps the lab's whole /16 (every class: sparse and
// empty /24s, several PTRs per address, answers too large for UDP, RFC 2317
// CNAMEs, SERVFAIL, REFUSED, a silent zone, NODATA, mixed case, escaped
// bytes, 250-character names) with forward confirmation, and compares what
// is stored with the lab's truth: every (ip, ptr) pair, every outcome, no
// extras, and the nxdomain count of the unit log.
func TestSweepLabSlash16(t *testing.T) {
	if testing.Short() {
		t.Skip("sweeps a /16")
	}
	l, srv := startLab(t)
	dsn := testDSN(t)
	p := newPlan(t, "lab16", l.Space(), 24, true)
	ctx := context.Background()
	sum, err := coordinator.Sweep(ctx, coordinator.SweepConfig{
		Conn:    coordinator.Conn{ClickHouse: dsn},
		Plan:    p,
		Workers: 3,
		Resolve: labResolver(srv.Addr()),
		Worker:  worker.Config{FlushInterval: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	want, wantNX := expectedLines(l.Space(), l.Expect, true)
	compare(t, storedLines(t, dsn, "lab16"), want)

	if sum.Units != 256 || sum.Addresses != 65536 || sum.Counts.Addresses() != 65536 {
		t.Errorf("summary: %d units, %d addresses, %d outcomes; want 256, 65536, 65536", sum.Units, sum.Addresses, sum.Counts.Addresses())
	}
	if sum.Counts.NXDomain != uint32(wantNX) {
		t.Errorf("unit log nxdomain = %d, want %d", sum.Counts.NXDomain, wantNX)
	}
	var wantC sweep.Counts
	for a := l.Space().Addr(); l.Space().Contains(a); a = a.Next() {
		wantC.Add(l.Expect(a).Result(a))
	}
	got := sum.Counts
	got.Queries, got.Pruned = 0, 0
	if got != wantC {
		t.Errorf("outcome counts = %v, want %v", got, wantC)
	}
	t.Logf("%d addresses, %d queries in %s (%.0f qps)", sum.Addresses, sum.Counts.Queries, sum.Elapsed, sum.QPS())
}

// TestSweepIdempotentPublish runs the same scan twice: the second sweep
// publishes nothing new and the stored rows are unchanged.
func TestSweepRerunAddsNothing(t *testing.T) {
	l, srv := startLab(t)
	dsn := testDSN(t)
	space := netip.MustParsePrefix("198.18.0.0/20")
	ctx := context.Background()
	for range 2 {
		_, err := coordinator.Sweep(ctx, coordinator.SweepConfig{
			Conn: coordinator.Conn{ClickHouse: dsn}, Plan: newPlan(t, "rerun", space, 24, false), Workers: 2,
			Resolve: labResolver(srv.Addr()), Worker: worker.Config{FlushInterval: 100 * time.Millisecond},
		})
		if err != nil {
			t.Fatalf("Sweep: %v", err)
		}
	}
	want, _ := expectedLines(space, l.Expect, false)
	compare(t, storedLines(t, dsn, "rerun"), want)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pr, err := st.Progress(ctx, "rerun")
	if err != nil {
		t.Fatal(err)
	}
	if pr.UnitsDone != 16 {
		t.Errorf("units done = %d, want 16 (each unit once)", pr.UnitsDone)
	}
}

// TestSweepViaUnboundAndKnot sweeps the lab's /16 through real DNS servers:
// Unbound (recursive) in front of Knot (authoritative) serving the lab's
// zone files, with forward confirmation, and compares the stored rows with
// what a recursive resolver must give.
func TestSweepViaUnboundAndKnot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Knot and Unbound")
	}
	l, err := lab.New(lab.DefaultSpace)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	zones, err := l.WriteZones(dir)
	if err != nil {
		t.Fatal(err)
	}
	knot, err := labproc.StartKnot(ctx, t.TempDir(), zones, "")
	if err != nil {
		requireServer(t, "knotd", err)
	}
	t.Cleanup(func() { knot.Close() })
	unbound, err := labproc.StartUnbound(ctx, t.TempDir(), knot.Addr(), l.Zones())
	if err != nil {
		requireServer(t, "unbound", err)
	}
	t.Cleanup(func() { unbound.Close() })

	dsn := testDSN(t)
	sum, err := coordinator.Sweep(ctx, coordinator.SweepConfig{
		Conn:    coordinator.Conn{ClickHouse: dsn},
		Plan:    newPlan(t, "unbound", l.Space(), 24, true),
		Workers: 2,
		Resolve: resolve.Config{Servers: []string{unbound.Addr()}, Timeout: 2 * time.Second, Retries: 3, Concurrency: 64},
		Worker:  worker.Config{FlushInterval: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	want, wantNX := expectedLines(l.Space(), l.ExpectRecursive, true)
	compare(t, storedLines(t, dsn, "unbound"), want)
	if sum.Counts.NXDomain != uint32(wantNX) {
		t.Errorf("unit log nxdomain = %d, want %d", sum.Counts.NXDomain, wantNX)
	}
	t.Logf("%d addresses, %d queries in %s via Unbound", sum.Addresses, sum.Counts.Queries, sum.Elapsed)
}

// requireServer fails (under CI=true) or skips a test whose DNS server
// could not start.
func requireServer(t *testing.T, name string, err error) {
	t.Helper()
	if errors.Is(err, labproc.ErrNotInstalled) {
		testenv.Require(t, name+" (apt-get install knot unbound)", err)
	}
	t.Fatalf("start %s: %v", name, err)
}
