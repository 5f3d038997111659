package worker

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
)

// peakResolver records the most Resolve calls running at once.
type peakResolver struct {
	Resolver
	now, peak atomic.Int32
}

func (c *peakResolver) Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	return c.Resolver.Resolve(ctx, u, emit)
}

// TestSmallUnitsFillTheWindow checks that a worker given many /28 units
// resolves many of them at once, so that the engine holds more addresses
// in flight than Units /28s have: small units count for their share of a
// /24 in Units. It asserts on the engine's statistics, not on time.
func TestSmallUnitsFillTheWindow(t *testing.T) {
	_, srv := labtest.Start(t)
	res, err := resolve.New(resolve.Config{Servers: []string{srv.Addr()}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// 64 /28s of four dense /24s of the lab (third octet ≡ 0 or 12 mod 16).
	var ds []*fakeDelivery
	for _, c := range []byte{0, 12, 16, 28} {
		for k := range 16 {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, c, byte(k << 4)}), 28)
			ds = append(ds, &fakeDelivery{u: sweep.Unit{Scan: "t", Prefix: p, Seq: len(ds), Total: 64,
				Options: sweep.Options{AllowReserved: true, NoPrune: true}}, attempt: 1})
		}
	}
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	var mu sync.Mutex
	var rows int
	st := fakeStore{
		insertRows: func(_ context.Context, rs []sweep.Row) error {
			mu.Lock()
			defer mu.Unlock()
			rows += len(rs)
			return nil
		},
		insertUnits: func(context.Context, []sweep.UnitRecord) error { return nil },
	}
	cr := &peakResolver{Resolver: res}
	const units = 2
	w, err := New(Config{Queue: q, Store: st, Resolver: cr, Units: units, Logger: quiet,
		FlushInterval: 20 * time.Millisecond, ExitWhenIdle: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(t.Context())
	for _, d := range ds {
		if !d.acked {
			t.Errorf("unit %s not acked", d.u.ID())
		}
	}
	if rows < len(ds)*16 {
		t.Errorf("%d rows stored, want at least %d (one per address)", rows, len(ds)*16)
	}
	if got := cr.peak.Load(); got <= units {
		t.Errorf("at most %d /28 units resolved at once, want more than Units=%d", got, units)
	}
	if got, limit := res.Stats().PeakInFlight, units*16; got <= limit {
		t.Errorf("engine PeakInFlight = %d, want more than %d (the addresses of Units /28 units)", got, limit)
	}
}

// TestFetchSlots checks how many free slots the fetch loop waits for: a
// whole unit at least, several small units to a pull.
func TestFetchSlots(t *testing.T) {
	tests := []struct{ resolving, held, weight, want int }{
		{32, 1024, slotsPerUnit, slotsPerUnit}, // /24 units, Units 2: one at a time
		{32, 1024, 1, 8},                       // /28 units: eight to a pull
		{1024, 16384, 1, 256},                  // Units 64
		{16, 16, slotsPerUnit, 16},             // never more than the capacity
		{32, 8, 1, 2},                          // held is the smaller bound
	}
	for _, tt := range tests {
		if got := fetchSlots(tt.resolving, tt.held, tt.weight); got != tt.want {
			t.Errorf("fetchSlots(%d, %d, %d) = %d, want %d", tt.resolving, tt.held, tt.weight, got, tt.want)
		}
	}
}
