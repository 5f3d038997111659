package e2e

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// TestExcludedNeverQueried checks, by counting the queries the lab server
// receives per /24, that an excluded block is never asked about: neither
// one excluded when the scan is planned, nor one in a worker's own
// blocklist (whose unit is refused and reported failed).
func TestExcludedNeverQueried(t *testing.T) {
	_, srv := startLab(t)
	dsn := testDSN(t)
	space := netip.MustParsePrefix("198.18.0.0/22")
	planned, workerOnly := netip.MustParsePrefix("198.18.1.0/24"), netip.MustParsePrefix("198.18.2.0/24")
	p, err := plan.New(plan.Request{Scan: "excl", CIDRs: []netip.Prefix{space}, Exclude: []netip.Prefix{planned},
		Options: sweep.Options{AllowReserved: true}, UnitPrefix: 24})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := coordinator.Sweep(context.Background(), coordinator.SweepConfig{
		Conn: coordinator.Conn{ClickHouse: dsn}, Plan: p, Workers: 2, Resolve: labResolver(srv.Addr()),
		Worker: worker.Config{FlushInterval: 100 * time.Millisecond, Exclude: cidr.NewSet(workerOnly)},
	})
	if !errors.Is(err, coordinator.ErrUnitsFailed) || sum.UnitsFailed != 1 || len(sum.Failed) != 1 || sum.Failed[0].Unit != workerOnly.String() {
		t.Errorf("Sweep = %v with failed units %+v; want the worker-excluded unit refused", err, sum.Failed)
	}
	for _, b := range []netip.Prefix{planned, workerOnly} {
		if n := srv.QueriesIn(b.Addr()); n != 0 {
			t.Errorf("the lab received %d queries for excluded %s", n, b)
		}
	}
	for _, b := range []string{"198.18.0.0", "198.18.3.0"} {
		if n := srv.QueriesIn(netip.MustParseAddr(b)); n < 256 {
			t.Errorf("the lab received %d queries for %s/24, want at least 256", n, b)
		}
	}
}

// TestRateLimitHoldsUnderRetries sweeps blocks that make the resolver retry
// (SERVFAIL and silent /24s) under a hard limit, and checks that the lab
// server never received more queries than the limit allows over the time
// the sweep took (plus the limiter's burst).
func TestRateLimitHoldsUnderRetries(t *testing.T) {
	_, srv := startLab(t)
	dsn := testDSN(t)
	const qps = 400
	p, err := plan.New(plan.Request{Scan: "rate", Options: sweep.Options{AllowReserved: true}, UnitPrefix: 26, CIDRs: []netip.Prefix{
		netip.MustParsePrefix("198.18.6.0/25"),   // servfail: every address tried on each retry
		netip.MustParsePrefix("198.18.8.0/26"),   // silent: every try times out
		netip.MustParsePrefix("198.18.0.0/25")}}) // dense
	if err != nil {
		t.Fatal(err)
	}
	rc := labResolver(srv.Addr())
	rc.QPS, rc.Timeout = qps, 200*time.Millisecond
	before := srv.Queries()
	start := time.Now()
	sum, err := coordinator.Sweep(context.Background(), coordinator.SweepConfig{
		Conn: coordinator.Conn{ClickHouse: dsn}, Plan: p, Workers: 2, Resolve: rc,
		Worker: worker.Config{FlushInterval: 100 * time.Millisecond},
	})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	got := srv.Queries() - before
	limit := uint64(qps*elapsed.Seconds()) + qps/100 + 2
	if got > limit {
		t.Errorf("the lab received %d queries in %s, above the %d qps limit (at most %d)", got, elapsed, qps, limit)
	}
	if got < 320 || sum.Counts.Queries < 320 {
		t.Errorf("the lab received %d queries (sweep counted %d), want the retries of 320 addresses", got, sum.Counts.Queries)
	}
	t.Logf("%d queries in %s (%.0f/s, limit %d/s)", got, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds(), qps)
}
