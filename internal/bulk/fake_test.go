package bulk

import (
	"context"
	"net/netip"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// fakeResolver is a Resolver of func fields; nil fields answer with
// answer() and zero Stats.
type fakeResolver struct {
	resolveAddrs func(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error
	stats        func() resolve.Stats
}

func (f *fakeResolver) ResolveAddrs(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error {
	if f.resolveAddrs != nil {
		return f.resolveAddrs(ctx, addrs, opts, emit)
	}
	for _, a := range addrs {
		emit(answer(a))
	}
	return nil
}

func (f *fakeResolver) Stats() resolve.Stats {
	if f.stats != nil {
		return f.stats()
	}
	return resolve.Stats{}
}

// answer is the fake world: an address whose last octet is even has one
// PTR named after it, one whose last octet ends in 1 or 3 answers nodata,
// the rest nxdomain.
func answer(a netip.Addr) sweep.Result {
	r := sweep.Result{IP: a, Queries: 1}
	switch last := a.As4()[3]; {
	case last%2 == 0:
		r.Status, r.PTRs = sweep.StatusOK, []sweep.PTR{{Name: "h" + a.String() + ".example", TTL: 60}}
	case last%10 == 1 || last%10 == 3:
		r.Status = sweep.StatusNoData
	default:
		r.Status = sweep.StatusNXDomain
	}
	return r
}
