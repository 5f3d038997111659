package worker

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

var quiet = slog.New(slog.DiscardHandler)

// fakeDelivery records what was done to it.
type fakeDelivery struct {
	u          sweep.Unit
	attempt    uint32
	attemptID  uint64
	redelivery bool
	last       bool
	mu         sync.Mutex
	acked      bool
	nakked     bool
	hb         int
}

func (d *fakeDelivery) Unit() sweep.Unit  { return d.u }
func (d *fakeDelivery) Attempt() uint32   { return d.attempt }
func (d *fakeDelivery) AttemptID() uint64 { return d.attemptID }
func (d *fakeDelivery) Redelivery() bool  { return d.redelivery }
func (d *fakeDelivery) LastAttempt() bool { return d.last }
func (d *fakeDelivery) Ack(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acked = true
	return nil
}
func (d *fakeDelivery) Nak(context.Context, time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nakked = true
	return nil
}
func (d *fakeDelivery) InProgress(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hb++
	return nil
}

// fakeQueue hands out a fixed list of deliveries, then reports idle.
type fakeQueue struct {
	mu   sync.Mutex
	todo []*fakeDelivery
	dead []string
}

func (q *fakeQueue) Fetch(ctx context.Context, max int) ([]Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Delivery
	for len(q.todo) > 0 && len(out) < max {
		out = append(out, q.todo[0])
		q.todo = q.todo[1:]
	}
	if len(out) == 0 {
		q.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
		q.mu.Lock()
	}
	return out, nil
}
func (q *fakeQueue) DeadLetter(_ context.Context, d Delivery, reason string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dead = append(q.dead, d.Unit().ID()+": "+reason)
	return nil
}
func (q *fakeQueue) Idle(context.Context) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.todo) == 0, nil
}

// fakeStore is a store of func fields; insertSuperseded may be nil.
type fakeStore struct {
	insertRows       func(context.Context, []sweep.Row) error
	insertSuperseded func(context.Context, []store.Supersede) error
	insertUnits      func(context.Context, []sweep.UnitRecord) error
}

func (s fakeStore) InsertSuperseded(ctx context.Context, es []store.Supersede) error {
	if s.insertSuperseded == nil {
		return nil
	}
	return s.insertSuperseded(ctx, es)
}
func (s fakeStore) InsertRows(ctx context.Context, rows []sweep.Row) error {
	return s.insertRows(ctx, rows)
}
func (s fakeStore) InsertUnits(ctx context.Context, recs []sweep.UnitRecord) error {
	return s.insertUnits(ctx, recs)
}

// fakeResolver gives every address one PTR, or fails units listed in fail.
type fakeResolver struct{ fail map[string]bool }

func (r fakeResolver) Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
	if r.fail[u.Prefix.String()] {
		return errors.New("resolver exploded")
	}
	for a := u.Prefix.Addr(); u.Prefix.Contains(a); a = a.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		emit(sweep.Result{IP: a, Status: sweep.StatusOK, PTRs: []sweep.PTR{{Name: "h." + a.String(), TTL: 60}}, Queries: 1})
	}
	return nil
}

func units(n int) []*fakeDelivery { return unitsOf(n, 28) }

// unitsOf returns n units of the given prefix length (at most /24 … /32),
// each in its own /24 of 198.51.0.0/16 for n ≤ 256, then packed closer.
func unitsOf(n, bits int) []*fakeDelivery {
	var ds []*fakeDelivery
	for i := range n {
		a := [4]byte{198, 51, byte(i), 0}
		if n > 256 {
			a = [4]byte{198, 51, byte(i >> 4), byte(i&15) << 4}
		}
		p := netip.PrefixFrom(netip.AddrFrom4(a), bits)
		ds = append(ds, &fakeDelivery{u: sweep.Unit{Scan: "t", Prefix: p, Seq: i, Total: n}, attempt: 1, attemptID: uint64(i+1)<<16 | 1})
	}
	return ds
}

// TestAckOnlyAfterStore checks that every unit is acked, and only after its
// rows and its unit record were stored.
func TestAckOnlyAfterStore(t *testing.T) {
	ds := units(10)
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	var mu sync.Mutex
	stored := map[string]int{}    // unit -> rows
	recorded := map[string]bool{} // unit -> record stored
	st := fakeStore{
		insertRows: func(_ context.Context, rows []sweep.Row) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range rows {
				for _, d := range ds {
					d.mu.Lock()
					if d.acked && d.u.Prefix.Contains(r.IP) {
						t.Errorf("unit %s acked before its rows were stored", d.u.ID())
					}
					d.mu.Unlock()
				}
				stored[r.Unit]++
			}
			return nil
		},
		insertUnits: func(_ context.Context, recs []sweep.UnitRecord) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				if stored[r.Unit] != int(r.Rows) {
					t.Errorf("unit %s recorded with %d rows before all were stored (%d)", r.Unit, r.Rows, stored[r.Unit])
				}
				recorded[r.Unit] = true
			}
			return nil
		},
	}
	w, err := New(Config{Queue: q, Store: st, Resolver: fakeResolver{}, Units: 3, Logger: quiet, BatchRows: 40, FlushInterval: 20 * time.Millisecond, ExitWhenIdle: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(context.Background())
	for _, d := range ds {
		if !d.acked {
			t.Errorf("unit %s not acked", d.u.ID())
		}
		if got := stored[d.u.Prefix.String()]; got != 16 {
			t.Errorf("unit %s: %d rows stored, want 16", d.u.ID(), got)
		}
		if !recorded[d.u.Prefix.String()] {
			t.Errorf("unit %s: no unit record", d.u.ID())
		}
	}
}

// TestStoreOutageHoldsUnits checks that while the store fails, units are
// neither acked nor dropped, fetching stops (backpressure), and everything is
// stored and acked once the store is back.
func TestStoreOutageHoldsUnits(t *testing.T) {
	// MaxHeld counts /24s; a /28 holds a sixteenth of one.
	for _, tt := range []struct {
		name       string
		n, bits    int
		wantAtMost int
	}{
		{"/24 units", 8, 24, 3},
		{"/28 units", 64, 28, 3 * 16},
	} {
		t.Run(tt.name, func(t *testing.T) { testStoreOutage(t, tt.n, tt.bits, tt.wantAtMost) })
	}
}

func testStoreOutage(t *testing.T, n, bits, wantAtMost int) {
	ds := unitsOf(n, bits)
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	var down atomic.Bool
	down.Store(true)
	var failures atomic.Int32
	var rowsStored atomic.Int32
	st := fakeStore{
		insertRows: func(_ context.Context, rows []sweep.Row) error {
			if down.Load() {
				failures.Add(1)
				return errors.New("connection refused")
			}
			rowsStored.Add(int32(len(rows)))
			return nil
		},
		insertUnits: func(context.Context, []sweep.UnitRecord) error { return nil },
	}
	w, err := New(Config{Queue: q, Store: st, Resolver: fakeResolver{}, Units: 2, MaxHeld: 3, BatchRows: 1 << 20, Logger: quiet,
		FlushInterval: 5 * time.Millisecond, RetryBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, ExitWhenIdle: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { w.Run(context.Background()); close(done) }()
	for failures.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	q.mu.Lock()
	left := len(q.todo)
	q.mu.Unlock()
	if left < len(ds)-wantAtMost {
		t.Errorf("worker fetched %d units while the store was down, want at most %d (MaxHeld)", len(ds)-left, wantAtMost)
	}
	for _, d := range ds {
		if d.acked {
			t.Errorf("unit %s acked while the store was down", d.u.ID())
		}
	}
	down.Store(false)
	<-done
	for _, d := range ds {
		if !d.acked {
			t.Errorf("unit %s not acked after the store came back", d.u.ID())
		}
	}
	if got, want := rowsStored.Load(), int32(n<<(32-bits)); got != want {
		t.Errorf("rows stored = %d, want %d", got, want)
	}
}

// TestFailingUnit checks that a failing unit is nakked, and dead-lettered
// (and recorded as failed) on its last delivery.
func TestFailingUnit(t *testing.T) {
	ds := units(2)
	ds[1].last = true
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	var failed []sweep.UnitRecord
	var mu sync.Mutex
	st := fakeStore{
		insertRows: func(context.Context, []sweep.Row) error { return nil },
		insertUnits: func(_ context.Context, recs []sweep.UnitRecord) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				if r.State == sweep.UnitFailed {
					failed = append(failed, r)
				}
			}
			return nil
		},
	}
	res := fakeResolver{fail: map[string]bool{ds[0].u.Prefix.String(): true, ds[1].u.Prefix.String(): true}}
	w, err := New(Config{Queue: q, Store: st, Resolver: res, ExitWhenIdle: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(context.Background())
	if !ds[0].nakked || ds[0].acked {
		t.Errorf("first failing unit: nakked=%v acked=%v, want nakked only", ds[0].nakked, ds[0].acked)
	}
	if len(q.dead) != 1 || len(failed) != 1 || failed[0].Unit != ds[1].u.Prefix.String() || failed[0].Error != "resolver exploded" {
		t.Errorf("dead = %v, failed records = %+v; want the last-attempt unit dead-lettered and recorded", q.dead, failed)
	}
}

// TestShutdownNaksInFlight checks that cancelling Run hands back units that
// are still resolving after the grace period, and Run returns.
func TestShutdownNaksInFlight(t *testing.T) {
	ds := units(1)
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	st := fakeStore{
		insertRows:  func(context.Context, []sweep.Row) error { return nil },
		insertUnits: func(context.Context, []sweep.UnitRecord) error { return nil },
	}
	started := make(chan struct{})
	res := blockingResolver{started: started}
	w, err := New(Config{Queue: q, Store: st, Resolver: res, Grace: 10 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	<-started
	cancel()
	<-done
	if !ds[0].nakked || ds[0].acked {
		t.Errorf("in-flight unit: nakked=%v acked=%v, want nakked", ds[0].nakked, ds[0].acked)
	}
}

type blockingResolver struct{ started chan struct{} }

func (b blockingResolver) Resolve(ctx context.Context, _ sweep.Unit, _ func(sweep.Result)) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

// TestRefusesReservedAndExcluded checks that a unit in reserved space (its
// scan not planned with --allow-reserved) or in the worker's blocklist is
// dead-lettered without a single lookup, and recorded as failed.
func TestRefusesReservedAndExcluded(t *testing.T) {
	mk := func(p string, allow bool) *fakeDelivery {
		return &fakeDelivery{u: sweep.Unit{Scan: "t", Prefix: netip.MustParsePrefix(p), Options: sweep.Options{AllowReserved: allow}}, attempt: 1}
	}
	reserved, allowed, excluded, fine := mk("192.168.1.0/24", false), mk("192.168.2.0/24", true), mk("8.8.8.0/24", false), mk("8.8.4.0/24", false)
	q := &fakeQueue{todo: []*fakeDelivery{reserved, allowed, excluded, fine}}
	var failed []string
	var mu sync.Mutex
	st := fakeStore{
		insertRows: func(context.Context, []sweep.Row) error { return nil },
		insertUnits: func(_ context.Context, recs []sweep.UnitRecord) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				if r.State == sweep.UnitFailed {
					failed = append(failed, r.Unit)
				}
			}
			return nil
		},
	}
	res := &countingResolver{}
	w, err := New(Config{Queue: q, Store: st, Resolver: res, ExitWhenIdle: true, Logger: quiet, FlushInterval: 10 * time.Millisecond,
		Exclude: cidr.NewSet(netip.MustParsePrefix("8.8.8.8/32"))})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(context.Background())
	slices.Sort(failed)
	if want := []string{"192.168.1.0/24", "8.8.8.0/24"}; !slices.Equal(failed, want) {
		t.Errorf("failed units = %v, want %v", failed, want)
	}
	if len(q.dead) != 2 {
		t.Errorf("dead-lettered %v, want the two refused units", q.dead)
	}
	if got := res.units(); !slices.Equal(got, []string{"192.168.2.0/24", "8.8.4.0/24"}) {
		t.Errorf("resolved units = %v, want only the allowed ones", got)
	}
	if !allowed.acked || !fine.acked || reserved.acked || excluded.acked {
		t.Errorf("acked: allowed=%v fine=%v reserved=%v excluded=%v", allowed.acked, fine.acked, reserved.acked, excluded.acked)
	}
}

// countingResolver records which units it was asked to resolve.
type countingResolver struct {
	mu   sync.Mutex
	seen []string
}

func (c *countingResolver) Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
	c.mu.Lock()
	c.seen = append(c.seen, u.Prefix.String())
	c.mu.Unlock()
	return fakeResolver{}.Resolve(ctx, u, emit)
}

func (c *countingResolver) units() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := slices.Clone(c.seen)
	slices.Sort(s)
	return s
}
