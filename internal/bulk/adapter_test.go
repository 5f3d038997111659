package bulk

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// fakeUnits is a UnitResolver of func fields.
type fakeUnits struct {
	resolve func(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error
}

func (f fakeUnits) Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
	return f.resolve(ctx, u, emit)
}
func (f fakeUnits) Stats() resolve.Stats { return resolve.Stats{Queries: 7} }

func TestUnitAdapter(t *testing.T) {
	var (
		mu    sync.Mutex
		units []string
		got   = map[netip.Addr]int{}
	)
	a := UnitAdapter{Units: fakeUnits{resolve: func(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
		mu.Lock()
		units = append(units, u.Prefix.String())
		mu.Unlock()
		if !u.Options.Confirm {
			t.Errorf("unit %s lost its options", u.Prefix)
		}
		for a := u.Prefix.Addr(); u.Prefix.Contains(a); a = a.Next() {
			emit(answer(a))
		}
		return nil
	}}, MaxUnits: 3}
	// A whole /24 and a /26 (as CIDR lines give them), sparse addresses,
	// a repeated one, and a run across a /24 boundary.
	addrs := addrsOf("198.51.100.0/24", "198.51.101.64/26", "192.0.2.7/32", "192.0.2.9/32", "192.0.2.7/32", "203.0.113.255/32")
	addrs = append(addrs, addrsOf("203.0.114.0/32")...)
	err := a.ResolveAddrs(context.Background(), addrs, sweep.Options{Confirm: true}, func(r sweep.Result) {
		mu.Lock()
		got[r.IP]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(units)
	want := []string{"192.0.2.7/32", "192.0.2.7/32", "192.0.2.9/32", "198.51.100.0/24", "198.51.101.64/26", "203.0.113.255/32", "203.0.114.0/32"}
	if !slices.Equal(units, want) {
		t.Errorf("units %v, want %v", units, want)
	}
	for _, ad := range addrs {
		if n := got[ad]; n != count(addrs, ad) {
			t.Errorf("%s emitted %d times, want %d", ad, n, count(addrs, ad))
		}
	}
	if s := a.Stats(); s.Queries != 7 {
		t.Errorf("Stats = %+v, want the unit resolver's", s)
	}
}

func count(addrs []netip.Addr, a netip.Addr) int {
	n := 0
	for _, b := range addrs {
		if a == b {
			n++
		}
	}
	return n
}

func TestUnitAdapterErrors(t *testing.T) {
	boom := errors.New("no socket")
	a := UnitAdapter{Units: fakeUnits{resolve: func(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
		return boom
	}}}
	if err := a.ResolveAddrs(context.Background(), addrsOf("192.0.2.0/30"), sweep.Options{}, func(sweep.Result) {}); !errors.Is(err, boom) {
		t.Errorf("ResolveAddrs = %v, want %v", err, boom)
	}
	if err := a.ResolveAddrs(context.Background(), []netip.Addr{netip.MustParseAddr("::1")}, sweep.Options{}, func(sweep.Result) {}); err == nil {
		t.Error("ResolveAddrs(::1) gave no error")
	}
}
