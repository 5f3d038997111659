package bulk

// TEMPORARY: this file goes away once *resolve.Resolver has its own
// ResolveAddrs method, which resolves any set of addresses in one window.
// Until then UnitAdapter gives today's unit API the method bulk needs, so
// that worker resolve works; pass the Resolver itself to Run after that.

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"sync"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// DefaultAdapterUnits is how many units one UnitAdapter.ResolveAddrs call
// resolves at once: with DefaultInFlight batches, enough single-address
// units to fill the engine's default window (resolve.DefaultConcurrency).
const DefaultAdapterUnits = 512

// UnitResolver is the unit API of *resolve.Resolver.
type UnitResolver interface {
	Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error
	Stats() resolve.Stats
}

// UnitAdapter is TEMPORARY (see the top of this file): it resolves a batch
// of addresses as units of a UnitResolver. Each run of consecutive
// addresses becomes its minimal CIDRs cut at /24, so the whole /24s of a
// CIDR line are one unit each (and pruned), and sparse addresses are /32
// units (never pruned: no extra queries). A repeated address starts a new
// run, so it is resolved again. A UnitAdapter is safe for concurrent use.
type UnitAdapter struct {
	Units UnitResolver
	// MaxUnits bounds the units one call resolves at once (0:
	// DefaultAdapterUnits).
	MaxUnits int
}

// ResolveAddrs implements Resolver over Units.Resolve.
func (a UnitAdapter) ResolveAddrs(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error {
	units, err := unitsOf(addrs)
	if err != nil {
		return err
	}
	slots := make(chan struct{}, cmp.Or(a.MaxUnits, DefaultAdapterUnits))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, p := range units {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := a.Units.Resolve(ctx, sweep.Unit{Prefix: p, Options: opts}, emit); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// Stats implements Resolver.
func (a UnitAdapter) Stats() resolve.Stats { return a.Units.Stats() }

// unitsOf cuts addrs into units: runs of consecutive addresses, as their
// minimal CIDRs, none larger than a /24.
func unitsOf(addrs []netip.Addr) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i := 0; i < len(addrs); {
		if !addrs[i].Is4() {
			return nil, fmt.Errorf("resolve %s: not an IPv4 address", addrs[i])
		}
		j := i + 1
		for j < len(addrs) && addrs[j] == addrs[j-1].Next() {
			j++
		}
		for p := range cidr.Range(addrs[i], addrs[j-1]) {
			for u := range cidr.Subnets(p, max(24, p.Bits())) {
				out = append(out, u)
			}
		}
		i = j
	}
	return out, nil
}
