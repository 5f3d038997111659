package resolve

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Empty-zone pruning (RFC 8020): before resolving the addresses of a /24,
// ask for its /16 and /24 reverse names; NXDOMAIN means nothing exists
// below, so the addresses are answered nxdomain without queries of their
// own (Result.Pruned). A few addresses of every pruned /24 are resolved
// anyway (samples): when one has a PTR or exists (NODATA), the server's
// NXDOMAIN was wrong, pruning is turned off for that zone from then on
// and the whole /24 is resolved for real.

const (
	// pruneMinBlock is the fewest addresses of one /24 in a unit for which
	// probing pays.
	pruneMinBlock = 64
	// samplesPer is one sample per this many addresses of a pruned /24.
	samplesPer = 16
	// pruneTTL is how long a /16 verdict is reused across units.
	pruneTTL = 10 * time.Minute
	// maxDisabled bounds the /24s remembered as disproved; beyond it
	// pruning is turned off altogether.
	maxDisabled = 1 << 16
	maxZones16  = 4096
)

// pruneCache holds the /16 verdicts shared by a Resolver's units and the
// zones where pruning was disproved. It is safe for concurrent use.
type pruneCache struct {
	mu    sync.Mutex
	z16   map[uint16]*zoneEntry
	off24 map[uint32]struct{}
	off   bool // pruning turned off altogether
}

// zoneEntry is one /16 verdict; its fields are set before done closes,
// disabled under pruneCache.mu.
type zoneEntry struct {
	done     chan struct{}
	nx       bool
	ttl      uint32
	disabled bool
	expires  time.Time
}

func (c *pruneCache) init() {
	c.z16 = map[uint16]*zoneEntry{}
	c.off24 = map[uint32]struct{}{}
}

func key24(a, b, cc byte) uint32 { return uint32(a)<<16 | uint32(b)<<8 | uint32(cc) }

// disabled24 reports whether pruning is off for the /24 a.b.c.
func (c *pruneCache) disabled24(a, b, cc byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, off := c.off24[key24(a, b, cc)]
	return off || c.off
}

// disable turns pruning off for the /24 a.b.c and, when its NXDOMAIN came
// from the /16, for the /16.
func (c *pruneCache) disable(a, b, cc byte, via16 bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.off24) >= maxDisabled {
		c.off = true
	}
	c.off24[key24(a, b, cc)] = struct{}{}
	if e := c.z16[uint16(a)<<8|uint16(b)]; via16 && e != nil {
		e.disabled = true
	}
}

// disabled16 reports whether a sample disproved the /16 a.b's NXDOMAIN.
func (c *pruneCache) disabled16(a, b byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.z16[uint16(a)<<8|uint16(b)]
	return e != nil && e.disabled
}

// verdict16 returns whether the /16 a.b answers NXDOMAIN (and its negative
// TTL), probing it once per pruneTTL for all units; queries is the number
// of queries this call sent.
func (r *Resolver) verdict16(ctx context.Context, sl *slot, a, b byte) (nx bool, ttl uint32, queries int, err error) {
	c := &r.prune
	k := uint16(a)<<8 | uint16(b)
	now := time.Now()
	c.mu.Lock()
	e := c.z16[k]
	if e != nil && closed(e.done) && now.After(e.expires) && !e.disabled {
		e = nil
	}
	if e == nil {
		if len(c.z16) >= maxZones16 {
			for key, old := range c.z16 {
				if closed(old.done) && now.After(old.expires) {
					delete(c.z16, key)
				}
			}
		}
		e = &zoneEntry{done: make(chan struct{}), expires: now.Add(pruneTTL)}
		c.z16[k] = e
		c.mu.Unlock()
		name := itoa(b) + "." + itoa(a) + ".in-addr.arpa."
		e.nx, e.ttl, queries, err = r.probe(ctx, sl, name, zoneKey(netip.AddrFrom4([4]byte{a, b, 0, 0})), nil)
		if err != nil {
			e.expires = time.Time{} // probe again next time
		}
		close(e.done)
	} else {
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return false, 0, 0, ctx.Err()
		}
	}
	if err != nil {
		return false, 0, queries, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return e.nx && !e.disabled, e.ttl, queries, nil
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func itoa(v byte) string {
	var b [3]byte
	i := len(b)
	for {
		i--
		b[i] = '0' + v%10
		if v /= 10; v == 0 {
			return string(b[i:])
		}
	}
}

// probe asks for a zone's reverse name and reports whether the name itself
// answered NXDOMAIN (not the end of a CNAME chain), with its negative TTL.
func (r *Resolver) probe(ctx context.Context, sl *slot, name string, zone uint32, blk *block) (nx bool, ttl uint32, queries int, err error) {
	sl.block = blk // a /24 probe that times out marks its block silent
	req := request{name: name, qtype: dns.TypePTR, zone: zone}
	st, err := r.query(ctx, sl, &req)
	sl.block = nil
	queries = req.sent
	r.stats.probes.Add(uint64(queries))
	if err != nil || st != 0 {
		return false, 0, queries, err
	}
	if sl.fast {
		return sl.p.Rcode() == dns.RcodeNameError, sl.p.NegTTL(), queries, nil
	}
	return sl.msg.Rcode == dns.RcodeNameError && len(sl.msg.Answer) == 0, negativeTTL(sl.msg), queries, nil
}
