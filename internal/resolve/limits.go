package resolve

import (
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
