package resolve

import (
	"context"
	"net/netip"
	"sync"

	"golang.org/x/time/rate"
)

// zoneLimiters holds one rate limiter per /16 reverse zone. Idle limiters
// (a full bucket) are dropped when the map grows past maxZoneLimiters, so
// memory stays bounded however many zones a sweep touches. It is safe for
// concurrent use; a nil *zoneLimiters limits nothing.
type zoneLimiters struct {
	qps float64
	mu  sync.Mutex
	m   map[uint32]*rate.Limiter
}

const maxZoneLimiters = 4096

func newZoneLimiters(qps float64) *zoneLimiters {
	return &zoneLimiters{qps: qps, m: map[uint32]*rate.Limiter{}}
}

// zoneKey returns the rate-limit key of ip's /16 (never 0).
func zoneKey(ip netip.Addr) uint32 {
	a := ip.As4()
	return 1<<16 | uint32(a[0])<<8 | uint32(a[1])
}

// get returns the limiter of zone key k, or nil for key 0 or no limits.
func (z *zoneLimiters) get(k uint32) *rate.Limiter {
	if z == nil || k == 0 {
		return nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	l := z.m[k]
	if l == nil {
		if len(z.m) >= maxZoneLimiters {
			for key, old := range z.m {
				if old.Tokens() >= float64(old.Burst()) {
					delete(z.m, key)
				}
			}
		}
		l = newLimiter(z.qps)
		z.m[k] = l
	}
	return l
}

// wait blocks until every rate limit allows one more query to srv: the
// Resolver's, the server's and, for a reverse query, its /16 zone's.
func (r *Resolver) wait(ctx context.Context, srv *server, zone uint32) error {
	for _, l := range [...]*rate.Limiter{r.limiter, srv.limiter, r.zones.get(zone)} {
		if l == nil {
			continue
		}
		if err := l.Wait(ctx); err != nil {
			// The limiter refuses at once when ctx's deadline comes
			// before the query's turn: no query can go out in time, so
			// wait for the deadline and report it like any cancellation.
			<-ctx.Done()
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// limited reports whether any rate limit is set.
func (r *Resolver) limited() bool {
	if r.limiter != nil || r.zones != nil {
		return true
	}
	for _, s := range r.servers {
		if s.limiter != nil {
			return true
		}
	}
	return false
}
